"""policykg export: the store as N-Quads on standard output or in numbered chunk files, equal
to the store quad for quad; staging graphs left out; the chunks loaded for real by Virtuoso's
bulk loader (ld_dir + rdf_loader_run through isql-vt) and by `oxigraph load`; an export from a
Virtuoso endpoint paged past its 10,000-row limit; errors that name the folder.
"""
from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic

from policykg.export import ExportError, export_nquads
from policykg.load import load_paths
from policykg.store import JOURNAL_FILE, ONTOLOGY_GRAPH, STAGING, EmbeddedStore, Results, Store

from servers import Server, running, start_virtuoso

POLICYKG = str(Path(sys.executable).parent / "policykg")
OXIGRAPH = str(Path(sys.executable).parent / "oxigraph")
ISQL = "/usr/bin/isql-vt"
NQ = ox.RdfFormat.N_QUADS
CHUNK = 5000


def policykg(*args, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([POLICYKG, *map(str, args)], capture_output=True, timeout=300)
    if check:
        assert r.returncode == 0, r.stderr.decode()
    return r


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory, seed_paths) -> Path:
    """An embedded store on disk holding the five seed plans, the ontology and the mappings."""
    path = tmp_path_factory.mktemp("export") / "store"
    store = EmbeddedStore(path)
    report = load_paths(store, seed_paths)
    assert not report.failures, report.summary()
    store.close()
    return path


def store_quads(path: Path) -> set[ox.Quad]:
    """Every quad of the store, read with pyoxigraph itself, staging graphs left out."""
    return {q for q in ox.Store.read_only(str(path)).quads_for_pattern(None, None, None, None)
            if not q.graph_name.value.startswith(STAGING)}


def graph_sizes(path: Path) -> dict[str, int]:
    with EmbeddedStore(path, read_only=True) as store:
        return store.graph_sizes()


def per_graph(quads) -> Counter:
    return Counter(q.graph_name.value for q in quads)


def read_chunk(path: Path) -> list[ox.Quad]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(ox.parse(data, format=NQ))


def blank_nodes(quads) -> set[str]:
    return {t.value for q in quads for t in (q.subject, q.object, q.graph_name) if isinstance(t, ox.BlankNode)}


def has_blank_node(q: ox.Quad) -> bool:
    return isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)


# -- standard output ------------------------------------------------------------------------------

def test_export_stdout_equals_the_store(store_dir):
    out = policykg("export", "--store", store_dir, "--format", "nq")
    quads = list(ox.parse(out.stdout, format=NQ))
    assert len(quads) == len(set(quads)) > 30000   # no quad twice
    assert set(quads) == store_quads(store_dir)
    sizes = graph_sizes(store_dir)
    assert dict(per_graph(quads)) == sizes
    assert len(sizes) == 7 and str(ONTOLOGY_GRAPH) in sizes
    assert '"措施"@zh'.encode() in out.stdout and b"\\u" not in out.stdout   # Chinese as UTF-8, not escaped
    assert out.stderr == b""


def test_export_nquads_library_call_counts_what_it_writes(store_dir, tmp_path):
    with EmbeddedStore(store_dir, read_only=True) as store, open(tmp_path / "all.nq", "wb") as f:
        report = export_nquads(store, f)
        assert dict(report.graphs) == store.graph_sizes()
    assert report.quads == len(read_chunk(tmp_path / "all.nq"))


