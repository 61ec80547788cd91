"""One registry from media type to reader. A reader is a function SourceDocument -> Text."""
from __future__ import annotations

from collections.abc import Callable

from policykg.errors import UnsupportedFormatError
from policykg.source import SourceDocument
from policykg.text import Text

Reader = Callable[[SourceDocument], Text]
_READERS: dict[str, Reader] = {}
_REFUSERS: set[str] = set()  # "readers" that only explain why a kind of file cannot be read

# What to tell a user who gives a file no reader handles (by the media type sniffed from its bytes).
_NO_READER = {
    "application/rtf": "an RTF file; save it as .docx or plain text",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        "an Excel workbook; save the sheet as a Word table or as text with | between cells",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "a PowerPoint file, not a plan",
    "application/vnd.oasis.opendocument": "an OpenDocument file; save it as .docx",
    "application/zip": "a zip archive that is no Word file; unpack it and give the plan inside",
    "application/vnd.rar": "a RAR archive; unpack it and give the plan inside",
    "application/x-7z-compressed": "a 7-Zip archive; unpack it and give the plan inside",
    "application/gzip": "a gzip archive; unpack it and give the plan inside",
}


def register(media_type: str, *, refuses: bool = False):
    """Decorator: make `fn` the reader of `media_type`. With `refuses`, fn only raises an error
    that tells this kind of file apart (an old .doc from a password-protected .docx) and says
    what to do; the type is then not listed among those policykg reads."""
    def deco(fn: Reader) -> Reader:
        _READERS[media_type] = fn
        if refuses:
            _REFUSERS.add(media_type)
        return fn
    return deco


def available() -> list[str]:
    """The media types policykg reads."""
    return sorted(set(_READERS) - _REFUSERS)


def reader_for(source: SourceDocument) -> Reader:
    try:
        return _READERS[source.media_type]
    except KeyError:
        problem = _NO_READER.get(source.media_type, "")
        if not problem and source.media_type.startswith("image/"):
            problem = (f"an image ({source.media_type}), not text; run OCR on it first "
                       "(for a scanned PDF: ocrmypdf IN.pdf OUT.pdf)")
        raise UnsupportedFormatError(source.path, source.media_type, available(), problem) from None


def read_text(source: SourceDocument) -> Text:
    """Read a source with the reader registered for its media type."""
    return reader_for(source)(source)
