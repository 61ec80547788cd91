"""Responsibility notes: who leads and who shares a measure, in every form the genre uses.

Forms (all read on the folded text, so full- and half-width punctuation are one):
- labelled:  （牵头单位：X；责任单位：Y、Z）, 3.分工。牵头部门：X。 / 配合部门：Y。, 责任单位：X on a line
- verb-final: （X、Y按职责分工负责）, （X牵头负责，Y配合）, （X负责）
- bare: （X、Y、Z） at the end of a measure, every item an organ name (a 责任单位 list)
Unit lists split on 、，； outside brackets (市委组织部（人才办） is one name); a name without a
jurisdiction prefix takes the last one written before it in the same note (市经贸信息委、科技
创新委 -> 市科技创新委), keeping the form as written.
"""
from __future__ import annotations

import difflib
import re

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.text import Span, Text, View, fold

_SEPARATORS = "、,;"
_MAX_NAME = 30
_TRAILING_ETC = re.compile(r"等(有关|相关)?(部门|单位)?$")
_CLAUSE_VERBISH = re.compile(r"[。“”《》]")
_LEAD_MARK = re.compile(r"\((牵头|牵头单位|牵头部门|主责|主责单位)\)$")
_OTHER_LABEL = re.compile(r"(?<=[,;\s(])[\u4e00-\u9fff]{2,6}\s*:")


def blocks_in(text: Text, span: Span) -> list[View]:
    """Views of the blocks that overlap span, cut to it. A row of a data table is left out
    unless span lies inside it (a cell read as a measure's text)."""
    rows = text.data_rows
    return [text.view(max(b.start, span.start), min(b.end, span.end))
            for i, b in enumerate(text.blocks) if b.end > span.start and b.start < span.end
            and (i not in rows or b.start <= span.start and span.end <= b.end)]


def _split_top(s: str, seps: str) -> list[tuple[int, int]]:
    """Ranges of s split on any of seps at bracket depth 0."""
    out, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif c in seps and depth == 0:
            out.append((start, i))
            start = i + 1
    out.append((start, len(s)))
    return out


def _prefix_of(f: str, lex: Mappings) -> str | None:
    if f.startswith(lex.not_prefixes):
        return None
    for p in lex.jurisdiction_prefixes:
        if f.startswith(p) and len(f) > len(p):
            return p
    return None


def _qualified(f: str, lex: Mappings) -> bool:
    if lex.is_collective(f) or _prefix_of(f, lex):
        return True
    inner = f[2:] if f.startswith(lex.not_prefixes) else f
    return bool(re.search(r"[省市县区州旗]", inner))


def looks_like_unit(f: str, lex: Mappings) -> bool:
    if not f or len(f) > _MAX_NAME or _CLAUSE_VERBISH.search(f):
        return False
    return lex.has_organ_suffix(re.sub(r"\([^)]*\)$", "", f)) or lex.is_collective(f) or len(f) <= 10


def split_names(v: View, i: int, j: int, lex: Mappings, state: dict) -> list[m.ActorMention] | None:
    """Actor mentions of the list v.s[i:j]; None if an item does not look like a unit.
    `state` carries the last prefix written across the lists of one note."""
    out = []
    seg = v.s[i:j]
    for a, b in _split_top(seg, _SEPARATORS):
        a, b = i + a, i + b
        while a < b and v.s[a] in " 由":
            a += 1
        while b > a and v.s[b - 1] in " 。.":
            b -= 1
        if b <= a:
            continue
        mt = _TRAILING_ETC.search(v.s[a:b])
        if mt and mt.start() > 0:
            b = a + mt.start()
        f = v.s[a:b]
        marked = _LEAD_MARK.search(f)
        if marked:  # 省能源局（牵头）: the unit is named as lead inside the list
            b = a + marked.start()
            f = v.s[a:b]
        if not looks_like_unit(f, lex):
            return None
        written = v.source(a, b)
        prefix = _prefix_of(f, lex)
        if prefix:
            state["prefix"] = (prefix, v.source(a, a + len(prefix)))
        elif f.startswith("各") and lex.is_collective(f):  # 各乡镇人民政府、街道办事处: 各 governs both
            state["prefix"] = ("各", v.source(a, a + 1))
        full = written
        if not _qualified(f, lex) and state.get("prefix"):
            full = state["prefix"][1] + written
        out.append(m.ActorMention(written=written, full=full, key=fold(full), span=v.source_span(a, b),
                                  collective=lex.is_collective(fold(full)), marked_lead=bool(marked)))
    return out or None