# -- chunk files --------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["nq", "nq.gz"])
def test_export_chunks_are_numbered_bounded_and_whole(store_dir, tmp_path, compress):
    out_dir = tmp_path / "dump"
    r = policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, "--chunk-size", CHUNK,
                 *(["--gzip"] if compress else []))
    suffix = ".nq.gz" if compress else ".nq"
    files = sorted(out_dir.iterdir())
    assert [f.name for f in files] == [f"policykg-{i:06d}{suffix}" for i in range(1, len(files) + 1)]
    expected = store_quads(store_dir)
    assert len(files) == -(-len(expected) // CHUNK)   # as few files as the chunk size allows
    chunks = [read_chunk(f) for f in files]
    assert all(0 < len(c) <= CHUNK for c in chunks)
    assert sum(len(c) for c in chunks) == len(expected)
    assert set().union(*chunks) == expected
    # a loader scopes blank-node labels to a file: the quads sharing one are in one file
    seen: set[str] = set()
    for c in chunks:
        assert not blank_nodes(c) & seen
        seen |= blank_nodes(c)
    assert seen   # the ontology's OWL lists
    if compress:
        assert all(f.read_bytes()[:2] == b"\x1f\x8b" for f in files)
    summary = r.stderr.decode()
    assert f"exported {len(expected)} quads in 7 graphs to {len(files)} file(s) in {out_dir}" in summary


def test_export_chunks_refuse_an_earlier_export_unless_force(store_dir, tmp_path):
    out_dir = tmp_path / "dump"
    policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, "--chunk-size", CHUNK)
    (out_dir / "README.txt").write_text("not ours", encoding="utf-8")
    before = {f.name: f.read_bytes() for f in out_dir.iterdir()}
    r = policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, check=False)
    assert r.returncode == 2
    assert f"{out_dir}: holds the 8 chunk file(s) of an earlier export" in r.stderr.decode()
    assert "--force" in r.stderr.decode()
    assert {f.name: f.read_bytes() for f in out_dir.iterdir()} == before   # untouched
    policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, "--force", "--gzip")
    assert sorted(f.name for f in out_dir.iterdir()) == ["README.txt", "policykg-000001.nq.gz"]
    assert set(read_chunk(out_dir / "policykg-000001.nq.gz")) == store_quads(store_dir)


def test_export_leaves_staging_and_unfinished_graphs_out(tmp_path, seed_paths):
    path = tmp_path / "store"
    store = EmbeddedStore(path)
    load_paths(store, seed_paths[:1])
    store.close()
    p = ox.NamedNode("http://example.org/p")
    staging, half = ox.NamedNode(STAGING + "0123abcd"), ox.NamedNode("http://example.org/half-loaded")
    raw = ox.Store(str(path))
    raw.add(ox.Quad(ox.NamedNode("http://example.org/a"), p, ox.Literal("一次中断的加载"), staging))
    raw.add(ox.Quad(ox.NamedNode("http://example.org/b"), p, ox.Literal("写了一半"), half))
    raw.flush()
    del raw
    # a killed bulk load leaves its journal, naming the graphs it was writing
    (path / JOURNAL_FILE).write_text(json.dumps({"graphs": [half.value]}), encoding="utf-8")
    expected = {g: n for g, n in graph_sizes(path).items() if g != half.value}
    assert len(expected) == 3   # the plan, the ontology, the mappings
    streamed = policykg("export", "--store", path, "--format", "nq").stdout
    policykg("export", "--store", path, "--format", "nq", "--out", tmp_path / "dump")
    for data in (streamed, (tmp_path / "dump" / "policykg-000001.nq").read_bytes()):
        quads = list(ox.parse(data, format=NQ))
        assert STAGING.encode() not in data and "一次中断的加载".encode() not in data
        assert half.value.encode() not in data and "写了一半".encode() not in data
        assert dict(per_graph(quads)) == expected


# -- bulk loaders -------------------------------------------------------------------------------

def sql_port(server: Server) -> int:
    """The SQL port of a Virtuoso started by servers.py, from the ini it was started with."""
    section = None
    for line in (server.data_dir / "virtuoso.ini").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\s*\[([^\]]+)\]", line):
            section = m.group(1).strip()
        elif section == "Parameters" and (m := re.match(r"\s*ServerPort\s*=\s*(\d+)", line)):
            return int(m.group(1))
    raise AssertionError(f"no [Parameters] ServerPort in {server.data_dir / 'virtuoso.ini'}")


def isql(server: Server, sql: str) -> str:
    """Run SQL statements through isql-vt; isql-vt exits 0 even when a statement fails, so the
    output is searched for its error marker."""
    r = subprocess.run([ISQL, str(sql_port(server)), server.user, server.password, "VERBOSE=OFF", "BANNER=OFF",
                        "PROMPT=OFF", "ECHO=OFF", "ERRORS=STDOUT"], input=sql, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "*** Error" not in r.stdout, r.stdout + r.stderr
    return r.stdout


def sparql_counts(server: Server) -> dict[str, int]:
    r = requests.post(server.query_url, data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                                                       "GROUP BY ?g"},
                      headers={"Accept": "application/sparql-results+json"}, timeout=60)
    r.raise_for_status()
    return {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}


