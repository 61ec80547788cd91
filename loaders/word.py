"""Word reader: a .docx -> Text, paragraphs and tables in document order.

What it reads: the body's paragraphs and tables, also inside content controls (w:sdt);
the numbers Word draws from numbering.xml (一、 （一） 1.), put in front of the paragraph
text (word_numbering.py); headings (styles Heading N / 标题 N / Title, or an outline level)
as kind "heading"; tables row by row through the TextBuilder, with vertical merges written
〃 and horizontal spans as empty cells; nested tables flattened into their cell; one-column
and layout tables (a cell holding running text) as paragraphs.

What it leaves out: headers and footers, comments, footnotes, deleted text of tracked
changes (w:del, w:moveFrom), field codes (the field's result is kept), hidden text, text
boxes and drawings, table-of-contents entries (they repeat the headings).

Locators: `body/p[12]` (the 12th paragraph of the body), `body/tbl[2]/tr[3]`, and for the
paragraphs of a layout table `body/tbl[1]/tr[1]/tc[2]/p[3]`.
"""
from __future__ import annotations

import re

from policykg.errors import EmptyDocumentError, UnsupportedFormatError
from policykg.source import DOCX, SourceDocument
from policykg.text import Text

from . import registry
from .builder import ACROSS, DOWN, Cell, TextBuilder
from .registry import register
from .word_numbering import W, Numbering, Styles, val
from .word_package import Package, encrypted_error, is_encrypted_office_file

OLE = "application/x-ole-storage"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Subtrees whose text is not what the paragraph shows: tracked deletions, field codes, the
# paragraph's properties (its tab stops), drawings and text boxes (mc:AlternateContent holds
# a text box twice, as DrawingML and as VML).
_SKIP = {W + t for t in ("del", "moveFrom", "instrText", "delInstrText", "pPr", "drawing", "pict", "object")
         } | {_MC + "AlternateContent"}
_CHARS = {W + "tab": "\t", W + "ptab": "\t", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}
_CONTAINERS = {W + "sdt", W + "sdtContent", W + "customXml", W + "smartTag"}
# A cell with this many paragraphs and characters holds running text: the table is for layout.
_LAYOUT_PARAGRAPHS, _LAYOUT_CHARS = 5, 300


@register(DOCX)
def read_docx(source: SourceDocument) -> Text:
    """The text of a Word file.

    Raises SourceError naming the file when it is not a zip, a damaged or truncated one, a
    zip bomb, no Word document, password-protected or not well-formed; EmptyDocumentError
    when its body holds no text.
    """
    package = Package(source)
    styles = Styles(package.styles)
    builder = TextBuilder()
    body = package.document.find(W + "body")
    _Walker(styles, Numbering(package.numbering, styles), builder).blocks(body, "body")
    if not len(builder):
        raise EmptyDocumentError(source.path, "a Word file with no text in its body",
                                 "if the plan is pasted into it as a picture or scan, run OCR on it first; "
                                 "text in text boxes, headers and footers is not read")
    return builder.build(source)


@register(OLE, refuses=True)
def read_ole(source: SourceDocument) -> Text:
    """Old-style Office files (.doc .wps .xls) and password-protected Word files share one
    container, OLE. Neither can be read: raises SourceError saying which it is and what to do."""
    if is_encrypted_office_file(source.data):
        raise encrypted_error(source)
    head = source.data[:1 << 20]
    if "WordDocument".encode("utf-16-le") in head:
        problem = "an old-style Word file (.doc or .wps), which policykg does not read; save it as .docx"
    elif any(s.encode("utf-16-le") in head for s in ("Workbook", "Book")):
        problem = "an old-style Excel workbook (.xls); save the sheet as a Word table or as text with | between cells"
    else:
        problem = "an old-style Office file (an OLE compound file), which policykg does not read; save it as .docx"
    problem += " (in LibreOffice: soffice --headless --convert-to docx FILE)"
    raise UnsupportedFormatError(source.path, OLE, registry.available(), problem)


