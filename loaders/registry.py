"""One registry from media type to reader. A reader is a function SourceDocument -> Text."""
from __future__ import annotations

from collections.abc import Callable

from policykg.errors import UnsupportedFormatError
from policykg.source import SourceDocument
from policykg.text import Text

Reader = Callable[[SourceDocument], Text]
_READERS: dict[str, Reader] = {}


def register(media_type: str):
    """Decorator: make `fn` the reader of `media_type`."""
    def deco(fn: Reader) -> Reader:
        _READERS[media_type] = fn
        return fn
    return deco


def available() -> list[str]:
    return sorted(_READERS)


def reader_for(source: SourceDocument) -> Reader:
    try:
        return _READERS[source.media_type]
    except KeyError:
        problem = {
            "text/html": "this is an HTML page, not plain text; the HTML reader is not written yet "
                         "(save the page as text, or wait for the HTML loader)",
        }.get(source.media_type, "")
        raise UnsupportedFormatError(source.path, source.media_type, available(), problem) from None


def read_text(source: SourceDocument) -> Text:
    """Read a source with the reader registered for its media type."""
    return reader_for(source)(source)
