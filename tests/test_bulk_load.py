"""Loading at corpus scale: new documents go to the embedded store in bulk, under a journal
that undoes a failed or killed bulk load; plans are extracted in worker processes; a
document given twice is noted and ends as its last file has it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import same_graph
from rdflib import URIRef

from policykg import store as store_module
from policykg.load import load_paths, plan_payloads
from policykg.store import JOURNAL_FILE, EmbeddedStore, GraphPayload

MAKE_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_corpus.py"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    """Twelve plans in the seeds' layouts, with other places, years and figures."""
    if not MAKE_CORPUS.exists():
        pytest.fail(f"{MAKE_CORPUS} is missing: the tests need ../shared beside the checkout")
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(MAKE_CORPUS), "12", str(out)], check=True, capture_output=True)
    return sorted(out.glob("*.txt"))


def doc_iri(path) -> str:
    return plan_payloads(path)[1].graphs[0]


def _same_store(a, b) -> bool:
    return a.graph_sizes() == b.graph_sizes() and all(same_graph(a.graph(g), b.graph(g)) for g in a.graph_sizes())


def test_bulk_and_parallel_loads_give_the_graphs_of_a_file_by_file_load(tmp_path, corpus, monkeypatch):
    one_by_one = EmbeddedStore(tmp_path / "one")
    monkeypatch.setattr(EmbeddedStore, "batch_triples", 0)   # a write per file, as before bulk loads
    load_paths(one_by_one, corpus, jobs=1)
    monkeypatch.undo()
    bulk = EmbeddedStore(tmp_path / "bulk")
    report = load_paths(bulk, corpus, jobs=2)
    assert not report.failures, report.summary()
    assert [Path(f.path) for f in report.files] == corpus   # reported in the order given
    assert len(one_by_one.graph_sizes()) > 2 + 6
    assert _same_store(bulk, one_by_one)
    assert not (tmp_path / "bulk" / JOURNAL_FILE).exists()


def test_a_document_given_twice_is_noted_and_its_last_file_stands(tmp_path, seed_paths, monkeypatch):
    monkeypatch.setattr(store_module, "BULK_MIN_BYTES", 0)   # the bulk path even for a few plans
    text = seed_paths[0].read_text(encoding="utf-8")
    edited = tmp_path / "edited.txt"
    edited.write_text(text.replace("(责任单位:市科技局)", ""), encoding="utf-8")
    store = EmbeddedStore(tmp_path / "s")
    report = load_paths(store, [seed_paths[0], seed_paths[1], edited], reference=False)
    iri = doc_iri(seed_paths[0])
    assert doc_iri(edited) == iri
    assert report.notes == [f"{edited}: the same document as {seed_paths[0]} (<{iri}>); "
                            "its graph is the one loaded last"]
    fresh = EmbeddedStore(None)
    load_paths(fresh, [edited], reference=False)
    assert same_graph(store.graph(iri), fresh.graph(iri))


def test_a_failed_bulk_load_costs_only_the_bad_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BULK_MIN_BYTES", 0)
    store = EmbeddedStore(tmp_path / "s")
    good = [[GraphPayload(URIRef(f"x:g{i}"), f'<x:a> <x:p> "{i}" .\n'.encode())] for i in range(3)]
    broken = [GraphPayload(URIRef("x:broken"), b'<x:a> <x:p> "unterminated .\n')]
    outcomes = store.write_files([good[0], broken, good[1], good[2]])
    assert [o is None for o in outcomes] == [True, False, True, True]
    assert "unchanged" in str(outcomes[1])
    assert store.graph_sizes() == {"x:g0": 1, "x:g1": 1, "x:g2": 1}
    assert not (tmp_path / "s" / JOURNAL_FILE).exists()


KILLED_LOAD = """
import os, sys
from rdflib import URIRef
from policykg import store as m
m.BULK_MIN_BYTES = 0
s = m.EmbeddedStore(sys.argv[1])
m.EmbeddedStore._clear_journal = lambda self: os._exit(9)   # killed once the data is written
s.write_files([[m.GraphPayload(URIRef("x:new1"), b'<x:a> <x:p> "1" .\\n')],
               [m.GraphPayload(URIRef("x:new2"), b'<x:a> <x:p> "2" .\\n')]])
"""


