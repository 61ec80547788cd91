"""Where the project's data files are: the ontology, mapping tables, queries and shapes.

They live in the top-level folders the design card names (ontology/, mappings/, queries/,
shapes/) and are installed as sub-packages of policykg, so they are found the same way from
a checkout and from an installed wheel.
"""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

ONTOLOGY_FILE = "policykg.ttl"


def data_dir(kind: str) -> Traversable:
    """The folder of one kind of data file: 'ontology', 'mappings', 'queries' or 'shapes'."""
    if kind not in ("ontology", "mappings", "queries", "shapes"):
        raise ValueError(f"no data folder {kind!r}; choose ontology, mappings, queries or shapes")
    return files(f"policykg.{kind}")


def ontology_turtle() -> str:
    """The ontology as Turtle text."""
    return data_dir("ontology").joinpath(ONTOLOGY_FILE).read_text(encoding="utf-8")
