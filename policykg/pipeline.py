"""The whole pipeline as one call: a file (or bytes) -> its document model and graph."""
from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from policykg import model as m
from policykg.emit import to_graph
from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import SourceDocument, read_source


def document_from_source(source: SourceDocument) -> m.Document:
    return extract(read_text(source))


def document_from_path(path: str | Path, *, encoding: str | None = None) -> m.Document:
    """Read, segment and extract one document. Raises a PolicyKGError naming the file."""
    return document_from_source(read_source(path, encoding=encoding))


def graph_from_path(path: str | Path, *, encoding: str | None = None) -> Graph:
    return to_graph(document_from_path(path, encoding=encoding))
