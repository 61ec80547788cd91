"""Validation against the SHACL shapes of shapes/: a typed report people can act on.

pySHACL is the reference engine; for a store, the shapes compiled to SPARQL (policykg.shacl_sparql,
run by policykg.validate_sparql) give the same findings much faster. Results are resolved to the
document they belong to and to the measure by its number and opening words, with the shape's
message in Chinese and English.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import pyshacl
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH, SKOS

from policykg.emit import PK, bind_prefixes
from policykg.errors import PolicyKGError
from policykg.resources import data_dir

VIOLATION, WARNING, INFO = "Violation", "Warning", "Info"


@lru_cache(maxsize=1)
def shapes_graph() -> Graph:
    """Every shapes/*.ttl in one graph."""
    g = Graph()
    for f in sorted(data_dir("shapes").iterdir(), key=lambda p: p.name):
        if f.name.endswith(".ttl"):
            g.parse(data=f.read_text(encoding="utf-8"), format="turtle")
    return g


@dataclass(frozen=True)
class Finding:
    """One SHACL result, resolved to what a reader of the plan recognises."""

    severity: str                 # Violation | Warning | Info
    document: str                 # the document's IRI
    focus: str                    # the focus node's IRI
    focus_kind: str               # measure | target | document | actor | node
    focus_label: str              # e.g. （三） 打造科普活动品牌…
    path: str | None              # the property at fault (its prefixed name where known)
    component: str                # the SHACL constraint component, e.g. sh:MinCountConstraintComponent
    shape: str                    # the shape that produced it
    message: dict[str, str]       # language tag -> message
    value: str | None = None
    order: int = 0                # the focus node's place in the document, for sorting

    def text(self, lang: str = "zh") -> str:
        return self.message.get(lang) or self.message.get("en") or next(iter(self.message.values()), "")


@dataclass
class DocumentReport:
    document: str                 # IRI
    title: str
    source: str                   # the file it was read from, or the store
    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == VIOLATION]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]


@dataclass
class Report:
    documents: list[DocumentReport] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)   # (source, message)
    results: Graph = field(default_factory=Graph)                 # the sh:ValidationReport(s)

    @property
    def conforms(self) -> bool:
        return not any(d.violations for d in self.documents)

    def exit_code(self, fail_on: str = "violation") -> int:
        """0 conforms, 1 violations (or warnings with fail_on='warning'), 2 an error."""
        if self.errors:
            return 2
        bad = any(d.violations or (fail_on == "warning" and d.warnings) for d in self.documents)
        return 1 if bad else 0


def _short(g: Graph, term) -> str:
    try:
        return g.namespace_manager.normalizeUri(term)
    except Exception:  # noqa: BLE001
        return str(term)


_KINDS = {PK.Measure: "measure", PK.Target: "target", PK.PolicyDocument: "document", PK.Actor: "actor",
          PK.CollectiveActor: "actor"}


def _kind(data: Graph, node) -> str:
    return next((k for t, k in _KINDS.items() if (node, RDF.type, t) in data), "node")


def _label(data: Graph, node) -> str:
    """How a reader finds the focus node: a measure by its number and opening words."""
    kind = _kind(data, node)
    if kind == "measure":
        number = str(data.value(node, PK.outlineNumber) or "") or "·" + str(node).rsplit("/", 1)[-1]
        words = str(data.value(node, PK.heading) or data.value(node, PK.text) or "").strip()
        return f"{number} {words[:24]}{'…' if len(words) > 24 else ''}".strip()
    if kind == "target":
        return f"{data.value(node, PK.indicator) or ''} {data.value(node, PK.targetValue) or ''}{data.value(node, PK.unit) or ''}"
    if kind == "actor":
        return str(data.value(node, SKOS.prefLabel) or node)
    if kind == "document":
        return str(data.value(node, DCTERMS.title) or node)
    return str(node)


def _owners(data: Graph) -> dict:
    """Each node's document, read once per graph. In order of precedence: a document is its
    own; a measure is its document's; a target is its document's (directly or through its
    measure); then whatever a document, and then a measure, points to (units, time frames)."""
    docs = set(data.subjects(RDF.type, PK.PolicyDocument))
    owner = {d: d for d in docs}
    measures = list(data.subject_objects(PK.hasMeasure))
    for d, mnode in measures:
        owner.setdefault(mnode, d)
    for x, t in data.subject_objects(PK.hasTarget):
        owner.setdefault(t, owner.get(x, x))
    for d in docs:
        for o in data.objects(d):
            owner.setdefault(o, d)
    for d, mnode in measures:
        for o in data.objects(mnode):
            owner.setdefault(o, d)
    return owner


def validate_paths(paths, *, encoding: str | None = None, engine: str = "pyshacl") -> Report:
    """Validate plans (extracted on the way) and RDF files; one bad file is reported as an
    error and the others are still validated. engine="sparql" loads each file's graph into an
    in-memory Oxigraph store and runs the compiled shapes there; Oxigraph writes numbers in
    canonical form (18.0 as 18), which shows in labels and values."""
    from pathlib import Path

    from policykg.load import RDF_SUFFIXES
    from policykg.pipeline import graph_from_path

    report = Report()
    for p in paths:
        suffix = Path(p).suffix.lower()
        try:
            if suffix in RDF_SUFFIXES:
                g = Graph()
                try:
                    g.parse(p, format=RDF_SUFFIXES[suffix])
                except FileNotFoundError:
                    raise PolicyKGError(f"{p}: no such file") from None
                except Exception as e:  # noqa: BLE001  (rdflib raises many kinds of parse errors)
                    raise PolicyKGError(f"{p}: not valid {RDF_SUFFIXES[suffix]}: {e}") from None
            else:
                g = graph_from_path(p, encoding=encoding)
        except PolicyKGError as e:
            report.errors.append((str(p), str(e)))
            continue
        if _engine(engine) == "sparql":
            _validate_graph_sparql(g, str(p), report)
        else:
            validate_graph(g, str(p), report)
    return report


def _validate_graph_sparql(data: Graph, source: str, report: Report) -> None:
    from policykg import validate_sparql
    from policykg.store import EmbeddedStore, GraphPayload

    store = EmbeddedStore(None)
    name = "urn:policykg:validate"
    store.replace_graphs([GraphPayload(URIRef(name), data.serialize(format="nt", encoding="utf-8"))])
    validate_sparql.validate_store(store, report, graphs=[(name, source)], scope="")


# The graphs of a store that are validated: those holding a document read from a source.
LOADED_GRAPHS = (f"GRAPH ?g {{ ?d a <{PK.PolicyDocument}> ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?s . "
                 f"?s a <{PK.SourceText}> }}")
_LOADED_DOCUMENTS = f"SELECT DISTINCT ?g WHERE {{ {LOADED_GRAPHS} }} ORDER BY ?g"


ENGINES = ("sparql", "pyshacl")


def _engine(engine: str) -> str:
    if engine not in ENGINES:
        raise PolicyKGError(f"unknown validation engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    return engine


def validate_store(store, engine: str = "sparql") -> Report:
    """Validate every document graph of a store (policykg.store.Store), each graph on its own.

    engine="sparql" runs the shapes compiled to SPARQL in the store (policykg.validate_sparql:
    one query per constraint over all graphs); engine="pyshacl" fetches each graph and runs pySHACL,
    the reference engine, on it. Both give the same findings.
    """
    if _engine(engine) == "sparql":
        from policykg import validate_sparql

        return validate_sparql.validate_store(store)
    report = Report()
    for row in store.select(_LOADED_DOCUMENTS):
        data = store.graph(str(row["g"]))
        bind_prefixes(data)
        validate_graph(data, f"{store.location} <{row['g']}>", report)
    return report


def _template(message: str) -> re.Pattern:
    """A message template ({?var} filled in by pySHACL) as a pattern its filled forms match."""
    return re.compile(re.sub(r"\\\{\\[?$]\w+\\\}", "(?s:.*)", re.escape(message)))


def _messages(results: Graph, r) -> dict[str, str]:
    """Language -> message of a result. pySHACL drops the language tag of the messages it fills
    in for a SPARQL constraint ({?begin}…), and adds its shape's messages to them; each gets its
    language back from the template it matches, the constraint's before the shape's."""
    messages, plain = {}, []
    for msg in results.objects(r, SH.resultMessage):
        if isinstance(msg, Literal) and msg.language:
            messages.setdefault(msg.language, str(msg))
        else:
            plain.append(str(msg))
    if plain:
        shapes = shapes_graph()
        for source in (results.value(r, SH.sourceConstraint), results.value(r, SH.sourceShape)):
            if source is None:
                continue
            for t in sorted(shapes.objects(source, SH.message), key=lambda m: (m.language or "", str(m))):
                hit = next((m for m in plain if _template(str(t)).fullmatch(m)), None)
                if hit is not None:
                    messages.setdefault(getattr(t, "language", None) or "en", hit)
        for m in plain:
            messages.setdefault("en", m)
    return messages


def validate_graph(data: Graph, source: str = "", report: Report | None = None) -> Report:
    """Validate one graph (one or more documents) and add its findings to `report`."""
    report = report or Report()
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes_graph(), advanced=True, inference="none",
                                     allow_warnings=True)
    report.results += results
    docs: dict[str, DocumentReport] = {d.document: d for d in report.documents}
    for d in data.subjects(PK.hasMeasure, None, unique=True):
        if str(d) not in docs:
            docs[str(d)] = DocumentReport(str(d), str(data.value(d, DCTERMS.title) or d), source)
            report.documents.append(docs[str(d)])
    details = set(results.objects(None, SH.detail))
    owners = _owners(data)
    for r in results.subjects(RDF.type, SH.ValidationResult):
        if r in details:  # the nested result behind an sh:node failure, reported with its parent
            continue
        focus = results.value(r, SH.focusNode)
        doc = owners.get(focus)
        key = str(doc) if doc is not None else source
        if key not in docs:
            docs[key] = DocumentReport(key, str(data.value(doc, DCTERMS.title) or key) if doc else key, source)
            report.documents.append(docs[key])
        messages = _messages(results, r)
        path = results.value(r, SH.resultPath)
        value = results.value(r, SH.value)
        docs[key].findings.append(Finding(
            severity=str(results.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
            document=key, focus=str(focus), focus_kind=_kind(data, focus), focus_label=_label(data, focus),
            path=_short(data, path) if path is not None and not isinstance(path, Literal) and isinstance(path, URIRef) else None,
            component="sh:" + str(results.value(r, SH.sourceConstraintComponent)).rsplit("#", 1)[-1],
            shape=_short(shapes_graph(), results.value(r, SH.sourceShape)),
            message=messages, value=str(value) if value is not None else None,
            order=int(data.value(focus, PK.position) or 0)))
    for d in report.documents:
        d.findings.sort(key=lambda f: (f.severity != VIOLATION, f.order, f.focus_label))
    return report
