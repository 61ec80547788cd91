"""The policykg command: formats, summary, and errors that name the file (exit status 2)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from policykg.emit import PK

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "kejiting_plan.txt"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "policykg.cli", *args], capture_output=True, text=True)


def test_cli_extract_prints_the_same_graph_in_every_format():
    graphs = {}
    for fmt, rdf in (("turtle", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")):
        out = run("extract", str(SAMPLE), "--format", fmt, "-q")
        assert out.returncode == 0, out.stderr
        graphs[fmt] = Graph().parse(data=out.stdout, format=rdf)
    assert len(graphs["turtle"]) > 200
    assert isomorphic(graphs["turtle"], graphs["nt"]) and isomorphic(graphs["turtle"], graphs["jsonld"])
    assert len(set(graphs["nt"].subjects(predicate=PK.hasMeasure))) == 1  # one document


def test_cli_extract_summary_goes_to_stderr():
    out = run("extract", str(SAMPLE), "--summary")
    assert out.returncode == 0
    assert "measures" in out.stderr and "targets" in out.stderr
    Graph().parse(data=out.stdout, format="turtle")  # stdout stays a clean graph


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (bytes(range(256)) * 4, "binary data, not text"),
    (b"<html><head><script>render()</script></head><body></body></html>", "HTML page with no Chinese text"),
    ("这是一段没有任何标题的普通文字。".encode(), "does not look like a policy plan"),
])
def test_cli_extract_bad_input_names_the_file_and_exits_2(tmp_path, content, message):
    p = tmp_path / "bad input.txt"
    p.write_bytes(content)
    out = run("extract", str(p))
    assert out.returncode == 2
    assert str(p) in out.stderr and message in out.stderr
    assert out.stdout == ""


def test_cli_extract_missing_file_and_wrong_encoding(tmp_path):
    out = run("extract", str(tmp_path / "nope.txt"))
    assert out.returncode == 2 and "nope.txt: no such file" in out.stderr
    p = tmp_path / "gbk.txt"
    p.write_bytes("一、总体要求\n（一）推进工作。（责任单位：市科技局）\n".encode("gbk"))
    out = run("extract", str(p), "--encoding", "utf-8")
    assert out.returncode == 2 and "not valid utf-8" in out.stderr
    assert run("extract", str(p), "--encoding", "gbk", "-q").returncode == 0


def test_cli_every_command_has_help():
    top = run("--help")
    assert top.returncode == 0
    for cmd in ("extract",):
        assert cmd in top.stdout
        h = run(cmd, "--help")
        assert h.returncode == 0 and "Usage:" in h.stdout and len(h.stdout) > 200


def test_cli_sample_has_what_the_readme_promises():
    out = run("extract", str(SAMPLE), "--format", "nt", "-q")
    g = Graph().parse(data=out.stdout, format="nt")
    doc = next(g.subjects(predicate=PK.hasMeasure))
    assert g.value(doc, PK.documentNumber) is not None
    assert len(list(g.objects(doc, PK.hasMeasure))) >= 8
    assert len(list(g.subjects(predicate=PK.targetValue))) >= 3
