"""The SHACL shapes compiled to SPARQL: a validation engine for stores too large for pySHACL.

`compile_shapes` reads the shapes as data and turns each constraint into one SELECT query over
all the named graphs of a store, each graph validated on its own (`GRAPH ?g { ... }`), as
pySHACL validates one document graph at a time. policykg.validate_sparql runs the queries and
builds the same findings as pySHACL, the reference engine.

Only what our shapes use is compiled; anything else raises `UnsupportedShapeError`, naming the
shape and the feature, so that the two engines cannot silently disagree:

- targets: sh:targetClass (instances through rdf:type/rdfs:subClassOf* in the same graph, as
  pySHACL does with inference none) and sh:target [ a sh:SPARQLTarget ; sh:select ... ];
- node shapes: sh:property, sh:sparql (SELECT constraints with $this, ?value, ?path and
  {?var} message templates; their severity is the node shape's, as in pySHACL);
- property shapes: sh:path (an IRI or a sequence), sh:minCount, sh:maxCount, sh:datatype
  (xsd:decimal and xsd:integer checked for lexical form as rdflib parses them, xsd:gYear by IRI
  alone, as pySHACL does), sh:or and sh:not of value shapes (sh:datatype, sh:hasValue with an
  IRI), sh:node (the parent's sh:NodeConstraintComponent result, its value the failing node);
- sh:severity and sh:message (every shape needs one: pySHACL's generated messages are not
  reproduced).

Example:
    >>> from policykg.validate import shapes_graph
    >>> checks = compile_shapes(shapes_graph())
    >>> sorted({c.component.rsplit("#", 1)[-1] for c in checks})[:2]
    ['MaxCountConstraintComponent', 'MinCountConstraintComponent']
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from policykg.errors import PolicyKGError
from policykg.validate import LOADED_GRAPHS, _short

LOADED_SCOPE = f"{{ SELECT DISTINCT ?g WHERE {{ {LOADED_GRAPHS} }} }}"


class UnsupportedShapeError(PolicyKGError):
    """A shape uses a SHACL feature the SPARQL engine does not compile."""

    def __init__(self, shape: str, feature: str):
        self.shape = shape
        self.feature = feature
        super().__init__(f"shape {shape}: {feature} is not compiled to SPARQL; validate with --engine pyshacl, "
                         "or teach policykg/shacl_sparql.py the feature (with a test against pySHACL)")


@dataclass(frozen=True)
class Check:
    """One constraint as a SELECT: each answer (?g ?this, and ?value, ?path and template
    variables where the constraint gives them) is one validation result."""

    shape: Node                          # sh:sourceShape
    component: URIRef                    # sh:sourceConstraintComponent
    severity: URIRef
    path: Node | None                    # a property shape's sh:path (the result path)
    messages: tuple[Literal, ...]        # the constraint's, then the shape's
    query: str
    constraint: Node | None = None       # a SPARQL constraint (sh:sourceConstraint)


# -- lexical forms -------------------------------------------------------------------------------
# pySHACL reads a value's datatype from rdflib, which parses xsd:decimal with Python's Decimal()
# and xsd:integer with int() (whitespace around, underscores, any Unicode digit) and has no parser
# for xsd:gYear (so any lexical form passes). None: the datatype IRI alone decides.
_LEXICAL: dict[URIRef, tuple[str, bool] | None] = {
    XSD.decimal: (r"^\s*[+-]?((\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?|inf(inity)?|s?nan\d*)\s*$", True),
    XSD.integer: (r"^\s*[+-]?\d+(_\d+)*\s*$", False),
    XSD.gYear: None,
}

_INFO = ("sh:name", "sh:description", "sh:order", "sh:group")   # no bearing on validation
_ALLOWED = {
    "node": {"sh:targetClass", "sh:target", "sh:property", "sh:sparql", "sh:severity", "sh:message", *_INFO},
    "property": {"sh:path", "sh:minCount", "sh:maxCount", "sh:datatype", "sh:or", "sh:not", "sh:node",
                 "sh:severity", "sh:message", *_INFO},
    "nested": {"sh:property", "sh:severity", "sh:message", *_INFO},
    "value": {"sh:datatype", "sh:hasValue", "sh:or", "sh:not", "sh:severity", "sh:message", *_INFO},
    "sparql": {"sh:select", "sh:prefixes", "sh:message", "sh:severity", *_INFO},
    "target": {"sh:select", "sh:prefixes"},
}
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def _lit(text: str) -> str:
    """A SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Compiler:
    def __init__(self, shapes: Graph, scope: str, subclasses: bool):
        self.g = shapes
        self.scope = scope
        self.subclasses = subclasses
        self.checks: list[Check] = []
        self._n = 0

    # -- reading the shapes ------------------------------------------------------------------
    def name(self, node) -> str:
        if isinstance(node, URIRef):
            return _short(self.g, node)
        path = self.g.value(node, SH.path)
        if path is not None:
            return f"[ sh:path {self._path_text(path)} ]"
        return "a blank-node shape"

    def _path_text(self, path) -> str:
        if isinstance(path, URIRef):
            return _short(self.g, path)
        if (path, RDF.first, None) in self.g:
            return "( " + " ".join(_short(self.g, p) for p in Collection(self.g, path)) + " )"
        return "[ " + " ; ".join(f"{_short(self.g, p)} {self._path_text(o)}" for p, o in self.g.predicate_objects(path)) + " ]"

    def allow(self, node, role: str, where: str | None = None) -> None:
        for p in sorted(set(self.g.predicates(node, None))):
            if str(p).startswith(str(SH)):
                local = "sh:" + str(p)[len(str(SH)):]
                if local not in _ALLOWED[role]:
                    raise UnsupportedShapeError(where or self.name(node), local)

    def one(self, node, p, where: str):
        values = list(self.g.objects(node, p))
        if len(values) != 1:
            raise UnsupportedShapeError(where, f"{len(values)} values of {_short(self.g, p)} (expected one)")
        return values[0]

    def count(self, node, p, where: str) -> int | None:
        values = list(self.g.objects(node, p))
        if not values:
            return None
        if len(values) > 1 or not isinstance(values[0], Literal) or not isinstance(values[0].toPython(), int):
            raise UnsupportedShapeError(where, f"{_short(self.g, p)} that is not one integer")
        return int(values[0].toPython())

    def severity(self, node) -> URIRef:
        return self.g.value(node, SH.severity) or SH.Violation

    def messages(self, node) -> tuple[Literal, ...]:
        return tuple(sorted((m for m in self.g.objects(node, SH.message) if isinstance(m, Literal)),
                            key=lambda m: (m.language or "", str(m))))

    def fresh(self) -> str:
        self._n += 1
        return f"?v{self._n}"

    def path(self, shape, where: str) -> tuple[Node, str]:
        """The path node and its SPARQL form: an IRI or a sequence of IRIs."""
        p = self.one(shape, SH.path, where)
        if isinstance(p, URIRef):
            return p, f"<{p}>"
        if (p, RDF.first, None) in self.g:
            steps = list(Collection(self.g, p))
            if steps and all(isinstance(s, URIRef) for s in steps):
                return p, "/".join(f"<{s}>" for s in steps)
        raise UnsupportedShapeError(where, "a sh:path other than an IRI or a sequence of IRIs")

    # -- queries -------------------------------------------------------------------------------
    def query(self, projection: str, where: str, *, tail: str = "", prefixes: str = "") -> str:
        return (f"{prefixes}SELECT {projection} WHERE {{\n  {self.scope}\n  GRAPH ?g {{\n    {where}\n  }}\n}}"
                f"{tail}")

    def add(self, shape, component: URIRef, severity, path, messages, query, constraint=None) -> None:
        if not messages:
            raise UnsupportedShapeError(self.name(shape), "a constraint without sh:message (pySHACL's generated "
                                                          "messages are not reproduced)")
        self.checks.append(Check(shape, component, severity, path, messages, query, constraint))

    # -- targets -------------------------------------------------------------------------------
    def targets(self, shape, where: str) -> tuple[str, dict[str, str]]:
        """The pattern binding ?this to the shape's focus nodes, and the prefixes it needs."""
        for p in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
            if (shape, p, None) in self.g:
                raise UnsupportedShapeError(where, _short(self.g, p))
        parts, prefixes = [], {}
        for c in sorted(self.g.objects(shape, SH.targetClass)):
            if not isinstance(c, URIRef):
                raise UnsupportedShapeError(where, "a sh:targetClass that is not an IRI")
            if self.subclasses:   # ?this rdf:type/rdfs:subClassOf* c, in a form stores evaluate faster
                k = self.fresh()
                parts.append(f"{{ ?this a <{c}> }} UNION {{ {k} <{RDFS.subClassOf}>+ <{c}> . ?this a {k} }}")
            else:
                parts.append(f"?this a <{c}> .")
        for t in sorted(self.g.objects(shape, SH.target)):
            if (t, RDF.type, SH.SPARQLTarget) not in self.g:
                raise UnsupportedShapeError(where, "a sh:target that is not a sh:SPARQLTarget")
            self.allow(t, "target", where + "'s sh:target")
            text = str(self.one(t, SH.select, where + "'s sh:target"))
            _, projection, body = _split_select(text, where + "'s sh:target")
            if [v.lstrip("?$") for v in _projection_items(projection)] != ["this"]:
                raise UnsupportedShapeError(where, "a SPARQL target that selects more than ?this")
            _merge(prefixes, self.prefixes(t, where), where)
            # Inlined as a group, its variables but ?this renamed, rather than as a subquery:
            # Oxigraph (0.5) evaluates a subquery inside GRAPH ?g over every graph at once.
            if "_:" in _code(body):
                raise UnsupportedShapeError(where, "blank node labels in a SPARQL target")
            prefix = self.fresh()[1:] + "_"
            parts.append("{ " + _rename(body, prefix) + " }")
        if not parts:
            raise UnsupportedShapeError(where, "no target")
        if len(parts) == 1:
            return parts[0], prefixes
        return " UNION ".join(f"{{ {p} }}" for p in parts), prefixes

    def prefixes(self, node, where: str) -> dict[str, str]:
        """sh:prefixes as pySHACL reads them: the declarations of each value, and of every
        owl:Ontology of the shapes graph."""
        out: dict[str, str] = {}
        onts = set(self.g.subjects(RDF.type, OWL.Ontology))
        global_declares = {d for o in onts for d in self.g.objects(o, SH.declare)}
        for pv in self.g.objects(node, SH.prefixes):
            for dec in sorted(set(self.g.objects(pv, SH.declare)) | global_declares):
                prefix, ns = self.g.value(dec, SH.prefix), self.g.value(dec, SH.namespace)
                if prefix is None or ns is None:
                    raise UnsupportedShapeError(where, "a sh:declare without sh:prefix and sh:namespace")
                _merge(out, {str(prefix): str(ns)}, where)
        return out

    # -- shapes --------------------------------------------------------------------------------
    def node_shape(self, shape) -> None:
        where = self.name(shape)
        if (shape, SH.path, None) in self.g:
            raise UnsupportedShapeError(where, "targets on a property shape")
        self.allow(shape, "node")
        targets, target_prefixes = self.targets(shape, where)
        for ps in sorted(self.g.objects(shape, SH.property)):
            self.property_shape(ps, targets, target_prefixes, where)
        for c in sorted(self.g.objects(shape, SH.sparql)):
            self.sparql_constraint(shape, c, targets, target_prefixes)

    def property_shape(self, ps, targets: str, target_prefixes: dict[str, str], parent: str) -> None:
        where = self.name(ps) if isinstance(ps, URIRef) else f"{parent}'s sh:property {self.name(ps)}"
        self.allow(ps, "property")
        path_node, path = self.path(ps, where)
        pfx = _prefix_lines(target_prefixes)
        severity, messages = self.severity(ps), self.messages(ps)

        def add(component, query):
            self.add(ps, component, severity, path_node, messages, query)

        # Set-based forms (MINUS, joins) rather than FILTER (NOT) EXISTS, which stores evaluate
        # row by row.
        n = self.count(ps, SH.minCount, where)
        if n == 1:
            add(SH.MinCountConstraintComponent, self.query(
                "DISTINCT ?g ?this", f"{targets}\n    MINUS {{ ?this {path} ?v0 }}", prefixes=pfx))
        elif n and n > 1:   # the focus nodes, then their values OPTIONAL (see node_check)
            focus = self.query("DISTINCT ?g ?this", targets)
            add(SH.MinCountConstraintComponent, f"{pfx}SELECT ?g ?this WHERE {{\n  {{ {focus} }}\n  OPTIONAL {{ "
                                                f"GRAPH ?g {{ ?this {path} ?v0 }} }}\n}}\nGROUP BY ?g ?this "
                                                f"HAVING (COUNT(DISTINCT ?v0) < {n})")
        n = self.count(ps, SH.maxCount, where)
        if n is not None:
            add(SH.MaxCountConstraintComponent, self.query(
                "?g ?this", f"{targets}\n    ?this {path} ?v0 .", prefixes=pfx,
                tail=f"\nGROUP BY ?g ?this HAVING (COUNT(DISTINCT ?v0) > {n})"))
        for component, failing in self.value_failures(ps, "?value", where):
            add(component, self.query(
                "DISTINCT ?g ?this ?value", f"{targets}\n    ?this {path} ?value .\n    FILTER ({failing})",
                prefixes=pfx))
        for shape in sorted(self.g.objects(ps, SH.node)):
            query = self.node_check(shape, targets, path, pfx, where)
            if query:
                add(SH.NodeConstraintComponent, query)

    def value_failures(self, ps, var: str, where: str) -> list[tuple[URIRef, str]]:
        """(component, an expression true when the value `var` violates it) for each value
        constraint of a property shape but sh:node."""
        out = []
        for dt in sorted(self.g.objects(ps, SH.datatype)):
            out.append((SH.DatatypeConstraintComponent, f"!{self.datatype_test(dt, var, where)}"))
        for members in sorted(self.g.objects(ps, SH["or"])):
            tests = " || ".join(self.value_test(m, var, where) for m in Collection(self.g, members)) or "false"
            out.append((SH.OrConstraintComponent, f"!({tests})"))
        for s in sorted(self.g.objects(ps, SH["not"])):
            out.append((SH.NotConstraintComponent, self.value_test(s, var, where)))
        return out

    def node_check(self, shape, targets: str, path: str, prefixes: str, where: str) -> str | None:
        """The query for sh:node: the values (?value) that do not conform to the node shape, that
        is fail any constraint of its property shapes, whatever its severity. One pass: each
        property's values joined as OPTIONAL, counted and tested per value node."""
        here = self.name(shape) if isinstance(shape, URIRef) else f"{where}'s sh:node"
        self.allow(shape, "nested", here)
        optionals, failing = [], []
        for ps in sorted(self.g.objects(shape, SH.property)):
            pwhere = f"{here} {self.name(ps)}"
            self.allow(ps, "property", pwhere)
            if (ps, SH.node, None) in self.g:
                raise UnsupportedShapeError(pwhere, "sh:node in a shape used by sh:node")
            _, qpath = self.path(ps, pwhere)
            x = self.fresh()
            optionals.append(f"?value {qpath} {x}")
            n = self.count(ps, SH.minCount, pwhere)
            if n:
                failing.append(f"COUNT(DISTINCT {x}) < {n}")
            n = self.count(ps, SH.maxCount, pwhere)
            if n is not None:
                failing.append(f"COUNT(DISTINCT {x}) > {n}")
            for _, expr in self.value_failures(ps, x, pwhere):
                failing.append(f"SUM(IF(BOUND({x}) && {expr}, 1, 0)) > 0")
        if not failing:
            return None   # a shape with no constraints: every node conforms
        # The value nodes first, in a subquery (GRAPH ?g inside it: see targets()); then each
        # property's values, OPTIONAL on the subquery (Virtuoso mishandles an OPTIONAL that
        # depends on a UNION branch, as targets may be).
        values = self.query("DISTINCT ?g ?this ?value", f"{targets}\n    ?this {path} ?value .")
        optionals = "\n  ".join(f"OPTIONAL {{ GRAPH ?g {{ {o} }} }}" for o in optionals)
        return (f"{prefixes}SELECT ?g ?this ?value WHERE {{\n  {{ {values} }}\n  {optionals}\n}}\n"
                f"GROUP BY ?g ?this ?value\nHAVING ({' || '.join(failing)})")

    def datatype_test(self, dt, var: str, where: str) -> str:
        if dt not in _LEXICAL:
            raise UnsupportedShapeError(where, f"sh:datatype {_short(self.g, dt)} (the lexical rules known are "
                                               f"those of {', '.join(_short(self.g, d) for d in _LEXICAL)})")
        test = f"isLITERAL({var}) && sameTerm(DATATYPE({var}), <{dt}>)"
        rule = _LEXICAL[dt]
        if rule is not None:
            pattern, drop_underscores = rule
            text = f'REPLACE(STR({var}), "_", "")' if drop_underscores else f"STR({var})"
            test += f' && REGEX({text}, {_lit(pattern)}, "i")'
        return f"COALESCE({test}, false)"

    def value_test(self, shape, var: str, where: str) -> str:
        """An expression true when the value `var` conforms to a value shape (in sh:or, sh:not)."""
        here = f"{where}'s value shape"
        self.allow(shape, "value", here)
        tests = [self.datatype_test(dt, var, here) for dt in sorted(self.g.objects(shape, SH.datatype))]
        for v in sorted(self.g.objects(shape, SH.hasValue)):
            if not isinstance(v, URIRef):
                raise UnsupportedShapeError(here, "sh:hasValue with a literal or blank node")
            tests.append(f"sameTerm({var}, <{v}>)")
        for members in sorted(self.g.objects(shape, SH["or"])):
            tests.append("(" + (" || ".join(self.value_test(m, var, where) for m in Collection(self.g, members))
                                or "false") + ")")
        for s in sorted(self.g.objects(shape, SH["not"])):
            tests.append(f"!{self.value_test(s, var, where)}")
        return "(" + (" && ".join(tests) or "true") + ")"

    def sparql_constraint(self, shape, c, targets: str, target_prefixes: dict[str, str]) -> None:
        where = f"{self.name(shape)}'s sh:sparql {self.name(c)}"
        self.allow(c, "sparql", where)
        text = str(self.one(c, SH.select, where))
        modifier, projection, body = _split_select(text, where)
        items = _projection_items(projection)
        names = {v.lstrip("?$") for v in items if not v.startswith("(")} | {
            m.group(1) for v in items if (m := re.search(r"\bAS\s+[?$](\w+)\s*\)$", v, re.I))}
        if projection.strip() == "*" or not names & {"this", "path", "value"}:
            raise UnsupportedShapeError(where, "a SELECT that projects none of $this, ?path and ?value")
        if "failure" in names:
            raise UnsupportedShapeError(where, "?failure")
        prefixes = dict(target_prefixes)
        _merge(prefixes, self.prefixes(c, where), where)
        rest = " ".join(v for v in items if v.lstrip("?$") != "this")
        # The constraint's body joins the focus nodes in its own group: $this is bound before its
        # filters (FILTER NOT EXISTS { $this ... }) are evaluated, as pySHACL pre-binds it.
        query = self.query(f"{modifier}?g ?this {rest}", f"{targets}\n    {body}", prefixes=_prefix_lines(prefixes))
        messages = self.messages(c) + self.messages(shape)
        self.add(shape, SH.SPARQLConstraintComponent, self.severity(shape), None, messages, query, constraint=c)


