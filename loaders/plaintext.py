"""Plain-text reader: bytes in any encoding Chinese plans come in -> Text with one block a line.

Encodings: UTF-8 (with or without BOM), UTF-16/32 with BOM, UTF-16 without BOM, GB18030
(a superset of GBK and GB2312), Big5. A declared encoding is used as is and a mismatch is
an error that says where the bytes stop making sense.
"""
from __future__ import annotations

import codecs
import re

from policykg.errors import EmptyDocumentError, EncodingError, SourceError
from policykg.source import SourceDocument
from policykg.tables import row_separator
from policykg.text import Block, Text

from .registry import register

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_LINE = re.compile(r"[^\r\n]+")
_PARAGRAPH_END = "。！？；：」”）)!?;:"
_NUMBERED = re.compile(r"[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十0-9]+[）)]|[0-9]{1,2}[.．、](?![0-9])|[①-⑳]|第[一二三四五六七八九十]+[章条部]")
_IMPLAUSIBLE = re.compile(r"[\u3040-\u30ff\ufe10-\ufe4f\u2500-\u257f\ue000-\uf8ff]")


def decode(data: bytes, declared: str | None = None, path: str | None = None) -> tuple[str, str]:
    """(text, encoding used). Raises EncodingError naming the file when nothing fits."""
    if declared:
        try:
            codecs.lookup(declared)
        except LookupError:
            raise EncodingError(path, f"unknown encoding {declared!r}",
                                "use a Python codec name such as utf-8, gb18030, utf-16 or big5") from None
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError as e:
            raise EncodingError(path, f"not valid {declared}: {e.reason} at byte {e.start}",
                                "check the declared encoding, or leave it out to let policykg detect it",
                                offset=e.start) from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as e:
                raise EncodingError(path, f"starts with a {enc} byte-order mark but is not valid {enc} "
                                    f"({e.reason} at byte {e.start})", offset=e.start) from None
    if b"\x00" in data[:4096]:
        even, odd = data[0:4096:2].count(0), data[1:4096:2].count(0)
        for enc, ok in (("utf-16-le", odd > 3 * max(even, 1)), ("utf-16-be", even > 3 * max(odd, 1))):
            if ok:
                try:
                    return data.decode(enc), enc
                except UnicodeDecodeError:
                    pass
        raise SourceError(path, "binary data, not text (it holds NUL bytes)",
                          "give the plan as a text file; Word and PDF readers are separate")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            candidates.append((data.decode(enc), enc))
        except UnicodeDecodeError:
            continue
    if candidates:
        # Big5 bytes often decode as GB18030 too, into kana and vertical forms no plan holds
        return min(candidates, key=lambda c: len(_IMPLAUSIBLE.findall(c[0])))
    from charset_normalizer import from_bytes as detect  # slow; only for the rare odd file

    best = detect(data).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EncodingError(path, f"not text in UTF-8, UTF-16, GB18030 or Big5 (undecodable byte at {e.start})",
                            "convert it to UTF-8, or name its encoding with --encoding", offset=e.start) from None
    raise AssertionError("unreachable")


def lines_to_blocks(s: str) -> tuple[Block, ...]:
    """One block per paragraph: a non-blank line, trimmed of surrounding white space; in a text
    hard-wrapped at a fixed width (copied from a PDF), the lines of one paragraph are one block.
    A table row (`| a | b |`, or cells between tabs) is a block of its own."""
    lines = []
    for m in _LINE.finditer(s):
        a, b = m.start(), m.end()
        while a < b and s[a].isspace():
            a += 1
        while b > a and s[b - 1].isspace():
            b -= 1
        if b > a:
            lines.append((a, b))
    width = wrap_width([b - a for a, b in lines if not _is_row(s, a, b)])
    blocks: list[list] = []
    joinable, depth, held = False, 0, 0
    for a, b in lines:
        row = _is_row(s, a, b)
        if not row and (joinable or (depth > 0 and held < 3)) and not _NUMBERED.match(s, a):
            blocks[-1][1] = b
            held += 1
        else:
            blocks.append([a, b, "table_row" if row else "paragraph"])
            depth, held = 0, 0
        if row:
            joinable = False
            continue
        depth += _depth(s[a:b])  # a paragraph does not end inside an open bracket （责任单位：…
        joinable = width is not None and b - a >= width - 2 and s[b - 1] not in _PARAGRAPH_END
    return tuple(Block(a, b, kind) for a, b, kind in blocks)


def _is_row(s: str, a: int, b: int) -> bool:
    return row_separator(s[a:b]) is not None


def _depth(line: str) -> int:
    return line.count("（") + line.count("(") - line.count("）") - line.count(")")


def wrap_width(lengths: list[int]) -> int | None:
    """The width a text is hard-wrapped at, or None when its lines are whole paragraphs:
    wrapped text has many lines of one same (maximal) length."""
    long = [n for n in lengths if n >= 20]
    if len(long) < 10:
        return None
    width = max(set(long), key=lambda n: (sum(1 for x in long if abs(x - n) <= 1), n))
    at_width = sum(1 for x in long if abs(x - width) <= 1)
    if at_width < 0.4 * len(long) or any(x > width + 2 for x in long):
        return None
    return width


@register("text/plain")
def read_plain_text(source: SourceDocument) -> Text:
    string, encoding = decode(source.data, source.encoding, source.path)
    if string.startswith("\ufeff"):
        string = string[1:]
    if not string.strip():
        raise EmptyDocumentError(source.path, "the file holds only white space")
    controls = len(_CONTROL.findall(string[:20000]))
    if controls > max(3, len(string[:20000]) // 100):
        raise SourceError(source.path, f"binary data, not text ({controls} control characters "
                          f"after decoding as {encoding})", "give the plan as a text file")
    return Text(string=string, blocks=lines_to_blocks(string), name=source.name,
                media_type=source.media_type, sha256=source.sha256, encoding=encoding)
