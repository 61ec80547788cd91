"""Stage 1: a source document as bytes, with its media type and digest.

This is the only stage that touches files.
"""
from __future__ import annotations

import hashlib
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


def sniff_media_type(data: bytes, suffix: str = "") -> str:
    """The media type of `data`, judged from its content first and its file suffix second."""
    head = data[:1024]
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _SUFFIX_TYPES[".docx"] if suffix.lower() in ("", ".docx") else "application/zip"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in stripped[:200]:
        return "text/html"
    return _SUFFIX_TYPES.get(suffix.lower(), "text/plain")


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
