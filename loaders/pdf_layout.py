"""From positioned lines and tables of PDF pages to paragraphs and whole tables.

A PDF holds lines, hard-wrapped at the right margin. The lines of one paragraph are joined
by their layout; a new paragraph begins where a line is indented (Chinese paragraphs start
two characters in), opens with a heading number (一、 （一） 1. ①), follows a line that
ended well short of the right margin or a gap wider than the line spacing, or changes font
size. A paragraph that runs on over a page break stays one paragraph. Running headers,
footers and page numbers are dropped first. A table that runs on over a page break stays
one table: its repeated header row is dropped and a row broken by the break is joined.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from .builder import ACROSS, DOWN, Cell, TextBuilder

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\u2014\u2018-\u201d\u2026\u00b7"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}])\\s+|\\s+(?=[{_CJK}])")
_NUMBERED = re.compile(r"\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十0-9]{1,3}[）)]|[0-9]{1,2}[.．、](?![0-9])"
                       r"|[①-⑳]|第[一二三四五六七八九十百0-9]+[章节条部分]|附件\s*[0-9一二三四五六七八九十]*\s*[:：]?)")
_PAGE_NUMBER = re.compile(r"[-—–－―‐\s]*\d{1,4}[-—–－―‐\s]*|第\s*\d+\s*页\s*[,，、/]?\s*(共\s*\d+\s*页)?"
                          r"|\d+\s*/\s*\d+|page\s*\d+(\s*of\s*\d+)?|共\s*\d+\s*页\s*第\s*\d+\s*页", re.I)
_BAND = 0.12            # top and bottom share of a page where running headers and footers sit
_INDENT = 1.5           # characters of indent that start a paragraph
_SHORT = 4.0            # characters short of the right margin that end a paragraph


@dataclass
class Line:
    """One line of text outside any table: its words, box and font size, in points."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class Table:
    """A ruled table: its rows (merged cells as DOWN/ACROSS) and its column edges."""

    top: float
    columns: list[float]
    rows: list[list[Cell]]


@dataclass
class Page:
    """A page's lines outside tables, top to bottom, and its tables."""

    number: int
    height: float
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def tidy(s: str) -> str:
    """A line's text without the spaces PDF extraction puts between Chinese characters (a gap
    in the layout, not a space in the text)."""
    return _CJK_SPACE.sub("", s.strip())


def join_lines(lines: list[str]) -> str:
    """Wrapped lines as one string: no space at a break, except between two Latin words."""
    out = ""
    for s in lines:
        if out and s and out[-1].isascii() and out[-1].isalnum() and s[0].isascii() and s[0].isalnum():
            out += " "
        out += s
    return out


def grid(cells: list[list[tuple[float, float, float, float] | None]], texts: list[list[str | None]],
         columns: list[float], tops: list[float]) -> list[list[Cell]]:
    """Table rows from a cell grid where a merged cell is one box and None fills the places it
    covers: a place below the box's first row is DOWN in the box's first column, else ACROSS."""
    rows: list[list[Cell]] = [["" for _ in columns] for _ in tops]
    for r, row in enumerate(cells):
        for c, box in enumerate(row):
            if box is None:
                continue
            x0, top, x1, bottom = box
            across = sum(1 for x in columns if x0 - 1 <= x < x1 - 1)
            down = sum(1 for y in tops if top - 1 <= y < bottom - 1)
            for dr in range(max(down, 1)):
                for dc in range(max(across, 1)):
                    if r + dr < len(rows) and c + dc < len(columns):
                        rows[r + dr][c + dc] = (DOWN if dc == 0 else ACROSS) if (dr or dc) else ""
            rows[r][c] = join_lines([tidy(x) for x in (texts[r][c] or "").split("\n")])
    return rows


