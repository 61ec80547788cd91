"""SHACL shapes: each constraint on small valid and invalid graphs, the shapes-for-shapes
check, the seed plans' expected findings, and the validate command."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files

import pyshacl
import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDF, RDFS, SH

from conftest import SEEDS
from policykg.validate import shapes_graph, validate_graph, validate_paths

PKS = Namespace("https://w3id.org/policykg/shapes#")
PREFIXES = """
@prefix pk: <https://w3id.org/policykg/ontology#> . @prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix : <http://example.org/> .
"""
GOOD_MEASURE = """
:doc a pk:PolicyDocument ; dcterms:title "T" ; dcterms:created "2024-01-01"^^xsd:date ;
    prov:wasDerivedFrom :src ; pk:hasMeasure :m ; pk:timeFrame :p .
:src a pk:SourceText .
:p a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2024"^^xsd:gYear ] ; time:hasEnd [ time:inXSDgYear "2025"^^xsd:gYear ] .
:m a pk:Measure ; pk:leadUnit :a ; pk:leadBasis pk:StatedLead ; pk:timeFrame :f ; pk:hasTarget :t .
:a a pk:Actor ; skos:prefLabel "市科技局" .
:f a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2024"^^xsd:gYear ] ; time:hasEnd [ time:inXSDgYear "2025"^^xsd:gYear ] .
:t a pk:Target ; pk:targetValue "18.0"^^xsd:decimal ; pk:unit "%" ; pk:deadline [ time:inXSDgYear "2025"^^xsd:gYear ] .
"""


def results(turtle: str) -> list[tuple[str, str, str]]:
    """(severity, path, component) of every result on the graph."""
    g = Graph().parse(data=PREFIXES + turtle, format="turtle")
    report = validate_graph(g, "test")
    return sorted((f.severity, f.path or "", f.component) for d in report.documents for f in d.findings)


def test_shapes_good_graph_conforms():
    assert results(GOOD_MEASURE) == []


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s.replace("pk:leadUnit :a ; ", ""), ("Violation", "pk:leadUnit", "sh:MinCountConstraintComponent")),
    (lambda s: s.replace("pk:timeFrame :f ; ", ""), ("Violation", "pk:timeFrame", "sh:MinCountConstraintComponent")),
    (lambda s: s.replace("pk:timeFrame :f ; ", "pk:timeFrame :f, :p ; "),
     ("Violation", "pk:timeFrame", "sh:MaxCountConstraintComponent")),
    (lambda s: s.replace(':f a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2024"^^xsd:gYear ]',
                         ':f a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2026"^^xsd:gYear ]'),
     ("Violation", "pk:timeFrame", "sh:SPARQLConstraintComponent")),
    (lambda s: s.replace(':f a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2024"^^xsd:gYear ] ;', ':f a pk:TimeFrame ;'),
     ("Violation", "pk:timeFrame", "sh:NodeConstraintComponent")),
    (lambda s: s.replace("pk:StatedLead", "pk:ListOrderLead"), ("Warning", "pk:leadBasis", "sh:NotConstraintComponent")),
])
def test_shapes_measure_constraint(edit, expected):
    assert results(edit(GOOD_MEASURE)) == [expected]


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s.replace('pk:targetValue "18.0"^^xsd:decimal ; ', ""),
     ("Violation", "pk:targetValue", "sh:MinCountConstraintComponent")),
    (lambda s: s.replace('pk:targetValue "18.0"^^xsd:decimal', 'pk:targetValue "18"'),
     ("Violation", "pk:targetValue", "sh:OrConstraintComponent")),
    (lambda s: s.replace('pk:targetValue "18.0"^^xsd:decimal', 'pk:targetValue "18.0"^^xsd:double'),
     ("Violation", "pk:targetValue", "sh:OrConstraintComponent")),
    (lambda s: s.replace('pk:unit "%" ; ', ""), ("Violation", "pk:unit", "sh:MinCountConstraintComponent")),
    (lambda s: s.replace('pk:deadline [ time:inXSDgYear "2025"^^xsd:gYear ]', 'pk:deadline [ time:inXSDgYear "2030"^^xsd:gYear ]'),
     ("Warning", "pk:deadline", "sh:SPARQLConstraintComponent")),
])
def test_shapes_target_constraint(edit, expected):
    assert results(edit(GOOD_MEASURE)) == [expected]


def test_shapes_an_integer_value_is_a_decimal_value():
    assert results(GOOD_MEASURE.replace('pk:targetValue "18.0"^^xsd:decimal', 'pk:targetValue "18"^^xsd:integer')) == []


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s.replace('dcterms:title "T" ; ', ""), ("Violation", "dcterms:title", "sh:MinCountConstraintComponent")),
    (lambda s: s.replace('dcterms:created "2024-01-01"^^xsd:date ;', ""),
     ("Violation", "dcterms:created", "sh:SPARQLConstraintComponent")),
    (lambda s: s.replace('skos:prefLabel "市科技局"', 'skos:altLabel "科技局"'),
     ("Violation", "skos:prefLabel", "sh:MinCountConstraintComponent")),
])
def test_shapes_document_and_actor_constraint(edit, expected):
    assert results(edit(GOOD_MEASURE)) == [expected]


def test_shapes_document_without_measures_is_reported():
    g = PREFIXES + ':doc a pk:PolicyDocument ; dcterms:title "T" ; dcterms:issued "2024-01-01"^^xsd:date ; ' \
                   'prov:wasDerivedFrom :src . :src a pk:SourceText .'
    assert results(g) == [("Violation", "pk:hasMeasure", "sh:MinCountConstraintComponent")]


def test_shapes_a_document_only_cited_is_not_held_to_the_document_shape():
    assert results(GOOD_MEASURE + ':doc pk:basedOn :cited . :cited a pk:PolicyDocument ; pk:documentNumber "国发〔2021〕9号" .') == []


def test_shapes_pass_the_shacl_shapes_graph_check():
    shacl_shacl = Graph().parse(str(files("pyshacl") / "assets" / "shacl-shacl.ttl"))
    conforms, _, text = pyshacl.validate(shapes_graph(), shacl_graph=shacl_shacl)
    assert conforms, text
    broken = Graph() + shapes_graph()
    broken.add((PKS.MeasureLeadShape, SH.minCount, PKS.notANumber))
    assert not pyshacl.validate(broken, shacl_graph=shacl_shacl)[0]


def test_shapes_each_has_a_comment_and_a_message_in_chinese_and_english():
    g = shapes_graph()
    shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape)) \
        | set(g.subjects(RDF.type, SH.SPARQLConstraint)) | set(g.objects(None, SH.property))
    assert len(shapes) >= 12
    for s in shapes:
        for prop in (RDFS.comment, SH.message):
            langs = {o.language for o in g.objects(s, prop)}
            assert {"zh", "en"} <= langs, (s, prop)


def _seed(stem: str):
    return next(SEEDS.glob(stem + "_*.txt"))


def test_shapes_seeds_hangzhou_reports_each_measure_without_a_lead():
    report = validate_paths([_seed("003")])
    (doc,) = report.documents
    assert len(doc.violations) == 18 and not doc.warnings
    assert {(f.path, f.component) for f in doc.violations} == {("pk:leadUnit", "sh:MinCountConstraintComponent")}
    assert doc.violations[0].focus_label.startswith("(一) 著力培育青少年")


def test_shapes_seeds_weihai_conforms_with_a_warning_per_first_listed_lead():
    (doc,) = validate_paths([_seed("000")]).documents
    assert not doc.violations and len(doc.warnings) == 19
    assert {f.path for f in doc.warnings} == {"pk:leadBasis"}


@pytest.mark.parametrize("stem", ["001", "002", "004"])
def test_shapes_seeds_others_conform(stem):
    (doc,) = validate_paths([_seed(stem)]).documents
    assert doc.findings == []


def test_shapes_deleting_one_note_is_reported_at_exactly_that_measure(tmp_path):
    text = _seed("000").read_text(encoding="utf-8")
    note = "(责任单位:市科技局)"  # the note of measure (八), its only unit
    assert text.count(note) == 1
    edited = tmp_path / "edited.txt"
    edited.write_text(text.replace(note, ""), encoding="utf-8")
    (doc,) = validate_paths([edited]).documents
    assert [(f.focus_label[:13], f.path) for f in doc.violations] == [("(八) 发挥科普对科技成果", "pk:leadUnit")]
    assert len(doc.warnings) == 18


def cli(*args):
    return subprocess.run([sys.executable, "-m", "policykg.cli", "validate", *map(str, args)],
                          capture_output=True, text=True)


def test_shapes_cli_exit_codes():
    assert cli(_seed("001"), _seed("004")).returncode == 0
    assert cli(_seed("000")).returncode == 0
    assert cli(_seed("000"), "--fail-on", "warning").returncode == 1
    assert cli(_seed("003")).returncode == 1
    missing = cli(_seed("001"), "/no/such/plan.txt")
    assert missing.returncode == 2 and "/no/such/plan.txt: no such file" in missing.stdout
    assert "符合" in missing.stdout  # the other document was still checked


def test_shapes_cli_formats(tmp_path):
    seed = _seed("003")
    text = cli(seed).stdout
    assert "违反" in text and "未明确牵头单位" in text
    assert "names no lead unit" in cli(seed, "--lang", "en").stdout
    data = json.loads(cli(seed, "--format", "json").stdout)
    assert data["conforms"] is False and data["totals"]["v"] == 18
    assert data["documents"][0]["findings"][0]["component"] == "sh:MinCountConstraintComponent"
    g = Graph().parse(data=cli(seed, "--format", "turtle").stdout, format="turtle")
    assert len(list(g.subjects(RDF.type, SH.ValidationReport))) == 1
    assert len(list(g.subjects(RDF.type, SH.ValidationResult))) == 18
    page = cli(seed, "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>") and page.count("<tr") == 18


def test_shapes_cli_validates_an_extracted_graph_file(tmp_path):
    ttl = tmp_path / "plan.ttl"
    ttl.write_text(subprocess.run([sys.executable, "-m", "policykg.cli", "extract", str(_seed("003")), "-q"],
                                  capture_output=True, text=True).stdout, encoding="utf-8")
    out = cli(ttl, "--format", "json")
    assert out.returncode == 1 and json.loads(out.stdout)["totals"]["v"] == 18
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    out = cli(bad)
    assert out.returncode == 2 and "bad.ttl: not valid turtle" in out.stdout
