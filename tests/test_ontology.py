"""Tests of the ontology, ontology/policykg.ttl.

It must parse, declare the contract's terms (../shared/contract/VOCABULARY.md) with the
right kind, pass every queries/ontology-*-violation.rq, load into owlready2, and be
consistent under HermiT, alone and with a small graph of the kind the extractor writes.
HermiT needs Java; without it the reasoner tests fail and say so.
"""
from __future__ import annotations

from collections.abc import Callable
from importlib.resources.abc import Traversable

import owlready2
import pytest

from conftest import reasoned_world
from rdflib import Graph, Literal, Namespace
from rdflib.namespace import DCTERMS, ORG, OWL, RDF, RDFS, SKOS

from policykg.resources import data_dir, ontology_turtle

PK = Namespace("https://w3id.org/policykg/ontology#")
# Plain namespaces: pytest's collection probes rdflib's closed TIME and XSD and warns.
TIME = Namespace("http://www.w3.org/2006/time#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ONTOLOGY_IRI = "https://w3id.org/policykg/ontology"
PREFIXES = """\
@prefix pk:      <https://w3id.org/policykg/ontology#> .
@prefix ex:      <https://example.org/policykg-test/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix time:    <http://www.w3.org/2006/time#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
"""

# The kind each term of VOCABULARY.md is declared with, the reused ones included.
CONTRACT_KINDS = {
    OWL.Class: [
        PK.PolicyDocument, PK.Measure, PK.Target, PK.Actor, PK.TimeFrame, PK.Deadline,
        ORG.Organization, TIME.Interval, TIME.Instant,
    ],
    OWL.ObjectProperty: [
        PK.issuedBy, PK.basedOn, PK.hasMeasure, PK.hasTarget, PK.timeFrame, PK.leadUnit,
        PK.coUnit, PK.deadline, TIME.hasBeginning, TIME.hasEnd,
    ],
    OWL.DatatypeProperty: [
        PK.documentNumber, PK.text, PK.heading, PK.indicator, PK.targetValue, PK.unit,
        DCTERMS.title, DCTERMS.created, DCTERMS.issued, SKOS.prefLabel, SKOS.altLabel,
        TIME.inXSDgYear, TIME.inXSDDate,
    ],
}
CONTRACT_SUBCLASSES = [
    (PK.Actor, ORG.Organization),
    (PK.TimeFrame, TIME.Interval),
    (PK.Deadline, TIME.Instant),
]
KINDS = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}

