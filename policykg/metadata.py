"""Document metadata (the fields of GB/T 9704 where present).

Titles (the plan's and the transmitting notice's), 文号, issuing organs (signature blocks,
header lines, portal fields), 成文日期 and 发布日期 in any Chinese date form, and the documents
the plan says it is based on (《title》（文号）).
"""
from __future__ import annotations

import datetime as dt
import re

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.numerals import cn_to_int
from policykg.responsibility import looks_like_unit
from policykg.text import Span, Text, View, fold

DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,14}\s*[\[(]\s*(?:19|20)[0-9]{2}\s*[\])]\s*[0-9]{1,5}\s*号")
_DATE_NUM = re.compile(r"((?:19|20)[0-9]{2})\s*(?:年|-|/|\.)\s*([0-9]{1,2})\s*(?:月|-|/|\.)\s*([0-9]{1,2})\s*日?")
_DATE_CN = re.compile(r"([二〇零○一三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,2})\s*月\s*([一二三四五六七八九十]{1,3})\s*日")
_SENTENCE = re.compile(r"[。,;!?]")
_PERIOD_PAREN = re.compile(r"^\s*\(\s*(?:19|20)[0-9]{2}\s*年?\s*-\s*(?:19|20)[0-9]{2}\s*年\s*\)\s*$")
_BASIS = re.compile(r"根据|依据|按照|贯彻|落实|遵照|结合")


def parse_date(s: str) -> tuple[dt.date, int, int] | None:
    """(date, start, end) of the first date in folded text s."""
    for pat, conv in ((_DATE_NUM, int), (_DATE_CN, cn_to_int)):
        mt = pat.search(s)
        if mt:
            try:
                y, mo, d = (conv(g) for g in mt.groups())
                return dt.date(y, mo, d), mt.start(), mt.end()
            except (TypeError, ValueError):
                continue
    return None


def _is_date_line(s: str) -> bool:
    s = s.replace(" ", "")
    got = parse_date(s)
    return got is not None and got[1] == 0 and got[2] >= len(s) - 1


def _label_re(label: str) -> str:
    return r"\s*".join(re.escape(c) for c in label)


class _Fields:
    """Labelled fields of portal pages and headers: 发文字号：X, [ 成文日期 ] | X |."""

    def __init__(self, lex: Mappings):
        labels = "|".join(_label_re(x) for x in lex.metadata_fields)
        self.pattern = re.compile(
            rf"(?:^|(?<=[|•·\]\s]))\[?\s*(?P<label>{labels})\s*\]?\s*[:|]\s*\|?\s*(?P<value>(?:[^|\[]|\[\s*(?:19|20)[0-9]{{2}}\s*\])*)")
        self.lex = lex

    def find(self, v: View):
        for mt in self.pattern.finditer(v.s):
            label = mt.group("label").replace(" ", "")
            value = mt.group("value").rstrip(" |")
            if value.strip():
                a = mt.start("value")
                yield self.lex.metadata_fields[label], v.sub(a, a + len(value))


