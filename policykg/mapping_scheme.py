"""The mapping tables of mappings/ as SKOS, for the store: a user can ask which words make a
unit a lead, or which heading words open a goal section, next to the data they produced.

Each table is a skos:ConceptScheme (its description from mappings/README.md), each row a
skos:Concept in it: the first column is the concept's skos:prefLabel (a `pattern` column its
skos:notation), the other columns are literals under the mapping-column namespace, and columns
whose values name ontology individuals (role, comparator) link to them with skos:related.
Concept IRIs come from the row's content, so they stay put when rows are added.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

from policykg import actors
from policykg.emit import JURISDICTIONS, PK, UNIT_TYPES, jurisdiction_concept, unit_type_concept
from policykg.lexicon import read_table
from policykg.resources import data_dir

MAPPINGS = "https://w3id.org/policykg/mappings/"
COLUMN = Namespace("https://w3id.org/policykg/mappings/column#")

# Columns whose values are ontology individuals.
_LINKED = {
    "role": {"lead": PK.LeadRole, "co": PK.CoRole},
    "comparator": {c: PK[c] for c in ("EqualTo", "AtLeast", "MoreThan", "AtMost", "Approximately")},
}


# Tables published as the schemes the graphs already use, not row by row.
_OWN = {"jurisdictions.tsv", "unit_types.tsv"}


def _own_schemes(g: Graph) -> None:
    """The divisions (skos:broader to the one above, the division code as skos:notation) and
    the kinds of unit, under the IRIs the document graphs link actors and documents to."""
    t = actors.tables()
    for scheme, label in ((JURISDICTIONS, "行政区划"), (UNIT_TYPES, "单位类型")):
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, SKOS.prefLabel, Literal(label, lang="zh")))
    g.add((JURISDICTIONS, DCTERMS.source, Literal("mappings/jurisdictions.tsv")))
    g.add((UNIT_TYPES, DCTERMS.source, Literal("mappings/unit_types.tsv")))
    for j in t.gazetteer.by_code.values():
        node = jurisdiction_concept(g, j)
        if j.short and j.short != j.name:
            g.add((node, SKOS.altLabel, Literal(j.short, lang="zh")))
        if j.parent:
            g.add((node, SKOS.broader, URIRef(f"{JURISDICTIONS}/{j.parent}")))
        else:
            g.add((node, SKOS.topConceptOf, JURISDICTIONS))
    for u in t.unit_types:
        node = unit_type_concept(g, u)
        g.add((node, SKOS.topConceptOf, UNIT_TYPES))
        g.add((node, SKOS.notation, Literal(u.pattern.pattern)))


def _descriptions() -> dict[str, str]:
    readme = data_dir("mappings").joinpath("README.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\|\s*`([\w.]+\.tsv)`\s*\|(.+?)\|\s*$", readme, re.M)}


@lru_cache(maxsize=1)
def mappings_graph() -> Graph:
    g = Graph()
    g.bind("skos", SKOS)
    g.bind("pkm", COLUMN)
    descriptions = _descriptions()
    columns: set[str] = set()
    _own_schemes(g)
    for f in sorted(data_dir("mappings").iterdir(), key=lambda p: p.name):
        if not f.name.endswith(".tsv") or f.name in _OWN:
            continue
        rows = read_table(data_dir("mappings"), f.name, [])
        header = list(rows[0]) if rows else []
        scheme = URIRef(MAPPINGS + f.name[:-4].replace("_", "-"))
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, SKOS.prefLabel, Literal(f.name[:-4])))
        g.add((scheme, DCTERMS.source, Literal(f"mappings/{f.name}")))
        if f.name in descriptions:
            g.add((scheme, DCTERMS.description, Literal(descriptions[f.name])))
        for row in rows:
            key = "\t".join(row[c] for c in header)
            concept = URIRef(f"{scheme}/{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}")
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.inScheme, scheme))
            first, *rest = header
            g.add((concept, SKOS.notation if first == "pattern" else SKOS.prefLabel, Literal(row[first])))
            for c in rest:
                value = row[c]
                if not value or value == "-":
                    continue
                g.add((concept, COLUMN[c], Literal(value)))
                columns.add(c)
                if value in _LINKED.get(c, {}):
                    g.add((concept, SKOS.related, _LINKED[c][value]))
    for c in sorted(columns):
        g.add((COLUMN[c], RDF.type, OWL.DatatypeProperty))
        g.add((COLUMN[c], RDFS.label, Literal(c)))
    return g
