"""Errors. One base class; each subclass carries the fields a caller needs to act on it.

Library code raises these and never prints or exits; the CLI turns them into messages and
exit codes.
"""
from __future__ import annotations


class PolicyKGError(Exception):
    """Base of every error policykg raises on purpose."""


class SourceError(PolicyKGError):
    """A source document cannot be read: the file, what is wrong, and what to do."""

    def __init__(self, path: str | None, problem: str, hint: str = "", offset: int | None = None):
        self.path = path
        self.problem = problem
        self.hint = hint
        self.offset = offset
        where = path or "<data>"
        if offset is not None:
            where += f" (byte {offset})"
        super().__init__(f"{where}: {problem}" + (f"; {hint}" if hint else ""))


class EmptyDocumentError(SourceError):
    """The source holds no text."""


class EncodingError(SourceError):
    """The bytes are not text in any encoding policykg reads, or not in the one declared."""


class UnsupportedFormatError(SourceError):
    """No reader handles this kind of file; `available` lists the media types that have one."""

    def __init__(self, path: str | None, media_type: str, available: list[str], problem: str = ""):
        self.media_type = media_type
        self.available = available
        super().__init__(
            path,
            problem or f"no reader for {media_type}",
            "readers exist for: " + ", ".join(available),
        )


class MappingError(PolicyKGError):
    """A mapping table in mappings/ is malformed: the file, the line, and what is wrong."""

    def __init__(self, table: str, line: int, problem: str):
        self.table = table
        self.line = line
        self.problem = problem
        super().__init__(f"mappings/{table}, line {line}: {problem}")


class NoContentError(PolicyKGError):
    """The text was read, but it holds nothing a policy document is made of."""

    def __init__(self, path: str | None, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path or '<data>'}: {problem}")