@pytest.fixture(scope="module")
def bulk_virtuoso(tmp_path_factory) -> tuple[Server, Path]:
    """A Virtuoso of this module's own, allowed to read the files under the folder it comes with."""
    base = tmp_path_factory.mktemp("bulk").resolve()
    exports = base / "exports"
    exports.mkdir()

    def start(data_dir: Path) -> Server:   # Virtuoso reads files only from folders its ini allows
        dirs = f"., {data_dir.resolve()}, /usr/share/virtuoso-opensource-7/vad, {exports}"
        return start_virtuoso(data_dir, {"Parameters": {"DirsAllowed": dirs}})

    with running(start, base / "virtuoso") as server:
        yield server, exports


@pytest.mark.parametrize("compress", [False, True], ids=["nq", "nq.gz"])
def test_export_chunks_load_into_virtuoso_with_its_bulk_loader(store_dir, tmp_path, bulk_virtuoso, compress):
    server, exports = bulk_virtuoso
    sizes = graph_sizes(store_dir)
    # start from an empty server whatever the other variant left
    isql(server, "".join(f"SPARQL CLEAR GRAPH <{g}>;\n" for g in sizes) + "DELETE FROM DB.DBA.load_list;\n")
    assert not set(sparql_counts(server)) & set(sizes)

    out_dir = exports / ("gz" if compress else "plain")
    r = policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, "--chunk-size", CHUNK,
                 *(["--gzip"] if compress else []))
    files = sorted(out_dir.iterdir())
    assert len(files) > 3, r.stderr
    exported = per_graph(q for f in files for q in read_chunk(f))

    pattern = "*.nq.gz" if compress else "*.nq"
    isql(server, f"ld_dir('{out_dir}', '{pattern}', 'http://example/default');\nrdf_loader_run();\ncheckpoint;\n")
    rows = [line.split(None, 2) for line in isql(server, "SELECT ll_file, ll_state, ll_error FROM "
                                                         "DB.DBA.load_list;\n").splitlines() if line.strip()]
    assert sorted(row[0] for row in rows) == [str(f) for f in files]
    assert all(row[1:] == ["2", "NULL"] for row in rows), rows   # loaded, and no ll_error
    counts = sparql_counts(server)
    loaded = {g: n for g, n in counts.items() if g in sizes}
    assert loaded == sizes == dict(exported)   # every graph, every triple (blank nodes not merged)
    assert sum(loaded.values()) == sum(sizes.values())
    assert "http://example/default" not in counts   # every quad named its graph

    # and back out of Virtuoso through its SPARQL endpoint, paged past its 10,000-row limit
    assert max(sizes.values()) > 10000
    back = tmp_path / "back"
    r = policykg("export", "--endpoint", server.query_url, "--format", "nq", "--out", back)
    assert "left out 4 graph(s) of the server's own" in r.stderr.decode()
    again = read_chunk(back / "policykg-000001.nq")
    assert dict(per_graph(again)) == sizes
    original = store_quads(store_dir)
    assert {q for q in again if not has_blank_node(q)} == {q for q in original if not has_blank_node(q)}
    assert same_blank_node_graphs(again, original)


def same_blank_node_graphs(a, b) -> bool:
    """The quads with blank nodes, graph by graph, equal up to the renaming of blank nodes."""
    def graphs(quads) -> dict[str, Graph]:
        out: dict[str, list] = {}
        for q in quads:
            if has_blank_node(q):
                out.setdefault(q.graph_name.value, []).append(q.triple)
        return {g: Graph().parse(data=ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES), format="nt")
                for g, ts in out.items()}

    ga, gb = graphs(a), graphs(b)
    return ga.keys() == gb.keys() and all(isomorphic(ga[g], gb[g]) for g in ga)


