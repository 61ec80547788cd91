"""Triple stores: the embedded one (Oxigraph, on disk) and any SPARQL 1.1 server (remote.py).

Both hold one named graph per document, named by the document's IRI, plus the ontology and
the mapping tables in graphs of their own; queries see the union of all graphs as their
default graph. A graph is replaced as a whole or not at all: the new triples go to a staging
graph first and take the old graph's place in one transactional `MOVE`, so a failure half-way
leaves the old graph as it was.

Graphs the embedded store does not hold yet are written in bulk instead, many documents at
a time, by Oxigraph's bulk loader (some ten times faster than its transactions). The bulk
loader is not transactional, so the store keeps a journal: the names of the graphs being
written are recorded (and synced) before the load and deleted after it. If the load fails,
those graphs are removed again; if the process is killed, the next writer to open the store
removes them, and until then readers leave them out of the default graph, as they do staging
graphs. Either way the store is as it was before the load.

Results come back as rdflib terms, whatever the store, so that answers compare and print the
same way.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from policykg.binding import with_values
from policykg.errors import PolicyKGError

GRAPH = "https://w3id.org/policykg/graph/"
ONTOLOGY_GRAPH = URIRef(GRAPH + "ontology")
MAPPINGS_GRAPH = URIRef(GRAPH + "mappings")
STAGING = GRAPH + "staging/"


class StoreError(PolicyKGError):
    """The store cannot be opened, read or written."""


class StoreBusyError(StoreError):
    """Another process holds the embedded store (a running `policykg serve`, another load)."""


def default_store_dir() -> Path:
    """$POLICYKG_STORE, else $XDG_DATA_HOME/policykg/store (~/.local/share/policykg/store)."""
    if os.environ.get("POLICYKG_STORE"):
        return Path(os.environ["POLICYKG_STORE"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "policykg" / "store"


SERVER_FILE = "policykg-serve.json"
REFERENCE_FILE = "policykg-reference.json"   # digests of the ontology and mapping graphs as written
JOURNAL_FILE = "policykg-bulk-load.json"   # graphs a bulk load is writing; removed when it is done
BULK_MIN_BYTES = 1 << 20                    # less new data than this is written in one transaction


def nquads(payload: GraphPayload) -> bytes:
    """A payload's N-Triples as N-Quads in its graph (N-Triples has one statement a line)."""
    graph = b" <" + str(payload.graph).encode("utf-8") + b"> .\n"
    out = []
    for line in payload.ntriples.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        if not line.endswith(b"."):
            raise ValueError(f"not an N-Triples statement: {line[:80]!r}")
        out.append(line[:-1].rstrip() + graph)
    return b"".join(out)


def _writer_active(path: Path) -> bool:
    """Whether another process holds the store's write lock (RocksDB's fcntl lock on LOCK)."""
    import fcntl

    try:
        with open(path / "LOCK", "a+b") as f:
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.lockf(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        return False
    return False


def running_server(path: Path) -> dict | None:
    """The `policykg serve` process serving this store, if one is alive."""
    import json

    try:
        info = json.loads((path / SERVER_FILE).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


def staging_graph(graph: str, *, unique: bool = False) -> URIRef:
    """The staging graph a graph's new triples are written to before they replace it: one per
    graph, or (unique=True, for servers other loaders may write to) one per load."""
    key = hashlib.sha1(graph.encode("utf-8")).hexdigest()
    return URIRef(STAGING + key + (f"/{uuid.uuid4().hex}" if unique else ""))


@dataclass
class Results:
    """A SELECT answer: the projected variables and one row per solution (unbound -> absent).
    `truncated` is the row limit at which a server cut the answer short, if it did."""

    variables: list[str]
    rows: list[dict[str, Node]] = field(default_factory=list)
    truncated: int | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Node]]:
        return iter(self.rows)


@dataclass(frozen=True)
class GraphPayload:
    """The whole new content of one named graph, as N-Triples; `digest` names the content
    where the bytes cannot (blank node labels differ from one serialization to the next)."""

    graph: URIRef
    ntriples: bytes
    digest: str | None = None

    def content_digest(self) -> str:
        if self.digest is not None:
            return self.digest
        return hashlib.sha256(b"\n".join(sorted(self.ntriples.splitlines()))).hexdigest()


