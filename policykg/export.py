"""Export the store as N-Quads, for the bulk loaders of other triple stores.

Every named graph is written (the documents' graphs, the ontology's, the mappings'), staging
graphs left out, each quad naming its graph. The quads are streamed: an embedded store is read
from disk graph by graph and serialized in batches, so a dump of millions of quads never sits
in memory; a SPARQL server is read graph by graph in pages of a SELECT, each graph checked
against its COUNT. The terms are written by pyoxigraph's N-Quads serializer (Chinese text as
UTF-8, escapes where N-Quads needs them).

`export_chunks` writes numbered files (policykg-000001.nq, ...) of at most `chunk_size` quads,
which bulk loaders take as a folder. A bulk loader reads each file on its own, blank-node
labels being local to a file, so the quads that share a blank node go into one file together
(in policykg's graphs only the ontology's OWL lists and restrictions have blank nodes).

Example:
    >>> import io
    >>> from policykg.store import EmbeddedStore
    >>> out = io.BytesIO()
    >>> export_nquads(EmbeddedStore(None), out).quads
    0
"""
from __future__ import annotations

import contextlib
import gzip as gz
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from policykg.errors import PolicyKGError
from policykg.store import STAGING, EmbeddedStore, Store

FORMATS = ("nq",)            # trig would go here; each format one suffix and one serializer
CHUNK_SIZE = 1_000_000       # quads per file by default
BATCH = 10_000               # quads per call of the serializer
PAGE = 5_000                 # rows per SELECT from a server (below Virtuoso's 10,000-row limit)
CHUNK_PREFIX = "policykg-"
CHUNK_PATTERN = re.compile(r"policykg-\d{6,}\.nq(\.gz)?$")

# Graphs a server keeps about itself, left out of an export from it: Virtuoso's quad-map
# schema (loading it into another Virtuoso would break that one), its LDP vocabulary, and the
# service description and WebDAV graphs it names after its own address.
SERVER_GRAPHS = {"http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#"}
SERVER_GRAPH_PATTERN = re.compile(r"https?://[^/]+/(sparql|DAV/)$")


class ExportError(PolicyKGError):
    """The export cannot be written, or the store did not give all of a graph."""

    def __init__(self, path: str | Path | None, problem: str, hint: str = ""):
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.path or 'export'}: {problem}" + (f"; {hint}" if hint else ""))


@dataclass
class ExportReport:
    """What an export wrote: quads per graph, the chunk files, the server graphs left out."""

    graphs: Counter = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def quads(self) -> int:
        return sum(self.graphs.values())

    def summary(self) -> str:
        line = f"exported {self.quads} quads in {len(self.graphs)} graphs"
        if self.files:
            line += f" to {len(self.files)} file(s) in {self.files[0].parent}"
        if self.skipped:
            line += f"; left out {len(self.skipped)} graph(s) of the server's own: {', '.join(self.skipped)}"
        return line


# -- reading the store ------------------------------------------------------------------------

def is_server_graph(name: str) -> bool:
    return name in SERVER_GRAPHS or bool(SERVER_GRAPH_PATTERN.match(name))


def _graphs(store: Store, report: ExportReport) -> dict[str, int]:
    """Graph -> size, in name order: staging graphs and (on a server) its own graphs left out."""
    sizes = store.graph_sizes()   # staging graphs are left out already
    if isinstance(store, EmbeddedStore):
        # and the graphs of a killed bulk load (its journal), which queries do not see either
        unfinished = set(getattr(store, "_hidden", ()))
    else:
        unfinished = set()
        report.skipped = sorted(g for g in sizes if is_server_graph(g))
    return {g: sizes[g] for g in sorted(sizes)
            if g not in report.skipped and g not in unfinished and not g.startswith(STAGING)}


def _ox_term(node: Node, bnodes: dict[str, ox.BlankNode]):
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):   # a server's label, the same in every answer (Virtuoso: nodeID://b10008)
        return bnodes.setdefault(str(node), ox.BlankNode())
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)) if node.datatype else None)
    raise TypeError(f"unexpected term {node!r}")


