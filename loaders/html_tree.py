"""A parsed HTML page as blocks: what is kept, how much text each element holds, where each
element is (an XPath locator), and the walk that turns elements into paragraphs and tables.

Knows HTML, not portals: scripts, hidden elements (by attribute, inline style or a class the
page's own style sheet hides) and anything the caller marks as skipped are left out; <br> and
block elements end a paragraph; tables are spread into grids with merged cells marked.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from .builder import ACROSS, DOWN, Merged, clean
from .portal import han

_JUNK = frozenset({"script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed",
                   "applet", "svg", "canvas", "math", "button", "select", "input", "textarea", "option",
                   "nav", "aside", "head", "link", "meta", "map", "audio", "video"})
BLOCK = frozenset({"address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dir", "div",
                   "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
                   "h4", "h5", "h6", "header", "hr", "li", "main", "menu", "ol", "p",
                   "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
                   "ul"})
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CSS_HIDDEN = re.compile(r"([^{}]+)\{[^}]*(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
_SEPARATORS = re.compile(r"[\s|•·/>»\-—–_*=~.,，。、;；:：]+")  # a line of these alone is page furniture
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_SEGMENT_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t\r]*\n\s*(?=[{_CJK}])")  # a source line break inside CJK text
_FILE_LINK = re.compile(r"\.(pdf|docx?|wps|xlsx?|ofd|zip|rar)$", re.I)


@dataclass
class Item:
    """A paragraph, heading or table found by the walk, with the element it came from."""

    kind: str            # paragraph | heading | table
    text: str
    el: object           # the element the block came from
    rows: list | None = None


class Page:
    """The parsed page: what is skipped (the caller adds to `skip`), how much text each kept
    element holds (after `tally`), and locators."""

    def __init__(self, root):
        self.root = root
        self.tree = root.getroottree()
        self.skip: set = set()
        self.count: dict = {}  # element -> (Han characters, of which in links), for kept elements
        self.ids = Counter(e.get("id") for e in root.iter(etree.Element) if e.get("id"))
        # classes the page's own style sheets hide: .hide{display:none}
        self.hidden = {m.group(1) for style in root.iter("style") for rule in _CSS_HIDDEN.finditer(style.text_content())
                       for sel in rule.group(1).split(",") if (m := re.fullmatch(r"\s*\.([\w-]+)\s*", sel))}

    def keeps(self, el) -> bool:
        return (isinstance(el.tag, str) and el.tag not in _JUNK and el not in self.skip
                and el.get("hidden") is None and not _HIDDEN.search(el.get("style", ""))
                and not (self.hidden and self.hidden.intersection(el.get("class", "").split())))

    def tally(self, el) -> tuple[int, int]:
        """Han characters under a kept element, and how many of them are link text."""
        total = han(el.text)
        for c in el:
            if self.keeps(c):
                total += self.tally(c)[0]
            total += han(c.tail)
        linked = total if el.tag == "a" else sum(self.count[c][1] for c in el if c in self.count)
        self.count[el] = (total, linked)
        return total, linked

    def plain(self, el) -> int:
        total, linked = self.count.get(el, (0, 0))
        return total - linked

    def locator(self, el) -> str:
        """An XPath to the element, short when an ancestor has an id of its own."""
        path = self.tree.getpath(el)
        for anc in (el, *el.iterancestors()):
            i = anc.get("id")
            if i and self.ids[i] == 1 and re.fullmatch(r"[\w.:-]+", i):
                return f"//{anc.tag}[@id='{i}']" + path[len(self.tree.getpath(anc)):]
        return path


class Walker:
    """An element's content as paragraphs and tables, in document order.

    tables: grid (data tables as tables, layout tables as paragraphs), cells (every cell a
    paragraph) or flat (every row a paragraph: a table nested in a cell).
    """

    def __init__(self, page: Page, tables: str = "grid"):
        self.page, self.tables = page, tables
        self.items: list[Item] = []
        self.images: list = []
        self.files: list[str] = []  # names of linked attachments (.pdf, .docx …)
        self._buf: list[str] = []
        self._stack: list = []
        self._start = None
        self._heading = False

    def inside(self, el, block: bool = True) -> Walker:
        """Walk el's content; a block element's text ends with it."""
        self._stack.append(el)
        self._text(el.text)
        for c in el:
            self.walk(c)
            self._text(c.tail)
        self._stack.pop()
        if block:
            self._flush()
        return self

    def walk(self, el) -> None:
        if not self.page.keeps(el):
            return
        if el.tag == "br":
            self._flush()
        elif el.tag == "img":
            self.images.append(el)
        elif el.tag == "table" and self.tables != "cells":
            self._flush()
            self._table(el)
        else:
            if el.tag == "a" and _FILE_LINK.search(el.get("href", "").split("?")[0]):
                self.files.append(clean(el.text_content()) or el.get("href"))
            if el.tag in BLOCK:
                self._flush()
            self.inside(el, el.tag in BLOCK)

    def _text(self, s: str | None) -> None:
        if not s:
            return
        lines = s.split("\n") if any(e.tag == "pre" for e in self._stack) else [s]
        for k, line in enumerate(lines):
            if k:
                self._flush()
            if not self._buf and not line.strip():
                continue
            if not self._buf:
                self._start = next((e for e in reversed(self._stack) if e.tag in BLOCK), self._stack[0])
                self._heading = any(e.tag in HEADINGS for e in self._stack)
            self._buf.append(line)

    def _flush(self) -> None:
        text = clean(_SEGMENT_BREAK.sub("", "".join(self._buf)))
        self._buf = []
        if text and (self.tables == "flat" or not _SEPARATORS.fullmatch(text)):
            self.items.append(Item("heading" if self._heading else "paragraph", text, self._start))

    def _table(self, t) -> None:
        cells = grid(t, self.page)
        if self.tables == "flat":
            for row in cells:
                self.items.append(Item("paragraph", " ".join(self._cell(c) for c in row if _is_el(c)), t))
        elif is_layout(cells, self.page):
            for row in cells:
                for c in row:
                    if _is_el(c):
                        self.inside(c)
        else:
            rows = [[c if isinstance(c, Merged) else self._cell(c) if c is not None else "" for c in row]
                    for row in cells]
            parents = {tr.getparent() for tr in t.xpath("./tr|./*/tr")}
            self.items.append(Item("table", "", parents.pop() if len(parents) == 1 else t, rows))

    def _cell(self, td) -> str:
        sub = Walker(self.page, "flat").inside(td)
        self.images += sub.images
        self.files += sub.files
        return " ".join(it.text for it in sub.items)


def _is_el(c) -> bool:
    return c is not None and not isinstance(c, Merged)


def grid(t, page: Page) -> list[list]:
    """The table's rows with merged cells spread out: the cell's element where it starts,
    DOWN below it (rowspan), ACROSS right of it (colspan), None for a missing cell."""
    rows = [tr for tr in t.xpath("./tr|./*/tr") if page.keeps(tr)]
    out, carry = [], {}  # carry: column -> (rows still covered, marker)
    for r, tr in enumerate(rows):
        row: dict[int, object] = {}
        for col, (left, mark) in list(carry.items()):
            row[col] = mark
            if left > 1:
                carry[col] = (left - 1, mark)
            else:
                del carry[col]
        col = 0
        for td in tr:
            if td.tag not in ("td", "th") or not page.keeps(td):
                continue
            while col in row:
                col += 1
            cs = _span(td.get("colspan"), 50)
            rs = _span(td.get("rowspan"), len(rows) - r)
            row[col] = td
            for k in range(cs):
                if k:
                    row[col + k] = ACROSS
                if rs > 1:
                    carry[col + k] = (rs - 1, DOWN if k == 0 else ACROSS)
            col += cs
        out.append([row.get(c) for c in range(max(row) + 1)] if row else [])
    return out


def _span(value: str | None, limit: int) -> int:
    try:
        n = int((value or "1").strip())
    except ValueError:
        return 1
    return limit if n == 0 else max(1, min(n, limit))


def is_layout(rows: list[list], page: Page) -> bool:
    """A table that lays out a page rather than holding data: one row or one column, or a
    cell of running text (a heading, 400+ characters, or many paragraphs)."""
    if len(rows) <= 1 or max(len(r) for r in rows) <= 1:
        return True
    for c in (c for row in rows for c in row if _is_el(c)):
        chars = page.count.get(c, (han(c.text_content()), 0))[0]
        blocks = len(c.xpath(".//p|.//div|.//br|.//li"))
        if chars >= 400 or (blocks >= 6 and chars >= 150) or c.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"):
            return True
    return False


