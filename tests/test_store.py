"""The embedded store: one named graph per document, atomic replacement, RDF files and plans
alike, reference graphs, failures that cost nothing, and the load / query / serve commands."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import SKOS

from policykg.cli import main
from policykg.emit import PK
from policykg.load import load_paths
from policykg.store import (MAPPINGS_GRAPH, ONTOLOGY_GRAPH, STAGING, EmbeddedStore, GraphPayload, StoreBusyError,
                            StoreError)

from conftest import extracted, plan_versions, same_graph

POLICYKG = str(Path(sys.executable).parent / "policykg")


def graph_of(store: EmbeddedStore, graph: str) -> Graph:
    return store.graph(graph)


def doc_iri(path) -> str:
    _, g = extracted(str(path))
    return str(next(g.subjects(PK.hasMeasure, None)))


def test_each_document_in_its_own_graph_equal_to_its_extraction(seed_store, seed_paths):
    sizes = seed_store.graph_sizes()
    for p in seed_paths:
        _, g = extracted(str(p))
        iri = doc_iri(p)
        assert sizes[iri] == len(g)
        assert same_graph(graph_of(seed_store, iri), g), p.name
    assert set(sizes) == {doc_iri(p) for p in seed_paths} | {str(ONTOLOGY_GRAPH), str(MAPPINGS_GRAPH)}


def test_loading_again_replaces_without_duplicates(tmp_path, seed_paths):
    store = EmbeddedStore(tmp_path / "s")
    load_paths(store, seed_paths[:2])
    before = store.graph_sizes()
    report = load_paths(store, seed_paths[:2])
    assert not report.failures
    assert store.graph_sizes() == before
    assert not any(g.startswith(STAGING) for g in before)


def test_reference_graphs_ontology_and_mappings_as_skos(seed_store):
    res = seed_store.select("""
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?label WHERE { GRAPH <https://w3id.org/policykg/graph/mappings> {
            ?c skos:inScheme <https://w3id.org/policykg/mappings/responsibility-keywords> ;
               skos:prefLabel ?label ; skos:related <https://w3id.org/policykg/ontology#LeadRole> } }""")
    labels = {str(r["label"]) for r in res}
    assert {"牵头单位", "牵头部门"} <= labels
    assert "配合单位" not in labels
    res = seed_store.select("""SELECT ?l WHERE { GRAPH <https://w3id.org/policykg/graph/ontology> {
        <https://w3id.org/policykg/ontology#Measure> <http://www.w3.org/2000/01/rdf-schema#label> ?l } }""")
    assert {(str(r["l"]), r["l"].language) for r in res} >= {("措施", "zh")}


def test_a_failed_replacement_leaves_every_old_graph(tmp_path, seed_paths):
    store = EmbeddedStore(tmp_path / "s")
    load_paths(store, seed_paths[:1])
    iri = doc_iri(seed_paths[0])
    old = graph_of(store, iri)
    good = GraphPayload(URIRef(iri), b"<x:a> <x:b> <x:c> .\n")
    broken = GraphPayload(URIRef("x:other"), b"<x:a> <x:b> \"unterminated .\n")
    with pytest.raises(StoreError, match="unchanged"):
        store.replace_graphs([good, broken])
    assert same_graph(graph_of(store, iri), old)
    assert "x:other" not in store.graph_sizes()


@pytest.mark.parametrize("fmt,suffix", [("turtle", ".ttl"), ("nt", ".nt"), ("json-ld", ".jsonld"), ("xml", ".rdf")])
def test_rdf_files_load_into_the_graph_of_the_document_they_describe(tmp_path, seed_paths, fmt, suffix):
    _, g = extracted(str(seed_paths[1]))
    f = tmp_path / f"plan{suffix}"
    g.serialize(f, format=fmt)
    store = EmbeddedStore(None)
    report = load_paths(store, [f], reference=False)
    assert not report.failures, report.summary()
    assert report.files[0].graphs == [doc_iri(seed_paths[1])]
    assert report.files[0].measures == len(set(g.subjects(RDF.type, PK.Measure))) > 0
    assert same_graph(graph_of(store, doc_iri(seed_paths[1])), g)


def test_nquads_keep_their_graphs(tmp_path):
    f = tmp_path / "two.nq"
    f.write_text('<x:a> <x:p> "一" <http://example.org/g1> .\n<x:b> <x:p> "二" <http://example.org/g2> .\n'
                 '<x:c> <x:p> "三" .\n', encoding="utf-8")
    store = EmbeddedStore(None)
    report = load_paths(store, [f], reference=False)
    assert sorted(report.files[0].graphs) == sorted(["http://example.org/g1", "http://example.org/g2",
                                                     f.resolve().as_uri()])
    assert store.graph_sizes() == {"http://example.org/g1": 1, "http://example.org/g2": 1, f.resolve().as_uri(): 1}


def test_one_bad_file_costs_only_itself(tmp_path, seed_paths):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    html = tmp_path / "page.txt"
    html.write_text('<!DOCTYPE html><html><head><meta http-equiv="refresh" content="0; url=/zwgk/plan.html">'
                    "</head><body></body></html>", encoding="utf-8")
    bad_ttl = tmp_path / "bad.ttl"
    bad_ttl.write_text("<x:a> <x:b> .", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "s")
    report = load_paths(store, [seed_paths[0], empty, html, bad_ttl, tmp_path / "missing.txt", seed_paths[2]])
    assert [Path(f.path).name for f in report.loaded] == [seed_paths[0].name, seed_paths[2].name]
    errors = {Path(f.path).name: f.error for f in report.failures}
    assert set(errors) == {"empty.txt", "page.txt", "bad.ttl", "missing.txt"}
    for name, error in errors.items():
        assert name in error
    assert "empty" in errors["empty.txt"] and "redirect" in errors["page.txt"] and "/zwgk/plan.html" in errors["page.txt"]
    assert "Turtle" in errors["bad.ttl"] and "no such file" in errors["missing.txt"]
    assert {doc_iri(seed_paths[0]), doc_iri(seed_paths[2])} <= set(store.graph_sizes())


def test_load_command_summary_and_exit_status(tmp_path, seed_paths):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    r = CliRunner().invoke(main, ["load", "--store", str(tmp_path / "s"), str(seed_paths[3]), str(empty)])
    assert r.exit_code == 2
    assert "loaded 1 file(s): 1 document(s)" in r.output and "1 failure(s)" in r.output
    assert f"not loaded: {empty}" in r.output
    r = CliRunner().invoke(main, ["load", "--store", str(tmp_path / "s"), str(seed_paths[3])])
    assert r.exit_code == 0, r.output


def test_a_load_killed_half_way_leaves_each_document_whole(tmp_path, seed_paths):
    """SIGKILL a load of many documents part-way; each graph is then wholly old or wholly new."""
    old, new = plan_versions(tmp_path, seed_paths)
    store_dir = tmp_path / "s"
    assert subprocess.run([POLICYKG, "load", "--store", str(store_dir), *map(str, old)]).returncode == 0
    store = EmbeddedStore(store_dir, read_only=True)
    old_graphs = {p.name: graph_of(store, doc_iri(p)) for p in old}
    del store
    many = [str(p) for _ in range(6) for p in new]   # long enough to be caught part-way
    proc = subprocess.Popen([POLICYKG, "load", "-v", "--store", str(store_dir), *many],
                            stderr=subprocess.PIPE, text=True)
    seen = 0
    for line in proc.stderr:
        seen += line.startswith("loaded ")
        if seen == 3:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the load ended before it could be interrupted"
    store = EmbeddedStore(store_dir, read_only=True)
    sizes = store.graph_sizes()
    whole_new = 0
    for p_old, p_new in zip(old, new, strict=True):
        g = graph_of(store, doc_iri(p_old))
        _, g_new = extracted(str(p_new))
        assert same_graph(g, old_graphs[p_old.name]) or same_graph(g, g_new), p_old.name
        whole_new += same_graph(g, g_new)
    assert whole_new >= 3
    assert not any(g.startswith(STAGING) and n for g, n in sizes.items())


def test_query_command_formats_and_params(tmp_path, seed_paths):
    store = str(tmp_path / "s")
    CliRunner().invoke(main, ["load", "--store", store, *map(str, seed_paths)])
    q = tmp_path / "units.rq"
    q.write_text("# name: units\n# description: units written so\n# param: w string — as written\n"
                 "# returns: unit\nPREFIX pk: <https://w3id.org/policykg/ontology#>\n"
                 "SELECT DISTINCT ?unit WHERE { ?r pk:writtenAs ?w ; pk:actor ?a . "
                 "?a <http://www.w3.org/2004/02/skos/core#prefLabel> ?unit } ORDER BY ?unit\n", encoding="utf-8")
    expected = set()   # the same question asked of each extracted graph with rdflib
    for p in seed_paths:
        _, g = extracted(str(p))
        for r in g.subjects(PK.writtenAs, Literal("市科技局")):
            expected.add(str(g.value(g.value(r, PK.actor), SKOS.prefLabel)))
    assert expected
    r = CliRunner().invoke(main, ["query", "--store", store, str(q), "--param", "w=市科技局", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == ["unit", *sorted(expected)]
    r = CliRunner().invoke(main, ["query", "--store", store, str(q), "-p", "w=市科技局", "--format", "json"])
    data = json.loads(r.output)
    assert data["head"]["vars"] == ["unit"]
    assert data["results"]["bindings"] == [{"unit": {"type": "literal", "value": u}} for u in sorted(expected)]
    r = CliRunner().invoke(main, ["query", "--store", store, str(q), "-p", "w=市科技局"])
    assert all(u in r.output for u in expected) and f"({len(expected)} row" in r.output
    # values that try to break out of a literal change nothing: they are one literal
    for evil in ['市科技局" } INSERT DATA { <x:a> <x:b> <x:c> } #', "市科技局'}", '"}} UNION {?a ?b ?unit}',
                 '市科技局\\u0022) } UNION { ?a ?b ?unit } #', '市科技局\n}', '市科技局\\']:
        r = CliRunner().invoke(main, ["query", "--store", store, str(q), "-p", f"w={evil}", "--format", "csv"])
        assert r.exit_code == 0, r.output
        assert r.output.splitlines() == ["unit"]
    r = CliRunner().invoke(main, ["query", "--store", store, str(q)])
    assert r.exit_code == 2 and "missing parameter w" in r.output
    r = CliRunner().invoke(main, ["query", "--store", store, str(q), "-p", "x=1"])
    assert r.exit_code == 2 and "unknown parameter(s) x" in r.output
    r = CliRunner().invoke(main, ["query", "--store", store, "no-such-query"])
    assert r.exit_code == 2 and "no query named 'no-such-query'" in r.output
    r = CliRunner().invoke(main, ["query", "--store", str(tmp_path / "nothing"), str(q), "-p", "w=x"])
    assert r.exit_code == 2 and "no store here" in r.output


def test_typed_params_are_checked():
    from policykg.querylib import QueryError, term

    assert term("2025", "integer") == Literal(2025)
    assert term("pk:LeadRole", "iri") == PK.LeadRole
    for value, type_ in (("20x5", "integer"), ("a b", "iri"), ("<x:a> } ", "iri"), ("2025-13-01", "date")):
        with pytest.raises(QueryError):
            term(value, type_)


def test_query_list_shows_every_library_query():
    from policykg.querylib import library

    r = CliRunner().invoke(main, ["query", "--list"])
    assert r.exit_code == 0
    for name, q in library().items():
        assert name in r.output and q.description in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: str, content_type: str, accept: str = "text/csv") -> tuple[int, str]:
    req = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                 headers={"Content-Type": content_type, "Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def test_serve_is_a_read_only_endpoint_with_a_query_page(tmp_path, seed_paths):
    store = tmp_path / "s"
    CliRunner().invoke(main, ["load", "--store", str(store), str(seed_paths[0])])
    port = _free_port()
    proc = subprocess.Popen([POLICYKG, "serve", "--store", str(store), "--port", str(port)],
                            stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in banner and "read-only" in banner
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/", timeout=1) as r:
                    page = r.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.1)
        assert "yasgui" in page.lower()
        status, body = _post(base + "/query", "PREFIX pk: <https://w3id.org/policykg/ontology#> "
                             "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?d pk:hasMeasure ?m }",
                             "application/sparql-query")
        _, g = extracted(str(seed_paths[0]))
        assert status == 200 and body.split() == ["n", str(len(set(g.objects(None, PK.hasMeasure))))]
        status, _ = _post(base + "/update", "INSERT DATA { <x:a> <x:b> <x:c> }", "application/sparql-update")
        assert status in (403, 404, 405)
        r = CliRunner().invoke(main, ["load", "--store", str(store), str(seed_paths[1])])
        assert r.exit_code == 2 and "is serving this store" in r.output
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert not (store / "policykg-serve.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)


def test_a_store_being_written_is_not_read(tmp_path):
    writer = EmbeddedStore(tmp_path / "s")
    writer.replace_graphs([GraphPayload(URIRef("x:g"), b"<x:a> <x:b> <x:c> .\n")])
    code = ("import sys\nfrom policykg.store import EmbeddedStore, StoreBusyError\n"
            "try:\n    EmbeddedStore(sys.argv[1], read_only=True)\nexcept StoreBusyError as e:\n"
            "    print(e); sys.exit(3)\n")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s")], capture_output=True, text=True)
    assert r.returncode == 3 and "another process is writing" in r.stdout
    with pytest.raises(StoreBusyError):
        EmbeddedStore(tmp_path / "s")


def _findings(report):
    return sorted((f.document, f.focus, f.component, f.severity, f.path or "") for d in report.documents
                  for f in d.findings)


def test_validating_the_store_finds_what_validating_the_files_finds(seed_store, seed_paths):
    from policykg.validate import validate_paths, validate_store

    from_store, from_files = validate_store(seed_store), validate_paths(seed_paths)
    assert _findings(from_store) == _findings(from_files)
    assert {d.document for d in from_store.documents} == {doc_iri(p) for p in seed_paths}
    assert any(d.violations for d in from_store.documents)


def test_validate_store_command_reports_an_edited_plan_at_its_measure(tmp_path, seed_paths):
    text = seed_paths[0].read_text(encoding="utf-8")
    note = "(责任单位:市科技局)"  # the note of measure (八), its only unit
    assert text.count(note) == 1
    edited = tmp_path / "edited.txt"
    edited.write_text(text.replace(note, ""), encoding="utf-8")
    store = str(tmp_path / "s")
    assert CliRunner().invoke(main, ["load", "--store", store, str(seed_paths[2])]).exit_code == 0
    r = CliRunner().invoke(main, ["validate", "--store", store])
    assert r.exit_code == 0, r.output
    assert CliRunner().invoke(main, ["load", "--store", store, str(edited)]).exit_code == 0
    r = CliRunner().invoke(main, ["validate", "--store", store, "--format", "json", "--lang", "en"])
    assert r.exit_code == 1
    docs = {d["document"]: d for d in json.loads(r.output)["documents"]}
    bad = docs[doc_iri(seed_paths[0])]
    violations = [f for f in bad["findings"] if f["severity"] == "Violation"]
    assert [(f["focus_label"][:13], f["path"]) for f in violations] == [("(八) 发挥科普对科技成果", "pk:leadUnit")]
    r = CliRunner().invoke(main, ["validate", "--store", store, str(edited)])
    assert r.exit_code == 2 and "not both" in r.output


def test_staging_graphs_are_not_seen_and_a_load_clears_them(tmp_path, seed_paths):
    from policykg.store import staging_graph

    store = EmbeddedStore(tmp_path / "s")
    load_paths(store, seed_paths[3:4], reference=False)
    iri = doc_iri(seed_paths[3])
    count = "PREFIX pk: <https://w3id.org/policykg/ontology#> SELECT (COUNT(*) AS ?n) WHERE { ?d pk:hasMeasure ?m }"
    before = int(store.select(count).rows[0]["n"])
    # what a load killed between writing the staging graph and the MOVE leaves behind
    nt = graph_of(store, iri).serialize(format="nt", encoding="utf-8")
    store._store.load(nt, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(staging_graph(iri))))
    store.close()
    del store
    store = EmbeddedStore(tmp_path / "s")   # the next process to open the store
    assert str(staging_graph(iri)) in {g.value for g in store._store.named_graphs()}
    assert int(store.select(count).rows[0]["n"]) == before
    load_paths(store, seed_paths[:1], reference=False)
    assert not any(g.value.startswith(STAGING) for g in store._store.named_graphs())