def server_quads(store: Store, graph: str, expected: int, bnodes: dict) -> Iterator[ox.Quad]:
    """One graph of a server, page by page. SPARQL does not promise the same order for each
    page without ORDER BY, and Virtuoso refuses to sort more than 10,000 rows for an OFFSET,
    so each triple is checked to be new and the graph to be whole (its COUNT)."""
    g = ox.NamedNode(graph)
    seen: set[bytes] = set()
    page, offset = PAGE, 0
    while len(seen) < expected:
        res = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} LIMIT {page} OFFSET {offset}")
        for row in res.rows:
            try:
                q = ox.Quad(_ox_term(row["s"], bnodes), _ox_term(row["p"], bnodes), _ox_term(row["o"], bnodes), g)
            except (ValueError, TypeError) as e:
                raise ExportError(store.location, f"graph <{graph}> holds a term N-Quads cannot write: {e}") from None
            key = hashlib.blake2b(str(q).encode("utf-8"), digest_size=16).digest()
            if key not in seen:
                seen.add(key)
                yield q
        offset += len(res.rows)
        if not res.rows:
            break
        if len(res.rows) < page:   # the server cuts answers shorter than our pages: take its size
            page = len(res.rows)
    if len(seen) != expected:
        raise ExportError(store.location, f"graph <{graph}> has {expected} triples, but paging through it gave "
                                          f"{len(seen)} different ones",
                          "the graph changed during the export, or the server pages in no stable order; "
                          "export again when no load is running, or with the server's own dump tools")


def graph_quads(store: Store, report: ExportReport | None = None) -> Iterator[tuple[str, Iterator[ox.Quad]]]:
    """(graph name, its quads) for every graph to export, in name order."""
    report = report if report is not None else ExportReport()
    bnodes: dict[str, ox.BlankNode] = {}
    for graph, size in _graphs(store, report).items():
        if isinstance(store, EmbeddedStore):
            yield graph, store.quads(graph)
        else:
            yield graph, server_quads(store, graph, size, bnodes)


