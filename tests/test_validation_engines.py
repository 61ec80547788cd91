"""The two validation engines give the same findings: pySHACL (the reference, one graph at a
time) and the shapes compiled to SPARQL (policykg.shacl_sparql, run by policykg.validate_sparql:
one query per constraint over all graphs). Compared on the seed plans, on a generated corpus with
faults injected into the store (every fault must be found), on SPARQL servers (Oxigraph,
Virtuoso), and against pySHACL itself on small shapes that use our features in other ways."""
from __future__ import annotations

import json
import subprocess
import sys

import pyshacl
import pytest
from click.testing import CliRunner
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from conftest import SHARED
from policykg.cli import main
from policykg.load import load_paths
from policykg.remote import RemoteStore, ServerConfig
from policykg.shacl_sparql import UnsupportedShapeError, compile_shapes
from policykg.store import EmbeddedStore, GraphPayload
from policykg.validate import _LOADED_DOCUMENTS, validate_paths, validate_store

PREFIXES = """PREFIX pk: <https://w3id.org/policykg/ontology#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""


def canonical(report) -> tuple[list[str], list[tuple]]:
    """The documents, in order, and one comparable tuple per finding. (Our graphs have no blank
    nodes, whose labels would differ from reader to reader.)"""
    findings = sorted((f.document, f.focus, f.severity, f.path or "", f.component, f.shape,
                       tuple(sorted(f.message.items())), f.value or "") for d in report.documents for f in d.findings)
    return [d.document for d in report.documents], findings


def presentation(report) -> list:
    """What a reader sees beyond the canonical fields: titles, sources, and each document's
    findings in their order with kind, label and place."""
    return [(d.document, d.title, d.source, [(f.severity, f.order, f.focus_kind, f.focus_label) for f in d.findings])
            for d in report.documents]


def assert_same(fast, reference):
    assert canonical(fast)[0] == canonical(reference)[0]
    missing = [f for f in canonical(reference)[1] if f not in canonical(fast)[1]]
    extra = [f for f in canonical(fast)[1] if f not in canonical(reference)[1]]
    assert not missing and not extra, f"only pySHACL: {missing[:5]}\nonly SPARQL: {extra[:5]}"
    assert canonical(fast) == canonical(reference)


# -- the seeds -------------------------------------------------------------------------------------

def test_validation_engines_agree_on_the_seeds(seed_store):
    reference = validate_store(seed_store, engine="pyshacl")
    fast = validate_store(seed_store, engine="sparql")
    assert_same(fast, reference)
    assert presentation(fast) == presentation(reference)
    assert any(d.violations for d in fast.documents) and any(d.warnings for d in fast.documents)
    # the results graph: one sh:ValidationReport per document graph, one sh:result per finding
    assert len(set(fast.results.subjects(RDF.type, SH.ValidationReport))) == len(fast.documents)
    assert len(set(fast.results.objects(None, SH.result))) == sum(len(d.findings) for d in fast.documents)


def test_validation_engines_files_in_memory_give_the_findings_of_pyshacl(seed_paths):
    paths = seed_paths[:1] + seed_paths[3:4]
    assert_same(validate_paths(paths, engine="sparql"), validate_paths(paths))


# -- injected faults ---------------------------------------------------------------------------------

def _first(store, where: str, used: set, exclude: str | None = None, variables: str = "?x") -> dict:
    """The first (graph, node) answering `where` that no other fault has taken."""
    rows = store.select(f"{PREFIXES}SELECT ?g {variables} WHERE {{ GRAPH ?g {{ {where} }} }} ORDER BY ?g {variables}")
    for r in rows:
        if str(r["g"]) != exclude and (str(r["g"]), str(r["x"])) not in used:
            used.add((str(r["g"]), str(r["x"])))
            return {k: str(v) for k, v in r.items()}
    raise AssertionError(f"no node for a fault: {where}")


def inject_faults(store, update, *, datatypes: bool = True) -> set[tuple[str, str, str]]:
    """Break loaded documents in each way the shapes catch, through SPARQL updates; return the
    (focus, component, shape) each break must produce."""
    graphs = [str(r["g"]) for r in store.select(_LOADED_DOCUMENTS)]
    lone = graphs[-1]            # the document left without measures gets a graph of its own
    used: set = set()
    expected = set()

    def fault(where, change, component=None, shape=None, variables="?x"):
        r = _first(store, where, used, lone, variables)
        update(PREFIXES + change(r["g"], r["x"]))
        if component:
            expected.add((r["x"], "sh:" + component, "pks:" + shape))
        return r

    def replace(p, new):
        """An update giving node x of graph g the value `new` of p instead of its own."""
        return lambda g, x: (f"DELETE {{ GRAPH <{g}> {{ <{x}> {p} ?old }} }} INSERT {{ GRAPH <{g}> {{ <{x}> {p} {new} }} }} "
                             f"WHERE {{ GRAPH <{g}> {{ OPTIONAL {{ <{x}> {p} ?old }} }} }}")

    def delete(*ps):
        return lambda g, x: " ; ".join(f"DELETE WHERE {{ GRAPH <{g}> {{ <{x}> {p} ?old }} }}" for p in ps)

    def frame(name, begin, end):
        """A new time frame, with a year at each end (None: an instant with no year)."""
        ends = " ".join(f'<urn:test:{name}/{k}> time:inXSDgYear "{year}"^^xsd:gYear .' if year
                        else f"<urn:test:{name}/{k}> a time:Instant ." for k, year in (("b", begin), ("e", end)))
        return (f"<urn:test:{name}> . <urn:test:{name}> a time:Interval ; time:hasBeginning <urn:test:{name}/b> ; "
                f"time:hasEnd <urn:test:{name}/e> . {ends}")

    measure = "?x a pk:Measure ; pk:leadUnit ?u ; pk:timeFrame ?t ."
    fault(measure, delete("pk:leadUnit"), "MinCountConstraintComponent", "MeasureLeadShape")
    fault(measure, delete("pk:timeFrame"), "MinCountConstraintComponent", "MeasureTimeFrameShape")
    fault(measure, lambda g, x: f"INSERT DATA {{ GRAPH <{g}> {{ <{x}> pk:timeFrame {frame('second', 2021, 2022)} }} }}",
          "MaxCountConstraintComponent", "MeasureTimeFrameShape")
    fault(measure, replace("pk:timeFrame", frame("late", 2026, 2024)), "SPARQLConstraintComponent", "MeasureShape")
    fault(measure, replace("pk:timeFrame", frame("open", 2021, None)), "NodeConstraintComponent",
          "MeasureTimeFrameShape")
    target = "?x a pk:Target ; pk:targetValue ?v ; pk:unit ?un ."
    bad = ['"18"'] + (['"abc"^^xsd:decimal', '"18.5"^^xsd:integer', '"18"^^xsd:double', '"18"@zh'] if datatypes else [])
    for value in bad:
        fault(target, replace("pk:targetValue", value), "OrConstraintComponent", "TargetValueTypeShape")
    if datatypes:   # numbers as rdflib reads them (with Python's Decimal() and int()): no finding
        for value in ('"1e5"^^xsd:decimal', '" 18 "^^xsd:integer', '"1_000"^^xsd:integer', '"NaN"^^xsd:decimal'):
            fault(target, replace("pk:targetValue", value))
    fault(target, delete("pk:unit"), "MinCountConstraintComponent", "TargetUnitShape")
    fault("?d a pk:PolicyDocument ; pk:hasTarget|(pk:hasMeasure/pk:hasTarget) ?x ; pk:timeFrame ?p . "
          "?p time:hasBeginning/time:inXSDgYear ?b ; time:hasEnd/time:inXSDgYear ?e . ?x a pk:Target",
          replace("pk:deadline", '<urn:test:due> . <urn:test:due> time:inXSDgYear "2099"^^xsd:gYear'),
          "SPARQLConstraintComponent", "TargetDueShape", "?x ?d")
    r = fault("?x a pk:PolicyDocument ; pk:hasMeasure ?m ; dcterms:title ?t",
              delete("dcterms:title", "dcterms:created", "dcterms:issued"), "MinCountConstraintComponent",
              "DocumentTitleShape")
    expected.add((r["x"], "sh:SPARQLConstraintComponent", "pks:DocumentShape"))
    fault("?x a pk:Actor ; skos:prefLabel ?l", lambda g, x: f'INSERT DATA {{ GRAPH <{g}> {{ <{x}> skos:prefLabel "另一个名称" }} }}',
          "MaxCountConstraintComponent", "ActorPrefLabelShape")
    fault("?x a pk:Measure ; pk:leadBasis ?b FILTER (?b != pk:ListOrderLead)", replace("pk:leadBasis", "pk:ListOrderLead"),
          "NotConstraintComponent", "MeasureListOrderLeadShape")
    d = str(store.select(f"{PREFIXES}SELECT ?d WHERE {{ GRAPH <{lone}> {{ ?d pk:hasMeasure ?m }} }} LIMIT 1").rows[0]["d"])
    update(PREFIXES + delete("pk:hasMeasure")(lone, d))
    expected.add((d, "sh:MinCountConstraintComponent", "pks:DocumentMeasureShape"))
    return expected


@pytest.fixture(scope="module")
def faulty_store(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, str(SHARED / "bench" / "make_corpus.py"), "15", str(corpus)], check=True,
                   capture_output=True)
    store = EmbeddedStore(None)
    report = load_paths(store, sorted(corpus.glob("*.txt")))
    assert not report.failures, report.summary()
    expected = inject_faults(store, store._store.update)
    return store, expected


def test_validation_engines_find_every_injected_fault_and_agree(faulty_store):
    store, expected = faulty_store
    fast = validate_store(store, engine="sparql")
    found = {(f.focus, f.component, f.shape) for d in fast.documents for f in d.findings}
    assert expected - found == set()
    reference = validate_store(store, engine="pyshacl")
    assert_same(fast, reference)
    assert presentation(fast) == presentation(reference)
    # the document left without measures is still listed, with its finding
    lone = next(focus for focus, _, shape in expected if shape == "pks:DocumentMeasureShape")
    assert any(f.shape == "pks:DocumentMeasureShape" for d in fast.documents if d.document == lone for f in d.findings)


# -- servers -------------------------------------------------------------------------------------------

def remote(server) -> RemoteStore:
    return RemoteStore(ServerConfig(query=server.query_url, update=server.update_url, graph_store=server.graph_store_url,
                                    user=server.user, password=server.password, auth=server.auth, retries=1))


def faulty_seeds(store, update):
    expected = inject_faults(store, update, datatypes=False)
    return expected, validate_store(store, engine="sparql")


@pytest.fixture(scope="module")
def embedded_faulty_seeds(seed_paths):
    store = EmbeddedStore(None)
    assert not load_paths(store, seed_paths).failures
    return faulty_seeds(store, store._store.update)


@pytest.mark.parametrize("which", ["oxigraph", "virtuoso"])
def test_validation_engines_sparql_on_a_server_gives_the_embedded_findings(which, request, seed_paths,
                                                                           embedded_faulty_seeds):
    server = request.getfixturevalue(f"{which}_server")
    store = remote(server)
    report = load_paths(store, seed_paths)
    assert not report.failures, report.summary()
    expected, embedded = embedded_faulty_seeds
    try:
        assert faulty_seeds(store, store.update)[0] == expected
        got = validate_store(store, engine="sparql")
    finally:   # the Virtuoso server serves the whole session: give the other tests the seeds back
        assert not load_paths(store, seed_paths).failures
    found = {(f.focus, f.component, f.shape) for d in got.documents for f in d.findings}
    assert expected - found == set()
    assert canonical(got) == canonical(embedded), which


# -- the command ---------------------------------------------------------------------------------------

def test_validation_engines_command_option(tmp_path, seed_paths):
    store = str(tmp_path / "s")
    assert CliRunner().invoke(main, ["load", "--store", store, str(seed_paths[0])]).exit_code == 0
    out = {}
    for engine in ("sparql", "pyshacl"):
        r = CliRunner().invoke(main, ["validate", "--store", store, "--format", "json", "--engine", engine])
        assert r.exit_code == 0, r.output   # warnings only
        out[engine] = json.loads(r.output)
    assert out["sparql"] == out["pyshacl"]
    r = CliRunner().invoke(main, ["validate", "--store", store, "--format", "turtle"])
    results = Graph().parse(data=r.output, format="turtle")
    assert len(set(results.subjects(RDF.type, SH.ValidationResult))) == out["sparql"]["totals"]["w"] > 0
    r = CliRunner().invoke(main, ["validate", "--store", store, "--engine", "jena"])
    assert r.exit_code == 2 and "sparql" in r.output and "pyshacl" in r.output


# -- features in other combinations, against pySHACL itself -------------------------------------------

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
"""
DATA = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def both(shapes_ttl: str, data_ttl: str) -> tuple[set, set]:
    """(pySHACL's, the compiled queries') results as (focus, component, value) on one graph."""
    shapes = Graph().parse(data=SHAPES + shapes_ttl, format="turtle")
    data = Graph().parse(data=DATA + data_ttl, format="turtle")
    _, results, _ = pyshacl.validate(data, shacl_graph=shapes, advanced=True, inference="none", allow_warnings=True)
    details = set(results.objects(None, SH.detail))
    reference = {(str(results.value(r, SH.focusNode)), str(results.value(r, SH.sourceConstraintComponent)),
                  str(results.value(r, SH.value) or "")) for r in results.subjects(RDF.type, SH.ValidationResult)
                 if r not in details}
    store = EmbeddedStore(None)
    store.replace_graphs([GraphPayload(URIRef("urn:g"), data.serialize(format="nt", encoding="utf-8"))])
    fast = set()
    for check in compile_shapes(shapes, scope=""):
        for row in store.select(check.query):
            value = row.get("value", row["this"] if check.constraint is not None else None)
            fast.add((str(row["this"]), str(check.component), str(value or "")))
    return reference, fast