def parse_labelled(v: View, i: int, j: int, lex: Mappings) -> list[m.NoteEntry] | None:
    """Entries of '牵头单位：X；责任单位：Y' within v.s[i:j]."""
    hits = list(lex.responsibility_keyword_re.finditer(v.s, i, j))
    if not hits:
        return None
    # other labels in the same note (完成时限：2024年底前) end a list too
    others = [mt.start() for mt in _OTHER_LABEL.finditer(v.s, i, j)
              if not any(h.start() <= mt.start() < h.end() for h in hits)]
    entries, state = [], {}
    for k, h in enumerate(hits):
        end = hits[k + 1].start() if k + 1 < len(hits) else j
        end = min([o for o in others if h.end() <= o < end], default=end)
        names = split_names(v, h.end(), end, lex, state)
        if names is None:
            return None
        role = lex.responsibility_keywords[h.group(1)]
        entries += [m.NoteEntry(m.LEAD if a.marked_lead else role, a) for a in names]
    return entries or None


def parse_verbal(v: View, i: int, j: int, lex: Mappings) -> list[m.NoteEntry] | None:
    """Entries of 'X、Y按职责分工负责' / 'X牵头负责，Y配合' within v.s[i:j]."""
    entries, state, pending = [], {}, []
    for a, b in _split_top(v.s[i:j], ",;"):
        a, b = i + a, i + b
        while b > a and v.s[b - 1] in " 。.":
            b -= 1
        clause = v.s[a:b]
        verb = next((w for w in lex.responsibility_verbs if clause.endswith(w) and len(clause) > len(w)), None)
        if verb is None:
            return None
        names = split_names(v, a, b - len(verb), lex, state)
        if names is None:
            return None
        role = lex.responsibility_verbs[verb]
        entries += [m.NoteEntry(m.LEAD if x.marked_lead else role, x) for x in pending + names]
        pending = []
    return entries or None


def parse_bare(v: View, i: int, j: int, lex: Mappings) -> list[m.NoteEntry] | None:
    """（市工信局、市财政局、市科技局） at the end of a measure: a list of units and nothing else,
    read as a 责任单位 list. Every item must end like an organ's name or be a collective."""
    names = split_names(v, i, j, lex, {})
    if not names or not all(lex.has_organ_suffix(re.sub(r"\([^)]*\)$", "", fold(x.written))) or x.collective
                            for x in names):
        return None
    if not any(lex.has_organ_suffix(fold(x.written)) for x in names):
        return None
    return [m.NoteEntry(m.RESPONSIBLE, x) for x in names]


def _paren_groups(s: str) -> list[tuple[int, int]]:
    """(open, close) indexes of top-level (...) groups."""
    out, depth, start = [], 0, -1
    for i, c in enumerate(s):
        if c == "(":
            if depth == 0:
                start = i
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i))
    return out


def notes_in_block(v: View, lex: Mappings) -> list[m.ResponsibilityNote]:
    notes = []
    s = v.s
    for a, b in _paren_groups(s):
        at_end = not s[b + 1:].strip(" 。.;,")
        entries = parse_labelled(v, a + 1, b, lex)
        form = "labelled"
        if entries is None and at_end:
            entries, form = parse_verbal(v, a + 1, b, lex), "verb"
        if entries is None and at_end:
            entries, form = parse_bare(v, a + 1, b, lex), "bare"
        if entries:
            sp = v.source_span(a, b + 1)
            notes.append(m.ResponsibilityNote(sp, v.text.string[sp.start:sp.end], entries, form))
    if notes:
        return notes
    # a line of its own: 责任单位：X / 分工。牵头部门：X / 3.分工。牵头部门：X
    h = lex.responsibility_keyword_re.search(s)
    if h and (h.start() == 0 or _only_part_label(s[:h.start()], lex)):
        entries = parse_labelled(v, h.start(), len(s), lex)
        if entries:
            sp = v.source_span(h.start(), len(s.rstrip(" 。.")))
            notes.append(m.ResponsibilityNote(sp, v.text.string[sp.start:sp.end], entries, "line"))
    return notes


def _only_part_label(prefix: str, lex: Mappings) -> bool:
    """True for what may stand before a labelled line: a number and a part label (3.分工。)."""
    p = re.sub(r"^\s*([0-9]{1,2}[.、]|\([0-9一二三四五六七八九十]+\)|[一二三四五六七八九十]+、)?\s*", "", prefix)
    return p.rstrip("。.: ") in lex.measure_parts or not p.strip()