def _batched(items: Iterable, n: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


# -- one stream -------------------------------------------------------------------------------

def export_nquads(store: Store, out: BinaryIO) -> ExportReport:
    """Write every named graph of `store` but the staging ones to `out` (a binary stream) as
    N-Quads, graph after graph.

    Raises:
        ExportError: a server did not give all of a graph (the output is then incomplete).
        OSError: `out` cannot be written (BrokenPipeError when its reader went away).
    """
    report = ExportReport()
    for graph, quads in graph_quads(store, report):
        for batch in _batched(quads, BATCH):
            ox.serialize(batch, out, format=ox.RdfFormat.N_QUADS)
            report.graphs[graph] += len(batch)
    out.flush()
    return report


# -- numbered files ---------------------------------------------------------------------------

def _blank_nodes(term) -> Iterator[str]:
    if isinstance(term, ox.BlankNode):
        yield term.value
    elif isinstance(term, ox.Triple):   # an RDF 1.2 triple term
        for t in (term.subject, term.object):
            yield from _blank_nodes(t)


def _blank_nodes_of(q: ox.Quad) -> list[str]:
    return [*_blank_nodes(q.subject), *_blank_nodes(q.object), *_blank_nodes(q.graph_name)]


def linked_groups(quads: list[ox.Quad]) -> list[list[ox.Quad]]:
    """The quads that mention blank nodes, grouped so that quads sharing a blank node (directly
    or through others, as the cells of an RDF list) are in one group."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in quads:
        first, *rest = _blank_nodes_of(q)
        for b in rest:
            parent[root(b)] = root(first)
    groups: dict[str, list[ox.Quad]] = {}
    for q in quads:
        groups.setdefault(root(_blank_nodes_of(q)[0]), []).append(q)
    return list(groups.values())


def chunk_files(out_dir: Path) -> list[Path]:
    """The chunk files of an earlier export in `out_dir`, in order."""
    return sorted(p for p in out_dir.iterdir() if CHUNK_PATTERN.match(p.name))


class _Chunks:
    """Numbered chunk files, written under hidden temporary names (.policykg-000001.nq.part,
    which no loader's *.nq pattern matches) and given their names only when all are written."""

    def __init__(self, out_dir: Path, chunk_size: int, compress: bool):
        self.dir, self.size, self.compress = out_dir, chunk_size, compress
        self.suffix = ".nq.gz" if compress else ".nq"
        self.parts: list[Path] = []
        self.room = 0
        self._raw = self._out = None

    @contextlib.contextmanager
    def _writing(self):
        try:
            yield
        except OSError as e:
            raise ExportError(e.filename or self.dir, f"cannot write: {e.strerror or e}") from None

    def _open(self) -> None:
        self._close()
        part = self.dir / f".{CHUNK_PREFIX}{len(self.parts) + 1:06d}{self.suffix}.part"
        self.parts.append(part)
        with self._writing():
            self._raw = open(part, "wb")   # noqa: SIM115 - closed in _close
        # mtime=0 and no name inside: the same store gives byte-identical files
        self._out = gz.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0) if self.compress else self._raw
        self.room = self.size

    def _close(self) -> None:
        if self._out is not None:
            self._out.close()
            if self._raw is not self._out:
                self._raw.close()
        self._raw = self._out = None

    def write(self, quads: list[ox.Quad], *, together: bool = False) -> None:
        """Write quads, starting a new file when the current one is full; `together` quads go
        into one file (a new one unless they fit), even if they are more than a chunk."""
        if together and len(quads) > self.room:
            self._open()
        while quads:
            if self._out is None or self.room <= 0:
                self._open()
            n = len(quads) if together else min(len(quads), self.room)
            with self._writing():
                ox.serialize(quads[:n], self._out, format=ox.RdfFormat.N_QUADS)
            self.room -= n
            quads = quads[n:]

    def commit(self, old: list[Path]) -> list[Path]:
        """Replace the old chunk files by the new ones; return the new ones."""
        final = [p.with_name(p.name[1:-len(".part")]) for p in self.parts]
        keep = set(final)
        with self._writing():
            self._close()
            for p in old:
                if p not in keep:
                    p.unlink()
            for part, name in zip(self.parts, final, strict=True):
                part.replace(name)
        return final

    def discard(self) -> None:
        self._close()
        for p in self.parts:
            with contextlib.suppress(OSError):
                p.unlink()


def _out_dir(out_dir: Path, force: bool) -> list[Path]:
    """Make sure `out_dir` is a folder we may write chunks to; return the chunks already there."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(out_dir, "is a file, not a folder", "give --out a folder (it is made if missing)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        old = chunk_files(out_dir)
    except OSError as e:
        raise ExportError(out_dir, f"cannot make or read the folder: {e.strerror or e}") from None
    if old and not force:
        raise ExportError(out_dir, f"holds the {len(old)} chunk file(s) of an earlier export ({old[0].name}, ...)",
                          "give another folder, or --force to replace them")
    return old


def export_chunks(store: Store, out_dir: str | Path, chunk_size: int = CHUNK_SIZE, *, compress: bool = False,
                  force: bool = False) -> ExportReport:
    """Write every named graph of `store` but the staging ones as numbered N-Quads files
    `out_dir/policykg-000001.nq` (`.nq.gz` with `compress`), each of at most `chunk_size` quads,
    except that the quads sharing a blank node go into one file even if they are more.

    The quads with blank nodes are held in memory until the rest is written (policykg's own
    graphs have a few hundred). The files appear under their names only when the whole
    export is written; with `force`,
    the chunk files of an earlier export in `out_dir` are then replaced (other files are left
    alone), without it they are an error. A failed export leaves `out_dir` as it was.

    Raises:
        ExportError: `out_dir` is a file, cannot be written, or holds an earlier export (and
            not `force`); or a server did not give all of a graph.
    """
    if chunk_size < 1:
        raise ExportError(out_dir, f"the chunk size must be at least 1 quad, not {chunk_size}")
    out_dir = Path(out_dir)
    old = _out_dir(out_dir, force)
    report = ExportReport()
    chunks = _Chunks(out_dir, chunk_size, compress)
    linked: list[ox.Quad] = []   # quads with blank nodes, written last, linked ones together
    try:
        for graph, quads in graph_quads(store, report):
            for batch in _batched(quads, BATCH):
                plain: list[ox.Quad] = []
                for q in batch:
                    (linked if _blank_nodes_of(q) else plain).append(q)
                chunks.write(plain)
                report.graphs[graph] += len(batch)
        for group in linked_groups(linked):
            chunks.write(group, together=True)
        report.files = chunks.commit(old)
    except BaseException:
        chunks.discard()
        raise
    return report
