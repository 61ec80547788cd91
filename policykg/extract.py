"""Stage 3: Text -> Document. Segments the outline, reads metadata, resolves who leads what,
and finds time frames and targets, every item with its span."""
from __future__ import annotations

import dataclasses
import hashlib

from policykg import actors, lexicon, metadata, outline, responsibility, tables, targets, tasktable, timeexpr
from policykg import model as m
from policykg.errors import NoContentError
from policykg.lexicon import Mappings
from policykg.responsibility import blocks_in
from policykg.text import Span, Text, View


def extract(text: Text, lex: Mappings | None = None) -> m.Document:
    """The document model of one text.

    Raises NoContentError when the text has no outline a plan would have.
    """
    lex = lex or lexicon.default()
    found = tables.find(text, lex)
    if found:  # their rows are data: running-text passages leave them out
        text = dataclasses.replace(text, data_rows=frozenset(i for t in found for i in t.blocks))
    doc = m.Document(name=text.name, sha256=text.sha256, media_type=text.media_type,
                     encoding=text.encoding, char_count=len(text.string), blocks=text.blocks,
                     text_sha256=hashlib.sha256(text.string.encode("utf-8")).hexdigest())
    nodes, first, end = outline.segment(text, lex, doc.findings)
    task_tables = [t for t in found if t.kind == tables.TASKS]
    if not nodes and not task_tables:
        raise NoContentError(text.name, "no numbered headings (一、 （一） 1.) and no task table found; "
                                        "this does not look like a policy plan")
    doc.outline = nodes
    metadata.extract(text, lex, doc, first, end)
    doc.jurisdiction = actors.document_jurisdiction(doc)
    rule = responsibility.find_lead_rule(text, Span(0, len(text.string)), lex)
    if rule:
        doc.lead_rule, doc.lead_rule_span = rule
    responsibility.assign(nodes, text, lex, rule is not None)
    responsibility.assign_from_attachments(nodes, text, lex, rule is not None)
    doc_year = (doc.created or doc.issued).year if (doc.created or doc.issued) else None
    times = _Times(lex, doc_year)
    doc.period = _period(text, doc, times)
    if doc.period is None:
        doc.findings.append(m.Finding("no-period", "no plan period found (title, 到YYYY年 or date); "
                                                   "measures without years of their own have no time frame"))
    tasktable.join(doc, text, lex, task_tables, doc_year, rule is not None)
    doc.targets = _preamble_targets(text, lex, doc, first, times)
    for top in doc.outline:
        context: list[int | None] = [None]
        for node in top.walk():
            _times_and_targets(text, lex, doc, node, times, context)
    for t in found:
        if t.kind == tables.INDICATORS:
            _table_targets(doc, text, lex, t, doc_year)
    for node in doc.measures:
        if not node.leads:
            doc.findings.append(m.Finding("no-lead", f"measure {node.path} {node.heading or ''} names no lead unit",
                                          node.span))
    return doc


def _table_targets(doc: m.Document, text: Text, lex: Mappings, table: tables.Table, doc_year: int | None) -> None:
    """An indicator table's targets hang on the measure that holds the table, else the document."""
    # a figure for a year before the plan was written (or began) is where things stood
    since = doc_year if doc_year is not None else doc.period.start if doc.period else None
    found = tables.indicator_targets(table, text, lex, since, doc.period.end if doc.period else None)
    holder = next((n for n in doc.measures if n.span.start <= table.span.start < n.span.end), None)
    if holder is not None:
        holder.targets += found
    else:
        doc.targets += found


class _Times:
    """Time expressions of a block, found once per extraction (the period search and the
    per-node pass read the same blocks)."""

    def __init__(self, lex: Mappings, doc_year: int | None):
        self.lex, self.doc_year = lex, doc_year
        self._seen: dict[tuple[int, int], list[m.TimeExpression]] = {}

    def __call__(self, v: View) -> list[m.TimeExpression]:
        key = (v.base, len(v.s))
        if key not in self._seen:
            self._seen[key] = timeexpr.find(v, self.lex, self.doc_year)
        return self._seen[key]


def _period(text: Text, doc: m.Document, times: _Times) -> m.TimeFrame | None:
    doc_year = times.doc_year
    for span in (doc.plan_title_span, doc.notice_title_span):
        if span is None:
            continue
        for e in times(text.view(span.start, span.end)):
            if e.kind in ("range", "period"):
                return m.TimeFrame(e.start, e.end, m.STATED, [e])
    for node in doc.nodes():  # 本措施有效期至2026年12月31日: the term of a 若干措施 document
        for v in blocks_in(text, node.span if node.kind != m.GROUP else node.own_span):
            for e in times(v):
                if e.kind == "valid_until" and doc_year is not None and doc_year <= e.end:
                    return m.TimeFrame(doc_year, e.end, m.STATED, [e])
    goals = [n for n in doc.nodes() if n.kind == m.GOAL]
    for scope in (goals, doc.outline):
        for node in scope:
            for v in blocks_in(text, node.own_span if scope is goals else node.span):
                for e in times(v):
                    if e.kind == "by" and e.end is not None:
                        start = doc_year if doc_year is not None and doc_year <= e.end else e.end
                        return m.TimeFrame(start, e.end, m.STATED, [e])
                    if e.kind == "period" and scope is goals:
                        return m.TimeFrame(e.start, e.end, m.STATED, [e])
    if doc_year is not None:
        return m.TimeFrame(doc_year, doc_year, "document", [])
    return None


def _preamble_targets(text: Text, lex: Mappings, doc: m.Document, first: int, times: _Times):
    """Goals a plan states in its opening paragraph, before its first heading."""
    if doc.plan_title_span is None or first >= len(text.blocks):
        return []
    span = Span(doc.plan_title_span.end, text.blocks[first].start)
    found: list[m.Target] = []
    for v in blocks_in(text, span):
        found += targets.find(v, lex, times(v), inherit=True)
    return targets.dedupe(found)


def _times_and_targets(text: Text, lex: Mappings, doc: m.Document, node: m.Node, times: _Times,
                       context: list[int | None]) -> None:
    if node.kind in (m.PART, m.BACKGROUND, m.ATTACHMENT):
        return
    whole = node.kind in (m.MEASURE, m.CLAUSE, m.PHASE)
    span = node.span if whole else node.own_span
    found: list[m.Target] = []
    for v in blocks_in(text, span):
        exprs = times(v)
        node.time_expressions = node.time_expressions + exprs  # exprs is shared with the memo
        found += targets.find(v, lex, exprs, inherit=node.kind == m.GOAL, context_year=context[0])
        if node.kind == m.GOAL:
            dated = [e for e in exprs if e.kind in ("by", "year", "period") and e.end]
            if dated:
                context[0] = dated[-1].end
    node.targets = targets.dedupe(found)
    if whole:
        node.time_frame = timeexpr.frame(node.time_expressions, doc.period)
        deadlines = [e.end for e in node.time_expressions if e.kind in ("before", "by") and e.end]
        for t in node.targets:  # a target with no year of its own is due by its measure's deadline
            if t.year is None and t.recurrence is None and deadlines:
                t.year = max(deadlines)
