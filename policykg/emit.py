"""Stage 4: Document -> RDF graph, in the contract's vocabulary (../contract) and the ontology.

IRIs are minted from what the document is, not from run order: a document from its 文号 (or
its title), so that a plan citing 国发〔2021〕9号 and the plan 国发〔2021〕9号 itself meet on one
node; measures from their place in the outline; spans from their offsets. The same input
gives the same graph.
"""
from __future__ import annotations

import bisect
import hashlib
from functools import cache

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS, TIME

from policykg import actors
from policykg import model as m
from policykg.text import Span, fold

class _Namespace(Namespace):
    """A namespace whose terms are made once: the emitter asks for a few dozen of them
    hundreds of thousands of times in a corpus."""

    @cache  # noqa: B019 - a handful of namespaces, kept for the process
    def term(self, name: str) -> URIRef:
        return super().term(name)


PK = _Namespace("https://w3id.org/policykg/ontology#")
ORG = _Namespace("http://www.w3.org/ns/org#")
OA = _Namespace("http://www.w3.org/ns/oa#")
ID = "https://w3id.org/policykg/id/"
JURISDICTIONS = URIRef(f"{ID}jurisdiction")
UNIT_TYPES = URIRef(f"{ID}unit-type")

_SECTION_CLASS = {m.GOAL: PK.GoalSection, m.BACKGROUND: PK.BackgroundSection, m.ASSURANCE: PK.AssuranceSection,
                  m.SCHEDULE: PK.ScheduleSection, m.ATTACHMENT: PK.Attachment, m.TASK: PK.MeasureGroup}
_KIND_CLASS = {m.MEASURE: PK.Measure, m.CLAUSE: PK.AssuranceClause, m.PHASE: PK.SchedulePhase}
_BASIS = {m.STATED: PK.StatedLead, m.INHERITED: PK.InheritedLead, m.RULE: PK.RuleLead, m.LIST_ORDER: PK.ListOrderLead}
_EXPRESSION_KIND = {
    "range": PK.RangeExpression, "by": PK.ByExpression, "before": PK.BeforeExpression, "since": PK.SinceExpression,
    "period": PK.PeriodExpression, "year": PK.YearExpression, "recurring": PK.RecurringExpression,
    "ongoing": PK.OngoingExpression, "valid_until": PK.ValidUntilExpression, "as_of": PK.AsOfExpression,
}
_KIND_SLUG = {m.MEASURE: "measure", m.CLAUSE: "clause", m.PHASE: "phase"}


def _h(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:16]


def document_key(number: str | None, title: str | None, sha256: str = "") -> str:
    """The key of a document's IRI: its 文号 if it has one, else its title, else its bytes."""
    if number:
        return "n" + _h(fold(number).replace(" ", ""))
    if title:
        return "t" + _h(fold(title).replace(" ", ""))
    return "s" + sha256[:16]


def document_iri(number: str | None, title: str | None, sha256: str = "") -> URIRef:
    return URIRef(f"{ID}doc/{document_key(number, title, sha256)}")


def decimal(d) -> Literal:
    """xsd:decimal in its canonical lexical form (20 -> "20.0"), the same in every syntax."""
    text = format(d.normalize(), "f")
    return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)


def jurisdiction_concept(g: Graph, j: actors.Jurisdiction) -> URIRef:
    """A division's concept: its name, its code as notation, its scheme (skos:broader apart)."""
    node = URIRef(f"{JURISDICTIONS}/{j.code}")
    g.add((node, RDF.type, PK.Jurisdiction))
    g.add((node, SKOS.inScheme, JURISDICTIONS))
    g.add((node, SKOS.prefLabel, Literal(j.name, lang="zh")))
    g.add((node, SKOS.notation, Literal(j.code)))
    return node