class _Walker:
    """One pass through the document: counters of the numbering run in document order."""

    def __init__(self, styles: Styles, numbering: Numbering, builder: TextBuilder) -> None:
        self.styles, self.numbering, self.builder = styles, numbering, builder

    def blocks(self, container, where: str) -> None:
        """Add the paragraphs and tables of the body, a cell or a content control."""
        counts = {"p": 0, "tbl": 0}
        for el in _block_children(container):
            tag = el.tag[len(W):]
            counts[tag] += 1
            loc = f"{where}/{tag}[{counts[tag]}]"
            if tag == "p":
                text, heading = self.paragraph(el)
                if text is not None:
                    self.builder.paragraph(text, kind="heading" if heading else "paragraph", locator=loc)
            else:
                self.table(el, loc)

    def paragraph(self, p) -> tuple[str | None, bool]:
        """(the paragraph's text with its number in front, whether it is a heading);
        text None for a table-of-contents entry."""
        ppr = p.find(W + "pPr")
        style = val(ppr, "pStyle")
        if self.styles.is_toc(style):
            return None, False
        label, suffix = self.numbering.label(ppr, style)
        text = "".join(_text(p))
        if label:  # shown even before an empty paragraph: the 序号 column of a table often is one
            end = label[-1]  # 第一条 text, A text; but 一、text, （一）text, 1.text
            gap = suffix != "nothing" and text.strip() and (end.isalpha() or (end.isascii() and end.isdigit()))
            text = label + (" " if gap else "") + text.lstrip()
        outline = val(ppr, "outlineLvl")
        heading = self.styles.is_heading(style) or (outline is not None and outline.isdigit() and int(outline) < 9)
        return text, heading

    def table(self, tbl, where: str) -> None:
        """Add a table: as rows, or as the paragraphs of its cells when it has one column or is
        a layout table."""
        rows = [list(_cells(tr)) for tr in _flat(tbl, _ROWS)]
        width = max((sum(span for _, span, _ in r) for r in rows), default=0)
        if width <= 1 or any(_holds_running_text(tc) for r in rows for tc, _, _ in r if tc is not None):
            for i, r in enumerate(rows, 1):
                for j, (tc, _, merged) in enumerate(r, 1):
                    if tc is not None and not merged:
                        self.blocks(tc, f"{where}/tr[{i}]/tc[{j}]")
            return
        grid: list[list[Cell]] = []
        for r in rows:
            cells: list[Cell] = []
            for tc, span, merged in r:
                cells.append(merged or ("" if tc is None else self.cell_text(tc)))
                cells.extend([ACROSS] * (span - 1))
            grid.append(cells)
        self.builder.table(grid, locator=where)

    def cell_text(self, tc) -> str:
        """A cell's paragraphs, one a line, with any nested table flattened into it."""
        lines = []
        for el in _block_children(tc):
            if el.tag == W + "p":
                text, _ = self.paragraph(el)
                lines.append(text or "")
            else:
                lines.extend(" ".join(self.cell_text(c) for c, _, m in _cells(tr) if c is not None and not m)
                             for tr in _flat(el, _ROWS))
        return "\n".join(lines)


def _holds_running_text(tc) -> bool:
    """A cell holding running text, many paragraphs of it: the table is for layout."""
    paragraphs = [el for el in _block_children(tc) if el.tag == W + "p"]
    return (len(paragraphs) >= _LAYOUT_PARAGRAPHS
            and sum(len("".join(_text(p)).strip()) for p in paragraphs) >= _LAYOUT_CHARS)


_BLOCKS, _ROWS, _TCS = (W + "p", W + "tbl"), (W + "tr",), (W + "tc",)


def _flat(container, tags):
    """The children of a container with one of `tags`, in order, looking through content
    controls and the like (w:sdt, w:customXml)."""
    for el in container if container is not None else ():
        if el.tag in tags:
            yield el
        elif el.tag in _CONTAINERS:
            yield from _flat(el, tags)


def _block_children(container):
    """The w:p and w:tbl of a container in order."""
    return _flat(container, _BLOCKS)


def _cells(tr):
    """(w:tc or None, grid columns it spans, DOWN/ACROSS when it continues a merged cell)."""
    trpr = tr.find(W + "trPr")
    before = trpr.find(W + "gridBefore") if trpr is not None else None
    if before is not None:  # grid columns left empty before the first cell
        yield None, _span(val(before)), None
    for tc in _flat(tr, _TCS):
        tcpr = tc.find(W + "tcPr")
        vmerge = tcpr.find(W + "vMerge") if tcpr is not None else None
        hmerge = tcpr.find(W + "hMerge") if tcpr is not None else None
        merged = None
        if vmerge is not None and (val(vmerge) or "continue") == "continue":
            merged = DOWN
        elif hmerge is not None and (val(hmerge) or "continue") == "continue":
            merged = ACROSS
        yield tc, _span(val(tcpr, "gridSpan")), merged


def _span(s: str | None) -> int:
    return min(int(s), 64) if s and s.isdigit() and int(s) > 0 else 1


def _text(el):
    """The text a run container shows, in order."""
    for c in el:
        tag = c.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == W + "t":
            yield c.text or ""
        elif tag in _CHARS:
            yield _CHARS[tag]
        elif tag == W + "sym":
            code = c.get(W + "char", "")
            if re.fullmatch(r"[0-9a-fA-F]{2,4}", code) and 0x20 <= int(code, 16) < 0xE000:
                yield chr(int(code, 16))  # symbol-font characters (F0xx) are private use: left out
        elif tag == W + "r" and _hidden(c):
            continue
        else:
            yield from _text(c)


def _hidden(run) -> bool:
    rpr = run.find(W + "rPr")
    vanish = rpr.find(W + "vanish") if rpr is not None else None
    return vanish is not None and val(vanish) not in ("0", "false", "off")

