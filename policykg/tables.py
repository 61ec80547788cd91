"""Tables: task-division tables (任务分工表) and indicator tables (指标表), from any reader.

Every reader writes a table's rows as blocks `| a | b |` (loaders/builder.py); plain text may
also separate cells with tabs. A table is read as data when its heading row names columns of
mappings/table_columns.tsv:

- a task-division table has a task column and a lead, co or responsible column (序号 | 重点任务
  | 牵头单位 | 配合单位 | 完成时限): each row is a measure with its units and deadline;
- an indicator table has an indicator column and year or target columns (指标 | 单位 | 2023年 |
  2024年 | 2025年): each figure under a year is a target due that year.

A cell written 〃 or 同上 repeats the cell above (a merged cell); its facts point at the cell
that states them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from policykg import model as m
from policykg import timeexpr
from policykg.lexicon import Mappings
from policykg.numerals import to_decimal
from policykg.responsibility import parse_labelled, split_names
from policykg.text import Span, Text, fold

TASKS, INDICATORS = "tasks", "indicators"
_DITTO = {"〃", "同上", "\"", "”", "''", "々"}
_YEAR_HEAD = re.compile(r"^((?:19|20)[0-9]{2})\s*年?(.*)$")
_BASELINE_WORDS = ("基期", "基数", "基准", "现状", "基础", "完成", "实际", "上年")
_EMPTY = {"", "-", "--", "/", "无", "——", "-/-"}
_BRACKET_UNIT = re.compile(r"\(([^()]{1,8})\)\s*$")


@dataclass(frozen=True)
class Cell:
    """One cell: its text as written and where it is. A ditto cell carries the cell above."""

    span: Span
    text: str


@dataclass
class Table:
    kind: str                                   # tasks | indicators
    blocks: list[int]                           # every row's block index, heading rows included
    header: list[str]                           # each column's heading as written
    columns: dict[str, list[int]]               # role -> column indexes, left to right
    years: dict[int, int] = field(default_factory=dict)   # column -> the year its figures are due
    rows: list[list[Cell]] = field(default_factory=list)  # data rows, ditto cells resolved
    row_spans: list[Span] = field(default_factory=list)

    @property
    def span(self) -> Span:
        return Span(self.row_spans[0].start, self.row_spans[-1].end) if self.row_spans else Span(0, 0)

    def cell(self, row: list[Cell], role: str) -> Cell | None:
        cols = self.columns.get(role)
        return row[cols[-1]] if cols and cols[-1] < len(row) else None


def row_separator(line: str) -> str | None:
    """What separates the cells of a table row written as text: "|" for `| a | b |` (or
    `a | b | c |`, as pages saved by scrapers write them), a tab for cells copied from a table
    (three or more), None for a line that is no row."""
    if line.count("|") >= 3 and (line.startswith("|") or line.endswith("|")) or line.count(" | ") >= 2:
        return "|"
    if line.count("\t") >= 2:
        return "\t"
    return None


def _split(text: Text, start: int, end: int) -> list[Cell] | None:
    """The cells of the row in text[start:end], or None when it is no table row."""
    s = text.string
    line = s[start:end]
    sep = row_separator(line)
    if sep is None:
        return None
    a, b = start, end
    if sep == "|":
        a += line.startswith("|")
        b -= line.endswith("|") and b > a
    cells, at = [], a
    while True:
        nxt = s.find(sep, at, b)
        stop = b if nxt < 0 else nxt
        i, j = at, stop
        while i < j and s[i] in " \u3000":
            i += 1
        while j > i and s[j - 1] in " \u3000":
            j -= 1
        cells.append(Cell(Span(i, j), s[i:j]))
        if nxt < 0:
            return cells
        at = nxt + 1


def _role(heading: str, lex: Mappings) -> str | None:
    """The column a heading names: the whole heading (less bracketed remarks) if it is a label,
    else the label it opens with."""
    h = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", fold(heading)).replace(" ", "").rstrip(":")
    if not h:
        return None
    if h in lex.table_columns:
        return lex.table_columns[h]
    for label, role in lex.table_columns.items():  # longest first
        if h.startswith(label) and len(label) >= 2:
            return role
    return None


def _year_role(heading: str) -> tuple[str, int] | None:
    """(target|baseline, year) for a heading such as 2025年, 2025年目标值, 2020年（基期）."""
    h = fold(heading).replace(" ", "")
    mt = _YEAR_HEAD.match(h)
    if not mt:
        return None
    rest = mt.group(2)
    return ("baseline" if any(w in rest for w in _BASELINE_WORDS) else "target"), int(mt.group(1))


def _heading_of(text: str, lex: Mappings) -> tuple[str, int | None] | None:
    """(role, year) a heading cell names: a column of table_columns.tsv (year None), a year
    whose figures are targets ("target", 2025), a baseline year ("baseline", None), or None."""
    if not text or text in _DITTO:
        return None
    role = _role(text, lex)
    if role is not None:
        return role, None
    yr = _year_role(text)
    if yr is None:
        return None
    kind, year = yr
    return (kind, year) if kind == "target" else (kind, None)


def _header(rows: list[list[Cell]], lex: Mappings) -> tuple[int, dict[str, list[int]], dict[int, int], list[str]]:
    """How many leading rows are headings, what each column holds, and the year columns."""
    columns: dict[str, list[int]] = {}
    years: dict[int, int] = {}
    heads: list[str] = []
    n = 0
    for row in rows[:3]:
        heads_of = [_heading_of(c.text, lex) for c in row]
        filled = sum(1 for c in row if c.text and c.text not in _DITTO)
        named = sum(1 for h in heads_of if h is not None)
        if not filled or named * 2 < filled:
            break
        n += 1
        for k, (c, h) in enumerate(zip(row, heads_of, strict=True)):
            while len(heads) <= k:
                heads.append("")
            if not c.text or c.text in _DITTO:
                continue
            heads[k] = c.text if not heads[k] else heads[k] + " " + c.text
            if h is None:
                continue
            role, year = h
            if year is not None:
                years[k] = year
            elif k not in columns.get(role, []):
                columns.setdefault(role, []).append(k)
    return n, columns, years, heads


def find(text: Text, lex: Mappings) -> list[Table]:
    """The tables of a text that are read as data: task-division and indicator tables."""
    found: list[Table] = []
    run: list[tuple[int, list[Cell]]] = []
    for i, b in enumerate([*text.blocks, None]):
        cells = _split(text, b.start, b.end) if b is not None else None
        if cells is not None and not _is_rule(cells):
            run.append((i, cells))
            continue
        if cells is not None:  # a Markdown |---|---| line inside a table
            continue
        if run:
            t = _table(text, run, lex)
            if t is not None:
                found.append(t)
            run = []
    return found


def _is_rule(cells: list[Cell]) -> bool:
    return all(re.fullmatch(r":?-{2,}:?", c.text) for c in cells if c.text) and any(c.text for c in cells)


def _table(text: Text, run: list[tuple[int, list[Cell]]], lex: Mappings) -> Table | None:
    rows = [cells for _, cells in run]
    n, columns, years, heads = _header(rows, lex)
    if n == 0:
        return None
    if "task" in columns and {"lead", "co", "responsible"} & columns.keys():
        kind = TASKS
    elif "indicator" in columns and (years or "target" in columns):
        kind = INDICATORS
    else:
        return None
    t = Table(kind, [i for i, _ in run], heads, columns, years)
    above: list[Cell] = []
    for i, cells in run[n:]:
        resolved = []
        for k, c in enumerate(cells):
            if c.text in _DITTO and k < len(above):
                c = above[k]
            resolved.append(c)
        above = resolved
        if not any(c.text for c in resolved):
            continue
        b = text.blocks[i]
        t.rows.append(resolved)
        t.row_spans.append(Span(b.start, b.end))
    return t if t.rows else None


# ---------------------------------------------------------------- task-division tables

@dataclass
class TaskRow:
    """One row of a task-division table, read."""

    number: Cell | None
    task: Cell
    groups: list[Cell]                  # category and earlier task columns, outermost first
    note: m.ResponsibilityNote | None
    deadlines: list[m.TimeExpression]
    span: Span


def task_rows(table: Table, text: Text, lex: Mappings, doc_year: int | None) -> list[TaskRow]:
    out = []
    task_cols = table.columns["task"]
    group_cols = sorted(table.columns.get("category", []) + task_cols[:-1])
    for row, span in zip(table.rows, table.row_spans, strict=True):
        task = table.cell(row, "task")
        if task is None or not task.text:
            continue
        groups = [row[k] for k in group_cols if k < len(row) and row[k].text]
        out.append(TaskRow(table.cell(row, "number"), task, groups, _note(table, row, text, lex),
                           _deadlines(table.cell(row, "deadline"), text, lex, doc_year), span))
    return out


def _note(table: Table, row: list[Cell], text: Text, lex: Mappings) -> m.ResponsibilityNote | None:
    entries: list[m.NoteEntry] = []
    state: dict = {}
    cells = []
    for role in ("lead", "responsible", "co"):
        for k in table.columns.get(role, []):
            if k >= len(row) or fold(row[k].text).strip() in _EMPTY:
                continue
            c = row[k]
            v = text.view(c.span.start, c.span.end)
            names = split_names(v, 0, len(v.s), lex, state)
            if names is None:  # 牵头：市科技局；配合：市教育局 inside one cell
                labelled = parse_labelled(v, 0, len(v.s), lex)
                if labelled:
                    entries += labelled
                    cells.append(c)
                continue
            mark = m.LEAD if role == "lead" else m.CO if role == "co" else m.RESPONSIBLE
            entries += [m.NoteEntry(m.LEAD if a.marked_lead else mark, a) for a in names]
            cells.append(c)
    if not entries:
        return None
    sp = Span(min(c.span.start for c in cells), max(c.span.end for c in cells))
    return m.ResponsibilityNote(sp, text.string[sp.start:sp.end], entries, "table")


def _deadlines(cell: Cell | None, text: Text, lex: Mappings, doc_year: int | None) -> list[m.TimeExpression]:
    """A 完成时限 cell's time: 2024年底前, 2023—2025年, 持续推进 (ongoing), and a bare year,
    which in this column is the year the task is due by."""
    if cell is None or not cell.text:
        return []
    v = text.view(cell.span.start, cell.span.end)
    out = []
    for e in timeexpr.find(v, lex, doc_year):
        if e.kind == "year":
            e = m.TimeExpression(e.span, e.text, "by", None, e.end)
        out.append(e)
    return out


# ---------------------------------------------------------------- indicator tables

def indicator_targets(table: Table, text: Text, lex: Mappings, since: int | None,
                      period_end: int | None) -> list[m.Target]:
    """The targets of an indicator table: one per figure in a year column from `since` on, or
    in a target column (due at the plan's end unless its heading names a year)."""
    out = []
    value_cols = {k: y for k, y in table.years.items() if since is None or y >= since}
    for k in table.columns.get("target", []):
        value_cols.setdefault(k, _year_in(table.header[k]) or period_end)
    for row in table.rows:
        ind = table.cell(row, "indicator")
        if ind is None or not ind.text:
            continue
        unit_cell = table.cell(row, "unit")
        indicator, bracket_unit = _indicator(ind.text)
        default_unit = (unit_cell.text if unit_cell is not None and fold(unit_cell.text) not in _EMPTY
                        else bracket_unit)
        for k, year in sorted(value_cols.items()):
            if k < len(row):
                t = _figure(row[k], text, lex, indicator, default_unit, year)
                if t is not None:
                    out.append(t)
    return out


def _year_in(heading: str) -> int | None:
    mt = re.search(r"(?:19|20)[0-9]{2}", fold(heading))
    return int(mt.group()) if mt else None


def _indicator(written: str) -> tuple[str, str | None]:
    """(indicator, unit): 公民具备科学素质的比例（%） -> (公民具备科学素质的比例, %)."""
    mt = _BRACKET_UNIT.search(fold(written))
    if mt and not re.search(r"[\u4e00-\u9fff]{3}", mt.group(1)):
        cut = written.rfind("（") if "（" in written else written.rfind("(")
        if cut > 0:
            return written[:cut].strip(), written[cut + 1:].rstrip(" ）)")
    return written.strip(), None


def _figure(cell: Cell, text: Text, lex: Mappings, indicator: str, default_unit: str | None,
            year: int | None) -> m.Target | None:
    """The target a figure cell states: 18%, ≥18, 18以上, 力争20, 1.5万."""
    v = text.view(cell.span.start, cell.span.end)
    s = v.s.strip()
    if s in _EMPTY:
        return None
    mt = lex.figure_re.search(v.s)
    if mt is None or to_decimal(mt.group("num")) is None:
        return None
    value = to_decimal(mt.group("num"))
    unit = mt.group("unit")
    unit_at = mt.start("mag") if mt.group("mag") else mt.start("unit")
    written_unit = v.source(unit_at, mt.end()) if unit else None
    if written_unit is None and mt.group("mag"):
        written_unit = v.source(mt.start("mag"), mt.end("mag")) + (default_unit or "")
    unit_text = written_unit or default_unit
    if not unit_text:
        return None
    before, after = v.s[:mt.start()], v.s[mt.end():]
    pre = next((c for c in lex.comparators if c.position == "before" and before.rstrip().endswith(c.word)), None)
    post = next((c for c in lex.comparators if c.position == "after" and after.lstrip().startswith(c.word)), None)
    comparator = (post.comparator if post else None) or (pre.comparator if pre else None)
    if comparator is None and pre is None and post is None:
        comparator = "EqualTo"
    aspirational = any(c.aspirational and c.word in before for c in lex.comparators)
    factor = lex.magnitudes.get(mt.group("mag") or "")
    if factor is None and default_unit and not unit:  # 万人 in the unit column: 1.5 -> 15000 人
        mag = next((x for x in sorted(lex.magnitudes, key=len, reverse=True) if fold(default_unit).startswith(x)), None)
        if mag and fold(default_unit)[len(mag):] in lex.target_units:
            factor, unit = lex.magnitudes[mag], fold(default_unit)[len(mag):]
    return m.Target(span=cell.span, text=cell.text, indicator=indicator, value=value, unit=unit_text,
                    comparator=comparator, aspirational=aspirational, year=year,
                    normalized_value=value * factor if factor else None,
                    normalized_unit=(unit or None) if factor else None)
