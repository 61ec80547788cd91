"""Actors: one node per real unit, across spellings, documents and jurisdictions (the seeds,
their gold, and short plans we wrote for what the seeds lack)."""
from __future__ import annotations

import json
import subprocess
import sys
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import SKOS

from conftest import GOLD, extracted, scorer
from policykg.emit import to_graph
from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import from_bytes

PK = Namespace("https://w3id.org/policykg/ontology#")
TYPE = "https://w3id.org/policykg/id/unit-type/"


def seed(seed_paths, stem: str) -> Graph:
    path = next(p for p in seed_paths if p.name.startswith(stem))
    return extracted(str(path))[1]


def actor_labelled(g: Graph, name: str) -> URIRef:
    (actor,) = {a for a in g.subjects(SKOS.prefLabel | SKOS.altLabel, None)
                if any(str(x) == name for x in g.objects(a, SKOS.prefLabel | SKOS.altLabel))}
    return actor


def plan(text: str, name: str = "plan.txt") -> Graph:
    return to_graph(extract(read_text(from_bytes(text.encode("utf-8"), path=name))))


def test_actors_city_abbreviation_resolves_to_the_full_name(seed_paths):
    g = seed(seed_paths, "000")
    a = actor_labelled(g, "市科技局")
    assert str(g.value(a, SKOS.prefLabel)) == "威海市科学技术局"
    assert a == actor_labelled(g, "威海市科学技术局"), "the issuer and the unit the measures name are one node"
    assert g.value(a, PK.unitType) == URIRef(TYPE + "ScienceTechnologyBureau")
    j = g.value(a, PK.jurisdiction)
    assert str(g.value(j, SKOS.prefLabel)) == "威海市" and str(g.value(j, SKOS.notation)) == "371000"
    assert str(g.value(g.value(j, SKOS.broader), SKOS.prefLabel)) == "山东省"


def test_actors_two_spellings_in_one_plan_are_one_node(seed_paths):
    g = seed(seed_paths, "001")
    a = actor_labelled(g, "县应急管理局")
    assert a == actor_labelled(g, "县应急局")
    assert str(g.value(a, SKOS.prefLabel)) == "丰都县应急管理局"
    j = g.value(a, PK.jurisdiction)
    assert str(g.value(g.value(j, SKOS.broader), SKOS.prefLabel)) == "重庆市", "丰都县 is within 重庆市"


def test_actors_shared_prefix_list_resolves_the_unprefixed_name(seed_paths):
    g = seed(seed_paths, "004")
    a = actor_labelled(g, "科技创新委")
    assert str(g.value(a, SKOS.prefLabel)) == "深圳市科技创新委员会"
    assert "市科技创新委" in {str(x) for x in g.objects(a, SKOS.altLabel)}


def test_actors_party_and_league_bodies_take_their_formal_names(seed_paths):
    g = seed(seed_paths, "001")
    assert str(g.value(actor_labelled(g, "团县委"), SKOS.prefLabel)) == "共青团丰都县委员会"
    assert str(g.value(actor_labelled(g, "县委宣传部"), SKOS.prefLabel)) == "中共丰都县委宣传部"
    assert g.value(actor_labelled(g, "县委宣传部"), PK.unitType) == URIRef(TYPE + "PartyPropagandaDepartment")


def test_actors_collective_actors_are_their_own_kind(seed_paths):
    g = seed(seed_paths, "001")
    a = actor_labelled(g, "各乡镇(街道)")
    assert (a, RDF.type, PK.CollectiveActor) in g and g.value(a, PK.unitType) is None


def test_actors_the_same_unit_in_two_plans_of_one_place_is_one_node(seed_paths):
    """A 环翠区 plan naming 市科协 means the 威海市 unit the Weihai plan names."""
    district = plan("威海市环翠区人民政府办公室关于印发威海市环翠区科普行动方案（2024—2025年）的通知\n"
                    "一、重点任务\n（一）建设科普基地。（牵头单位：市科协；配合单位：区科协）\n"
                    "威海市环翠区人民政府办公室\n2024年3月1日\n")
    weihai = seed(seed_paths, "000")
    city = actor_labelled(weihai, "市科协")
    assert actor_labelled(district, "市科协") == city
    assert str(district.value(city, SKOS.prefLabel)) == "威海市科学技术协会"
    own = actor_labelled(district, "区科协")
    assert own != city and str(district.value(own, SKOS.prefLabel)) == "环翠区科学技术协会"


