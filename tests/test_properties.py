"""Property-based tests: random and mutated input never crashes the readers or the extractor,
and every span the extractor gives lies inside the text it read.

A reader may refuse its input, but only with a PolicyKGError (a message naming the file);
anything else escaping is a bug. The mutations start from plans we wrote (samples/) and cut,
repeat, splice and garble them the way copying from web pages and PDFs does."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Namespace

from policykg.emit import to_graph
from policykg.errors import PolicyKGError
from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import from_bytes
from variants import to_docx, to_html

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
PLANS = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
OA = Namespace("http://www.w3.org/ns/oa#")

# Pieces of the genre, so random text often looks like a plan and reaches deep code paths.
PIECES = ["一、", "二、", "（一）", "（二）", "1.", "2．", "（1）", "①", "第一章", "附件", "附件1", "\n", "\n\n", "。", "；",
          "、", "，", "：", "（", "）", "(", ")", "《", "》", "“", "”", "|", " | ", "\t", "〃", "同上",
          "牵头单位：", "责任单位：", "配合单位：", "牵头部门", "按职责分工负责", "牵头负责", "市科技局", "县教育局",
          "各乡镇人民政府", "市委组织部", "科协", "到2025年", "2024年底前", "2018—2019年", "“十四五”期间", "每年",
          "持续推进", "截至2023年底", "达到18%", "不少于100名", "5000万元", "力争", "以上", "实施方案",
          "| 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |", "| 1 | 建设平台 | 市科技局 | 市财政局 | 2025年 |",
          "| 指标 | 单位 | 2025年 |", "| 比例 | % | 18 |", "发文字号：", "成文日期：", "〔2024〕3号",
          "2024年3月1日", "二〇二四年三月一日", "\u3000", "\ufeff", "\r\n", "＃", "𠀀", "\u200b", "\ue000"]
genre_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=120).map("".join)


def spans_of(doc):
    """Every span the document model holds."""
    for sp in (doc.plan_title_span, doc.notice_title_span, doc.doc_number_span, doc.created_span,
               doc.issued_span, doc.lead_rule_span):
        if sp is not None:
            yield sp
    for a in doc.issuers:
        yield a.span
    for c in doc.citations:
        yield c.span
    for n in doc.nodes():
        yield n.span
        yield n.own_span
        for note in n.notes:
            yield note.span
            for e in note.entries:
                yield e.actor.span
        for a in n.assignments:
            yield a.actor.span
        for e in n.time_expressions:
            yield e.span
    for t in doc.all_targets:
        yield t.span
        if t.time_expression is not None:
            yield t.time_expression.span
    for f in doc.findings:
        if f.span is not None:
            yield f.span


def check(data: bytes, name: str) -> None:
    """Read and extract; a refusal must be a PolicyKGError, and every span must fit the text."""
    try:
        text = read_text(from_bytes(data, path=name))
    except PolicyKGError as e:
        assert name in str(e)
        return
    n = len(text.string)
    for b in text.blocks:
        assert 0 <= b.start <= b.end <= n
    try:
        doc = extract(text)
    except PolicyKGError as e:
        assert name in str(e)
        return
    for sp in spans_of(doc):
        assert 0 <= sp.start <= sp.end <= n, (sp, n)
    g = to_graph(doc)
    offsets = [int(o) for p in (OA.start, OA.end) for o in g.objects(None, p)]
    assert offsets and all(0 <= x <= n for x in offsets)


@st.composite
def mutated_plan(draw) -> str:
    """A sample plan cut, repeated, spliced with genre pieces, its lines shuffled in places."""
    s = draw(st.sampled_from(PLANS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["cut", "repeat", "insert", "swap", "truncate"]))
        i = draw(st.integers(0, len(s)))
        j = draw(st.integers(i, min(len(s), i + 400)))
        if op == "cut":
            s = s[:i] + s[j:]
        elif op == "repeat":
            s = s[:j] + s[i:j] + s[j:]
        elif op == "insert":
            s = s[:i] + draw(genre_text) + s[i:]
        elif op == "truncate":
            s = s[:max(i, 1)]
        else:
            lines = s.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            lines[a], lines[b] = lines[b], lines[a]
            s = "\n".join(lines)
    return s


# More examples for a long hunt: POLICYKG_EXAMPLES=2000 pytest tests/test_properties.py
EXAMPLES = int(os.environ.get("POLICYKG_EXAMPLES", "150"))
PROPS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(genre_text)
def test_properties_random_genre_text_never_crashes_and_spans_fit(s):
    check(s.encode("utf-8"), "random.txt")


@PROPS
@given(st.binary(max_size=600))
def test_properties_random_bytes_are_read_or_refused_by_name(data):
    for name in ("random.txt", "random.html", "random.docx", "random.pdf"):
        check(data, name)


@PROPS
@given(mutated_plan())
def test_properties_mutated_plans_never_crash_and_spans_fit(s):
    check(s.encode("utf-8"), "mutated.txt")
    check(s.encode("gb18030", errors="replace"), "mutated-gb.txt")


@PROPS
@given(mutated_plan())
def test_properties_mutated_plans_as_web_pages_never_crash(s):
    check(to_html(s), "mutated.html")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_plan(), st.data())
def test_properties_mutated_word_files_never_crash(s, data):
    docx_data = to_docx(s)
    check(docx_data, "mutated.docx")
    # damage the package: truncate it, or garble the document part
    cut = data.draw(st.integers(0, len(docx_data)))
    check(docx_data[:cut], "truncated.docx")
    with zipfile.ZipFile(io.BytesIO(docx_data)) as z:
        xml = z.read("word/document.xml")
        members = {n: z.read(n) for n in z.namelist()}
    i = data.draw(st.integers(0, len(xml)))
    members["word/document.xml"] = xml[:i] + data.draw(st.binary(max_size=40)) + xml[i + 20:]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)
    check(buf.getvalue(), "garbled.docx")