def unit_type_concept(g: Graph, u: actors.UnitType) -> URIRef:
    """A kind of unit's concept, labelled in Chinese and English."""
    node = URIRef(f"{UNIT_TYPES}/{u.id}")
    g.add((node, RDF.type, PK.UnitType))
    g.add((node, SKOS.inScheme, UNIT_TYPES))
    g.add((node, SKOS.prefLabel, Literal(u.label_zh, lang="zh")))
    g.add((node, SKOS.prefLabel, Literal(u.label_en, lang="en")))
    return node


def bind_prefixes(g: Graph) -> None:
    for p, ns in (("pk", PK), ("dcterms", DCTERMS), ("time", TIME), ("org", ORG), ("skos", SKOS),
                  ("prov", PROV), ("oa", OA), ("owl", OWL), ("xsd", XSD)):
        g.bind(p, ns)


class Triples:
    """The triples of one document, in the order they were made, each once: what the emitter
    writes to. Adding is a dict insertion, some fifty times cheaper than an rdflib Graph's,
    and a document's graph is only read whole (to_graph, to_ntriples)."""

    def __init__(self) -> None:
        self._triples: dict[tuple, None] = {}

    def add(self, triple: tuple) -> None:
        self._triples[triple] = None

    def __contains__(self, triple: tuple) -> bool:
        return triple in self._triples

    def __iter__(self):
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)


