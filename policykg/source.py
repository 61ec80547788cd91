"""Stage 1: a source document as bytes, with its media type and digest.

This is the only stage that touches files.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from policykg.errors import EmptyDocumentError, SourceError

#: Largest source policykg reads, in bytes. Real plans are well under 10 MB.
MAX_BYTES = 50 * 1024 * 1024

_SUFFIX_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xhtml": "text/html",
    ".shtml": "text/html",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class SourceDocument:
    """The bytes of one document, what they are, and where they came from."""

    data: bytes
    media_type: str
    sha256: str
    path: str | None = None
    encoding: str | None = None  # declared by the caller, if any

    @property
    def name(self) -> str:
        return self.path or "<data>"


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ZIP_KINDS = (  # a member name inside the zip -> what the zip is
    ("word/document.xml", DOCX),
    ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("content.xml", "application/vnd.oasis.opendocument"),
)
_MAGIC = (  # leading bytes -> media type
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),  # .doc .wps .xls of old
    (b"{\\rtf", "application/rtf"),
    (b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
    (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"),
    (b"Rar!", "application/vnd.rar"), (b"7z\xbc\xaf", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
)
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title")
_HTML_TAG = re.compile(rb"<(html|body|head|div|p|table|meta|br|span)[\s>/]", re.I)


def sniff_media_type(data: bytes, suffix: str = "") -> str:
    """The media type of `data`, judged from its content first and its file suffix second.

    >>> sniff_media_type(b"%PDF-1.7 ...", ".txt")
    'application/pdf'
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "application/pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data, suffix)
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(_HTML_START) or (stripped.startswith((b"<?xml", b"<!--")) and b"<html" in stripped):
        return "text/html"
    if stripped.startswith(b"<") and len(_HTML_TAG.findall(data[:4096])) >= 2:  # a fragment: <div>…</div>
        return "text/html"
    return _SUFFIX_TYPES.get(suffix.lower(), "text/plain")


def _zip_kind(data: bytes, suffix: str) -> str:
    """What a zip archive is: a Word file, a spreadsheet, ... by the members it holds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        # a truncated or damaged archive: trust the suffix so the reader can say what is wrong
        return _SUFFIX_TYPES.get(suffix.lower(), "application/zip")
    for member, media_type in _ZIP_KINDS:
        if member in names:
            return media_type
    return "application/zip"


def from_bytes(data: bytes, *, media_type: str | None = None, path: str | None = None,
               encoding: str | None = None) -> SourceDocument:
    """A SourceDocument from bytes already in memory.

    >>> from_bytes("一、总体要求".encode()).media_type
    'text/plain'
    """
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise EmptyDocumentError(path, "the file is empty", "give a file that holds the plan's text")
    if len(data) > MAX_BYTES:
        raise SourceError(path, f"the file is {len(data) // (1024 * 1024)} MB, over the {MAX_BYTES // (1024 * 1024)} MB limit",
                          "split it or check that it is really a policy document")
    suffix = Path(path).suffix if path else ""
    return SourceDocument(
        data=data,
        media_type=media_type or sniff_media_type(data, suffix),
        sha256=hashlib.sha256(data).hexdigest(),
        path=path,
        encoding=encoding,
    )


def read_source(path: str | Path, *, media_type: str | None = None, encoding: str | None = None) -> SourceDocument:
    """Read one document from disk.

    Raises SourceError (or a subclass) naming the file when it is missing, unreadable,
    empty or too large.
    """
    p = Path(path)
    if p.is_dir():
        raise SourceError(str(p), "is a folder, not a file", "name the plan's file")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise SourceError(str(p), f"the file is {size // (1024 * 1024)} MB, over the {MAX_BYTES // (1024 * 1024)} MB limit",
                              "split it or check that it is really a policy document")
        data = p.read_bytes()
    except FileNotFoundError:
        raise SourceError(str(p), "no such file") from None
    except PermissionError:
        raise SourceError(str(p), "permission denied") from None
    except OSError as e:
        raise SourceError(str(p), f"cannot be read: {e.strerror or e}") from None
    return from_bytes(data, media_type=media_type, path=str(p), encoding=encoding)