def find_notes(text: Text, span: Span, lex: Mappings) -> list[m.ResponsibilityNote]:
    out = []
    for v in blocks_in(text, span):
        out += notes_in_block(v, lex)
    return out


def has_note(text: Text, span: Span, lex: Mappings) -> bool:
    return bool(find_notes(text, span, lex))


def find_lead_rule(text: Text, span: Span, lex: Mappings) -> tuple[str, Span] | None:
    """The sentence by which the document says which unit of a list leads, if it says so."""
    v = text.view(span.start, span.end)
    for p in lex.lead_rules:
        mt = p.search(v.s)
        if mt:
            sp = v.source_span(mt.start(), mt.end())
            return text.string[sp.start:sp.end], sp
    return None


def assign(nodes: list[m.Node], text: Text, lex: Mappings, rule: bool) -> None:
    """Find each node's notes and resolve its lead and co units (with how the lead was found)."""
    for n in nodes:
        _assign(n, text, lex, rule, None)


def resolve(notes: list[m.ResponsibilityNote], inherited: m.Node | None, rule: bool) -> list[m.Assignment]:
    """Leads and co units from a node's notes: a lead named in a note; else the group's lead;
    else the first of a 责任单位 list (by the document's rule, or by list order alone)."""
    entries = [(e, n) for n in notes for e in n.entries]
    leads = [(e, n) for e, n in entries if e.role == m.LEAD]
    cos = [(e, n) for e, n in entries if e.role != m.LEAD]
    out: list[m.Assignment] = []
    if leads:
        out += [m.Assignment(e.actor, m.LEAD, m.STATED, n) for e, n in leads]
    elif inherited is not None:
        out += [m.Assignment(a.actor, m.LEAD, m.INHERITED, a.note, inherited) for a in inherited.leads]
    elif cos and cos[0][0].role == m.RESPONSIBLE:
        e, n = cos.pop(0)
        out.append(m.Assignment(e.actor, m.LEAD, m.RULE if rule else m.LIST_ORDER, n))
    seen: set[str] = set()
    for e, n in cos:  # a unit named twice (in the text and in a task table) is one co unit
        if e.actor.key not in seen:
            seen.add(e.actor.key)
            out.append(m.Assignment(e.actor, m.CO, None, n))
    return out


def assign_from_attachments(nodes: list[m.Node], text: Text, lex: Mappings, rule: bool) -> None:
    """A task-division attachment (附件：重点任务分工) written as lines: 1．task / 牵头单位：… /
    配合单位：…. A measure that names no units takes them from the item whose task matches it."""
    measures = [(fold(n.heading), n) for top in nodes for n in top.walk() if n.kind == m.MEASURE and n.heading]
    for att in (n for n in nodes if n.kind == m.ATTACHMENT):
        for heading, notes in _attachment_items(text, att.span, lex):
            score, best = max(((likeness(h, heading), n) for h, n in measures), key=lambda x: x[0],
                              default=(0.0, None))
            if best is not None and not best.assignments and score >= 0.6:
                best.notes = notes
                best.assignments = resolve(notes, None, rule)


def _attachment_items(text: Text, span: Span, lex: Mappings):
    items: list[tuple[str, list[m.ResponsibilityNote]]] = []
    for v in blocks_in(text, span):
        numbered = next((mt for st in lex.heading_styles if (mt := st.pattern.match(v.s.lstrip()))), None)
        notes = notes_in_block(v, lex)
        if numbered:
            head = v.s.lstrip()[numbered.end():]
            head = re.split(r"[。(]|牵头", head, maxsplit=1)[0].strip()
            items.append((head, notes))
        elif notes and items:
            items[-1][1].extend(notes)
    return [(h, n) for h, n in items if n]


def likeness(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b or a in b or b in a:
        return 1.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def _assign(node: m.Node, text: Text, lex: Mappings, rule: bool, inherited: m.Node | None) -> None:
    if node.kind in (m.MEASURE, m.CLAUSE, m.PHASE):
        node.notes = find_notes(text, node.span, lex)
    elif node.kind == m.GROUP:
        node.notes = find_notes(text, node.own_span, lex)
    node.assignments = resolve(node.notes, inherited if node.kind in (m.MEASURE, m.CLAUSE, m.GROUP) else None,
                               rule)
    nxt = node if (node.kind == m.GROUP and node.leads) else inherited
    for c in node.children:
        _assign(c, text, lex, rule, nxt)
