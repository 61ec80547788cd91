"""The query library (queries/*.rq): headers, the portability rules every query keeps, and each
query's answer on the five seed plans, checked against the hand annotations in ../shared/gold
(FORMAT.md) rather than against the query's own output. Every `*-violation` check passes on the
seeds, and each of the library's own checks is shown to fail on a small graph broken on purpose.

Gold measures are found in the graph the way ../shared/eval/score.py finds them: a core measure's
anchor stands within the first 30 characters of the measure's heading and text.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.plugins.sparql import prepareQuery

from conftest import GOLD, scorer
from policykg import querylib
from policykg.store import MAPPINGS_GRAPH, ONTOLOGY_GRAPH, STAGING, EmbeddedStore, GraphPayload, Store

PK = "https://w3id.org/policykg/ontology#"
LEAD, CO = URIRef(PK + "LeadRole"), URIRef(PK + "CoRole")
LIB = querylib.library()
REPORTS = sorted(n for n, q in LIB.items() if not q.is_check)
CHECKS = sorted(n for n, q in LIB.items() if q.is_check)
OWN_CHECKS = [n for n in CHECKS if not n.startswith("ontology-")]

# The questions the library was asked to answer, by name.
ASKED = {"measures-without-lead", "lead-workload", "unit-responsibilities", "targets-due-by",
         "indicator-across-plans", "measures-per-group", "document-basis", "deadlines-between", "unit-pairs",
         "documents-by-issuer", "unit-spellings", "measures-by-lead-basis"}


# -- the seeds and their gold ------------------------------------------------------------------

@dataclass
class Plan:
    """One seed plan: its document node in the store, its gold, and its core gold measures' nodes."""

    stem: str
    doc: URIRef
    gold: dict
    nodes: dict[str, URIRef] = field(default_factory=dict)  # core gold anchor -> measure node

    def core(self) -> list[dict]:
        return [m for m in self.gold["measures"] if m["core"]]

    def node(self, gold_measure: dict) -> URIRef:
        return self.nodes[gold_measure["anchor"]]


def norm(s) -> str:
    return scorer().norm(s)


@pytest.fixture(scope="module")
def plans(seed_store, seed_paths) -> dict[str, Plan]:
    """The five plans by their number ("000" … "004"), each core gold measure aligned to its node."""
    docs = {str(r["sha"]): r["doc"] for r in seed_store.select(
        "PREFIX pk: <https://w3id.org/policykg/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#> "
        "SELECT ?doc ?sha WHERE { ?doc prov:wasDerivedFrom ?source . ?source pk:sha256 ?sha }")}
    texts: dict[URIRef, dict[URIRef, str]] = {}
    for r in seed_store.select(
            "PREFIX pk: <https://w3id.org/policykg/ontology#> SELECT DISTINCT ?doc ?m ?h ?t WHERE "
            "{ ?doc pk:hasMeasure ?m . OPTIONAL { ?m pk:heading ?h } OPTIONAL { ?m pk:text ?t } }"):
        texts.setdefault(r["doc"], {})[r["m"]] = norm(str(r.get("h", "")) + str(r.get("t", "")))
    out = {}
    for path in seed_paths:
        doc = docs[hashlib.sha256(path.read_bytes()).hexdigest()]
        plan = Plan(path.stem, doc, json.loads((GOLD / f"{path.stem}.json").read_text(encoding="utf-8")))
        for gm in plan.core():
            anchor = norm(gm["anchor"])
            found = [m for m, t in texts.get(doc, {}).items() if 0 <= t.find(anchor) < 30]
            assert len(found) == 1, f"{path.stem}: gold measure {gm['number']} {gm['anchor']} is found {len(found)} times"
            plan.nodes[gm["anchor"]] = found[0]
        out[path.stem[:3]] = plan
    return out


def select(store: Store, q: querylib.NamedQuery, params: dict):
    """The query's answer with the params given (any values), in the graph its header names if any."""
    bound = querylib.bind(q, {k: str(v) for k, v in params.items()})
    graph = getattr(q, "graph", None)
    return store.select(q.text, bound, graph=graph) if graph else store.select(q.text, bound)


def run(store: Store, name: str, **params) -> list[dict]:
    return select(store, LIB[name], params).rows


def year(term) -> int:
    return int(str(term)[:4])


