"""The query library: named SPARQL queries in queries/, each with a header saying what it
answers, the parameters it takes and the columns it returns.

    # name: unit-responsibilities
    # description: Everything a unit leads or shares, across documents.
    # param: unit string — the unit's name, full or as written (市科技局)
    # param: role iri optional — pk:LeadRole or pk:CoRole; all roles when absent
    # returns: document, title, number, measure, role, written
    # graph: IRI        (optional: query this graph alone, e.g. the ontology's)

Parameters are typed (iri, string, integer, decimal, gYear, date, boolean) and bound to the
query's variables of the same name as RDF terms, in a VALUES block opening the query's WHERE
group (binding.py), the same way on every store. An optional parameter left out leaves its
variable free.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from policykg.errors import PolicyKGError
from policykg.resources import data_dir
from policykg.store import Results

PARAM_TYPES = {"iri": None, "string": None, "integer": XSD.integer, "decimal": XSD.decimal, "gYear": XSD.gYear,
               "date": XSD.date, "boolean": XSD.boolean}

_PARAM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)(?P<optional>\s+optional)?"
                    r"(?:\s+default=(?P<default>\S+))?\s*(?:[—–-]+\s*(?P<text>.*))?$")
_PREFIX = {"pk": "https://w3id.org/policykg/ontology#", "xsd": str(XSD)}


class QueryError(PolicyKGError):
    """A query cannot be found, read or run with the parameters given."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    optional: bool = False
    default: str | None = None
    text: str = ""


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    text: str
    source: str
    params: tuple[Param, ...] = ()
    returns: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def graph(self) -> str | None:
        """The one graph the query is about (`# graph: IRI`), as its default graph; else the
        union of all graphs."""
        return self.extra.get("graph") or None

    @property
    def is_check(self) -> bool:
        """A `*-violation` query: a check whose answer must be empty."""
        return self.name.endswith("-violation")


def parse(text: str, source: str, default_name: str) -> NamedQuery:
    """Read a query file's header (its leading `# key: value` comment lines)."""
    fields: dict[str, str] = {}
    params: list[Param] = []
    last = None
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith("#"):
            break
        m = re.match(r"#\s*([\w@-]+):\s*(.*)$", s)
        if m:
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "param":
                pm = _PARAM.match(value)
                if not pm or pm.group("type") not in PARAM_TYPES:
                    raise QueryError(f"{source}: bad param line {value!r}; write `# param: NAME TYPE [optional] "
                                     f"[default=V] — what it is`, TYPE one of {', '.join(PARAM_TYPES)}")
                params.append(Param(pm.group("name"), pm.group("type"), bool(pm.group("optional")),
                                    pm.group("default"), (pm.group("text") or "").strip()))
            else:
                fields[key] = value
            last = key
        elif last and last != "param":  # a continuation line of the previous field
            fields[last] += " " + s.lstrip("#").strip()
    returns = tuple(r.strip() for r in fields.pop("returns", "").split(",") if r.strip())
    return NamedQuery(fields.pop("name", default_name), fields.pop("description", ""), text, source,
                      tuple(params), returns, fields)


def library() -> dict[str, NamedQuery]:
    """Every query of queries/, by name."""
    out = {}
    for f in sorted(data_dir("queries").iterdir(), key=lambda p: p.name):
        if f.name.endswith(".rq"):
            q = parse(f.read_text(encoding="utf-8"), f"queries/{f.name}", f.name[:-3])
            out[q.name] = q
    return out