class _Emitter:
    def __init__(self, doc: m.Document):
        self.doc = doc
        self.g = Triples()
        self.iri = document_iri(doc.doc_number, doc.plan_title, doc.sha256)
        self.source = URIRef(f"{ID}source/{doc.sha256}")
        self.actors: dict[str, URIRef] = {}
        self.node_iris: dict[int, URIRef] = {}
        self.used: set[str] = set()
        self.block_starts = [b.start for b in doc.blocks]

    def add(self, s, p, o):
        self.g.add((s, p, o))

    def span(self, sp: Span, exact: str | None = None) -> URIRef:
        node = URIRef(f"{self.iri}/span/{sp.start}-{sp.end}")
        self.add(node, RDF.type, PK.TextSpan)
        self.add(node, OA.start, Literal(sp.start, datatype=XSD.integer))
        self.add(node, OA.end, Literal(sp.end, datatype=XSD.integer))
        self.add(node, PK.inSource, self.source)
        if exact is not None:
            self.add(node, OA.exact, Literal(exact))
        i = bisect.bisect_right(self.block_starts, sp.start) - 1
        if i >= 0:  # where the span's paragraph or row sits in the file: its page, its element
            block = self.doc.blocks[i]
            if block.page is not None:
                self.add(node, PK.page, Literal(block.page, datatype=XSD.integer))
            if block.locator:
                self.add(node, PK.locator, Literal(block.locator))
        return node

    def field_span(self, prop: URIRef, sp: Span | None, exact: str | None) -> None:
        """Where a literal fact about the document was read: doc pk:fieldSpan [pk:forProperty p]."""
        if sp is None:
            return
        if exact is not None and len(exact) != sp.end - sp.start:
            exact = None  # a value joined from several lines (a wrapped title): the span still points at it
        node = self.span(sp, exact)
        self.add(self.iri, PK.fieldSpan, node)
        self.add(node, PK.forProperty, prop)

    def actor(self, a: m.ActorMention) -> URIRef:
        """The actor node of a mention: the real unit it resolves to (one IRI for every plan
        of the place), or, unresolved, the name as written within this document."""
        node = self.actors.get(a.key)
        if node is None:
            r = actors.resolve(a, self.doc.jurisdiction)
            if r.resolved:
                place = r.jurisdiction.code if r.jurisdiction else "cn"
                node = URIRef(f"{ID}actor/{place}/{_h(fold(r.name))}")
            else:
                node = URIRef(f"{ID}actor/{self.iri.rsplit('/', 1)[1]}/{_h(a.key)}")
            self.actors[a.key] = node
            self.add(node, RDF.type, PK.CollectiveActor if a.collective else PK.Actor)
            if not r.resolved:
                self.add(node, RDF.type, PK.UnresolvedActor)
            self.add(node, SKOS.prefLabel, Literal(r.name))
            if r.jurisdiction is not None:
                self.add(node, PK.jurisdiction, self.jurisdiction(r.jurisdiction))
            if r.unit_type is not None:
                self.add(node, PK.unitType, unit_type_concept(self.g, r.unit_type))
            if a.full != r.name:
                self.add(node, SKOS.altLabel, Literal(a.full))
        if a.written != a.full:
            self.add(node, SKOS.altLabel, Literal(a.written))
        return node

    def jurisdiction(self, j: actors.Jurisdiction) -> URIRef:
        """A division as a concept, with the chain of divisions above it."""
        node = URIRef(f"{JURISDICTIONS}/{j.code}")
        if (node, RDF.type, PK.Jurisdiction) not in self.g:
            jurisdiction_concept(self.g, j)
            parent = actors.tables().gazetteer.by_code.get(j.parent) if j.parent else None
            if parent is not None:
                self.add(node, SKOS.broader, self.jurisdiction(parent))
        return node

    def year_instant(self, owner: URIRef, which: str, year: int, cls=TIME.Instant) -> URIRef:
        node = URIRef(f"{owner}/{which}")
        self.add(node, RDF.type, cls)
        self.add(node, TIME.inXSDgYear, Literal(str(year), datatype=XSD.gYear))
        return node

    def time_frame(self, owner: URIRef, tf: m.TimeFrame) -> URIRef:
        node = URIRef(f"{owner}/timeframe")
        self.add(node, RDF.type, PK.TimeFrame)
        self.add(node, TIME.hasBeginning, self.year_instant(node, "begin", tf.start))
        self.add(node, TIME.hasEnd, self.year_instant(node, "end", tf.end))
        self.add(owner, PK.timeFrame, node)
        for e in tf.expressions:
            self.add(node, PROV.wasDerivedFrom, self.time_expression(e))
        return node

    def time_expression(self, e: m.TimeExpression) -> URIRef:
        node = URIRef(f"{self.iri}/time/{e.span.start}-{e.span.end}")
        self.add(node, RDF.type, PK.TimeExpression)
        self.add(node, RDFS.label, Literal(e.text))
        self.add(node, PK.span, self.span(e.span, e.text))
        if e.recurrence == "year":
            self.add(node, PK.recurrence, TIME.unitYear)
        if e.kind in _EXPRESSION_KIND:
            self.add(node, PK.expressionKind, _EXPRESSION_KIND[e.kind])
        return node

    # ------------------------------------------------------------------ the document
    def emit(self) -> Triples:
        d, doc = self.doc, self.iri
        self.add(doc, RDF.type, PK.PolicyDocument)
        self.add(doc, PROV.wasDerivedFrom, self.source)
        self.add(self.source, RDF.type, PK.SourceText)
        self.add(self.source, PK.sha256, Literal(d.sha256))
        self.add(self.source, PK.mediaType, Literal(d.media_type))
        self.add(self.source, PK.charCount, Literal(d.char_count, datatype=XSD.integer))
        if d.text_sha256:
            self.add(self.source, PK.textSha256, Literal(d.text_sha256))
        if d.plan_title:
            self.add(doc, DCTERMS.title, Literal(d.plan_title))
            self.field_span(DCTERMS.title, d.plan_title_span, d.plan_title)
        if d.notice_title:
            self.add(doc, DCTERMS.title, Literal(d.notice_title))
            self.add(doc, PK.noticeTitle, Literal(d.notice_title))
            self.field_span(PK.noticeTitle, d.notice_title_span, d.notice_title)
        if d.doc_number:
            self.add(doc, PK.documentNumber, Literal(d.doc_number))
            self.field_span(PK.documentNumber, d.doc_number_span, d.doc_number)
        for a in d.issuers:
            self.add(doc, PK.issuedBy, self.actor(a))
            self.field_span(PK.issuedBy, a.span, a.written)
        for prop, value, sp in ((DCTERMS.created, d.created, d.created_span), (DCTERMS.issued, d.issued, d.issued_span)):
            if value:
                self.add(doc, prop, Literal(value.isoformat(), datatype=XSD.date))
                self.field_span(prop, sp, None)
        for name, prop in (("identifier", DCTERMS.identifier), ("subject", DCTERMS.subject),
                           ("genre", DCTERMS.type), ("validity", PK.validity)):
            if name in d.fields:
                self.add(doc, prop, Literal(d.fields[name]))
        if d.lead_rule:
            self.add(doc, PK.leadRule, Literal(d.lead_rule))
            self.field_span(PK.leadRule, d.lead_rule_span, d.lead_rule)
        for c in d.citations:
            cited = document_iri(c.number, c.title)
            self.add(doc, PK.basedOn, cited)
            self.add(cited, RDF.type, PK.PolicyDocument)
            if c.number:
                self.add(cited, PK.documentNumber, Literal(c.number))
            if c.title:
                self.add(cited, DCTERMS.title, Literal(c.title))
            self.field_span(PK.basedOn, c.span, c.written)
        if d.jurisdiction is not None:
            self.add(doc, PK.jurisdiction, self.jurisdiction(d.jurisdiction))
        if d.period:
            self.time_frame(doc, d.period)
        for t in d.targets:
            self.add(doc, PK.hasTarget, self.target(t))
        for node in d.nodes():
            self.node_iris[id(node)] = self.node_iri(node)
        for pos, node in enumerate(d.nodes()):
            self.node(node, pos)
        for n in d.outline:
            if id(n) in self.node_iris:
                self.add(doc, DCTERMS.hasPart, self.node_iris[id(n)])
        return self.g

    def node_iri(self, node: m.Node) -> URIRef:
        slug = _KIND_SLUG.get(node.kind, "section")
        base = f"{self.iri}/{slug}/{node.path}"
        iri, k = base, 2
        while iri in self.used:
            iri, k = f"{base}-{k}", k + 1
        self.used.add(iri)
        return URIRef(iri)

    def node(self, node: m.Node, pos: int) -> None:
        if node.kind == m.PART:
            return
        s = self.node_iris[id(node)]
        doc = self.iri
        cls = _KIND_CLASS.get(node.kind) or _SECTION_CLASS.get(node.section_kind, PK.Section)
        self.add(s, RDF.type, cls)
        if node.number:
            self.add(s, PK.outlineNumber, Literal(node.number))
        self.add(s, PK.position, Literal(pos, datatype=XSD.integer))
        if node.heading:
            self.add(s, PK.heading, Literal(node.heading))
        parent = self.node_iris.get(id(node.parent)) if node.parent is not None else doc
        self.add(s, DCTERMS.isPartOf, parent)
        if node.parent is not None:
            self.add(parent, DCTERMS.hasPart, s)
        if node.kind == m.MEASURE:
            self.add(doc, PK.hasMeasure, s)
        if node.kind in (m.MEASURE, m.CLAUSE, m.PHASE):
            self.add(s, PK.text, Literal(node.text))
            self.add(s, PK.span, self.span(node.span))
        else:
            self.add(s, PK.span, self.span(node.own_span))
        for i, note in enumerate(node.notes, 1):
            self.note(s, i, note)
        for i, a in enumerate(node.assignments, 1):
            self.assignment(s, i, a, node)
        if node.leads and node.kind == m.MEASURE:
            self.add(s, PK.leadBasis, _BASIS[node.lead_basis])
        if node.time_frame is not None:
            self.time_frame(s, node.time_frame)
            if node.kind == m.MEASURE:
                self.add(s, PK.timeFrameBasis,
                         PK.StatedTimeFrame if node.time_frame.basis == m.STATED else PK.DocumentPeriod)
        for e in node.time_expressions:
            self.add(s, PK.hasTimeExpression, self.time_expression(e))
        for t in node.targets:
            tn = self.target(t)
            if node.kind == m.MEASURE:
                self.add(s, PK.hasTarget, tn)
            else:
                self.add(doc, PK.hasTarget, tn)
                self.add(tn, DCTERMS.isPartOf, s)

    def note(self, owner: URIRef, i: int, note: m.ResponsibilityNote) -> URIRef:
        n = URIRef(f"{owner}/note/{i}")
        self.add(n, RDF.type, PK.ResponsibilityNote)
        self.add(n, PK.span, self.span(note.span, note.text))
        self.add(owner, PK.hasResponsibilityNote, n)
        return n

    def assignment(self, owner: URIRef, i: int, a: m.Assignment, node: m.Node) -> None:
        actor = self.actor(a.actor)
        self.add(owner, PK.leadUnit if a.role == m.LEAD else PK.coUnit, actor)
        r = URIRef(f"{owner}/responsibility/{i}")
        self.add(owner, PK.hasResponsibility, r)
        self.add(r, RDF.type, PK.Responsibility)
        self.add(r, PK.actor, actor)
        self.add(r, PK.role, PK.LeadRole if a.role == m.LEAD else PK.CoRole)
        self.add(r, PK.writtenAs, Literal(a.actor.written))
        self.add(r, PK.span, self.span(a.actor.span, a.actor.written))
        if a.basis:
            self.add(r, PK.leadBasis, _BASIS[a.basis])
        if a.note is not None:
            owner_node = a.inherited_from if a.inherited_from is not None else node
            idx = next((k for k, n in enumerate(owner_node.notes, 1) if n is a.note), None)
            if idx is not None:
                self.add(r, PK.statedIn, URIRef(f"{self.node_iris[id(owner_node)]}/note/{idx}"))
        if a.inherited_from is not None:
            self.add(r, PK.inheritedFrom, self.node_iris[id(a.inherited_from)])

    def target(self, t: m.Target) -> URIRef:
        n = URIRef(f"{self.iri}/target/{t.span.start}-{t.span.end}")
        self.add(n, RDF.type, PK.Target)
        self.add(n, PK.indicator, Literal(t.indicator))
        self.add(n, PK.targetValue, decimal(t.value))
        self.add(n, PK.unit, Literal(t.unit))
        if t.comparator:
            self.add(n, PK.comparator, PK[t.comparator])
        if t.aspirational:
            self.add(n, PK.aspirational, Literal(True))
        if t.year is not None:
            self.add(n, PK.deadline, self.year_instant(n, "deadline", t.year, PK.Deadline))
        if t.recurrence == "year":
            self.add(n, PK.recurrence, TIME.unitYear)
        if t.normalized_value is not None:
            self.add(n, PK.normalizedValue, decimal(t.normalized_value))
            self.add(n, PK.normalizedUnit, Literal(t.normalized_unit))
        if t.time_expression is not None:
            self.add(n, PK.hasTimeExpression, self.time_expression(t.time_expression))
        self.add(n, PK.span, self.span(t.span, t.text))
        return n


