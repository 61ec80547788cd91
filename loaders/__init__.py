"""Readers: one registry from media type to a function SourceDocument -> Text."""

from . import html_page, pdf, plaintext, word  # noqa: F401  (each registers its reader)
from .registry import available, read_text, reader_for, register

__all__ = ["available", "read_text", "reader_for", "register"]
