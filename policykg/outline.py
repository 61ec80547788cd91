"""Segmentation: the blocks of a Text -> an outline of numbered nodes, each classified.

The genre numbers its headings 一、 / （一） / 1. / （1） / ①, in that order of depth, and
also writes measures as paragraphs that open with a short heading sentence
("做优做强科普工作品牌。…"). Sections are told apart by their heading words (mappings/
section_kinds.tsv); inside task and assurance sections a node is a group when its children
are measures, a measure when it is a leaf or its children are only the measure's own parts
(1.任务 2.措施 3.分工, mappings/measure_parts.tsv).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.numerals import heading_number
from policykg.responsibility import has_note
from policykg.text import Span, Text, View, fold

HEADING_MAX = 40          # a heading sentence longer than this is body text
_ATTACHMENT = re.compile(r"^附件\s*[0-9一二三四五六七八九十]*\s*[::]?")
_END_MATTER = re.compile(
    r"^(抄送|抄报|主送)[::]|^(\(|\[)?此件(公开发布|不公开|依申请公开)|印发$|^[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日(印发)?$"
    r"|^[二〇零一三四五六七八九十○]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日$")


@dataclass
class Line:
    """One block seen by the segmenter."""

    index: int
    view: View
    style: str | None = None
    rank: int = 99
    number: str = ""        # the numeral as written (source)
    value: int | None = None
    body_at: int = 0        # folded offset where the text after the number begins


def heading_sentence_end(s: str) -> int | None:
    """Where the opening heading sentence of a paragraph ends (index of its 。), if it has one."""
    if s.startswith("|"):  # a table row
        return None
    p = s.find("。")
    if 2 <= p <= HEADING_MAX and p < len(s.rstrip()) - 1:
        head = s[:p]
        if ":" in head or head.startswith(("(", "（")):
            return None
        return p
    return None


def heading_length(s: str) -> int | None:
    """How long the heading that opens s is: its first sentence when short, or all of s when
    it is short and has no sentence end; None when s opens with no heading."""
    p = s.find("。")
    if 0 < p <= HEADING_MAX:
        return p
    if p < 0 and 0 < len(s.rstrip(" :：")) <= HEADING_MAX:
        return len(s.rstrip(" :："))
    return None


def classify_lines(text: Text, lex: Mappings) -> list[Line]:
    lines = []
    for i, v in enumerate(text.block_views()):
        line = Line(i, v)
        for st in lex.heading_styles:
            mt = st.pattern.match(v.s)
            if mt and mt.end() < len(v.s):  # a number alone on a line is not a heading
                line.style, line.rank, line.body_at = st.name, st.rank, mt.end()
                line.number = v.source(0, mt.end()).strip()
                line.value = heading_number(mt.group("n"))
                break
        lines.append(line)
    return lines


def body_bounds(lines: list[Line]) -> tuple[int, int, int | None]:
    """(first, end, attachment) block indexes: where the outline starts, where the body ends,
    and where an attachment begins (None if there is none)."""
    ones = [ln for ln in lines if ln.style and ln.value == 1]
    top = min((ln.rank for ln in ones), default=None)
    # the outline opens at the first "1" of its highest style (一、 before 1.), so numbered
    # points in a transmitting notice do not pull the start forward
    first = next((ln.index for ln in ones if ln.rank == top), None)
    if first is None:
        first = next((ln.index for ln in lines if ln.style), len(lines))
    attachment = next((ln.index for ln in lines[first:] if _ATTACHMENT.match(ln.view.s)
                       and len(ln.view.s) <= 60 and not ln.style), None)
    end = attachment if attachment is not None else len(lines)
    while end > first and _is_end_matter(lines[end - 1].view.s):
        end -= 1
    return first, end, attachment


def _is_end_matter(s: str) -> bool:
    s = s.strip()
    if s.startswith("|"):  # a table row
        return False
    if _END_MATTER.search(s.replace(" ", "")):
        return True
    # page furniture and signature lines: short, no sentence punctuation
    return len(s) <= 12 and not re.search(r"[。,;:、()]", s) and not re.match(r"^[0-9一二三四五六七八九十]", s)


class _Builder:
    def __init__(self, text: Text, lex: Mappings, findings: list[m.Finding]):
        self.text, self.lex, self.findings = text, lex, findings

    # ------------------------------------------------------------------ tree
    def build(self, lines: list[Line]) -> list[tuple[Line, list, list[Line]]]:
        """Raw tree: (heading line, children, own body lines)."""
        roots: list = []
        stack: list = []
        for ln in lines:
            if ln.style:
                while stack and stack[-1][0].rank >= ln.rank:
                    stack.pop()
                node = (ln, [], [])
                (stack[-1][1] if stack else roots).append(node)
                stack.append(node)
            elif stack:
                stack[-1][2].append(ln)
            elif roots:
                roots[-1][2].append(ln)
        return roots

    def check_numbering(self, raw, last_global: dict[str, int]) -> None:
        prev: dict[str, int] = {}
        for ln, children, _ in raw:
            if ln.value is not None:
                expected = prev[ln.style] + 1 if ln.style in prev else None
                ok = (ln.value == expected) if expected is not None else (
                    ln.value == 1 or ln.value == last_global.get(ln.style, 0) + 1)
                if not ok:
                    want = expected if expected is not None else 1
                    self.findings.append(m.Finding(
                        "numbering-gap",
                        f"numbering gap: {ln.number} where {want} was expected (line {self._lineno(ln)})",
                        ln.view.span))
                prev[ln.style] = ln.value
                last_global[ln.style] = ln.value
            self.check_numbering(children, last_global)

    def _lineno(self, ln: Line) -> int:
        return self.text.string.count("\n", 0, ln.view.span.start) + 1

    # ------------------------------------------------------------------ nodes
    def section_kind(self, heading: str | None, depth: int, inherited: str) -> str:
        if heading:
            heading = fold(heading)
            for word, kind in self.lex.section_kinds.items():
                if word in heading and (depth == 0 or kind in (m.SCHEDULE, m.ATTACHMENT)):
                    return kind
        return inherited

    def make(self, ln: Line | None, body: list[Line], parent_path: str, idx: int, depth: int,
             inherited: str) -> m.Node:
        if ln is not None:
            v = ln.view
            head_fold = v.s[ln.body_at:]
            own_start = v.source_span(ln.body_at, len(v.s)).start
            value = ln.value if ln.value is not None else idx
            path = f"{parent_path}.{value}" if parent_path else str(value)
            number, style, rank = ln.number, ln.style or "", ln.rank
        else:  # an unnumbered paragraph item
            v = body[0].view
            head_fold = v.s
            own_start = v.span.start
            path = f"{parent_path}.p{idx}"
            number, style, rank = "", "paragraph", 98
        heading = None
        heading_end = heading_length(head_fold)
        if heading_end is not None:
            base = ln.body_at if ln is not None else 0
            heading = v.source(base, base + heading_end).strip().rstrip("：:")
        last = (body[-1].view if body else v)
        own_end = last.span.end if (body or ln is not None) else v.span.end
        span = Span(own_start, own_end)
        node = m.Node(kind="", number=number, path=path, style=style, rank=rank, span=span,
                      own_span=span, heading=heading)
        node.section_kind = self.section_kind(heading and heading.strip(), depth, inherited)
        return node


def _fold_heading(node: m.Node) -> str:
    return fold(node.heading or "")


def segment(text: Text, lex: Mappings, findings: list[m.Finding]) -> tuple[list[m.Node], int, int]:
    """The outline of a text, with (first, end) block indexes of the body."""
    lines = classify_lines(text, lex)
    first, end, attachment = body_bounds(lines)
    b = _Builder(text, lex, findings)
    raw = b.build(lines[first:end])
    b.check_numbering(raw, {})
    nodes = [_to_node(b, r, "", i + 1, 0, m.TASK) for i, r in enumerate(raw)]
    for n in nodes:
        _link(n, None)
    if attachment is not None and attachment < len(lines):
        a_end = len(lines)
        while a_end > attachment + 1 and _is_end_matter(lines[a_end - 1].view.s):
            a_end -= 1
        av = lines[attachment].view
        sp = Span(av.span.start, lines[a_end - 1].view.span.end)
        heading = av.source().strip()
        nodes.append(m.Node(kind=m.ATTACHMENT, number="", path="attachment", style="attachment", rank=0,
                            span=sp, own_span=sp, heading=heading, text=text.string[sp.start:sp.end],
                            section_kind=m.ATTACHMENT))
    return nodes, first, end


def _link(node: m.Node, parent: m.Node | None) -> None:
    node.parent = parent
    for c in node.children:
        _link(c, node)


def _to_node(b: _Builder, raw, parent_path: str, idx: int, depth: int, inherited: str) -> m.Node:
    ln, kids, body = raw
    node = b.make(ln, body, parent_path, idx, depth, inherited)
    kind = node.section_kind
    children = [_to_node(b, r, node.path, i + 1, depth + 1, kind) for i, r in enumerate(kids)]
    node.children = children
    if children:
        node.span = Span(node.span.start, max(node.span.end, children[-1].span.end))
    node.kind = _kind_of(b, node, ln, body)
    if node.kind == m.GROUP and not children:
        _split_paragraph_items(b, node, body, depth)
    text = b.text.string
    if node.kind in (m.MEASURE, m.CLAUSE, m.PHASE, m.PART):
        node.text = text[node.span.start:node.span.end]
        for c in node.walk():
            if c is not node and c.kind in (m.MEASURE, m.CLAUSE, m.GROUP):
                c.kind = m.PART
    else:
        node.text = text[node.own_span.start:node.own_span.end]
    return node


def _kind_of(b: _Builder, node: m.Node, ln: Line, body: list[Line]) -> str:
    kind = node.section_kind
    if kind in (m.GOAL, m.BACKGROUND, m.ATTACHMENT):
        return kind
    if kind == m.SCHEDULE:
        is_section = bool(node.children) or (node.heading and any(w in fold(node.heading) for w, k in
                                                                   b.lex.section_kinds.items() if k == m.SCHEDULE))
        if is_section and not node.children and body:
            _split_paragraph_items(b, node, body, 0, item_kind=m.PHASE)
        return m.SCHEDULE if is_section else m.PHASE
    if node.children:
        parts = [c for c in node.children if _fold_heading(c) in b.lex.measure_parts]
        if len(parts) == len(node.children):
            return _item_kind(b, node)
        run_in = ln is not None and node.heading is not None and not _alone(node, ln)
        noted = [c for c in node.children if has_note(b.text, c.span, b.lex)]
        trailing = len(noted) == 1 and noted[0] is node.children[-1] and not has_note(
            b.text, _first_line(b.text, noted[0].span), b.lex)
        if run_in and (not noted or trailing):
            # 1.推进… 具体包括：（1）…（2）…（责任单位：…）: one measure with its points
            return _item_kind(b, node)
        return m.GROUP
    if ln is not None and node.heading is not None and _alone(node, ln) and len(body) >= 2:
        openers = sum(1 for x in body if heading_sentence_end(x.view.s) is not None)
        if openers >= 2 and openers * 2 >= len(body):
            return m.GROUP
    return _item_kind(b, node)


def _alone(node: m.Node, ln: Line) -> bool:
    """True when a heading stands alone on its line (no run-in text after it)."""
    return node.span.start + len(node.heading) + 2 >= ln.view.span.end


def _first_line(text: Text, span: Span) -> Span:
    end = text.string.find("\n", span.start, span.end)
    return Span(span.start, span.end if end < 0 else end)


def _item_kind(b: _Builder, node: m.Node) -> str:
    """A leaf of a task section is a measure; of an assurance section, a clause unless it
    carries a responsibility note of its own (then the document treats it as a measure)."""
    if node.section_kind != m.ASSURANCE:
        return m.MEASURE
    return m.MEASURE if has_note(b.text, node.span, b.lex) else m.CLAUSE


def _split_paragraph_items(b: _Builder, node: m.Node, body: list[Line], depth: int,
                           item_kind: str | None = None) -> None:
    """A heading over paragraphs that open with heading sentences: each is an item."""
    items: list[list[Line]] = []
    description: list[Line] = []
    for x in body:
        if heading_sentence_end(x.view.s) is not None or (item_kind and x.view.s.strip()):
            items.append([x])
        elif items:
            items[-1].append(x)
        else:
            description.append(x)
    children = []
    for i, group in enumerate(items, 1):
        c = b.make(None, group, node.path, i, depth + 1, node.section_kind)
        c.kind = item_kind or _item_kind(b, c)
        c.text = b.text.string[c.span.start:c.span.end]
        children.append(c)
    node.children = children
    if description:
        node.own_span = Span(node.own_span.start, description[-1].view.span.end)
    else:
        node.own_span = Span(node.own_span.start, node.own_span.start + len(node.heading or ""))
