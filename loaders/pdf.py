"""PDF reader: a PDF with a text layer -> Text, paragraphs and tables with their page numbers.

Every block carries the 1-based page it starts on: `page=`, locator `page[3]` for a
paragraph, `page[3]/table[1]/tr[2]` for a table row. Lines are joined into paragraphs, and
running headers, footers and page numbers dropped, by layout (pdf_layout.py). Ruled tables
(pdfplumber's find_tables) are read row by row, merged cells written 〃 (merged down) or
empty (merged across), and their text is not read again as paragraphs; a table running on
over a page break goes on with the rows of the next page, its repeated header row left out
and a row broken by the break joined.

A PDF without a text layer (a scan), one whose fonts have no Unicode mapping (pdfminer
reads `(cid:123)`), an encrypted, damaged or overlong one is a SourceError naming the file
and saying what to do.
"""
from __future__ import annotations

import io
import logging
import re
import statistics

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdftypes import resolve1
from pdfplumber.utils.exceptions import PdfminerException

from policykg.errors import EmptyDocumentError, PolicyKGError, SourceError
from policykg.source import SourceDocument
from policykg.text import Text

from .builder import TextBuilder
from .pdf_layout import Line, Page, Table, assemble, drop_running_lines, grid, tidy
from .registry import register

#: Most pages policykg reads from one PDF. Plans run to tens of pages.
MAX_PAGES = 500
#: Share of characters without a Unicode mapping above which the text counts as undecodable.
MAX_UNDECODABLE = 0.05
# pdfminer logs what it finds odd in a file; with no logging set up, Python would print it.
logging.getLogger("pdfminer").addHandler(logging.NullHandler())
_CID = re.compile(r"\(cid:\d+\)")
_OCR = "run OCR on it first (e.g. ocrmypdf -l chi_sim IN.pdf OUT.pdf) and give the OCR'd PDF"


@register("application/pdf")
def read_pdf(source: SourceDocument) -> Text:
    """The text of a PDF, page by page.

    Raises SourceError naming the file when the PDF is damaged, encrypted, has more than
    MAX_PAGES pages or text that cannot be decoded; EmptyDocumentError when it has no text
    layer (a scan: run OCR first) or no text at all.
    """
    builder = TextBuilder()
    try:
        with pdfplumber.open(io.BytesIO(source.data)) as pdf:
            count = _page_count(pdf)
            if count > MAX_PAGES:
                raise SourceError(source.path, f"a PDF of {count} pages, over the {MAX_PAGES}-page limit",
                                  "a plan runs to tens of pages; split the file (qpdf --pages) or check "
                                  "that it is really a policy document")
            pages, images, undecodable, chars = [], [], 0, 0
            for page in pdf.pages:
                read, n_images, n_undecodable, n_chars = _read_page(page, source)
                pages.append(read)
                images.append(n_images)
                undecodable, chars = undecodable + n_undecodable, chars + n_chars
                page.close()
    except PolicyKGError:
        raise
    except PdfminerException as e:
        raise _open_error(source, e.args[0] if e.args else e) from None
    except Exception as e:  # noqa: BLE001 - a parser of untrusted input: every failure is a damaged file
        raise _open_error(source, e) from None
    _check_text(source, pages, images, undecodable, chars)
    if undecodable:
        builder.notes.append(f"{undecodable} characters in fonts without a Unicode mapping were left out")
    for p, n_images in zip(pages, images, strict=True):
        if n_images and not p.lines and not p.tables:
            builder.notes.append(f"page {p.number} has no text layer, only an image: its text is missing "
                                 "(run OCR on the PDF to read it)")
    drop_running_lines(pages)
    assemble(pages, builder)
    return builder.build(source)


def _page_count(pdf) -> int:
    """The page count the document declares (before any page is parsed), else the pages found."""
    try:
        count = resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"])
        if isinstance(count, int):
            return count
    except (KeyError, TypeError, AttributeError):
        pass
    return len(pdf.pages)