# A document with a group of two measures, one lead actor, a plan period with gYear
# instants, a target and a span into its source text: what the extractor writes.
SMALL_ABOX = PREFIXES + """
ex:doc a pk:PolicyDocument ;
    dcterms:title "威海市全民科学素质行动实施方案（2021—2025年）" ;
    pk:noticeTitle "关于印发威海市全民科学素质行动实施方案（2021—2025年）的通知" ;
    pk:documentNumber "威科字〔2024〕8号" ;
    dcterms:created "2024-01-30"^^xsd:date ;
    pk:issuedBy ex:bureau ;
    pk:basedOn ex:cited ;
    pk:hasMeasure ex:m1 , ex:m2 ;
    pk:hasTarget ex:target ;
    pk:timeFrame ex:period ;
    dcterms:hasPart ex:group ;
    prov:wasDerivedFrom ex:source .
ex:cited a pk:PolicyDocument ; pk:documentNumber "国发〔2021〕9号" .
ex:bureau a pk:Actor ; skos:prefLabel "威海市科学技术局" ; skos:altLabel "市科技局" .
ex:group a pk:MeasureGroup ;
    pk:outlineNumber "（一）" ; pk:heading "青少年科学素质提升行动" ; pk:position 3 ;
    dcterms:hasPart ex:m1 , ex:m2 .
ex:m1 a pk:Measure ;
    pk:outlineNumber "1." ; pk:text "完善科普基础设施布局。（牵头单位：市科技局）" ; pk:position 4 ;
    pk:leadUnit ex:bureau ; pk:leadBasis pk:StatedLead ;
    pk:hasResponsibility ex:m1-lead ; pk:hasResponsibilityNote ex:note ;
    pk:timeFrame ex:period ; pk:timeFrameBasis pk:DocumentPeriod ;
    pk:span ex:m1-span .
ex:m1-lead a pk:Responsibility ;
    pk:actor ex:bureau ; pk:role pk:LeadRole ; pk:leadBasis pk:StatedLead ;
    pk:statedIn ex:note ; pk:writtenAs "市科技局" .
ex:note a pk:ResponsibilityNote .
ex:m2 a pk:Measure ;
    pk:outlineNumber "2." ; pk:text "到2025年，公民具备科学素质比例达到15%。" ; pk:position 5 ;
    pk:hasTarget ex:target ; pk:hasTimeExpression ex:by2025 ;
    pk:timeFrame ex:period ; pk:timeFrameBasis pk:DocumentPeriod .
ex:by2025 a pk:TimeExpression .
ex:period a pk:TimeFrame ; time:hasBeginning ex:y2021 ; time:hasEnd ex:y2025 .
ex:y2021 a time:Instant ; time:inXSDgYear "2021"^^xsd:gYear .
ex:y2025 a time:Instant ; time:inXSDgYear "2025"^^xsd:gYear .
ex:target a pk:Target ;
    pk:indicator "公民具备科学素质比例" ; pk:targetValue 15 ; pk:unit "%" ;
    pk:comparator pk:EqualTo ; pk:aspirational false ; pk:deadline ex:due ;
    pk:span ex:target-span .
ex:due a pk:Deadline ; time:inXSDgYear "2025"^^xsd:gYear .
ex:m1-span a pk:TextSpan ;
    oa:start "120"^^xsd:nonNegativeInteger ; oa:end "143"^^xsd:nonNegativeInteger ;
    pk:inSource ex:source .
ex:target-span a pk:TextSpan ;
    oa:start "151"^^xsd:nonNegativeInteger ; oa:end "166"^^xsd:nonNegativeInteger ;
    oa:exact "公民具备科学素质比例达到15%" ; pk:inSource ex:source .
ex:source a pk:SourceText ;
    pk:sha256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" ;
    pk:mediaType "text/plain" ; pk:charCount 5210 .
"""

# Graphs the ontology must reject: the reasoner check is not vacuous, and these are the
# mistakes an emitter could make against the ontology's disjointness and ranges.
REJECTED_ABOXES = {
    "measure-also-measure-group": "ex:clause a pk:Measure , pk:MeasureGroup .",
    "text-with-language-tag": 'ex:clause a pk:Measure ; pk:text "加强科普"@zh .',
    "target-value-as-double": "ex:target a pk:Target ; pk:targetValue 17.5e0 .",
}


def drop(subject, predicate, language: str | None = None) -> Callable[[Graph], None]:
    """A change to a graph that removes subject's predicate values (in one language only, if given)."""
    def change(graph: Graph) -> None:
        for value in list(graph.objects(subject, predicate)):
            if language is None or getattr(value, "language", None) == language:
                graph.remove((subject, predicate, value))
    return change


def add(subject, predicate, value) -> Callable[[Graph], None]:
    """A change to a graph that adds one triple."""
    return lambda graph: graph.add((subject, predicate, value))


# For each violation query: a change that breaks the ontology, and the start of the row
# the query must then report.
BREAKAGES = {
    "ontology-missing-label-violation":
        (drop(PK.Target, RDFS.label, "zh"), (PK.Target, Literal("zh"))),
    "ontology-missing-definition-violation":
        (drop(PK.Measure, SKOS.definition, "zh"), (PK.Measure, Literal("zh"))),
    "ontology-shared-label-violation":
        (add(PK.Target, RDFS.label, Literal("measure", lang="en")), (PK.Measure, PK.Target)),
    "ontology-undeclared-term-violation":
        (drop(PK.Section, RDF.type), (PK.Section,)),
    "ontology-concept-outside-scheme-violation":
        (drop(PK.AtMost, SKOS.inScheme), (PK.AtMost,)),
}


def violation_queries() -> list[Traversable]:
    """The ontology's violation queries, queries/ontology-*-violation.rq."""
    found = (p for p in data_dir("queries").iterdir()
             if p.name.startswith("ontology-") and p.name.endswith("-violation.rq"))
    return sorted(found, key=lambda p: p.name)


