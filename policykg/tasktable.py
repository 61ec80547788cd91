"""Task-division tables joined to the outline.

A row whose task is a measure of the body (its heading or opening words) gives that measure
the units and the deadline it names; a lead the measure states in its own text stands. Every
other row is a measure of its own, under the section or attachment that holds the table (or,
for a plan that is only a table, under a section made for it), grouped by the table's category
column (重点任务 | 具体措施 | 牵头单位 …: the measures under each 重点任务).
"""
from __future__ import annotations

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.outline import HEADING_MAX, heading_length
from policykg.responsibility import likeness, resolve
from policykg.tables import Cell, Table, TaskRow, task_rows
from policykg.text import Span, Text, fold

_MATCH = 0.6          # how alike a row's task and a measure's words must be to be one measure


def join(doc: m.Document, text: Text, lex: Mappings, tables: list[Table], doc_year: int | None,
         rule: bool) -> None:
    """Give the body's measures what the task tables say of them; add the rows that are
    measures of their own."""
    for table in tables:
        rows = task_rows(table, text, lex, doc_year)
        if not rows:
            continue
        span = table.span
        body = [n for n in doc.measures if not (span.start <= n.span.start < span.end)]
        matched = _match(rows, body)
        for row, measure in matched.items():
            _give(measure, rows[row], rule)
        rest = [r for i, r in enumerate(rows) if i not in matched]
        if rest:
            _add(doc, text, table, rest, rule)


def _match(rows: list[TaskRow], measures: list[m.Node]) -> dict[int, m.Node]:
    """Rows matched one to one with the measures they restate, the likeliest pairs first."""
    pairs = []
    for i, r in enumerate(rows):
        task = fold(r.task.text).replace(" ", "")
        for n in measures:
            heading = fold(n.heading or "").replace(" ", "")
            opening = fold(n.text).replace(" ", "")[:len(task)]
            score = max(likeness(task, heading) if len(heading) >= 4 else 0.0, likeness(task, opening))
            if score >= _MATCH:
                pairs.append((score, i, n))
    out: dict[int, m.Node] = {}
    taken: set[int] = set()
    for _, i, n in sorted(pairs, key=lambda p: -p[0]):
        if i not in out and id(n) not in taken:
            out[i] = n
            taken.add(id(n))
    return out


def _inherited(node: m.Node) -> m.Node | None:
    p = node.parent
    while p is not None:
        if p.kind == m.GROUP and p.leads:
            return p
        p = p.parent
    return None


def _give(measure: m.Node, row: TaskRow, rule: bool) -> None:
    if row.note is not None and not any(a.basis == m.STATED for a in measure.leads):
        measure.notes = [*measure.notes, row.note]
        measure.assignments = resolve(measure.notes, _inherited(measure), rule)
    measure.time_expressions = measure.time_expressions + row.deadlines


def _container(doc: m.Document, span: Span) -> m.Node | None:
    """The deepest node of the outline whose span holds the table."""
    best = None
    for n in doc.nodes():
        if n.span.start <= span.start and span.end <= n.span.end and n.kind != m.PART:
            best = n
    return best


def _add(doc: m.Document, text: Text, table: Table, rows: list[TaskRow], rule: bool) -> None:
    parent = _container(doc, table.span)
    if parent is None:
        parent = _node(m.GROUP, "", f"table{len(doc.outline) + 1}", table.span, _caption(text, table), "")
        doc.outline.append(parent)
    elif parent.kind in (m.MEASURE, m.CLAUSE, m.PHASE):
        parent.kind = m.GROUP  # a heading over a table of measures (四、任务分工 + the table)
        parent.time_frame = None
    body_groups = [n for n in doc.nodes() if n.kind == m.GROUP and n.style != "table"]
    stack: list[tuple[Cell, m.Node]] = []
    for r in rows:
        for depth, g in enumerate(r.groups):
            if depth < len(stack) and stack[depth][0] is g:
                continue
            del stack[depth:]
            owner = stack[-1][1] if stack else parent
            group = _same_group(g, body_groups)
            if group is None:  # a category the body does not have: a group of the table's own
                group = _node(m.GROUP, "", _path(owner), g.span, g.text, g.text)
                _attach(owner, group)
            stack.append((g, group))
        del stack[len(r.groups):]
        owner = stack[-1][1] if stack else parent
        measure = _node(m.MEASURE, r.number.text if r.number is not None else "", _path(owner), r.task.span,
                        _heading(r.task.text), r.task.text)
        _attach(owner, measure)
        measure.notes = [r.note] if r.note is not None else []
        measure.assignments = resolve(measure.notes, _inherited(measure), rule)
        measure.time_expressions = list(r.deadlines)


def _same_group(cell: Cell, groups: list[m.Node]) -> m.Node | None:
    """The body's group a category cell names (完善科普基础设施 = （一）完善科普基础设施)."""
    name = fold(cell.text).replace(" ", "")
    scored = [(likeness(name, fold(n.heading or "").replace(" ", "")), n) for n in groups if n.heading]
    score, best = max(scored, key=lambda x: x[0], default=(0.0, None))
    return best if score >= 0.8 else None


def _node(kind: str, number: str, path: str, span: Span, heading: str | None, body: str) -> m.Node:
    return m.Node(kind=kind, number=number, path=path, style="table", rank=99, span=span, own_span=span,
                  heading=heading, text=body, section_kind=m.TASK)


def _path(owner: m.Node) -> str:
    return f"{owner.path}.r{len(owner.children) + 1}"


def _attach(owner: m.Node, node: m.Node) -> None:
    node.parent = owner
    node.section_kind = owner.section_kind if owner.section_kind not in (m.ATTACHMENT, m.GOAL, m.BACKGROUND) \
        else m.TASK
    owner.children.append(node)


def _heading(task: str) -> str | None:
    """A task's heading, read as the outline reads headings."""
    n = heading_length(task)
    return task[:n] if n is not None else None


def _caption(text: Text, table: Table) -> str | None:
    """The line just above a table, when it names it (重点任务分工表)."""
    first = table.blocks[0]
    if first == 0:
        return None
    b = text.blocks[first - 1]
    line = text.string[b.start:b.end].strip()
    return line if len(line) <= HEADING_MAX and "|" not in line else None
