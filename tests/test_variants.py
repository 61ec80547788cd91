"""Variants: one plan as plain text, a portal page, a Word file and a PDF gives the same facts.

The plan is samples/kepu_tables_plan.txt (written for policykg): measures whose units and
deadlines sit in a task-division table in its attachment, and an indicator table. The other
formats are made from it at test time (tests/variants.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Namespace

from policykg.emit import to_graph
from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import from_bytes
from variants import to_docx, to_html, to_pdf

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "kepu_tables_plan.txt"
PK = Namespace("https://w3id.org/policykg/ontology#")
OA = Namespace("http://www.w3.org/ns/oa#")


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    plain = SAMPLE.read_text(encoding="utf-8")
    docx_data = to_docx(plain)
    return {
        "txt": ("plan.txt", plain.encode("utf-8")),
        "html": ("plan.html", to_html(plain)),
        "html-gb2312": ("plan.htm", to_html(plain, encoding="gb18030")),
        "docx": ("plan.docx", docx_data),
        "pdf": ("plan.pdf", to_pdf(docx_data, tmp_path_factory.mktemp("pdf"))),
    }


def read(variant):
    name, data = variant
    text = read_text(from_bytes(data, path=name))
    return text, extract(text)


def facts(doc) -> dict:
    """What a user reads off a plan: its metadata, measures with units and time, targets."""
    def tf(n):
        return (n.time_frame.start, n.time_frame.end, n.time_frame.basis) if n.time_frame else None

    return {
        "title": doc.plan_title, "number": doc.doc_number, "created": doc.created,
        "period": (doc.period.start, doc.period.end),
        "measures": [(n.heading, n.parent.heading if n.parent else None,
                      tuple(a.actor.full for a in n.leads), n.lead_basis,
                      tuple(a.actor.full for a in n.assignments if a.role == "co"), tf(n))
                     for n in doc.measures],
        "targets": sorted((t.indicator, t.value, t.unit, t.year, t.comparator) for t in doc.all_targets),
    }


@pytest.mark.parametrize("fmt", ["html", "html-gb2312", "docx", "pdf"])
def test_variants_give_the_facts_of_the_plain_text(variants, fmt):
    _, reference = read(variants["txt"])
    _, doc = read(variants[fmt])
    want, got = facts(reference), facts(doc)
    assert len(want["measures"]) == 7 and len(want["targets"]) == 15  # the reference is what we think it is
    for key in want:
        assert got[key] == want[key], f"{fmt}: {key} differs from the plain text"


@pytest.mark.parametrize("fmt", ["txt", "html", "docx", "pdf"])
def test_variants_every_span_quotes_the_text_it_points_at(variants, fmt):
    text, doc = read(variants[fmt])
    g = to_graph(doc)
    spans = list(g.subjects(OA.exact, None))
    assert len(spans) > 50
    for s in spans:
        a, b = int(g.value(s, OA.start)), int(g.value(s, OA.end))
        assert text.string[a:b] == str(g.value(s, OA.exact))
    for n in doc.measures:
        assert text.string[n.span.start:n.span.end] == n.text


def test_variants_pdf_spans_carry_their_page(variants):
    text, doc = read(variants["pdf"])
    g = to_graph(doc)
    pages = {int(p) for p in g.objects(None, PK.page)}
    assert pages >= {1, 2}
    # the task-division table is in the attachment, after page 1; its cells say where they are
    (extra,) = [n for n in doc.measures if n.heading == "建设科普网络传播矩阵"]
    block = next(b for b in text.blocks if b.start <= extra.span.start < b.end)
    assert block.kind == "table_row" and block.page >= 2


def test_variants_html_and_docx_spans_carry_a_locator(variants):
    for fmt in ("html", "docx"):
        _, doc = read(variants[fmt])
        g = to_graph(doc)
        assert len(set(g.objects(None, PK.locator))) > 20, fmt


def test_variants_read_command_prints_the_text_spans_point_into(variants, tmp_path):
    import hashlib
    import subprocess
    import sys

    name, data = variants["docx"]
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run([sys.executable, "-m", "policykg.cli", "read", str(path)], capture_output=True,
                         text=True, check=True).stdout
    text = out[:-1]  # the command ends the text with a newline
    _, doc = read(variants["docx"])
    g = to_graph(doc)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == str(next(g.objects(None, PK.textSha256)))
    blocks = subprocess.run([sys.executable, "-m", "policykg.cli", "read", "--blocks", str(path)],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in blocks]
    assert all(len(r) == 5 for r in rows) and {r[2] for r in rows} >= {"paragraph", "table_row"}
    start, end = int(rows[-1][0]), int(rows[-1][1])
    assert text[start:end].startswith("| ") and rows[-1][4].startswith("body/tbl[")