def _merge(into: dict[str, str], more: dict[str, str], where: str) -> None:
    for p, ns in more.items():
        if into.setdefault(p, ns) != ns:
            raise UnsupportedShapeError(where, f"the prefix {p}: declared for two namespaces")


def _prefix_lines(prefixes: dict[str, str]) -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))


_TOKEN = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\x00-\x20]*>|#[^\n]*', re.S)
_FORBIDDEN = re.compile(r"(?<![\w:])(MINUS|VALUES|SERVICE|GRAPH|SELECT|FROM|GROUP|ORDER|LIMIT|OFFSET|HAVING)(?![\w:])"
                        r"|[?$](g|PATH|currentShape|shapesGraph)\b", re.I)


def _code(text: str) -> str:
    """The text with strings, IRIs and comments blanked out (same length), to find keywords and
    braces in."""
    return _TOKEN.sub(lambda m: " " * len(m.group(0)), text)


def _rename(body: str, prefix: str) -> str:
    """A query body with every variable but ?this / $this renamed (prefix + name), strings, IRIs
    and comments left as they are."""
    code, out, last = _code(body), [], 0
    for m in re.finditer(r"[?$](\w+)", code):
        if m.group(1) != "this":
            out += [body[last:m.start()], f"?{prefix}{m.group(1)}"]
            last = m.end()
    return "".join(out) + body[last:]


