"""Validation with the shapes compiled to SPARQL (policykg.shacl_sparql), run in the store.

One query per constraint over all document graphs, then a few look-ups for the focus nodes
found (their kind, label and document), batched: the report is built from query answers
without fetching any graph. It is the `Report` policykg.validate.validate_graph builds with
pySHACL, field by field: the same findings, documents, labels and order.

Example:
    >>> from policykg.store import EmbeddedStore
    >>> validate_store(EmbeddedStore(None)).documents
    []
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, SKOS
from rdflib.term import Node

from policykg.emit import PK, bind_prefixes
from policykg.shacl_sparql import LOADED_SCOPE, Check, compile_shapes
from policykg.validate import (
    _LOADED_DOCUMENTS,
    VIOLATION,
    DocumentReport,
    Finding,
    Report,
    _kind,
    _label,
    _owners,
    _short,
    shapes_graph,
)

BATCH = 300   # focus nodes per look-up query (VALUES rows; Virtuoso compiles each query to SQL)
WORKERS = min(4, os.cpu_count() or 1)   # queries run at once


@lru_cache(maxsize=8)
def _compiled(scope: str, subclasses: bool) -> tuple[Check, ...]:
    return tuple(compile_shapes(shapes_graph(), scope=scope, subclasses=subclasses))


@dataclass(frozen=True)
class _Result:
    graph: str
    focus: Node
    check: Check
    value: Node | None
    path: Node | None
    messages: tuple[tuple[str | None, str], ...]   # (language of the template, message)


def _fill(template: str, bound: dict) -> str:
    """A message template with {?var} / {$var} filled in, exactly as pySHACL fills it."""
    for var, val in bound.items():
        template = re.sub(f"{{[?$]{var}}}", str(val), template)
    return template


def _results(store, checks, graphs: set[str]) -> list[_Result]:
    """Each check's answers in `graphs` as results. The queries run side by side (the stores
    answer several at once; pyoxigraph lets go of the GIL while it evaluates)."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        answers = list(pool.map(lambda c: store.select(c.query), checks))
    out = []
    for check, rows in zip(checks, answers, strict=True):
        seen = set()
        for row in rows:
            g = str(row["g"])
            if g not in graphs:
                continue
            focus = row["this"]
            if check.constraint is None:
                out.append(_Result(g, focus, check, row.get("value"), check.path,
                                   tuple((m.language, str(m)) for m in check.messages)))
                continue
            # A SPARQL constraint, as pySHACL reads its answers: duplicates dropped, the value is
            # ?value or else the focus node, and the templates are filled from the row.
            key = (g, frozenset(row.items()))
            if key in seen:
                continue
            seen.add(key)
            value = row.get("value", focus)
            bound = {k: v for k, v in row.items() if k not in ("g", "this", "path", "value")}
            bound.update(this=focus, **({"path": row["path"]} if "path" in row else {}), value=value)
            out.append(_Result(g, focus, check, value, row.get("path"),
                               tuple((m.language, _fill(str(m), bound)) for m in check.messages)))
    return out


def _values(pairs) -> str:
    return " ".join(f"(<{g}> {n.n3()})" for g, n in pairs)


_LABEL_PROPERTIES = (RDF.type, PK.position, PK.outlineNumber, PK.heading, PK.text, PK.indicator, PK.targetValue,
                     PK.unit, SKOS.prefLabel, DCTERMS.title)


def _lookup(store, pattern: str, pairs, variables: str = "?g ?n") -> list[dict]:
    """The answers to `pattern` for each (graph, node) pair bound to ?g ?n, in batches. Simple
    patterns joined with VALUES: the stores look each pair up in their indexes."""
    rows, pairs = [], sorted(pairs, key=str)
    for i in range(0, len(pairs), BATCH):
        rows += store.select(f"SELECT * WHERE {{ VALUES ({variables}) {{ {_values(pairs[i:i + BATCH])} }} "
                             f"{pattern} }}").rows
    return rows


def _facts(store, pairs) -> dict[str, Graph]:
    """For each graph, the triples that name its focus nodes (type, number, heading, label…) and
    those that place them in a document (what `_owners` reads), fetched for the focus nodes only."""
    facts: dict[str, Graph] = defaultdict(Graph)
    props = ", ".join(f"<{p}>" for p in _LABEL_PROPERTIES)
    for r in _lookup(store, f"GRAPH ?g {{ ?n ?p ?o }} FILTER (?p IN ({props}))", pairs):
        facts[str(r["g"])].add((r["n"], r["p"], r["o"]))
    subjects = set()
    for r in _lookup(store, "GRAPH ?g { ?s ?p ?n }", pairs):
        facts[str(r["g"])].add((r["s"], r["p"], r["n"]))
        subjects.add((str(r["g"]), r["s"]))
    # whether those pointing at a focus node are documents, or measures
    for r in _lookup(store, f"GRAPH ?g {{ ?n a <{PK.PolicyDocument}> }}", subjects):
        facts[str(r["g"])].add((r["n"], RDF.type, PK.PolicyDocument))
    for r in _lookup(store, f"GRAPH ?g {{ ?d <{PK.hasMeasure}> ?n }}", subjects):
        facts[str(r["g"])].add((r["d"], PK.hasMeasure, r["n"]))
    return facts


def _titles(store, pairs) -> dict[tuple[str, Node], str]:
    out = {}
    for r in _lookup(store, f"GRAPH ?g {{ ?n <{DCTERMS.title}> ?t }}", pairs):
        out.setdefault((str(r["g"]), r["n"]), str(r["t"]))
    return out


