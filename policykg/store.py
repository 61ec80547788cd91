"""Triple stores: the embedded one (Oxigraph, on disk) and any SPARQL 1.1 server (remote.py).

Both hold one named graph per document, named by the document's IRI, plus the ontology and
the mapping tables in graphs of their own; queries see the union of all graphs as their
default graph. A graph is replaced as a whole or not at all: the new triples go to a staging
graph first and take the old graph's place in one transactional `MOVE`, so a failure half-way
leaves the old graph as it was.

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
    """The whole new content of one named graph, as N-Triples."""

    graph: URIRef
    ntriples: bytes


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
            self._staging_left = bool(self._staging())
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreBusyError(
                    f"{self.path}: the store is in use by another process (a running `policykg serve` or load?); "
                    "stop it, or query through its endpoint with --endpoint") from e
            raise StoreError(f"{self.path}: cannot open the store: {e}") from e

    # queries -------------------------------------------------------------------------------
    def _staging(self) -> list:
        return [g for g in self._store.named_graphs() if g.value.startswith(STAGING)]

    def _query(self, query: str, params: Mapping[str, Node] | None, graph: str | None = None):
        # The default graph is the union of the named graphs, staging graphs left out: a load
        # killed between its two steps leaves one (staging graphs of a load in progress exist
        # only inside replace_graphs, and a writer is the only process with the store).
        if graph is not None:
            scope = {"default_graph": [ox.NamedNode(graph)]}
        elif self._staging_left:
            scope = {"default_graph": [g for g in self._store.named_graphs() if not g.value.startswith(STAGING)]}
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

    # updates -------------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.location}: the store was opened read-only")

    def replace_graphs(self, payloads: list[GraphPayload]) -> None:
        self._writable()
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
            self._staging_left = True
            raise StoreError(f"{self.location}: the load failed, the store is unchanged: {e}") from e

    def drop_staging(self) -> None:
        """Remove staging graphs a killed load left behind (the caller holds the write lock)."""
        self._writable()
        for g in self._staging():
            self._store.remove_graph(g)
        self._staging_left = False

    def flush(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()

    def close(self) -> None:
        self.flush()
        self._store = None  # the database is closed when the object is released