def to_triples(doc: m.Document) -> Triples:
    """The triples of one document's graph (rdflib terms)."""
    return _Emitter(doc).emit()


def to_graph(doc: m.Document) -> Graph:
    """The RDF graph of one document."""
    g = Graph()
    bind_prefixes(g)
    for t in to_triples(doc):
        g.add(t)
    return g


def ox_term(term):
    """An rdflib term as a pyoxigraph term."""
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return ox.NamedNode(term)
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(term, language=term.language)
        return ox.Literal(term, datatype=ox.NamedNode(term.datatype)) if term.datatype else ox.Literal(term)
    return ox.BlankNode(term)


def ntriples(triples) -> bytes:
    """Triples of rdflib terms as N-Triples (UTF-8), written by Oxigraph's serializer."""
    import pyoxigraph as ox

    cache: dict = {}

    def conv(t):
        o = cache.get(t)
        if o is None:
            o = cache[t] = ox_term(t)
        return o

    return ox.serialize((ox.Triple(conv(s), conv(p), conv(o)) for s, p, o in triples),
                        format=ox.RdfFormat.N_TRIPLES) or b""


def to_ntriples(doc: m.Document) -> bytes:
    """One document's graph as N-Triples: the same triples as to_graph, without building it."""
    return ntriples(to_triples(doc))
