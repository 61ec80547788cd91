"""One way for every structured reader (HTML, Word, PDF) to turn what it found into a Text.

A reader adds paragraphs and tables in document order; the builder joins them into one string,
one block per paragraph or table row, separated by newlines. Tables are written the way a plan
saved as plain text writes them, so one table parser (policykg/tables.py) reads all formats:

    | 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |
    | 1 | 建设科普基地 | 市科技局 | 市教育局、市科协 | 2024年底前 |
    | 2 | 开展科普活动 | 〃 | 市科协 | 持续推进 |

- A cell's own line breaks become spaces; a `|` inside a cell becomes `｜`.
- A cell merged down from the row above (rowspan, Word's vertical merge) is written `〃`, the
  ditto mark Chinese tables use for "same as above"; the parser reads it as the cell above.
- A cell merged across from its left neighbour (colspan, Word's gridSpan) is written empty, so
  every row keeps the table's column count.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from policykg.errors import EmptyDocumentError
from policykg.source import SourceDocument
from policykg.text import Block, Text

DITTO = "〃"
_SPACE = re.compile(r"[ \t\r\n\u00a0\u3000\u200b\ufeff]+")


class Merged(enum.Enum):
    """A cell that continues a merged cell: DOWN (from the row above) or ACROSS (from the left)."""

    DOWN = "down"
    ACROSS = "across"


DOWN, ACROSS = Merged.DOWN, Merged.ACROSS
Cell = str | Merged


def clean(s: str) -> str:
    """A paragraph's text on one line: runs of white space (including full-width and
    non-breaking spaces, which the text keeps inside a line) become one space, ends trimmed.
    Chinese text has no spaces between words, so nothing of meaning is lost."""
    return _SPACE.sub(" ", s).strip()


@dataclass
class _Part:
    text: str
    kind: str
    page: int | None
    locator: str | None


class TextBuilder:
    """Collects a document's paragraphs and table rows in order, then builds its Text."""

    def __init__(self) -> None:
        self._parts: list[_Part] = []
        self.notes: list[str] = []

    def __len__(self) -> int:
        return len(self._parts)

    def paragraph(self, text: str, *, kind: str = "paragraph", page: int | None = None,
                  locator: str | None = None) -> None:
        """Add a paragraph; blank ones are skipped."""
        t = clean(text)
        if t:
            self._parts.append(_Part(t, kind, page, locator))

    def table(self, rows: list[list[Cell]], *, page: int | None = None, locator: str | None = None) -> None:
        """Add a table, one block per row. Rows whose cells are all empty are skipped; a table
        of one column is written as paragraphs (layout tables hold running text)."""
        width = max((len(r) for r in rows), default=0)
        if width == 0:
            return
        if width == 1:
            for i, r in enumerate(rows, 1):
                if r and isinstance(r[0], str):
                    self.paragraph(r[0], page=page, locator=f"{locator}/tr[{i}]" if locator else None)
            return
        for i, r in enumerate(rows, 1):
            cells = [_cell(c) for c in r] + [""] * (width - len(r))
            if not any(c and c != DITTO for c in cells):
                continue
            self._parts.append(_Part("| " + " | ".join(cells) + " |", "table_row", page,
                                     f"{locator}/tr[{i}]" if locator else None))

    def build(self, source: SourceDocument, *, encoding: str = "") -> Text:
        """The Text of everything added. Raises EmptyDocumentError naming the file when no
        text was found."""
        if not self._parts:
            raise EmptyDocumentError(source.path, "no text found in it")
        pieces, blocks, at = [], [], 0
        for p in self._parts:
            pieces.append(p.text)
            blocks.append(Block(at, at + len(p.text), p.kind, p.page, p.locator))
            at += len(p.text) + 1
        return Text(string="\n".join(pieces), blocks=tuple(blocks), name=source.name,
                    media_type=source.media_type, sha256=source.sha256, encoding=encoding,
                    notes=tuple(self.notes))


def _cell(c: Cell) -> str:
    if c is DOWN:
        return DITTO
    if c is ACROSS:
        return ""
    return clean(c).replace("|", "｜")