def drop_running_lines(pages: list[Page]) -> None:
    """Remove page numbers (- 3 -, 第3页 共10页, 3/10) and lines repeated at one place on most
    pages (running headers and footers) from the top and bottom of the pages."""
    def marginal(p: Page, i: int, ln: Line) -> bool:
        return i in (0, len(p.lines) - 1) or ln.bottom <= p.height * _BAND or ln.top >= p.height * (1 - _BAND)

    seen: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for p in pages:
        for i, ln in enumerate(p.lines):
            if marginal(p, i, ln):
                seen[re.sub(r"\d+", "#", ln.text)].append((p.number, ln.top))
    need = max(2, (len(pages) + 1) // 2)
    running: set[tuple[str, int]] = set()
    for key, places in seen.items():
        at = statistics.median(t for _, t in places)
        pages_at = {n for n, t in places if abs(t - at) <= 3}
        if len(pages_at) >= need:
            running.update((key, n) for n in pages_at)
    for p in pages:
        p.lines = [ln for i, ln in enumerate(p.lines)
                   if not (marginal(p, i, ln) and (_PAGE_NUMBER.fullmatch(ln.text)
                                                   or (re.sub(r"\d+", "#", ln.text), p.number) in running))]


def assemble(pages: list[Page], builder: TextBuilder) -> None:
    """Add the pages' paragraphs and tables to the builder in reading order."""
    _Assembler(pages, builder).run()


class _Assembler:
    """One pass over the pages, with the layout measures of the whole document: the body font
    size, each page's left margin, the right margin and the usual gap between lines."""

    def __init__(self, pages: list[Page], builder: TextBuilder) -> None:
        self.pages, self.builder = pages, builder
        sizes = Counter(round(ln.size) for p in pages for ln in p.lines for _ in ln.text)
        self.body = sizes.most_common(1)[0][0] if sizes else 12
        body_lines = {p.number: [ln.x0 for ln in p.lines if abs(ln.size - self.body) < 1] for p in pages}
        everywhere = _margin([x for xs in body_lines.values() for x in xs]) or 0.0
        self.lefts = {n: _margin(xs) or everywhere for n, xs in body_lines.items()}
        rights = [max(ln.x1 for ln in p.lines) for p in pages if p.lines]
        self.right = statistics.median(rights) if rights else 0.0
        gaps = [b.top - a.bottom for p in pages for a, b in pairwise(p.lines) if b.top > a.bottom]
        self.spacing = statistics.median(gaps) if gaps else 0.0
        self.para: list[str] = []
        self.para_page, self.para_big = 0, False
        self.prev: Line | None = None
        self.prev_page = 0
        self.table: Table | None = None   # the table being read, until a line comes after it
        self.segments: list[tuple[int, int, list[list[Cell]]]] = []   # its rows on each page
        self.tables_on_page: Counter[int] = Counter()

    def run(self) -> None:
        for p in self.pages:
            items = sorted([(ln.top, 0, ln) for ln in p.lines] + [(t.top, 1, t) for t in p.tables],
                           key=lambda x: (x[0], x[1]))
            for n, (_, _, item) in enumerate(items):
                if isinstance(item, Table):
                    self.add_table(item, p.number, first_on_page=n == 0)
                else:
                    self.add_line(item, p.number)
        self.flush_paragraph()
        self.flush_table()

    def add_table(self, t: Table, page: int, first_on_page: bool) -> None:
        """Add a table. A table that opens a page with the columns of the table that closed
        the page before runs on from it: its repeated header row is dropped, and a first row
        with an empty first cell is the rest of a row broken by the page break."""
        self.flush_paragraph()
        self.tables_on_page[page] += 1
        where = (page, self.tables_on_page[page])
        if self.table is not None and first_on_page and _same_columns(self.table, t):
            rows = t.rows[1:] if t.rows and t.rows[0] == self.table.rows[0] else list(t.rows)
            last = self.segments[-1][2]
            if rows and last and rows[0][0] == "" and isinstance(last[-1][0], str) and last[-1][0]:
                last[-1] = [_continue_cell(a, b) for a, b in zip(last[-1], rows.pop(0), strict=True)]
            self.segments.append((*where, rows))
            return
        self.flush_table()
        self.table, self.segments = t, [(*where, list(t.rows))]

    def add_line(self, ln: Line, page: int) -> None:
        self.flush_table()
        if self.prev is None or self.starts_paragraph(ln, page):
            self.flush_paragraph()
            self.para_page, self.para_big = page, ln.size >= self.body * 1.15
        self.para.append(ln.text)
        self.prev, self.prev_page = ln, page

    def starts_paragraph(self, ln: Line, page: int) -> bool:
        prev, size = self.prev, ln.size
        same_page = page == self.prev_page
        gap = ln.top - prev.bottom if same_page else 0.0
        wide_gap = gap > self.spacing + 0.6 * size
        if abs(size - prev.size) > 0.1 * max(size, prev.size) or _NUMBERED.match(ln.text):
            return True
        if size >= self.body * 1.15:
            return not same_page or wide_gap  # a title in a larger font, wrapped onto another line
        if ln.x0 - self.lefts[page] >= _INDENT * size:
            return True
        return prev.x1 < self.right - _SHORT * prev.size or wide_gap

    def flush_paragraph(self) -> None:
        if self.para:
            self.builder.paragraph(join_lines(self.para), kind="heading" if self.para_big else "paragraph",
                                   page=self.para_page, locator=f"page[{self.para_page}]")
        self.para, self.prev = [], None

    def flush_table(self) -> None:
        for page, n, rows in self.segments:
            self.builder.table(rows, page=page, locator=f"page[{page}]/table[{n}]")
        self.table, self.segments = None, []


def _continue_cell(before: Cell, after: Cell) -> Cell:
    """A cell of a row broken by a page break: its text on the first page, then on the next."""
    if isinstance(before, str) and isinstance(after, str):
        return join_lines([x for x in (before, after) if x])
    return before


def _same_columns(a: Table, b: Table) -> bool:
    return len(a.columns) == len(b.columns) and all(abs(x - y) <= 2 for x, y in zip(a.columns, b.columns, strict=True))


def _margin(xs: list[float]) -> float | None:
    """The left margin: the leftmost x at which at least two lines start."""
    counts = Counter(round(x) for x in xs)
    shared = [x for x in xs if counts[round(x)] >= 2]
    return min(shared) if shared else None