class Store(ABC):
    """What the loader, the query library and validation need of a triple store."""

    location: str

    @abstractmethod
    def select(self, query: str, params: Mapping[str, Node] | None = None, *, graph: str | None = None) -> Results:
        """Run a SELECT (or ASK, answered as one row with ?ask) query with the params bound;
        its default graph is `graph` when given, else the union of the named graphs."""

    @abstractmethod
    def graph(self, name: str) -> Graph:
        """The triples of one named graph."""

    @abstractmethod
    def replace_graphs(self, payloads: list[GraphPayload]) -> None:
        """Give each graph exactly the payload's triples, all of them or (on failure) none."""

    def write_files(self, files: list[list[GraphPayload]]) -> list[StoreError | None]:
        """Write the payloads of several files, each file's all or none (replace_graphs), in
        order; one outcome per file: None, or the StoreError that left it unwritten. Errors
        other than StoreError (a server gone) end the batch."""
        outcomes: list[StoreError | None] = []
        for payloads in files:
            try:
                self.replace_graphs(payloads)
                outcomes.append(None)
            except StoreError as e:
                outcomes.append(e)
        return outcomes

    #: how many triples of several files the loader gathers for one write_files call
    batch_triples = 0

    def refresh_graphs(self, payloads: list[GraphPayload]) -> None:
        """Give graphs that every load refreshes (the ontology, the mappings) these triples;
        a store that can tell they are unchanged leaves them."""
        self.replace_graphs(payloads)

    def load_quads_file(self, path: Path, fmt: str, graphs: list[str]) -> bool:
        """Write a whole N-Quads or TriG file whose statements are all in these named graphs,
        if this store can do so at once (all or none); False when it cannot, and the loader
        sends the file's graphs as payloads instead."""
        return False

    def drop_staging(self) -> None:  # noqa: B027 - only a store with an exclusive writer can
        """Remove staging graphs left by a killed load. A server may have other loaders at
        work, so by default they are left alone (a later load of the document replaces them)."""

    def graph_sizes(self) -> dict[str, int]:
        """Named graph -> number of triples, staging graphs left out."""
        res = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        return {str(r["g"]): int(r["n"]) for r in res if not str(r["g"]).startswith(STAGING)}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- Oxigraph terms -> rdflib terms ----------------------------------------------------------

def to_rdflib(term) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value, datatype=None if dt == str(XSD.string) else URIRef(dt))
    raise StoreError(f"unsupported term in a query answer: {term!r}")