def test_validation_engines_counts_and_class_targets():
    shapes = """ex:S a sh:NodeShape ; sh:targetClass ex:A , ex:B ; sh:property [ sh:path ex:p ; sh:minCount 2 ;
        sh:maxCount 2 ; sh:message "m" ] ."""
    data = """ex:a0 a ex:A . ex:a1 a ex:A ; ex:p 1 . ex:a2 a ex:A , ex:B ; ex:p 1 , 2 . ex:a3 a ex:Sub ; ex:p 1 , 2 , 3 .
        ex:Sub rdfs:subClassOf ex:Mid . ex:Mid rdfs:subClassOf ex:B . ex:x ex:p 1 ."""
    reference, fast = both(shapes, data)
    assert {f for f, _, _ in reference} == {"http://example.org/a0", "http://example.org/a1", "http://example.org/a3"}
    assert fast == reference


def test_validation_engines_lexical_forms_as_rdflib_reads_them():
    shapes = """ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:v ; sh:message "m" ;
        sh:or ( [ sh:datatype xsd:decimal ] [ sh:datatype xsd:integer ] ) ] ;
        sh:property [ sh:path ex:y ; sh:datatype xsd:gYear ; sh:message "m" ] ;
        sh:property [ sh:path ex:k ; sh:not [ sh:hasValue ex:bad ] ; sh:message "m" ] ."""
    forms = ['"1e5"^^xsd:decimal', '"abc"^^xsd:decimal', '" 7 "^^xsd:integer', '"1_000"^^xsd:integer',
             '"1__0"^^xsd:integer', '"+.5"^^xsd:decimal', '"NaN"^^xsd:decimal', '"-Infinity"^^xsd:decimal',
             '"1_0.5"^^xsd:decimal', '"."^^xsd:decimal', '"18.0"^^xsd:integer', '"x"@en', "ex:iri", '"7"',
             '"12"^^xsd:double', '"٣"^^xsd:integer']
    data = "\n".join(f"ex:t{i} a ex:T ; ex:v {v} ." for i, v in enumerate(forms))
    data += '\nex:y1 a ex:T ; ex:y "20x5"^^xsd:gYear . ex:y2 a ex:T ; ex:y "2025" . ex:k1 a ex:T ; ex:k ex:bad , ex:good .'
    reference, fast = both(shapes, data)
    assert len(reference) > 5
    assert fast == reference