def extract(text: Text, lex: Mappings, doc: m.Document, first: int, end: int) -> None:
    """Fill doc's metadata from the blocks before the body (first) and after it (end)."""
    views = text.block_views()
    front, back = views[:first], views[end:]
    fields: dict[str, View] = {}
    fr = _Fields(lex)
    for v in front + back:
        for name, val in fr.find(v):
            fields.setdefault(name, val)
    for name in ("identifier", "subject", "genre", "validity"):
        if name in fields:
            doc.fields[name] = fields[name].source().strip()

    # 文号: a field, else a line of its own
    num = fields.get("doc_number")
    if num is None:
        num = next((v for v in front if DOC_NUMBER.fullmatch(v.s.strip())), None)
    if num is not None:
        mt = DOC_NUMBER.search(num.s)
        if mt:
            doc.doc_number = num.source(mt.start(), mt.end()).strip()
            doc.doc_number_span = num.source_span(mt.start(), mt.end())

    # signature blocks: organ lines above a date line
    signatures = _signatures(front, lex) or _signatures(back, lex)
    if signatures:
        organs, date_view, date = signatures[0]
        doc.created, doc.created_span = date, date_view.span
        doc.issuers = [_organ(v, lex) for v in organs]
    if doc.created is None and "created" in fields:
        got = parse_date(fields["created"].s)
        if got:
            doc.created, doc.created_span = got[0], fields["created"].source_span(got[1], got[2])
    if "issued" in fields:
        got = parse_date(fields["issued"].s)
        if got:
            doc.issued, doc.issued_span = got[0], fields["issued"].source_span(got[1], got[2])
    if not doc.issuers and "issuer" in fields:
        doc.issuers = [_organ(fields["issuer"], lex)]

    _titles(front, lex, doc)
    if not doc.issuers:
        doc.issuers = [_organ(v, lex) for v in _header_organs(front, lex, doc)]
    _citations(text, front, lex, doc)


def _organ(v: View, lex: Mappings) -> m.ActorMention:
    a = len(v.s) - len(v.s.lstrip())
    b = len(v.s.rstrip())
    written = v.source(a, b)
    return m.ActorMention(written=written, full=written, key=fold(written), span=v.source_span(a, b),
                          collective=lex.is_collective(fold(written)))


_GAP = re.compile(r"\s{2,}|\s(?=中共)")


def _split(v: View, gap: re.Pattern) -> list[View]:
    out, a = [], 0
    for mt in gap.finditer(v.s):
        out.append(v.sub(a, mt.start()))
        a = mt.end()
    out.append(v.sub(a, len(v.s)))
    return [p for p in out if p.s.strip()]


def _organ_pieces(v: View, lex: Mappings | None = None) -> list[View]:
    """The organ names of a line; a signature line may hold several, set apart by spaces
    (中共XX县委 XX县人民政府) or wide gaps."""
    if lex is not None:
        single = _split(v.sub(0, len(v.s.rstrip())), re.compile(r"\s+"))
        if len(single) > 1 and all(_is_organ(p.s, lex) for p in single):
            return single
    return _split(v, _GAP)


def _is_organ(s: str, lex: Mappings) -> bool:
    s = s.strip()
    return 2 < len(s) <= 30 and not _SENTENCE.search(s) and ":" not in s and "、" not in s \
        and lex.has_organ_suffix(s) and looks_like_unit(s, lex) and not s.endswith("通知")


def _organ_line(v: View, lex: Mappings) -> bool:
    pieces = _organ_pieces(v, lex)
    return bool(pieces) and all(_is_organ(p.s, lex) for p in pieces)


def _signatures(views: list[View], lex: Mappings):
    out = []
    for i, v in enumerate(views):
        if not _is_date_line(v.s) or v.s.rstrip().endswith("印发"):
            continue
        organs = []
        j = i - 1
        while j >= 0 and _organ_line(views[j], lex):
            organs[:0] = _organ_pieces(views[j], lex)
            j -= 1
        if organs:
            got = parse_date(v.s.replace(" ", ""))
            d = parse_date(v.s)
            out.append((organs, v.sub(d[1], d[2]) if d else v, got[0]))
    return out


def _header_organs(front: list[View], lex: Mappings, doc: m.Document) -> list[View]:
    """An organ line right above the notice title (威海市环翠区人民政府 / 关于印发…的通知)."""
    if doc.notice_title_span is None:
        return []
    for i, v in enumerate(front):
        if v.span.start <= doc.notice_title_span.start < v.span.end + 1:
            return _organ_pieces(front[i - 1], lex) if i > 0 and _organ_line(front[i - 1], lex) else []
    return []


def _genre(s: str, lex: Mappings) -> str | None:
    s = re.sub(r"\s*\([^)]*\)\s*$", "", s.strip().rstrip(".。 "))
    for ending, kind in lex.genre_words:
        if s.endswith(ending):
            return kind
    return None