@pytest.fixture(scope="module")
def unit_of(seed_store, plans):
    """(plan, a unit's name as gold writes it) -> the actor node of that plan with that label:
    units are resolved, so a name as written is one of the node's labels (pref or alt)."""
    nodes: dict[tuple[URIRef, str], set] = {}
    for r in seed_store.select(
            "PREFIX pk: <https://w3id.org/policykg/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "SELECT DISTINCT ?doc ?actor ?label WHERE { { ?doc pk:hasMeasure ?m . ?m pk:leadUnit|pk:coUnit ?actor } "
            "UNION { ?doc pk:issuedBy ?actor } ?actor skos:prefLabel|skos:altLabel ?label }").rows:
        nodes.setdefault((r["doc"], norm(r["label"])), set()).add(r["actor"])

    def find(plan: Plan, name: str) -> URIRef:
        (actor,) = nodes[plan.doc, norm(name)]
        return actor
    return find


# -- headers and portability -------------------------------------------------------------------

def projected(q: querylib.NamedQuery) -> list[str]:
    """The query's projected variables, read by a second SPARQL parser (rdflib's)."""
    return [str(v) for v in prepareQuery(q.text).algebra["PV"]]


def test_queries_library_answers_the_questions_asked():
    assert set(REPORTS) >= ASKED, f"missing: {sorted(ASKED - set(REPORTS))}"
    assert len(REPORTS) >= 15
    assert len(OWN_CHECKS) >= 4


@pytest.mark.parametrize("name", sorted(LIB))
def test_queries_header_names_the_query_and_its_columns(name):
    q = LIB[name]
    assert q.source == f"queries/{name}.rq", "the file is named after the query"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
    assert len(q.description) > 20
    assert q.returns and tuple(projected(q)) == q.returns


def _hidden_groups(text: str) -> list[str]:
    """The parts of a query body that a VALUES block opening its WHERE does not bind: each
    `MINUS { ... }`, and each `{ SELECT ... }` subquery less its projection (a variable a
    subquery projects is joined with the VALUES row; any other is the subquery's own). Text
    with comments and strings removed."""
    text = re.sub(r'"[^"\n]*"|#[^\n]*', '""', text)
    groups, stack = [], []
    for i, c in enumerate(text):
        if c == "{":
            stack.append(i)
        elif c == "}":
            start = stack.pop()
            inner = text[start + 1:i]
            sub = re.match(r"\s*SELECT\b(.*?)\bWHERE\b", inner, re.I | re.S)
            if sub:
                projected = set(re.findall(r"\?(\w+)", sub.group(1)))
                groups.append(" ".join(v for v in re.findall(r"\?\w+", inner) if v[1:] not in projected))
            elif re.search(r"MINUS\s*$", text[:start], re.I):
                groups.append(inner)
    assert not stack, "unbalanced braces"
    return groups


def test_hidden_groups_are_found():
    body = ('WHERE { ?a ?b ?c . { SELECT ?x ?type WHERE { ?x ?p ?unit . ?x a ?type } } '
            'MINUS { ?a ?q ?role } FILTER(?year) }')
    hidden = " ".join(_hidden_groups(body))
    assert "?unit" in hidden and "?role" in hidden and "?p" in hidden
    assert "?year" not in hidden and "?type" not in hidden and "?x" not in hidden


@pytest.mark.parametrize("name", sorted(n for n in LIB if LIB[n].params))
def test_queries_parameters_are_bound_where_every_store_binds_them(name):
    """Remote stores bind a parameter in a VALUES block opening the top-level WHERE group, so it
    must be used there: not behind MINUS, and in a subquery only as a variable it projects."""
    q = LIB[name]
    body = q.text[q.text.index("WHERE"):]
    hidden = _hidden_groups(body)
    for p in q.params:
        assert re.search(rf"\?{p.name}\b", body), f"parameter {p.name} is not used"
        for group in hidden:
            assert not re.search(rf"\?{p.name}\b", group), f"parameter {p.name} used inside {group[:60]!r}"
        assert p.text, f"parameter {p.name} has no description"
        if p.type == "string":
            # Virtuoso 7 garbles a non-ASCII literal bound by VALUES when it goes through STR().
            assert not re.search(rf"STR\(\s*\?{p.name}\s*\)", q.text), f"STR(?{p.name})"


@pytest.mark.parametrize("name", sorted(n for n in LIB if not n.startswith("ontology-")))
def test_queries_keep_to_portable_sparql_with_a_total_order(name):
    q = LIB[name]
    text = "\n".join(line for line in q.text.splitlines() if not line.lstrip().startswith("#"))
    for word in ("GROUP_CONCAT", "bif:", "sql:", "ofn:", "spif:", "oxigraph"):
        assert word not in text, f"{word} is not plain SPARQL 1.1, or its result order is unspecified"
    assert not re.search(r"\bBNODE\s*\(", text)
    order = re.search(r"^ORDER BY (.*)$", text, re.M)
    assert order, "every query orders its rows"
    aggregates = set(re.findall(r"AS \?(\w+)\)", text))
    unordered = [v for v in projected(q) if v not in aggregates and f"?{v}" not in order.group(1)]
    assert not unordered, f"rows that differ only in {unordered} have no defined order"


def example_params(plans: dict[str, Plan]) -> dict[str, list[dict]]:
    """Parameter sets for each query, run by the tests of every query at once."""
    weihai = plans["000"]
    measure = weihai.node(weihai.core()[0])
    return {
        "unit-responsibilities": [{"unit": "市科技局"}, {"unit": "市科技局", "role": "pk:CoRole"}],
        "targets-due-by": [{"year": 2025}],
        "indicator-across-plans": [{"indicator": "科学素质"}],
        "unit-spellings": [{"unit": "市教育局"}],
        "measure-detail": [{"measure": measure}],
        "deadlines-between": [{}, {"from": 2021, "to": 2025}],
        "documents-by-issuer": [{}, {"issuer": "人民政府"}],
        "measures-by-lead-basis": [{}, {"basis": "pk:StatedLead"}],
        "lead-workload": [{}, {"unit": "科协", "doc": weihai.doc}],
        "unit-pairs": [{}, {"min": 1, "doc": weihai.doc}],
    }


def answers(store: Store, plans) -> dict[tuple[str, str], tuple[list[str], list[tuple]]]:
    """Every query's answer for each of its example parameter sets."""
    out = {}
    for name, q in sorted(LIB.items()):
        for params in example_params(plans).get(name, [{}]):
            res = select(store, q, params)
            out[name, json.dumps(params, default=str)] = (res.variables,
                                                          [tuple(r.get(v) for v in res.variables) for r in res.rows])
    return out


def test_queries_answer_with_their_columns_no_blank_nodes_and_no_repeated_rows(seed_store, plans):
    for (name, params), (variables, rows) in answers(seed_store, plans).items():
        assert tuple(variables) == LIB[name].returns, name
        assert not any(isinstance(t, BNode) for row in rows for t in row), name
        assert len(rows) == len(set(rows)), f"{name} {params} repeats rows"
        assert rows or LIB[name].is_check, f"{name} {params} answers nothing on the seeds"


@pytest.fixture(scope="module")
def doubled_store(seed_store, plans):
    """The seeds with two plans, the ontology and the mapping tables in a second graph as well (as
    when a plan is loaded again from an RDF file under another name): the union default graph
    gives each of their triples twice, as it gives a cited document's triples once per citing
    plan. (Doubling every graph makes each answer take 2^n times as long, n its triple patterns.)"""
    doubled = {str(plans["000"].doc), str(plans["004"].doc), str(ONTOLOGY_GRAPH), str(MAPPINGS_GRAPH)}
    store = EmbeddedStore(None)
    payloads = []
    for graph in seed_store.graph_sizes():
        nt = seed_store.graph(graph).serialize(format="nt", encoding="utf-8")
        payloads.append(GraphPayload(URIRef(graph), nt))
        if graph in doubled:
            payloads.append(GraphPayload(URIRef(graph + "/copy"), nt))
    store.replace_graphs(payloads)
    return store


def test_queries_answer_the_same_when_each_triple_is_in_two_graphs(seed_store, doubled_store, plans):
    once, twice = answers(seed_store, plans), answers(doubled_store, plans)
    for key, rows in once.items():
        assert twice[key] == rows, f"{key}: a triple in two graphs changes the answer"


# -- the checks ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CHECKS)
def test_queries_checks_find_nothing_on_the_seeds(name, seed_store):
    rows = run(seed_store, name)
    assert rows == [], f"{name}: {rows[:5]}"


BROKEN = """
@prefix pk: <https://w3id.org/policykg/ontology#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix : <http://example.org/broken/> .
"""

# For each check of the library: a graph broken on purpose, and the rows (first column, last
# column) it must give; the sound items in each graph must give none.
BROKEN_CASES = {
    "responsibility-incomplete-violation": ("""
        :m1 a pk:Measure ; pk:hasResponsibility :r1 , :r2 , :r4 , :ok .
        :r1 a pk:Responsibility ; pk:role pk:LeadRole .
        :r2 a pk:Responsibility ; pk:actor :a1 , :a2 ; pk:role pk:LeadRole , pk:CoRole .
        :r3 a pk:Responsibility ; pk:actor :a1 ; pk:role pk:StatedLead .
        :r4 a pk:Responsibility ; pk:actor :a1 .
        :ok a pk:Responsibility ; pk:actor :a1 ; pk:role pk:CoRole .""",
        {("r1", "no actor"), ("r2", "several actors"), ("r2", "several roles"), ("r3", "on no measure or section"),
         ("r3", "role is neither pk:LeadRole nor pk:CoRole"), ("r4", "no role")}),
    "measure-in-several-documents-violation": ("""
        :d1 pk:hasMeasure :m1 , :ok .  :d2 pk:hasMeasure :m1 .
        :m1 a pk:Measure .  :m2 a pk:Measure .  :ok a pk:Measure .""",
        {("m1", "d2"), ("m2", None)}),
    "time-frame-reversed-violation": ("""
        :tf1 a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2025"^^xsd:gYear ] ;
                              time:hasEnd [ time:inXSDgYear "2021"^^xsd:gYear ] .
        :tf2 a pk:TimeFrame ; time:hasBeginning [ time:inXSDDate "2021-06-01"^^xsd:date ] ;
                              time:hasEnd [ time:inXSDDate "2021-01-31"^^xsd:date ] .
        :tf3 a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2021"^^xsd:gYear ] .
        :ok a pk:TimeFrame ; time:hasBeginning [ time:inXSDgYear "2021"^^xsd:gYear ] ;
                             time:hasEnd [ time:inXSDDate "2021-12-31"^^xsd:date ] .""",
        {("tf1", "begins after it ends"), ("tf2", "begins after it ends"), ("tf3", "no end")}),
    "span-invalid-violation": ("""
        :src a pk:SourceText ; pk:charCount 100 .
        :s1 a pk:TextSpan ; oa:start 0 ; oa:end 2 .
        :s2 a pk:TextSpan ; oa:start 9 ; oa:end 5 ; pk:inSource :src .
        :s3 a pk:TextSpan ; oa:start 90 ; oa:end 120 ; pk:inSource :src .
        :s4 a pk:TextSpan ; oa:start 10 ; oa:end 14 ; oa:exact "市科技局局" ; pk:inSource :src .
        :s5 a pk:TextSpan ; oa:start 10 ; pk:inSource :src .
        :ok a pk:TextSpan ; oa:start 10 ; oa:end 14 ; oa:exact "市科技局" ; pk:inSource :src .""",
        {("s1", "no source"), ("s2", "ends before it starts"), ("s3", "ends past the end of its source"),
         ("s4", "quoted text is not end - start characters long"), ("s5", "no start or no end")}),
    "target-incomplete-violation": ("""
        :d1 pk:hasTarget :t1 , :t2 , :t3 , :ok .
        :t1 a pk:Target ; pk:indicator "培训科技辅导员" ; pk:unit "名" .
        :t2 a pk:Target ; pk:targetValue 17 .
        :t3 a pk:Target ; pk:indicator "公民具备科学素质比例" ; pk:targetValue 17 , 15 ; pk:unit "%" .
        :t4 a pk:Target ; pk:indicator "公民具备科学素质比例" ; pk:targetValue 17 ; pk:unit "%" .
        :ok a pk:Target ; pk:indicator "公民具备科学素质比例" ; pk:targetValue 17 ; pk:unit "%" .""",
        {("t1", "no value"), ("t2", "no indicator"), ("t2", "no unit"), ("t3", "several values"),
         ("t4", "stated by nothing")}),
    "responsibility-shortcut-mismatch-violation": ("""
        :m1 pk:leadUnit :a1 ; pk:hasResponsibility :r2 , :r3 .
        :r2 pk:actor :a2 ; pk:role pk:CoRole .
        :r3 pk:actor :a3 ; pk:role pk:LeadRole .
        :m2 pk:coUnit :a4 .
        :ok pk:leadUnit :a1 ; pk:coUnit :a2 ; pk:hasResponsibility :r5 , :r6 .
        :r5 pk:actor :a1 ; pk:role pk:LeadRole ; pk:leadBasis pk:StatedLead .
        :r6 pk:actor :a2 ; pk:role pk:CoRole .""",
        {("m1", "pk:leadUnit without a lead responsibility"), ("m1", "co responsibility without pk:coUnit"),
         ("m1", "lead responsibility without pk:leadUnit"), ("m1", "lead responsibility without pk:leadBasis"),
         ("m2", "pk:coUnit without a co responsibility")}),
}


def _short(term) -> str | None:
    if term is None:
        return None
    s = str(term)
    return s.rsplit("/", 1)[-1] if isinstance(term, URIRef) and s.startswith("http://example.org/") else s


def test_queries_every_check_of_the_library_has_a_broken_case():
    assert set(BROKEN_CASES) | {"staging-graph-leftover-violation"} == set(OWN_CHECKS)


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_queries_check_finds_what_was_broken(name):
    turtle, expected = BROKEN_CASES[name]
    nt = Graph().parse(data=BROKEN + turtle, format="turtle").serialize(format="nt", encoding="utf-8")
    store = EmbeddedStore(None)
    store.replace_graphs([GraphPayload(URIRef("http://example.org/broken"), nt)])
    q = LIB[name]
    rows = run(store, name)
    got = {(_short(r.get(q.returns[0])), _short(r.get(q.returns[-1]))) for r in rows}
    assert got == expected
    assert not any(_short(r.get(q.returns[0])) == "ok" for r in rows)


def test_queries_staging_graph_check_finds_a_leftover_staging_graph(seed_store):
    store = EmbeddedStore(None)
    leftover = URIRef(STAGING + "0123456789abcdef0123456789abcdef01234567")
    nt = b'<http://example.org/s> <http://example.org/p> "o" .\n'
    store.replace_graphs([GraphPayload(leftover, nt), GraphPayload(URIRef("http://example.org/kept"), nt)])
    rows = run(store, "staging-graph-leftover-violation")
    assert [(r["graph"], int(r["triples"])) for r in rows] == [(leftover, 1)]


# -- the answers, against the gold -------------------------------------------------------------

def test_measures_without_lead_are_those_gold_gives_no_lead(seed_store, plans):
    want = {p.node(gm) for p in plans.values() for gm in p.core() if not gm["lead_units"]}
    assert len(want) == 18, "gold: Hangzhou (003) names no lead for any of its 18 measures"
    rows = run(seed_store, "measures-without-lead")
    assert {r["measure"] for r in rows} == want
    assert {r["doc"] for r in rows} == {plans["003"].doc}
    positions = [int(r["position"]) for r in rows]
    assert positions == sorted(positions), "in document order"
    assert {r["measure"] for r in run(seed_store, "measures-without-lead", doc=plans["003"].doc)} == want
    assert run(seed_store, "measures-without-lead", doc=plans["000"].doc) == []


def test_lead_workload_totals_are_the_leads_and_co_units_gold_assigns(seed_store, plans, unit_of):
    rows = run(seed_store, "lead-workload")
    for p in plans.values():
        mine = [r for r in rows if r["doc"] == p.doc]
        assert sum(int(r["led"]) for r in mine) == sum(len({unit_of(p, u) for u in gm["lead_units"]})
                                                      for gm in p.core()), p.stem
        led = [int(r["led"]) for r in mine]
        assert led == sorted(led, reverse=True), "the busiest lead first"
    # unit by unit, in Weihai and in Fengdu (which writes 县应急局 beside 县应急管理局: one unit)
    for stem in ("000", "001"):
        p = plans[stem]
        want_led, want_shared = Counter(), Counter()
        for gm in p.core():
            want_led.update({unit_of(p, u) for u in gm["lead_units"]})
            want_shared.update({unit_of(p, u) for u in gm["co_units"]})
        got = {r["actor"]: (int(r["led"]), int(r["shared"])) for r in rows if r["doc"] == p.doc}
        assert got == {u: (want_led[u], want_shared[u]) for u in want_led | want_shared}, stem
    assert got[unit_of(plans["001"], "县应急局")] == got[unit_of(plans["001"], "县应急管理局")]
    weihai = {str(r["label"]): (int(r["led"]), int(r["shared"])) for r in rows if r["doc"] == plans["000"].doc}
    assert weihai["威海市科学技术局"] == (10, 5), "市科技局, named by its full name"


def test_lead_workload_for_a_name_across_plans(seed_store, plans):
    rows = run(seed_store, "lead-workload", unit="科协")
    assert rows and all(str(r["label"]).endswith("科学技术协会") for r in rows), "科协 is written, 科学技术协会 its name"
    for p in plans.values():
        led = sum(int(r["led"]) for r in rows if r["doc"] == p.doc)
        assert led == sum(1 for gm in p.core() if any("科协" in u for u in gm["lead_units"])), p.stem
    assert {r["doc"] for r in rows} == {p.doc for p in plans.values()
                                        if any("科协" in u for gm in p.core() for u in gm["lead_units"] + gm["co_units"])}


def test_unit_responsibilities_lists_what_gold_says_the_unit_leads_and_shares(seed_store, plans):
    want = {(p.node(gm), role) for p in plans.values() for gm in p.core()
            for role, units in ((LEAD, gm["lead_units"]), (CO, gm["co_units"])) if "市科技局" in units}
    assert len(want) == 15
    rows = run(seed_store, "unit-responsibilities", unit="市科技局")
    assert {(r["measure"], r["role"]) for r in rows} == want
    assert {r["doc"] for r in rows} == {plans["000"].doc}
    assert {str(r["written"]) for r in rows} == {"市科技局"}
    # gold: Weihai names no lead, so the first listed unit leads
    assert {r["basis"] for r in rows if r["role"] == LEAD} == {URIRef(PK + "ListOrderLead")}
    co = run(seed_store, "unit-responsibilities", unit="市科技局", role="pk:CoRole")
    assert {(r["measure"], r["role"]) for r in co} == {w for w in want if w[1] == CO}
    # the plan's first issuer, 威海市科学技术局, is that same unit
    full = run(seed_store, "unit-responsibilities", unit="威海市科学技术局")
    assert {(r["measure"], r["role"]) for r in full} == want and {str(r["label"]) for r in full} == {"威海市科学技术局"}


def gold_targets(plans, keep) -> Counter:
    return Counter((p.doc, Decimal(str(t["value"])), t["unit"], t["year"])
                   for p in plans.values() for t in p.gold["targets"] if t["core"] and keep(t))


def target_rows(rows) -> Counter:
    return Counter((r["doc"], Decimal(str(r["value"])), str(r["unit"]), year(r["due"]) if "due" in r else None)
                   for r in rows)


@pytest.mark.parametrize("last", [2019, 2020, 2022, 2025])
def test_targets_due_by_are_the_gold_targets_due_by_then(seed_store, plans, last):
    rows = run(seed_store, "targets-due-by", year=last)
    assert target_rows(rows) == gold_targets(plans, lambda t: t["year"] is not None and t["year"] <= last)
    dues = [year(r["due"]) for r in rows]
    assert dues == sorted(dues)
    measure_of = {p.doc: p.nodes for p in plans.values()}
    for r in rows:  # the measure gold hangs the target on, when it is a measure
        t = next(t for p in plans.values() if p.doc == r["doc"] for t in p.gold["targets"]
                 if Decimal(str(t["value"])) == Decimal(str(r["value"])) and t["unit"] == str(r["unit"]))
        assert r.get("measure") == measure_of[r["doc"]].get(t["measure"])


def test_indicator_across_plans_gives_each_plans_science_literacy_target(seed_store, plans):
    rows = run(seed_store, "indicator-across-plans", indicator="科学素质")
    assert target_rows(rows) == gold_targets(plans, lambda t: "科学素质" in t["indicator"])
    assert len({r["doc"] for r in rows}) == 4, "every simplified-character plan states one"
    titles = {p.doc: norm(p.gold["document"]["titles"][0]) for p in plans.values()}
    assert all(norm(r["title"]) == titles[r["doc"]] for r in rows), "the plan's own title, not its notice's"
    # matched as written: Hangzhou writes traditional characters
    rows = run(seed_store, "indicator-across-plans", indicator="科學素質")
    assert rows and target_rows(rows) <= gold_targets(plans, lambda t: "科學素質" in t["indicator"])
    assert {r["doc"] for r in rows} == {plans["003"].doc}


def test_indicator_across_plans_finds_every_traditional_character_target(seed_store, plans):
    rows = run(seed_store, "indicator-across-plans", indicator="科學素質")
    assert target_rows(rows) == gold_targets(plans, lambda t: "科學素質" in t["indicator"])


def test_measures_per_group_count_the_gold_measures_under_each_heading(seed_store, plans):
    for p in plans.values():
        rows = run(seed_store, "measures-per-group", doc=p.doc)
        path = {}
        for r in rows:  # parents come before their groups
            number = unicodedata.normalize("NFKC", str(r["number"])).rstrip("、.")
            path[r["group"]] = f"{path[r['parent']]}.{number}" if "parent" in r else number
            want = sum(1 for gm in p.core() if gm["number"].startswith(path[r["group"]] + "."))
            assert int(r["measures"]) == want, (p.stem, path[r["group"]])
        assert sum(int(r["measures"]) for r in rows if "parent" not in r) == len(p.core()), p.stem
    assert len(run(seed_store, "measures-per-group")) == sum(
        len(run(seed_store, "measures-per-group", doc=p.doc)) for p in plans.values())


# Traditional characters of the seeds' document numbers, to match them across scripts.
TRADITIONAL = str.maketrans("國發號辦", "国发号办")


def test_document_basis_gives_what_gold_says_each_plan_cites_and_the_reverse(seed_store, plans):
    rows = run(seed_store, "document-basis")
    for p in plans.values():
        cited = {norm(r["otherNumber"]) for r in rows
                 if r["doc"] == p.doc and str(r["relation"]) == "basedOn" and "otherNumber" in r}
        assert cited == {norm(c) for c in p.gold["document"]["cites"]}, p.stem
    forward = {(r["doc"], r["other"]) for r in rows if str(r["relation"]) == "basedOn"}
    backward = {(r["other"], r["doc"]) for r in rows if str(r["relation"]) == "basisOf"}
    assert forward == backward
    # what is based on the national plan 国发〔2021〕9号: every plan that cites it, whatever its script
    national = next(r["other"] for r in rows if norm(r.get("otherNumber", "")) == norm("国发〔2021〕9号"))
    based = {r["other"] for r in run(seed_store, "document-basis", doc=national)}
    assert based == {p.doc for p in plans.values()
                     if "国发〔2021〕9号" in {c.translate(TRADITIONAL) for c in p.gold["document"]["cites"]}}
    assert len(based) == 2


@pytest.mark.parametrize(("first", "last"), [(2017, 2020), (None, 2024), (2025, None), (2021, 2024), (None, None)])
def test_deadlines_between_are_the_gold_measures_ending_then(seed_store, plans, first, last):
    params = {k: v for k, v in (("from", first), ("to", last)) if v is not None}
    rows = run(seed_store, "deadlines-between", **params)

    def within(y):
        return (first is None or y >= first) and (last is None or y <= last)

    want = {p.node(gm) for p in plans.values() for gm in p.core() if any(within(y) for y in gm["time_frame"]["end"])}
    assert {r["measure"] for r in rows} == want
    gold_of = {p.node(gm): gm for p in plans.values() for gm in p.core()}
    for r in rows:
        assert year(r["end"]) in gold_of[r["measure"]]["time_frame"]["end"]
        assert year(r["begin"]) in gold_of[r["measure"]]["time_frame"]["start"]
    ends = [year(r["end"]) for r in rows]
    assert ends == sorted(ends)


def test_unit_pairs_count_the_measures_gold_gives_both_units(seed_store, plans, unit_of):
    for stem, least in (("001", 10), ("000", 2)):
        p = plans[stem]
        counts = Counter()
        for gm in p.core():
            units = {unit_of(p, u) for u in gm["lead_units"] + gm["co_units"]}
            counts.update(combinations(sorted(units), 2))
        rows = run(seed_store, "unit-pairs", doc=p.doc, min=least)
        got = {tuple(sorted((r["actor"], r["otherActor"]))): int(r["measures"]) for r in rows}
        assert got == {pair: n for pair, n in counts.items() if n >= least}, stem
        shared = [int(r["measures"]) for r in rows]
        assert shared == sorted(shared, reverse=True), "most often first"
    rows = run(seed_store, "unit-pairs")
    assert rows and min(int(r["measures"]) for r in rows) == 2, "two shared measures at least, by default"
    assert {tuple(sorted((str(r["label"]), str(r["otherLabel"])))) for r in rows[:1]} == {
        ("丰都县科学技术协会", "丰都县科学技术局")}


def test_documents_by_issuer_gives_the_gold_issuers(seed_store, plans, unit_of):
    rows = run(seed_store, "documents-by-issuer")
    for p in plans.values():
        assert {r["organ"] for r in rows if r["doc"] == p.doc} == {unit_of(p, i) for i in p.gold["document"]["issuers"]}
    assert {r["doc"] for r in rows} == {p.doc for p in plans.values()}, "cited documents are not listed"
    rows = run(seed_store, "documents-by-issuer", issuer="人民政府")
    assert {r["doc"] for r in rows} == {p.doc for p in plans.values()
                                        if any("人民政府" in i for i in p.gold["document"]["issuers"])}
    assert plans["000"].doc not in {r["doc"] for r in rows}


def test_unit_spellings_count_each_written_form_as_gold_does(seed_store, plans):
    rows = run(seed_store, "unit-spellings", unit="市教育局")
    for p in plans.values():
        written = Counter(u for gm in p.gold["measures"] for u in gm["lead_units"] + gm["co_units"])
        got = {str(r["written"]): int(r["responsibilities"]) for r in rows if r["doc"] == p.doc}
        assert got == {w: written[w] for w in ("市教育局", "教育局") if written[w]}, p.stem
    assert len({r["actor"] for r in rows if r["doc"] == plans["004"].doc}) == 1, "Shenzhen's two spellings are one unit"
    assert {str(r["written"]): int(r["responsibilities"]) for r in run(seed_store, "unit-spellings", unit="教育局")} == {
        "教育局": 5, "市教育局": 3}, "found by a written form as well as by its label"


BASIS = {"first_listed": URIRef(PK + "ListOrderLead"), "inherited": URIRef(PK + "InheritedLead"),
         "explicit": URIRef(PK + "StatedLead")}


def test_measures_by_lead_basis_are_the_gold_measures_with_that_basis(seed_store, plans):
    gold_basis = {p.node(gm): BASIS.get(gm["lead_basis"]) for p in plans.values() for gm in p.core()}
    rows = run(seed_store, "measures-by-lead-basis")
    assert {r["measure"] for r in rows} == {m for m, b in gold_basis.items() if b in (BASIS["first_listed"], BASIS["inherited"])}
    assert all(r["leadBasis"] == gold_basis[r["measure"]] for r in rows)
    assert all(("inheritedFrom" in r) == (r["leadBasis"] == BASIS["inherited"]) for r in rows)
    stated = run(seed_store, "measures-by-lead-basis", basis="pk:StatedLead")
    assert {r["measure"] for r in stated} == {m for m, b in gold_basis.items() if b == BASIS["explicit"]}
    gold_leads = {p.node(gm): set(gm["lead_units"]) for p in plans.values() for gm in p.core()}
    for r in rows + stated:
        assert str(r["written"]) in gold_leads[r["measure"]]


def test_documents_list_the_gold_metadata_and_counts(seed_store, plans, unit_of):
    rows = {r["doc"]: r for r in run(seed_store, "documents")}
    assert set(rows) == {p.doc for p in plans.values()}
    for p in plans.values():
        r, g = rows[p.doc], p.gold["document"]
        assert (norm(r["number"]) if "number" in r else None) == (norm(g["doc_number"]) if g["doc_number"] else None)
        assert norm(r["title"]) == norm(g["titles"][0])
        assert str(r["created"]) == g["created"]
        assert (str(r["issued"]) if "issued" in r else None) == g["issued"]
        assert year(r["begin"]) in g["period"]["start"] and year(r["end"]) in g["period"]["end"]
        assert int(r["measures"]) == len(p.core())
        assert int(r["led"]) == sum(1 for gm in p.core() if gm["lead_units"])
        assert int(r["targets"]) == sum(1 for t in p.gold["targets"] if t["core"])
        units = {unit_of(p, u) for gm in p.core() for u in gm["lead_units"] + gm["co_units"]}
        assert int(r["units"]) == len(units), p.stem


def test_measures_without_deadline_are_the_gold_measures_on_the_plans_period(seed_store, plans):
    rows = run(seed_store, "measures-without-deadline")
    got = {r["measure"] for r in rows}
    for p in plans.values():
        want = {p.node(gm) for gm in p.core() if gm["time_frame"]["basis"] == "document"}
        mine = {m for m in got if m in set(p.nodes.values())}
        assert mine <= want, p.stem
        # a measure that names a year of its own may be read as stating its time frame, even when
        # its years are the plan's (Shenzhen's 实施科普基础设施工程: 到2020年)
        for m in want - mine:
            detail = run(seed_store, "measure-detail", measure=m)
            assert re.search(r"20\d\d年", next(str(d["value"]) for d in detail if str(d["field"]) == "text"))
            gm = next(gm for gm in p.core() if p.node(gm) == m)
            assert {year(d["value"]) for d in detail if str(d["field"]) == "end"} <= set(gm["time_frame"]["end"])
    assert len(got) >= 100


def test_task_division_lists_lead_then_co_units_in_the_texts_order(seed_store, plans):
    for p in plans.values():
        rows = run(seed_store, "task-division", doc=p.doc)
        for gm in p.core():
            written = [str(r["written"]) for r in rows if r["measure"] == p.node(gm)]
            assert written == gm["lead_units"] + gm["co_units"], (p.stem, gm["number"])


def test_measure_detail_tells_everything_about_one_measure(seed_store, plans):
    p = plans["002"]
    gm = next(gm for gm in p.core() if gm["anchor"].startswith("实施高素质农民培育计划"))
    rows = run(seed_store, "measure-detail", measure=p.node(gm))
    facts = Counter(str(r["field"]) for r in rows)
    value = {str(r["field"]): r["value"] for r in rows}
    assert value["document"] == p.doc
    assert norm(value["heading"]) == norm(gm["anchor"])
    assert {str(r["detail"]) for r in rows if str(r["field"]) == "lead"} == set(gm["lead_units"])
    assert {str(r["detail"]) for r in rows if str(r["field"]) == "co"} == set(gm["co_units"])
    target = next(t for t in p.gold["targets"] if t["measure"] == gm["anchor"])
    assert [str(r["detail"]) for r in rows if str(r["field"]) == "target"] == [target["indicator"]]
    assert year(value["begin"]) in gm["time_frame"]["start"] and year(value["end"]) in gm["time_frame"]["end"]
    assert facts["text"] == facts["heading"] == facts["leadBasis"] == 1
    fields = [str(r["field"]) for r in rows]
    assert fields.index("document") == 0 and fields.index("lead") < fields.index("co") < fields.index("target")


def test_assurance_clauses_are_gold_items_that_are_not_measures(seed_store, plans):
    rows = run(seed_store, "assurance-clauses")
    for p in plans.values():
        mine = [r for r in rows if r["doc"] == p.doc]
        assert not {r["clause"] for r in mine} & set(p.nodes.values()), "a clause is not a measure"
        noncore = [norm(gm["anchor"]) for gm in p.gold["measures"] if not gm["core"]]
        for r in mine:
            heading = norm(r["heading"])
            assert any(a.startswith(heading) or heading.startswith(a) for a in noncore), (p.stem, r["heading"])
    # Huancui's and Hangzhou's last chapters are assurance clauses only
    for stem, chapter in (("002", "五"), ("003", "四")):
        p = plans[stem]
        want = {norm(gm["anchor"]) for gm in p.gold["measures"] if not gm["core"] and gm["number"].startswith(chapter + ".")}
        assert {norm(r["heading"]) for r in rows if r["doc"] == p.doc} == want


def test_document_targets_are_the_gold_targets_with_their_owner(seed_store, plans):
    unit_year = URIRef("http://www.w3.org/2006/time#unitYear")
    for p in plans.values():
        rows = run(seed_store, "document-targets", doc=p.doc)
        want = Counter()
        for t in p.gold["targets"]:
            if t["core"]:
                owner = p.nodes.get(t["measure"], p.doc)  # a target gold hangs on a clause that is no measure: the plan's
                want[(Decimal(str(t["value"])), t["unit"], t["year"], owner)] += 1
        got = Counter((Decimal(str(r["value"])), str(r["unit"]), year(r["due"]) if "due" in r else None, r["owner"])
                      for r in rows)
        assert got == want, p.stem
        recurring = {(Decimal(str(t["value"])), t["unit"]) for t in p.gold["targets"] if t["recurring"] == "year"}
        assert all((Decimal(str(r["value"])), str(r["unit"])) in recurring for r in rows if r.get("recurrence") == unit_year)
        assert all(norm(r["indicator"]) for r in rows)