class EmbeddedStore(Store):
    """An Oxigraph store on disk (or in memory with path=None), queried in-process."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.location = str(self.path) if self.path else "(in memory)"
        self.read_only = read_only
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                if not (self.path / "CURRENT").exists():
                    raise StoreError(f"{self.path}: no store here; load documents first (policykg load PATH...)")
                if _writer_active(self.path):
                    raise StoreBusyError(f"{self.path}: another process is writing the store (a load, or "
                                         "`policykg serve --writable`); wait for it, or query through its endpoint")
                self._store = ox.Store.read_only(str(self.path))
            else:
                server = running_server(self.path)
                if server:
                    raise StoreBusyError(
                        f"{self.path}: `policykg serve` (pid {server['pid']}) is serving this store read-only; "
                        f"stop it before writing, or serve it with --writable and load through "
                        f"--endpoint {server['url']}query --update-endpoint {server['url']}update")
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
            self._hidden = self._unfinished()
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreBusyError(
                    f"{self.path}: the store is in use by another process (a running `policykg serve` or load?); "
                    "stop it, or query through its endpoint with --endpoint") from e
            raise StoreError(f"{self.path}: cannot open the store: {e}") from e

    # queries -------------------------------------------------------------------------------
    def _staging(self) -> list:
        return [g for g in self._store.named_graphs() if g.value.startswith(STAGING)]

    def _journal(self) -> list[str]:
        """The graphs of a bulk load that did not finish (the process was killed)."""
        import json

        if self.path is None:
            return []
        try:
            return list(json.loads((self.path / JOURNAL_FILE).read_text(encoding="utf-8"))["graphs"])
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise StoreError(f"{self.path / JOURNAL_FILE}: the bulk-load journal cannot be read ({e}); "
                             "it lists the graphs of an unfinished load") from e

    def _unfinished(self) -> set[str]:
        """Graphs no query may see: staging graphs, and those of an unfinished bulk load."""
        return {g.value for g in self._staging()} | set(self._journal())

    def _query(self, query: str, params: Mapping[str, Node] | None, graph: str | None = None):
        # The default graph is the union of the named graphs, unfinished ones left out: a load
        # killed between its two steps leaves a staging graph, a killed bulk load its journal
        # (graphs of a load in progress exist only inside replace_graphs and write_files, and
        # a writer is the only process with the store).
        if graph is not None:
            scope = {"default_graph": [ox.NamedNode(graph)]}
        elif self._hidden:
            scope = {"default_graph": [g for g in self._store.named_graphs() if g.value not in self._hidden]}
        else:
            scope = {"use_default_graph_as_union": True}
        try:
            return self._store.query(with_values(query, params), **scope)
        except SyntaxError as e:
            raise StoreError(f"the query is not valid SPARQL: {e}") from e
        except OSError as e:
            raise StoreError(f"{self.location}: the query failed: {e}") from e

    def select(self, query: str, params: Mapping[str, Node] | None = None, *, graph: str | None = None) -> Results:
        answer = self._query(query, params, graph)
        if isinstance(answer, ox.QueryBoolean):
            return Results(["ask"], [{"ask": Literal(bool(answer))}])
        if not isinstance(answer, ox.QuerySolutions):
            raise StoreError("expected a SELECT or ASK query, got a CONSTRUCT or DESCRIBE query")
        variables = [v.value for v in answer.variables]
        rows = []
        for sol in answer:
            row = {}
            for v in variables:
                t = sol[v]
                if t is not None:
                    row[v] = to_rdflib(t)
            rows.append(row)
        return Results(variables, rows)

    def graph(self, name: str) -> Graph:
        quads = self._store.quads_for_pattern(None, None, None, ox.NamedNode(name))
        nt = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES) or b""
        return Graph().parse(data=nt, format="nt")

    def quads(self, name: str) -> Iterator[ox.Quad]:
        """The quads of one named graph as pyoxigraph quads, streamed from disk (export.py)."""
        return self._store.quads_for_pattern(None, None, None, ox.NamedNode(name))

    # updates -------------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location}: the store was opened read-only")

    def replace_graphs(self, payloads: list[GraphPayload]) -> None:
        self._writable()
        if self._all_new([payloads]):
            self._write_new(payloads)
            return
        staged, moves = [], []
        try:
            for p in payloads:
                staging = ox.NamedNode(str(staging_graph(str(p.graph))))
                self._store.remove_graph(staging)
                staged.append(staging)
                # load() is transactional: the staging graph gets all of it or nothing.
                self._store.load(p.ntriples, format=ox.RdfFormat.N_TRIPLES, to_graph=staging)
                moves.append(f"MOVE SILENT GRAPH {staging} TO GRAPH <{p.graph}>")
            # One update, one transaction: every graph changes at once, or none does.
            self._store.update(" ;\n".join(moves))
        except (OSError, SyntaxError, ValueError) as e:
            with contextlib.suppress(OSError):   # best effort: staging graphs are not seen anyway
                for staging in staged:
                    self._store.remove_graph(staging)
            self._hidden = self._unfinished()
            raise StoreError(f"{self.location}: the load failed, the store is unchanged: {e}") from e

    #: about 150 MB of N-Quads a bulk write; the loader gathers files up to this many triples
    batch_triples = 500_000

    def write_files(self, files: list[list[GraphPayload]]) -> list[StoreError | None]:
        """Files whose graphs are all new are written in one bulk load; the others, in order
        after them, each in its own transaction. A file whose graphs a later file of the batch
        gives again is not written at all, unless that later file fails. A bulk load that fails
        is undone, and its files are written one by one, so that only a bad file fails."""
        self._writable()
        graphs = [frozenset(str(p.graph) for p in payloads) for payloads in files]
        last = {g: i for i, g in enumerate(graphs)}
        superseded = [i for i, g in enumerate(graphs) if last[g] != i]
        outcomes: list[StoreError | None] = [None] * len(files)
        new, rest, seen = [], [], set()
        for i, payloads in enumerate(files):
            if last[graphs[i]] != i:
                continue
            if len(graphs[i]) == len(payloads) and not graphs[i] & seen and self._all_new([payloads]):
                new.append(i)
                seen |= graphs[i]
            else:
                rest.append(i)
        if len(new) > 1:
            try:
                self._write_new([p for i in new for p in files[i]])
            except StoreError:
                rest = sorted(rest + new)   # each on its own, in the order given
        else:
            rest = sorted(rest + new)
        for i in rest:
            try:
                self.replace_graphs(files[i])
            except StoreError as e:
                outcomes[i] = e
        # a file given again that could not be written: the earlier files of its graphs stand
        for i in superseded:
            if outcomes[last[graphs[i]]] is not None:
                try:
                    self.replace_graphs(files[i])
                except StoreError as e:
                    outcomes[i] = e
        return outcomes

    def refresh_graphs(self, payloads: list[GraphPayload]) -> None:
        """Replace only what changed since the last refresh (the digests of what was written
        are kept beside the store), so that a load of one plan does not rewrite 25,000
        triples of mappings."""
        import json

        self._writable()
        digests = {str(p.graph): p.content_digest() for p in payloads}
        known: dict = {}
        if self.path is not None:
            with contextlib.suppress(OSError, ValueError):
                known = json.loads((self.path / REFERENCE_FILE).read_text(encoding="utf-8"))
        changed = [p for p in payloads if known.get(str(p.graph)) != digests[str(p.graph)]
                   or not self._store.contains_named_graph(ox.NamedNode(str(p.graph)))]
        if changed:
            self.replace_graphs(changed)
        if self.path is not None and changed:
            tmp = self.path / (REFERENCE_FILE + ".tmp")
            tmp.write_text(json.dumps(known | digests, indent=1), encoding="utf-8")
            os.replace(tmp, self.path / REFERENCE_FILE)

    def load_quads_file(self, path: Path, fmt: str, graphs: list[str]) -> bool:
        """A file of graphs the store does not hold goes to the bulk loader as it is."""
        self._writable()
        if any(self._store.contains_named_graph(ox.NamedNode(g)) for g in graphs):
            return False
        self._write_journal(graphs)
        try:
            self._store.bulk_load(path=str(path), format=getattr(ox.RdfFormat, fmt))
        except (OSError, SyntaxError, ValueError) as e:
            self._undo(graphs)
            raise StoreError(f"{self.location}: the load of {path} failed, the store is unchanged: {e}") from e
        self._clear_journal()
        return True

    def _all_new(self, files: list[list[GraphPayload]]) -> bool:
        return all(not self._store.contains_named_graph(ox.NamedNode(str(p.graph))) for f in files for p in f)

    def _write_new(self, payloads: list[GraphPayload]) -> None:
        """Write graphs the store does not hold: a little in one transaction, more through the
        bulk loader, under the journal (each bulk load costs some 0.1 s, a transaction some
        30 µs a triple: they break even near 1 MB)."""
        graphs = list(dict.fromkeys(str(p.graph) for p in payloads))
        try:
            data = b"".join(nquads(p) for p in payloads)
        except ValueError as e:
            raise StoreError(f"{self.location}: the load failed, the store is unchanged: {e}") from e
        if len(data) < BULK_MIN_BYTES:
            try:
                self._store.load(data, format=ox.RdfFormat.N_QUADS)
            except (OSError, SyntaxError, ValueError) as e:
                raise StoreError(f"{self.location}: the load failed, the store is unchanged: {e}") from e
            return
        self._write_journal(graphs)
        try:
            self._store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError, ValueError) as e:
            self._undo(graphs)
            raise StoreError(f"{self.location}: the load failed, the store is unchanged: {e}") from e
        self._clear_journal()

    def _write_journal(self, graphs: list[str]) -> None:
        import json

        if self.path is None:
            return
        tmp = self.path / (JOURNAL_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"graphs": graphs}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / JOURNAL_FILE)

    def _clear_journal(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.path / JOURNAL_FILE).unlink()

    def _undo(self, graphs: list[str]) -> None:
        """Remove the graphs of a bulk load that did not finish (they were all new)."""
        for g in graphs:
            self._store.remove_graph(ox.NamedNode(g))
        self._clear_journal()
        self._hidden = self._unfinished()

    def drop_staging(self) -> None:
        """Remove what a killed load left behind: staging graphs, and the graphs of a bulk
        load that did not finish (the caller holds the write lock)."""
        self._writable()
        for g in self._staging():
            self._store.remove_graph(g)
        self._undo(self._journal())

    def flush(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()

    def close(self) -> None:
        self.flush()
        self._store = None  # the database is closed when the object is released