def _adjacent(a: View, b: View) -> bool:
    """True when no blank line stands between two blocks."""
    return a.text.string.count("\n", a.span.end, b.span.start) <= 1


def _titles(front: list[View], lex: Mappings, doc: m.Document) -> None:
    notice_i = None
    for i, v in enumerate(front):
        s = v.s.strip().rstrip(".。 ")
        if _genre(s, lex) == "notice" and re.search(r"印发|转发|关于", s) and len(s) <= 120:
            a = len(v.s) - len(v.s.lstrip())
            mt = re.search(r"[0-9]{1,2}日(印发|转发)", s)
            if mt:
                a = mt.start(1)
            b = len(v.s.rstrip().rstrip(".。 "))
            sp = v.source_span(a, b)
            title = v.source(a, b)
            if s.startswith("关于") and i > 0 and _organ_line(front[i - 1], lex) \
                    and _adjacent(front[i - 1], v):
                # a title wrapped after its organs (GB/T 9704: 发文机关 + 关于… on the next line)
                prev = front[i - 1]
                title = "".join(p.source().strip() for p in _organ_pieces(prev, lex)) + title
                sp = Span(prev.span.start, sp.end)
            doc.notice_title, doc.notice_title_span = title, sp
            notice_i = i
            break
    plan = None  # (first, end) block indexes of the last title-like run of lines
    i = 0
    while i < len(front):
        s = front[i].s.strip()
        if i == notice_i or _SENTENCE.search(s) or ":" in s or len(s) > 80 or len(s) < 4 \
                or _genre(s, lex) != "plan" or s.startswith(("《", "当前位置")):
            i += 1
            continue
        k = i + 1
        while k < len(front):  # a title wrapped onto the next lines: …规划纲要 / 实施方案（2021—2025年）
            nxt = front[k].s.strip()
            if _PERIOD_PAREN.match(nxt) or (len(nxt) <= 30 and _genre(nxt, lex) == "plan"
                                             and any(nxt.startswith(e) for e, _ in lex.genre_words)):
                k += 1
            else:
                break
        plan = (i, k)
        i = k
    if plan is not None:
        parts = [x.source().strip() for x in front[plan[0]:plan[1]]]
        doc.plan_title = "".join(parts)
        doc.plan_title_span = Span(front[plan[0]].span.start, front[plan[1] - 1].span.end)
    elif doc.notice_title:
        mt = re.search(r"《([^》]+)》", doc.notice_title)
        if mt:
            doc.plan_title = mt.group(1)
            a = doc.notice_title_span.start + mt.start(1)
            doc.plan_title_span = Span(a, a + len(mt.group(1)))


def _citations(text: Text, front: list[View], lex: Mappings, doc: m.Document) -> None:
    own = {fold(t) for t in (doc.plan_title, doc.notice_title) if t}
    own |= {re.sub(r"\([^)]*\)$", "", t) for t in own}
    start = doc.plan_title_span.end if doc.plan_title_span else 0
    seen = set()
    for v in front:
        if v.span.end <= start and doc.plan_title_span is not None:
            continue
        if not _BASIS.search(v.s):
            continue
        for mt in re.finditer(r"《([^》]{2,100})》\s*(?:\(([^)]*)\))?", v.s):
            title_f = mt.group(1)
            if title_f in own or re.sub(r"\([^)]*\)$", "", title_f) in own:
                continue
            number = None
            if mt.group(2):
                nm = DOC_NUMBER.search(mt.group(2))
                if nm:
                    a = mt.start(2) + nm.start()
                    number = v.source(a, a + len(nm.group())).strip()
            title = v.source(mt.start(1), mt.end(1))
            key = fold(number) if number else fold(title)
            if key in seen:
                continue
            seen.add(key)
            doc.citations.append(m.Citation(v.source_span(mt.start(), mt.end()), title, number,
                                            v.source(mt.start(), mt.end())))