def test_export_chunks_load_with_oxigraph_load(store_dir, tmp_path):
    out_dir = tmp_path / "dump"
    policykg("export", "--store", store_dir, "--format", "nq", "--out", out_dir, "--chunk-size", CHUNK, "--gzip")
    target = tmp_path / "oxigraph"
    r = subprocess.run([OXIGRAPH, "load", "--location", target, "--file", *sorted(out_dir.iterdir())],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    loaded = set(ox.Store.read_only(str(target)).quads_for_pattern(None, None, None, None))
    original = store_quads(store_dir)
    assert per_graph(loaded) == per_graph(original)
    assert {q for q in loaded if not has_blank_node(q)} == {q for q in original if not has_blank_node(q)}
    assert same_blank_node_graphs(loaded, original)   # oxigraph load renames blank nodes file by file


# -- paging through a server --------------------------------------------------------------------

class PagedServer(Store):
    """A server stand-in with one graph: answers pages of at most `max_rows` rows, optionally
    in a different order on each request (as SPARQL allows without ORDER BY)."""

    location = "http://example.org/sparql"

    def __init__(self, triples: int, max_rows: int, shuffle: bool = False):
        from rdflib import Literal, URIRef

        self.rows = [{"s": URIRef(f"http://example.org/s{i}"), "p": URIRef("http://example.org/p"),
                      "o": Literal(f"第{i}条")} for i in range(triples)]
        self.max_rows, self.shuffle, self.calls = max_rows, shuffle, 0

    def graph_sizes(self) -> dict[str, int]:
        return {"http://example.org/g": len(self.rows)}

    def select(self, query, params=None, *, graph=None) -> Results:
        limit, offset = map(int, re.search(r"LIMIT (\d+) OFFSET (\d+)", query).groups())
        self.calls += 1
        rows = self.rows[self.calls % 2:] + self.rows[:self.calls % 2] if self.shuffle else self.rows
        return Results(["s", "p", "o"], rows[offset:offset + min(limit, self.max_rows)])

    def graph(self, name):
        raise NotImplementedError

    def replace_graphs(self, payloads):
        raise NotImplementedError


def test_export_server_pages_shorter_than_asked_are_followed(tmp_path):
    import io

    out = io.BytesIO()
    report = export_nquads(PagedServer(triples=23, max_rows=4), out)
    assert report.quads == 23 and len(set(ox.parse(out.getvalue(), format=NQ))) == 23


def test_export_server_in_unstable_order_is_an_error():
    import io

    with pytest.raises(ExportError, match=r"graph <http://example.org/g> has 23 triples, but paging through it "
                                          r"gave \d+ different ones"):
        export_nquads(PagedServer(triples=23, max_rows=4, shuffle=True), io.BytesIO())


# -- bad input ----------------------------------------------------------------------------------

def test_export_bad_input_names_the_folder(store_dir, tmp_path):
    empty = tmp_path / "no store here"
    empty.mkdir()
    r = policykg("export", "--store", empty, "--format", "nq", check=False)
    assert r.returncode == 2 and f"{empty}: no store here" in r.stderr.decode() and r.stdout == b""

    a_file = tmp_path / "dump.nq"
    a_file.write_text("", encoding="utf-8")
    r = policykg("export", "--store", store_dir, "--format", "nq", "--out", a_file, check=False)
    assert r.returncode == 2 and f"{a_file}: is a file, not a folder" in r.stderr.decode()

    r = policykg("export", "--store", store_dir, "--format", "trig", check=False)
    assert r.returncode == 2 and "'nq'" in r.stderr.decode()
    r = policykg("export", "--store", store_dir, check=False)
    assert r.returncode == 2 and "--format" in r.stderr.decode()
    r = policykg("export", "--store", store_dir, "--format", "nq", "--chunk-size", "10", check=False)
    assert r.returncode == 2 and "go with --out DIR" in r.stderr.decode()


def test_export_help_says_how_to_bulk_load():
    h = policykg("export", "--help").stdout.decode()
    for words in ("ld_dir(", "rdf_loader_run()", "DirsAllowed", "qlever-index", "oxigraph load --location"):
        assert words in h


def test_export_chunks_keep_the_quads_of_a_blank_node_together(store_dir, tmp_path):
    from policykg.export import export_chunks, linked_groups

    size = 20   # the ontology's largest OWL list takes 48 quads: it must get a file of its own
    with EmbeddedStore(store_dir, read_only=True) as store:
        report = export_chunks(store, tmp_path / "dump", size)
    chunks = [read_chunk(f) for f in report.files]
    assert set().union(*chunks) == store_quads(store_dir) and sum(map(len, chunks)) == report.quads
    seen: set[str] = set()
    for c in chunks:
        assert not blank_nodes(c) & seen
        seen |= blank_nodes(c)
        assert len(c) <= size or (all(map(has_blank_node, c)) and len(linked_groups(c)) == 1)
    assert max(map(len, chunks)) > size
