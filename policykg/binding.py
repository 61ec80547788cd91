"""Binding a query's parameters as RDF terms, the same way for every store.

The SPARQL protocol has no parameter binding, and Oxigraph's substitution binds only projected
variables, so each value is written as an N-Triples term (its quotes, backslashes and line
breaks escaped; an IRI checked for the characters IRIs cannot hold) in a VALUES block that
opens the query's top-level WHERE group. The place is found from the query's own tokens
(comments, strings and IRIs skipped), never from the values, so a value cannot change the
query: it is one term in one row of inline data.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from policykg.errors import PolicyKGError


class BindingError(PolicyKGError):
    """A parameter cannot be bound."""


_TOKENS = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$]\w+)
  | (?P<open>\{) | (?P<close>\})
  | (?P<word>[A-Za-z_][\w-]*)
""", re.X | re.S)


def strip_comments(query: str) -> str:
    """The query without its `#` comments (strings and IRIs holding `#` are kept)."""
    out, at = [], 0
    for m in _TOKENS.finditer(query):
        if m.lastgroup == "comment":
            out.append(query[at:m.start()])
            at = m.end()
    out.append(query[at:])
    return "".join(out)


def where_brace(query: str) -> int:
    """Offset just after the `{` that opens the query's top-level WHERE group (the first
    top-level group when the keyword WHERE is left out)."""
    depth, saw_where, first = 0, False, None
    for m in _TOKENS.finditer(query):
        kind = m.lastgroup
        if kind == "word" and depth == 0:
            saw_where = m.group().upper() == "WHERE"
        elif kind == "open":
            if depth == 0:
                if saw_where:
                    return m.end()
                if first is None:
                    first = m.end()
            depth += 1
            saw_where = False
        elif kind == "close":
            depth -= 1
    if first is None:
        raise BindingError("the query has no WHERE group to bind parameters in")
    return first


def _nt(term: Node) -> str:
    if isinstance(term, URIRef):
        if re.search(r'[\s<>"{}|^`\\]', str(term)):
            raise BindingError(f"not a valid IRI: {str(term)!r}")
        return f"<{term}>"
    if isinstance(term, Literal):
        s = str(term)
        s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        if term.language:
            return f'"{s}"@{term.language}'
        if term.datatype and term.datatype != XSD.string:
            return f'"{s}"^^<{term.datatype}>'
        return f'"{s}"'
    raise BindingError(f"cannot bind {term!r} as a parameter")


def with_values(query: str, params: Mapping[str, Node] | None) -> str:
    """The query with a VALUES block binding params at the start of its WHERE group."""
    if not params:
        return query
    names = list(params)
    block = (f" VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(_nt(params[n]) for n in names)}) }} ")
    at = where_brace(query)
    return query[:at] + block + query[at:]