def query_name(query: Traversable) -> str:
    return query.name.removesuffix(".rq")


def run(query: Traversable, graph: Graph) -> list[tuple]:
    return [tuple(row) for row in graph.query(query.read_text(encoding="utf-8"))]


def abox_ntriples(turtle: str) -> bytes:
    """A test graph, written in Turtle, as N-Triples to append to the ontology's."""
    return Graph().parse(data=turtle, format="turtle").serialize(format="nt", encoding="utf-8")


@pytest.fixture(scope="module")
def ontology_graph() -> Graph:
    return Graph().parse(data=ontology_turtle(), format="turtle")


@pytest.fixture(scope="module")
def ontology_ntriples(ontology_graph: Graph) -> bytes:
    """The ontology as N-Triples: owlready2 cannot read Turtle."""
    return ontology_graph.serialize(format="nt", encoding="utf-8")


@pytest.mark.parametrize("term, kind", [(term, kind) for kind, terms in CONTRACT_KINDS.items()
                                        for term in terms])
def test_ontology_declares_contract_term_with_its_kind(ontology_graph, term, kind):
    assert set(ontology_graph.objects(term, RDF.type)) & KINDS == {kind}


@pytest.mark.parametrize("subclass, superclass", CONTRACT_SUBCLASSES)
def test_ontology_has_contract_subclass_axiom(ontology_graph, subclass, superclass):
    assert (subclass, RDFS.subClassOf, superclass) in ontology_graph


def test_ontology_target_value_is_decimal(ontology_graph):
    assert (PK.targetValue, RDFS.range, XSD.decimal) in ontology_graph


def test_ontology_header_names_version_and_license(ontology_graph):
    ontology = next(ontology_graph.subjects(RDF.type, OWL.Ontology))
    assert str(ontology) == ONTOLOGY_IRI
    assert ontology_graph.value(ontology, OWL.versionInfo) == Literal("0.1.0")
    assert ontology_graph.value(ontology, DCTERMS.license) is not None
    for prop in (DCTERMS.title, DCTERMS.description):
        languages = {value.language for value in ontology_graph.objects(ontology, prop)}
        assert languages == {"zh", "en"}, prop


def test_ontology_violation_queries_each_have_a_breakage():
    assert {query_name(q) for q in violation_queries()} == set(BREAKAGES)


@pytest.mark.parametrize("query", violation_queries(), ids=query_name)
def test_ontology_violation_query_has_header(query):
    keys = [line.split(":")[0] for line in query.read_text(encoding="utf-8").splitlines()[:4]]
    assert keys == ["# name", "# description", "# params", "# returns"]
    assert query.read_text(encoding="utf-8").startswith(f"# name: {query_name(query)}\n")


@pytest.mark.parametrize("query", violation_queries(), ids=query_name)
def test_ontology_passes_violation_query(ontology_graph, query):
    assert run(query, ontology_graph) == []


@pytest.mark.parametrize("query", violation_queries(), ids=query_name)
def test_ontology_violation_query_reports_broken_term(ontology_graph, query):
    change, expected = BREAKAGES[query_name(query)]
    broken = Graph()
    broken += ontology_graph
    change(broken)
    rows = run(query, broken)
    assert any(row[:len(expected)] == expected for row in rows), rows


def test_ontology_is_consistent_under_hermit(ontology_ntriples):
    world = reasoned_world(ontology_ntriples)
    assert world[str(PK.Measure)] is not None, "owlready2 did not load the ontology's classes"
    assert list(world.inconsistent_classes()) == []


def test_ontology_with_small_abox_is_consistent_under_hermit(ontology_ntriples):
    world = reasoned_world(ontology_ntriples + abox_ntriples(SMALL_ABOX))
    assert list(world.inconsistent_classes()) == []


@pytest.mark.parametrize("abox", REJECTED_ABOXES.values(), ids=REJECTED_ABOXES.keys())
def test_ontology_with_bad_abox_is_inconsistent_under_hermit(ontology_ntriples, abox):
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reasoned_world(ontology_ntriples + abox_ntriples(PREFIXES + abox))