def test_a_killed_bulk_load_is_not_seen_and_the_next_writer_removes_it(tmp_path):
    path = tmp_path / "s"
    before = EmbeddedStore(path)
    before.replace_graphs([GraphPayload(URIRef("x:old"), b'<x:a> <x:p> "old" .\n')])
    before.close()
    del before
    r = subprocess.run([sys.executable, "-c", KILLED_LOAD, str(path)], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    assert (path / JOURNAL_FILE).exists()
    reader = EmbeddedStore(path, read_only=True)
    assert {str(g.value) for g in reader._store.named_graphs()} >= {"x:new1", "x:new2"}   # written, not finished
    assert [str(r["o"]) for r in reader.select("SELECT ?o WHERE { ?s ?p ?o }")] == ["old"]
    del reader
    writer = EmbeddedStore(path)
    load_paths(writer, [], reference=False)
    assert writer.graph_sizes() == {"x:old": 1}
    assert not (path / JOURNAL_FILE).exists()


def test_load_rewrites_the_ontology_and_mappings_only_when_they_changed(tmp_path, seed_paths, monkeypatch):
    from policykg.store import MAPPINGS_GRAPH, ONTOLOGY_GRAPH, REFERENCE_FILE

    store = EmbeddedStore(tmp_path / "s")
    load_paths(store, seed_paths[3:4])
    sizes = store.graph_sizes()
    written = []
    real = EmbeddedStore.replace_graphs
    monkeypatch.setattr(EmbeddedStore, "replace_graphs",
                        lambda self, payloads: written.extend(str(p.graph) for p in payloads) or real(self, payloads))
    load_paths(store, seed_paths[3:4])
    assert written == [doc_iri(seed_paths[3])]   # the document again, not the reference graphs
    assert store.graph_sizes() == sizes
    # mapping tables that changed (a new release), and an ontology graph someone dropped
    digests = tmp_path / "s" / REFERENCE_FILE
    digests.write_text(digests.read_text(encoding="utf-8").replace(
        f'"{MAPPINGS_GRAPH}": "', f'"{MAPPINGS_GRAPH}": "0'), encoding="utf-8")
    store._store.remove_graph(store_module.ox.NamedNode(str(ONTOLOGY_GRAPH)))
    written.clear()
    load_paths(store, [], reference=True)
    assert sorted(written) == sorted([str(ONTOLOGY_GRAPH), str(MAPPINGS_GRAPH)])
    assert store.graph_sizes() == sizes


def test_extract_of_a_corpus_to_nquads_loads_as_the_plans_do(tmp_path, corpus):
    from click.testing import CliRunner

    from policykg.cli import main

    r = CliRunner().invoke(main, ["extract", "-j", "2", *map(str, corpus)])
    assert r.exit_code == 0, r.output
    assert "the same document as" in r.stderr   # the corpus names some documents twice
    nq = tmp_path / "corpus.nq"
    nq.write_bytes(r.stdout_bytes)
    from_plans, from_nq = EmbeddedStore(tmp_path / "plans"), EmbeddedStore(tmp_path / "nq")
    load_paths(from_plans, corpus)
    report = load_paths(from_nq, [nq])
    assert not report.failures, report.summary()
    assert report.files[0].documents == len(from_plans.graph_sizes()) - 2   # the ontology, the mappings
    assert _same_store(from_nq, from_plans)
    r = CliRunner().invoke(main, ["extract", "--format", "turtle", *map(str, corpus[:2])])
    assert r.exit_code == 2 and "N-Quads" in r.output


def test_extraction_forks_its_workers_only_while_no_other_thread_runs(tmp_path, corpus):
    # `policykg extract` holds no store: its workers are forked, with the tables read once
    one = subprocess.run([sys.executable, "-m", "policykg.cli", "extract", "-j", "1", *map(str, corpus)],
                         capture_output=True, check=True).stdout
    two = subprocess.run([sys.executable, "-m", "policykg.cli", "extract", "-j", "2", *map(str, corpus)],
                         capture_output=True, check=True).stdout
    assert one == two and one.count(b"\n") > 10_000
    # an open store runs threads of its own (RocksDB's), which a fork would not copy
    probe = ("from policykg.load import _single_threaded as s; from policykg.store import EmbeddedStore as E; "
             f"a = s(); st = E({str(tmp_path / 's')!r}); print(a, s())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
