"""Readers: one registry from media type to a function bytes -> Text."""

from . import plaintext  # noqa: F401  (registers the text/plain reader)
from .registry import available, read_text, reader_for, register

__all__ = ["available", "read_text", "reader_for", "register"]