def validate_store(store, report: Report | None = None, *, graphs: list[tuple[str, str]] | None = None,
                   scope: str = LOADED_SCOPE) -> Report:
    """Validate a store's document graphs with the compiled shapes, adding to `report`.

    A focus node that is a blank node cannot be looked up by a query: it is reported with kind
    "node", its label its id and, having no known document, under its graph's source.

    Args:
        store: a policykg.store.Store.
        report: the report to add to (a new one by default).
        graphs: (graph, source) pairs to validate, in order; by default every graph holding a
            document read from a source, sources written `LOCATION <graph>`.
        scope: the pattern that narrows ?g in every query (LOADED_SCOPE, or "" for all graphs).

    Raises:
        UnsupportedShapeError: the shapes use a feature this engine does not compile.
        StoreError: a query failed.
    """
    report = report if report is not None else Report()
    if graphs is None:
        graphs = [(str(r["g"]), f"{store.location} <{r['g']}>") for r in store.select(_LOADED_DOCUMENTS)]
    names = {g for g, _ in graphs}
    subclasses = store.select(f"ASK {{ {scope} GRAPH ?g {{ ?a <{RDFS.subClassOf}> ?b }} }}").rows[0]["ask"]
    results = _results(store, _compiled(scope, bool(subclasses.toPython())), names)
    results.sort(key=lambda r: (r.graph, str(r.focus), str(r.check.shape), str(r.check.component),
                                str(r.value), r.messages))
    by_graph: dict[str, list[_Result]] = defaultdict(list)
    for r in results:
        by_graph[r.graph].append(r)
    facts = _facts(store, {(r.graph, r.focus) for r in results if not isinstance(r.focus, BNode)})
    owners = {g: _owners(data) for g, data in facts.items()}
    # validate_graph lists each graph's documents with measures, then those its findings are in
    measured: dict[str, list[Node]] = defaultdict(list)
    for r in store.select(f"SELECT DISTINCT ?g ?d WHERE {{ {scope} GRAPH ?g {{ ?d <{PK.hasMeasure}> ?m }} }}"):
        if str(r["g"]) in names:
            measured[str(r["g"])].append(r["d"])
    titles = _titles(store, {(g, d) for g, ds in measured.items() for d in ds}
                     | {(r.graph, d) for r in results if (d := owners.get(r.graph, {}).get(r.focus)) is not None})
    docs = {d.document: d for d in report.documents}

    def document(key: str, title: str, source: str) -> DocumentReport:
        if key not in docs:
            docs[key] = DocumentReport(key, title, source)
            report.documents.append(docs[key])
        return docs[key]

    for g, source in graphs:
        for d in sorted(measured[g], key=str):
            document(str(d), titles.get((g, d), str(d)), source)
        for r in by_graph[g]:
            doc = owners.get(g, {}).get(r.focus)
            key = str(doc) if doc is not None else source
            d = document(key, titles.get((g, doc), key) if doc is not None else key, source)
            d.findings.append(_finding(r, key, facts.get(g, Graph())))
    for d in report.documents:
        d.findings.sort(key=lambda f: (f.severity != VIOLATION, f.order, f.focus_label))
    report.results += results_graph(graphs, by_graph)
    return report


@lru_cache(maxsize=1)
def _names() -> Graph:
    """A graph with the prefixes of document graphs, to write paths by (pk:leadUnit)."""
    g = Graph()
    bind_prefixes(g)
    return g


def _finding(r: _Result, document: str, data: Graph) -> Finding:
    """A result as validate_graph writes it; `data` holds what names its focus node."""
    messages: dict[str, str] = {}
    for lang, text in r.messages:
        messages.setdefault(lang or "en", text)
    return Finding(
        severity=str(r.check.severity).rsplit("#", 1)[-1], document=document, focus=str(r.focus),
        focus_kind=_kind(data, r.focus), focus_label=_label(data, r.focus),
        path=_short(_names(), r.path) if isinstance(r.path, URIRef) else None,
        component="sh:" + str(r.check.component).rsplit("#", 1)[-1],
        shape=_short(shapes_graph(), r.check.shape), message=messages,
        value=str(r.value) if r.value is not None else None,
        order=int(data.value(r.focus, PK.position) or 0))


def results_graph(graphs: list[tuple[str, str]], by_graph: dict[str, list[_Result]]) -> Graph:
    """The standard sh:ValidationReport of each graph, as pySHACL writes it (without the
    sh:detail results behind an sh:NodeConstraintComponent result)."""
    out = Graph()
    shapes = shapes_graph()
    for g, _ in graphs:
        report = BNode()
        out.add((report, RDF.type, SH.ValidationReport))
        rs = by_graph.get(g, [])
        out.add((report, SH.conforms, Literal(not any(r.check.severity == SH.Violation for r in rs))))
        for r in rs:
            n = BNode()
            out.add((report, SH.result, n))
            out.add((n, RDF.type, SH.ValidationResult))
            out.add((n, SH.focusNode, r.focus))
            out.add((n, SH.resultSeverity, r.check.severity))
            out.add((n, SH.sourceConstraintComponent, r.check.component))
            out.add((n, SH.sourceShape, r.check.shape))
            if r.check.constraint is not None:
                out.add((n, SH.sourceConstraint, r.check.constraint))
            if r.value is not None:
                out.add((n, SH.value, r.value))
            if r.path is not None:
                out.add((n, SH.resultPath, r.path))
                if isinstance(r.path, BNode):   # a sequence path: copy its list
                    _copy_list(shapes, r.path, out)
            for lang, text in r.messages:
                out.add((n, SH.resultMessage, Literal(text, lang=lang)))
    return out


def _copy_list(src: Graph, node, out: Graph) -> None:
    while node is not None and node != RDF.nil:
        out.add((node, RDF.first, src.value(node, RDF.first)))
        rest = src.value(node, RDF.rest)
        out.add((node, RDF.rest, rest))
        node = rest
