"""Loading plans and RDF files into a store, one named graph per document.

A plan is extracted and its graph named by the document's IRI. An RDF file (Turtle,
N-Triples, N-Quads, TriG, JSON-LD, RDF/XML) keeps the named graphs it declares; its
default-graph triples go to the graph of the one document read from a source text that it
describes, or, when it describes none or several, to a graph named after the file. Loading a
document again replaces its graph as a whole (store.py). The ontology and the mapping tables
(as SKOS, mapping_scheme.py) have graphs of their own, refreshed on every load.

One bad file never costs the others: each file is read and written on its own, failures are
collected with their reason, and a server that stops answering ends the batch with every
document not yet written listed as not loaded.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import URIRef
from rdflib.namespace import PROV, RDF

from policykg.emit import PK
from policykg.errors import PolicyKGError
from policykg.store import MAPPINGS_GRAPH, ONTOLOGY_GRAPH, GraphPayload, Store

# RDF files by suffix, with their rdflib format names (load and validate read the same files).
RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld",
                ".json": "json-ld", ".rdf": "xml", ".owl": "xml"}

_OX_FORMATS = {"turtle": "TURTLE", "nt": "N_TRIPLES", "nquads": "N_QUADS", "trig": "TRIG", "json-ld": "JSON_LD",
               "xml": "RDF_XML"}


class ServerUnavailableError(PolicyKGError):
    """The store stopped answering; what is not written yet cannot be."""


@dataclass
class FileLoad:
    """What one input file became."""

    path: str
    graphs: list[str] = field(default_factory=list)
    documents: int = 0
    measures: int = 0
    triples: int = 0
    error: str | None = None


@dataclass
class LoadReport:
    files: list[FileLoad] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. two files of one document

    @property
    def loaded(self) -> list[FileLoad]:
        return [f for f in self.files if f.error is None]

    @property
    def failures(self) -> list[FileLoad]:
        return [f for f in self.files if f.error is not None]

    def summary(self) -> str:
        ok = self.loaded
        lines = [f"loaded {len(ok)} file(s): {sum(f.documents for f in ok)} document(s), "
                 f"{sum(f.measures for f in ok)} measure(s), {sum(f.triples for f in ok)} triple(s); "
                 f"{len(self.failures)} failure(s)"]
        lines += [f"  not loaded: {f.error}" for f in self.failures]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


# -- payloads ---------------------------------------------------------------------------------

def is_rdf(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RDF_SUFFIXES


def plan_payloads(path: str | Path, *, encoding: str | None = None) -> tuple[list[GraphPayload], FileLoad]:
    """Extract a plan: one payload, its graph named by the document IRI."""
    from policykg.emit import document_iri, ntriples, to_triples
    from policykg.pipeline import document_from_path

    doc = document_from_path(path, encoding=encoding)
    triples = to_triples(doc)
    iri = document_iri(doc.doc_number, doc.plan_title, doc.sha256)
    info = FileLoad(str(path), [str(iri)], documents=1,
                    measures=len(doc.measures), triples=len(triples))
    return [GraphPayload(iri, ntriples(triples))], info


def rdf_payloads(path: str | Path) -> tuple[list[GraphPayload], FileLoad]:
    """Read an RDF file; group its statements by the graph they go to."""
    import pyoxigraph as ox

    p = Path(path)
    fmt = getattr(ox.RdfFormat, _OX_FORMATS[RDF_SUFFIXES[p.suffix.lower()]])
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise PolicyKGError(f"{p}: no such file") from None
    except OSError as e:
        raise PolicyKGError(f"{p}: cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise PolicyKGError(f"{p}: the file is empty")
    try:
        quads = list(ox.parse(data, format=fmt, base_iri=p.resolve().as_uri()))
    except (SyntaxError, ValueError) as e:
        raise PolicyKGError(f"{p}: not valid {fmt.name}: {e}") from None
    if any(isinstance(q.graph_name, ox.BlankNode) for q in quads):
        raise PolicyKGError(f"{p}: graphs named by blank nodes cannot be replaced later; name them with IRIs")
    by_graph: dict[str, list] = {}
    for q in quads:
        name = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        by_graph.setdefault(name, []).append(q.triple)

    a, derived = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(PROV.wasDerivedFrom))
    payloads, info = [], FileLoad(str(p))
    for name, triples in by_graph.items():
        types = Counter(t.object for t in triples if t.predicate == a)
        if not name:
            sources = {t.subject for t in triples if t.predicate == a and t.object == ox.NamedNode(str(PK.SourceText))}
            docs = {t.subject for t in triples if t.predicate == derived and t.object in sources}
            name = docs.pop().value if len(docs) == 1 else p.resolve().as_uri()
        payloads.append(GraphPayload(URIRef(name), ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""))
        info.graphs.append(name)
        info.triples += len(triples)
        info.documents += types[ox.NamedNode(str(PK.SourceText))]   # documents read, not cited
        info.measures += types[ox.NamedNode(str(PK.Measure))]
    return payloads, info


def payloads_for(path: str | Path, *, encoding: str | None = None) -> tuple[list[GraphPayload], FileLoad]:
    return rdf_payloads(path) if is_rdf(path) else plan_payloads(path, encoding=encoding)


def scan_quads(path: str | Path) -> FileLoad | None:
    """One streaming pass over an N-Quads or TriG file (an export, `policykg extract` of a
    corpus): its named graphs and counts, or None when some statement is in the default
    graph or a graph named by a blank node (the file is then read as payloads)."""
    import pyoxigraph as ox

    p = Path(path)
    fmt = getattr(ox.RdfFormat, _OX_FORMATS[RDF_SUFFIXES[p.suffix.lower()]])
    a = ox.NamedNode(str(RDF.type))
    source, measure = ox.NamedNode(str(PK.SourceText)), ox.NamedNode(str(PK.Measure))
    info, graphs = FileLoad(str(p)), {}
    try:
        if p.stat().st_size == 0:
            return None
        for q in ox.parse(path=str(p), format=fmt, base_iri=p.resolve().as_uri()):
            g = q.graph_name
            if not isinstance(g, ox.NamedNode):
                return None
            graphs[g.value] = None
            info.triples += 1
            if q.predicate == a:
                info.documents += q.object == source   # a document read, not one cited
                info.measures += q.object == measure
    except (SyntaxError, ValueError, OSError):
        return None   # read as payloads, which reports the error as it does for other files
    info.graphs = list(graphs)
    return info


def reference_payloads() -> list[GraphPayload]:
    """The ontology and the mapping tables, each in its own graph."""
    from rdflib import Graph

    from policykg.mapping_scheme import mappings_graph
    from policykg.resources import ontology_turtle

    import hashlib

    turtle = ontology_turtle()
    onto = Graph().parse(data=turtle, format="turtle")
    return [GraphPayload(ONTOLOGY_GRAPH, onto.serialize(format="nt", encoding="utf-8"),
                         digest=hashlib.sha256(turtle.encode("utf-8")).hexdigest()),
            GraphPayload(MAPPINGS_GRAPH, mappings_graph().serialize(format="nt", encoding="utf-8"))]


# -- extracting many files ---------------------------------------------------------------------

PARALLEL_MIN = 8   # fewer plans than this are extracted in-process: starting workers costs more


def default_jobs() -> int:
    """The processes extraction runs in by default: one per core this process may use."""
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _payloads_or_error(path: str | Path, encoding: str | None) -> tuple[list[GraphPayload] | None, FileLoad]:
    try:
        return payloads_for(path, encoding=encoding)
    except PolicyKGError as e:
        msg = str(e)
        return None, FileLoad(str(path), error=msg if msg.startswith(str(path)) else f"{path}: {msg}")


def _warm() -> None:
    """Read the mapping tables once per worker, before its first file."""
    from policykg import actors, lexicon

    actors.tables()
    lexicon.default()


def _single_threaded() -> bool:
    """Whether this process runs one thread only, native threads included (Linux: its
    /proc/self/task entries), and so may fork safely."""
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


WHOLE = "whole file"   # payload_stream's mark of a quads file the caller may write as it is


def _quads_file(path: str | Path) -> bool:
    return RDF_SUFFIXES.get(Path(path).suffix.lower()) in ("nquads", "trig")


def payload_stream(paths: Iterable[str | Path], *, jobs: int = 1, encoding: str | None = None,
                   whole: bool = False) -> Iterator[tuple[list[GraphPayload] | str | None, FileLoad]]:
    """Each file's payloads (None when it failed, with the error in its FileLoad), in the
    order given. With jobs > 1, plans are extracted in that many worker processes, a few
    files ahead of the caller, so that memory stays bounded however many files there are.
    With whole=True, N-Quads and TriG files are not read but yielded as WHOLE, for the
    caller to write as they are (write_whole_file) or read (payloads_for)."""
    paths = list(paths)

    def now(p):
        return (WHOLE, FileLoad(str(p))) if whole and _quads_file(p) else _payloads_or_error(p, encoding)

    if jobs <= 1 or sum(not is_rdf(p) for p in paths) < PARALLEL_MIN:
        for p in paths:
            yield now(p)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    if _single_threaded():
        # Forked workers start at once with the tables this process has read.
        _warm()
        context = multiprocessing.get_context("fork")
    else:
        # A fork would copy the memory of this process's other threads (an open store's) but
        # not the threads, and could inherit a lock one of them holds: start workers afresh.
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_warm) as pool:
        ahead: deque = deque()

        def submit(p):
            ahead.append((p, None if is_rdf(p) else pool.submit(_payloads_or_error, p, encoding)))

        todo = iter(paths)
        for p in todo:
            submit(p)
            if len(ahead) >= 4 * jobs:
                break
        while ahead:
            p, future = ahead.popleft()
            nxt = next(todo, None)
            if nxt is not None:
                submit(nxt)
            yield future.result() if future is not None else now(p)


def write_whole_file(store: Store, path: str | Path) -> FileLoad | None:
    """Write a quads file to the store as it is, if the store can take it so (see
    scan_quads and Store.load_quads_file); None when it must be read as payloads."""
    info = scan_quads(path)
    if info is None:
        return None
    try:
        if not store.load_quads_file(Path(path), _OX_FORMATS[RDF_SUFFIXES[Path(path).suffix.lower()]], info.graphs):
            return None
    except PolicyKGError as e:
        info.error = str(e)
    return info


# -- loading ----------------------------------------------------------------------------------

def load_paths(store: Store, paths: Iterable[str | Path], *, encoding: str | None = None,
               on_file: Callable[[FileLoad], None] | None = None, reference: bool = True,
               jobs: int = 1) -> LoadReport:
    """Load each file into `store`, each all or nothing; report what became of each.

    Plans are extracted in `jobs` processes. Files are written in batches of about
    store.batch_triples triples (the embedded store bulk-loads graphs it does not hold yet),
    in the order given, so a document given twice ends as its last file has it; the report
    notes each such file. `on_file` is called after each file is written (for progress).
    The ontology and mapping graphs are refreshed first unless `reference` is False."""
    report = LoadReport()
    paths = list(paths)
    down: str | None = None
    store.drop_staging()
    if reference:
        try:
            store.refresh_graphs(reference_payloads())
        except ServerUnavailableError as e:
            down = str(e)
    first_file: dict[str, str] = {}
    batch: list[tuple[FileLoad, list[GraphPayload]]] = []

    def done(info: FileLoad) -> None:
        report.files.append(info)
        if on_file:
            on_file(info)

    def write() -> None:
        nonlocal down
        outcomes: list = []
        if batch and down is None:
            try:
                outcomes = store.write_files([payloads for _, payloads in batch])
            except ServerUnavailableError as e:
                down = str(e)
        for k, (info, _) in enumerate(batch):
            if down is not None:
                info.error = f"{info.path}: {down}"
            elif outcomes[k] is not None:
                msg = str(outcomes[k])
                info.error = msg if msg.startswith(info.path) else f"{info.path}: {msg}"
            done(info)
        batch.clear()

    size = 0
    for payloads, info in payload_stream(paths, jobs=jobs, encoding=encoding, whole=True):
        if payloads == WHOLE:
            write()   # what came before it first
            size = 0
            written = write_whole_file(store, info.path) if down is None else None
            if written is not None:
                done(written)
                continue
            payloads, info = _payloads_or_error(info.path, encoding)
        if down is not None and payloads is not None:
            info = FileLoad(info.path, error=f"{info.path}: {down}")
        if payloads is None or info.error:
            done(info)
            continue
        for g in info.graphs:
            if g in first_file and first_file[g] != info.path:
                report.notes.append(f"{info.path}: the same document as {first_file[g]} (<{g}>); "
                                    "its graph is the one loaded last")
            first_file.setdefault(g, info.path)
        batch.append((info, payloads))
        size += info.triples
        if size >= store.batch_triples:
            write()
            size = 0
    write()
    return report