def test_validation_engines_nested_node_shape():
    shapes = """ex:S a sh:NodeShape ; sh:targetClass ex:M ; sh:property [ sh:path ex:f ; sh:node ex:F ; sh:message "m" ] .
        ex:F a sh:NodeShape ; sh:property [ sh:path ( ex:b ex:y ) ; sh:minCount 1 ; sh:maxCount 1 ;
        sh:datatype xsd:gYear ; sh:severity sh:Warning ] ."""
    data = """ex:m1 a ex:M ; ex:f ex:f1 , ex:f2 , ex:f3 , ex:f4 , "lit" . ex:f1 ex:b [ ex:y "2024"^^xsd:gYear ] .
        ex:f2 ex:b [ ex:y "2024" ] . ex:f3 ex:b [ ex:y "2024"^^xsd:gYear ] , [ ex:y "2025"^^xsd:gYear ] ."""
    reference, fast = both(shapes, data)
    assert {v for _, _, v in reference} == {"http://example.org/f2", "http://example.org/f3", "http://example.org/f4",
                                            "lit"}
    assert fast == reference


@pytest.mark.parametrize("shape, feature", [
    ('ex:S a sh:NodeShape ; sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:pattern "^a" ; sh:message "m" ] .',
     "sh:pattern"),
    ("ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:message 'm' ] .",
     "sh:targetNode"),
    ('ex:S a sh:NodeShape ; sh:targetClass ex:A ; sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ; '
     'sh:message "m" ] .', "sh:path other than"),
    ('ex:S a sh:NodeShape ; sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .', "sh:message"),
    ('ex:S a sh:NodeShape ; sh:targetClass ex:A ; sh:property [ sh:path ex:p ; sh:datatype xsd:date ; '
     'sh:message "m" ] .', "xsd:date"),
    ('ex:S a sh:NodeShape ; sh:targetClass ex:A ; sh:message "m" ; sh:sparql [ sh:select """SELECT $this WHERE '
     '{ GRAPH ?g { $this ?p ?o } }""" ] .', "GRAPH"),
])
def test_validation_engines_unsupported_features_are_named(shape, feature):
    with pytest.raises(UnsupportedShapeError) as e:
        compile_shapes(Graph().parse(data=SHAPES + shape, format="turtle"))
    assert feature in str(e.value) and ("ex:S" in str(e.value) or "sh:path ex:p" in str(e.value))