def test_actors_a_plan_of_no_known_place_keeps_its_names_unresolved():
    g = plan("某某市科普行动方案（2024—2025年）\n一、重点任务\n（一）建设科普基地。（牵头单位：市科协）\n")
    a = actor_labelled(g, "市科协")
    assert (a, RDF.type, PK.UnresolvedActor) in g and str(g.value(a, SKOS.prefLabel)) == "市科协"
    assert g.value(a, PK.jurisdiction) is None


def gold_units(stem: str) -> list[dict]:
    return [m for m in json.loads((GOLD / f"{stem}.json").read_text(encoding="utf-8"))["measures"] if m["core"]]


# a kind of unit, and how the gold writes its members (an independent reading of the same names)
KINDS = {"ScienceAssociation": ("科协", "科学技术协会"), "PartyPropagandaDepartment": ("委宣传部",),
         "EducationBureau": ("教育局", "教委", "教育和体育局"), "ScienceTechnologyBureau": ("科技局", "科学技术局", "科技创新委")}


def test_actors_measures_led_per_unit_type_per_document_match_the_gold(seed_store, seed_paths):
    from policykg import querylib

    q = querylib.find("leads-by-unit-type")
    rows = seed_store.select(q.text, querylib.bind(q, {})).rows
    docs = {}
    for p in seed_paths:
        g = extracted(str(p))[1]
        (docs[p.stem],) = set(g.subjects(PK.hasMeasure, None))
    norm = scorer().norm
    for stem, doc in docs.items():
        got = {str(r["type"])[len(TYPE):]: int(r["led"]) for r in rows if r["doc"] == doc}
        for kind, words in KINDS.items():
            want = sum(1 for m in gold_units(stem) if any(any(norm(w) in norm(u) for w in words) for u in m["lead_units"]))
            assert got.get(kind, 0) == want, (stem, kind)
    assert sum(1 for r in rows if str(r["type"]) == TYPE + "ScienceAssociation") >= 3


def test_actors_command_lists_units_and_the_unresolved(tmp_path, seed_paths):
    store = tmp_path / "store"
    odd = tmp_path / "odd.txt"
    odd.write_text("某某市科普行动方案（2024—2025年）\n一、重点任务\n（一）建设科普基地。（牵头单位：市科协）\n",
                   encoding="utf-8")
    cli = [sys.executable, "-m", "policykg.cli"]
    subprocess.run([*cli, "load", str(seed_paths[0]), str(odd), "--store", str(store)], check=True,
                   capture_output=True)
    everything = subprocess.run([*cli, "actors", "--store", str(store), "--format", "csv"], check=True,
                                capture_output=True, text=True).stdout
    assert "威海市科学技术局" in everything and "市科协" in everything
    unresolved = subprocess.run([*cli, "actors", "--unresolved", "--store", str(store), "--format", "csv"],
                                check=True, capture_output=True, text=True).stdout.splitlines()
    assert unresolved[0].startswith("actor,label") and len(unresolved) == 2 and ",市科协," in unresolved[1]


def test_actors_documents_link_their_division(seed_paths):
    g = seed(seed_paths, "002")
    (doc,) = set(g.subjects(PK.hasMeasure, None))
    j = g.value(doc, PK.jurisdiction)
    chain = []
    while j is not None:
        chain.append(str(g.value(j, SKOS.prefLabel)))
        j = g.value(j, SKOS.broader)
    assert chain == ["环翠区", "威海市", "山东省"]
    units = {g.value(a, PK.jurisdiction) for a in g.objects(None, PK.leadUnit)}
    assert units == {g.value(doc, PK.jurisdiction)}, "a district plan's units are the district's"