def _split_select(text: str, where: str) -> tuple[str, str, str]:
    """(DISTINCT/REDUCED, projection, WHERE body) of a SELECT query with no prologue and no
    solution modifiers, the kind of query the fast engine can join with its own patterns."""
    code = _code(text)
    start = code.find("{")
    depth, end = 0, -1
    for i in range(start, len(code)) if start >= 0 else ():
        depth += {"{": 1, "}": -1}.get(code[i], 0)
        if depth == 0:
            end = i
            break
    head = re.fullmatch(r"\s*SELECT\s+((?:DISTINCT|REDUCED)\s+)?(.*?)\s*(?:WHERE)?\s*", code[:start] if start >= 0
                        else code, re.S | re.I)
    if end < 0 or head is None or code[end + 1:].strip():
        raise UnsupportedShapeError(where, "a query other than SELECT ... WHERE { ... } (no PREFIX, no solution "
                                           "modifiers; declare prefixes with sh:prefixes)")
    body = text[start + 1:end]
    bad = _FORBIDDEN.search(_code(body)) or re.search(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(",
                                                      code[:start], re.I)
    if bad:
        raise UnsupportedShapeError(where, f"{bad.group(0)} in a SPARQL constraint or target")
    return (head.group(1) or "").upper(), text[head.start(2):head.end(2)], body


def _projection_items(projection: str) -> list[str]:
    """The projected variables and (expression AS ?var) items of a SELECT clause."""
    items, depth, cur = [], 0, ""
    code = _code(projection)
    for ch, c in zip(projection, code, strict=True):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if c.isspace() and depth == 0:
            if cur:
                items.append(cur)
            cur = ""
        else:
            cur += ch
    return items + ([cur] if cur else [])


def compile_shapes(shapes: Graph, *, scope: str = LOADED_SCOPE, subclasses: bool = True) -> list[Check]:
    """One Check per constraint of every shape with a target (and the shapes they use).

    Args:
        shapes: the shapes graph.
        scope: a group pattern binding ?g to the graphs to validate ("" for every named graph).
        subclasses: whether the graphs may hold rdfs:subClassOf triples; without any, a class
            target is read from rdf:type alone, which is faster and means the same.

    Raises:
        UnsupportedShapeError: a shape uses a feature this engine does not compile.
    """
    c = _Compiler(shapes, scope, subclasses)
    top = {s for p in _TARGETS for s in shapes.subjects(p, None)}
    for s in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
        if (s, RDF.type, RDFS.Class) in shapes or (s, RDF.type, OWL.Class) in shapes:
            raise UnsupportedShapeError(c.name(s), "an implicit class target (a shape that is also a class)")
    for s in sorted(top):
        c.node_shape(s)
    return c.checks