def find(name_or_file: str) -> NamedQuery:
    """A library query by name, or a .rq file of the user's."""
    lib = library()
    if name_or_file in lib:
        return lib[name_or_file]
    p = Path(name_or_file)
    if p.suffix == ".rq" or p.exists():
        try:
            return parse(p.read_text(encoding="utf-8"), str(p), p.stem)
        except FileNotFoundError:
            raise QueryError(f"{p}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise QueryError(f"{p}: cannot read the query: {e}") from None
    near = [n for n in lib if name_or_file in n] or sorted(lib)
    raise QueryError(f"no query named {name_or_file!r}; try {', '.join(near[:8])} (policykg query --list)")


def term(value: str, type_: str, name: str = "") -> Node:
    """A parameter value typed as its declaration says, checked."""
    if type_ == "iri":
        if ":" in value and not re.match(r"^[A-Za-z][\w+.-]*:", value):
            raise QueryError(f"parameter {name}: {value!r} is not an IRI")
        prefix, _, local = value.partition(":")
        if prefix in _PREFIX and not local.startswith("//"):
            value = _PREFIX[prefix] + local
        if not re.match(r"^[A-Za-z][\w+.-]*:[^\s<>\"{}|\\^`]*$", value):
            raise QueryError(f"parameter {name}: {value!r} is not an IRI")
        return URIRef(value)
    if type_ == "string":
        return Literal(value)
    lit = Literal(value, datatype=PARAM_TYPES[type_])
    if lit.ill_typed:
        raise QueryError(f"parameter {name}: {value!r} is not a valid {type_}")
    return lit


def bind(q: NamedQuery, raw: dict[str, str]) -> dict[str, Node]:
    """The query's parameters as RDF terms: unknown names and missing required ones are errors."""
    declared = {p.name: p for p in q.params}
    unknown = [k for k in raw if k not in declared]
    if unknown:
        known = ", ".join(declared) or "none"
        raise QueryError(f"{q.name}: unknown parameter(s) {', '.join(unknown)}; it takes {known}")
    out: dict[str, Node] = {}
    for p in q.params:
        value = raw.get(p.name, p.default)
        if value is None:
            if not p.optional:
                raise QueryError(f"{q.name}: missing parameter {p.name} ({p.type}): {p.text} "
                                 f"(--param {p.name}=VALUE)")
            continue
        out[p.name] = term(value, p.type, p.name)
    return out


# -- output -----------------------------------------------------------------------------------

def _plain(t: Node | None) -> str:
    if t is None:
        return ""
    return str(t)


def _json_term(t: Node) -> dict:
    if isinstance(t, URIRef):
        return {"type": "uri", "value": str(t)}
    if isinstance(t, BNode):
        return {"type": "bnode", "value": str(t)}
    d = {"type": "literal", "value": str(t)}
    if t.language:
        d["xml:lang"] = t.language
    elif t.datatype:
        d["datatype"] = str(t.datatype)
    return d


def _width(s: str) -> int:
    """Display width: CJK characters take two columns."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _short(t: Node | None) -> str:
    s = _plain(t)
    for p, ns in (("pk", _PREFIX["pk"]), ("id", "https://w3id.org/policykg/id/")):
        if s.startswith(ns):
            return f"{p}:{s[len(ns):]}"
    return s


def format_results(res: Results, fmt: str) -> str:
    """table (aligned, IRIs shortened), csv (SPARQL 1.1 CSV) or json (SPARQL 1.1 JSON results)."""
    if fmt == "json":
        return json.dumps({"head": {"vars": res.variables},
                           "results": {"bindings": [{k: _json_term(v) for k, v in r.items()} for r in res.rows]}},
                          ensure_ascii=False, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(res.variables)
        for r in res.rows:
            w.writerow([_plain(r.get(v)) for v in res.variables])
        return buf.getvalue().rstrip("\r\n")
    cells = [[_short(r.get(v)) for v in res.variables] for r in res.rows]
    widths = [max([_width(v)] + [_width(c[i]) for c in cells]) for i, v in enumerate(res.variables)]

    def line(values):
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(res.variables), line(["-" * w for w in widths])] + [line(c) for c in cells]
    out.append(f"({len(res.rows)} row{'s' if len(res.rows) != 1 else ''})")
    return "\n".join(out)
