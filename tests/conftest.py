"""Fixtures shared by the tests: where the seeds, gold and scorer are, and extraction helpers.

The five real plans are not ours to ship: they are read from ../shared (CI checks it out
beside this repository). A missing ../shared fails the tests that need it, loudly.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache, cache
from pathlib import Path

import io
import shutil

import owlready2
import pytest

from servers import oxigraph_server, virtuoso_server  # noqa: F401 - fixtures of the server tests

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
GOLD = SHARED / "gold"
GOLDEN = Path(__file__).resolve().parent / "golden"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests read the seed plans from ../shared beside the checkout")
    return path


@lru_cache(maxsize=1)
def scorer():
    """../shared/eval/score.py as a module (the project's official figure)."""
    path = _need(SHARED / "eval" / "score.py")
    spec = importlib.util.spec_from_file_location("policykg_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@cache
def extracted(path: str):
    """(document model, graph) of one file, built once per test run."""
    from policykg.emit import to_graph
    from policykg.pipeline import document_from_path

    doc = document_from_path(path)
    return doc, to_graph(doc)


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(_need(SEEDS).glob("*.txt"))
    assert len(paths) == 5, f"expected the five seed plans in {SEEDS}"
    return paths


def golden_cases() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if (p / "expected.json").exists())


ONTOLOGY_IRI = "https://w3id.org/policykg/ontology"


def reasoned_world(ntriples: bytes) -> owlready2.World:
    """Load N-Triples into a fresh owlready2 world and run HermiT over it.

    HermiT knows only the OWL 2 datatype map, which lacks xsd:date and xsd:gYear, the
    contract's dates and years; ignore_unsupported_datatypes lets it reason about the rest.

    Raises:
        owlready2.OwlReadyInconsistentOntologyError: the graph is inconsistent.
    """
    if shutil.which(owlready2.JAVA_EXE) is None:
        pytest.fail(f"HermiT needs Java, and {owlready2.JAVA_EXE!r} is not on PATH: install a "
                    "Java runtime (e.g. apt-get install openjdk-17-jre-headless) or set "
                    "owlready2.JAVA_EXE to its path")
    world = owlready2.World()
    world.get_ontology(ONTOLOGY_IRI).load(fileobj=io.BytesIO(ntriples), format="ntriples")
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0,
                                   ignore_unsupported_datatypes=True)
    return world


@pytest.fixture(scope="session")
def seed_store(seed_paths):
    """An in-memory embedded store holding the five seed plans (one named graph each), the
    ontology and the mapping tables, loaded the way `policykg load` loads them."""
    from policykg.load import load_paths
    from policykg.store import EmbeddedStore

    store = EmbeddedStore(None)
    report = load_paths(store, seed_paths)
    assert not report.failures, report.summary()
    return store


_NUMERIC = {"http://www.w3.org/2001/XMLSchema#" + t for t in ("decimal", "integer", "nonNegativeInteger", "int", "long")}


def by_value(g):
    """A copy of g with each number in one form: stores may give back the decimal 17.0 as
    "17"^^xsd:decimal (XSD 1.1's canonical form) or as the integer 17 (Virtuoso), the same
    value, xsd:integer being derived from xsd:decimal."""
    from decimal import Decimal

    from rdflib import Graph, Literal
    from rdflib.namespace import XSD

    out = Graph()
    for s, p, o in g:
        if isinstance(o, Literal) and o.datatype is not None and str(o.datatype) in _NUMERIC:
            o = Literal(format(Decimal(str(o)).normalize(), "f"), datatype=XSD.decimal)
        out.add((s, p, o))
    return out


def same_graph(a, b) -> bool:
    from rdflib.compare import isomorphic

    return isomorphic(by_value(a), by_value(b))


def plan_versions(tmp_path: Path, seed_paths) -> tuple[list[Path], list[Path]]:
    """Old and new versions of the seed plans, to load one over the other: the new ones end
    with a line more (so every span's source, and so the graph, differs)."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for i, p in enumerate(seed_paths):
        text = p.read_text(encoding="utf-8")
        (old / p.name).write_text(text, encoding="utf-8")
        (new / p.name).write_text(text + f"\n\n（本文件第{i + 2}次修订）\n", encoding="utf-8")
    return sorted(old.iterdir()), sorted(new.iterdir())