def _read_page(page, source: SourceDocument) -> tuple[Page, int, int, int]:
    """(the page's lines and tables, its image count, its undecodable and all characters)."""
    number = page.page_number
    try:
        chars = [c for c in page.chars if c["text"].strip()]
        undecodable = sum(1 for c in chars if _CID.fullmatch(c["text"]))
        tables = _tables(page)
        boxes = [b for b, _ in tables]

        def keep(obj) -> bool:
            if obj.get("object_type") != "char":
                return True
            if _CID.fullmatch(obj["text"]):
                return False
            x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
            return not any(b[0] - 1 <= x <= b[2] + 1 and b[1] - 1 <= y <= b[3] + 1 for b in boxes)

        lines = []
        for ln in page.filter(keep).extract_text_lines(return_chars=True):
            text = tidy(ln["text"])
            sizes = [c["size"] for c in ln["chars"] if c["text"].strip()]
            if text and sizes:
                lines.append(Line(text, ln["x0"], ln["x1"], ln["top"], ln["bottom"], statistics.median(sizes)))
        result = Page(number, float(page.height), lines, [t for _, t in tables])
        return result, len(page.images), undecodable, len(chars)
    except Exception as e:  # noqa: BLE001 - pdfminer fails in many ways on a damaged page
        cause = e.args[0] if isinstance(e, PdfminerException) and e.args else e
        raise SourceError(source.path, f"a damaged PDF: page {number} cannot be read ({_describe(cause)})",
                          "open it in a PDF viewer and save or print it as a new PDF, or get the file again") from None


def _tables(page) -> list[tuple[tuple[float, float, float, float], Table]]:
    """The ruled tables of a page with their boxes; a box drawn round text is no table."""
    tables = []
    for t in page.find_tables():
        rows = t.rows
        columns = sorted({box[0] for r in rows for box in r.cells if box})
        if len(columns) < 2:
            continue
        texts = [[_CID.sub("", x) if x else x for x in row] for row in t.extract()]
        cells = grid([r.cells for r in rows], texts, columns, [r.bbox[1] for r in rows])
        tables.append((t.bbox, Table(t.bbox[1], columns, cells)))
    return tables


def _check_text(source: SourceDocument, pages: list[Page], images: list[int], undecodable: int, chars: int) -> None:
    if chars == 0:
        n = len(pages)
        if sum(images):
            raise EmptyDocumentError(source.path, f"the PDF has no text layer ({n} page{'s' * (n != 1)}, "
                                     "images only: a scan)", _OCR)
        raise EmptyDocumentError(source.path, f"the PDF holds no text ({n} page{'s' * (n != 1)}, "
                                 "no text layer and no images)", "if its text is drawn as shapes, " + _OCR)
    if undecodable > MAX_UNDECODABLE * chars:
        raise SourceError(source.path, f"the text cannot be decoded: {undecodable} of {chars} characters are in "
                          "fonts without a Unicode mapping (they read as (cid:N))",
                          "export the PDF again from its source document, or replace its text by OCR "
                          "(ocrmypdf --force-ocr -l chi_sim IN.pdf OUT.pdf) and give OUT.pdf")


def _open_error(source: SourceDocument, cause: BaseException) -> SourceError:
    if isinstance(cause, PDFPasswordIncorrect):
        return SourceError(source.path, "an encrypted PDF that needs a password to open",
                           "open it with its password and save a copy without one "
                           "(qpdf --password=PASSWORD --decrypt IN.pdf OUT.pdf)")
    if isinstance(cause, PDFEncryptionError):
        return SourceError(source.path, f"an encrypted PDF that cannot be decrypted ({_describe(cause)})",
                           "save a copy without encryption (qpdf --decrypt IN.pdf OUT.pdf)")
    return SourceError(source.path, f"a damaged or truncated PDF: it cannot be parsed ({_describe(cause)})",
                       "open it in a PDF viewer and save or print it as a new PDF, or get the file again")


def _describe(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
