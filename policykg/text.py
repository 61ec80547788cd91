"""Stage 2's output: one immutable string, its blocks, and a folded view for matching.

Annotations everywhere are character offsets into `Text.string`, the text as read (BOM
removed, nothing else changed). Matching runs on a folded view: NFKC (full-width to
half-width), traditional to simplified (OpenCC t2s), and the genre's bracket and dash
variants unified. Folding can change lengths (NFKC turns ㈠ into (一)), so the view keeps
a map from each folded character back to the source character it came from.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import opencc

# Characters NFKC would flatten but whose shape carries meaning here (circled numbers
# are a heading style of their own).
_KEEP = set("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳")
_UNIFY = str.maketrans({
    "〔": "[", "〕": "]", "［": "[", "］": "]", "﹝": "[", "﹞": "]", "【": "[", "】": "]",
    "—": "-", "–": "-", "－": "-", "―": "-", "‐": "-", "−": "-", "~": "-", "〜": "-",
    "\u00a0": " ", "\u3000": " ", "\t": " ",
    "〈": "<", "〉": ">",
})
_t2s = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _KEEP:
        return ch
    return unicodedata.normalize("NFKC", ch).translate(_UNIFY)


def fold(s: str) -> str:
    """The folded form of a string, for comparing names and keys (no offsets kept)."""
    return _to_simplified("".join(_fold_char(c) for c in s))


def _to_simplified(s: str) -> str:
    out = _t2s.convert(s)
    if len(out) == len(s):
        return out
    # A phrase rule changed the length: convert character by character so offsets hold.
    return "".join(c2 if len(c2 := _t2s.convert(c)) == 1 else c for c in s)


@dataclass(frozen=True)
class Block:
    """A paragraph (or, from richer readers, a heading or table row) of the text.

    kind: paragraph | heading | table_row. A table row is written `| cell | cell |` (see
    loaders/builder.py). page: the 1-based page a PDF block starts on. locator: where the
    block sits in the source file, in the reader's terms (`body/p[12]`, `table[2]/tr[3]`).
    """

    start: int
    end: int
    kind: str = "paragraph"
    page: int | None = None
    locator: str | None = None


@dataclass(frozen=True)
class Span:
    """Half-open character range [start, end) in Text.string."""

    start: int
    end: int

    def __post_init__(self):
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}-{self.end}")


@dataclass(frozen=True, eq=False)
class Text:
    """The text as read, its blocks, and the reader's notes about it."""

    string: str
    blocks: tuple[Block, ...]
    name: str = "<data>"
    media_type: str = "text/plain"
    sha256: str = ""
    encoding: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: indexes of blocks that are rows of a table read as data (policykg/tables.py): passages
    #: over whole blocks skip them, so a table's figures are not read again as running text
    data_rows: frozenset[int] = frozenset()

    def __post_init__(self):
        for b in self.blocks:
            if not 0 <= b.start <= b.end <= len(self.string):
                raise ValueError(f"block {b.start}-{b.end} outside text of length {len(self.string)}")

    def __getitem__(self, span: Span) -> str:
        return self.string[span.start:span.end]

    @cached_property
    def _folding(self) -> tuple[str, list[int], list[int]]:
        parts = list(map(_fold_char, self.string))
        if all(len(f) == 1 for f in parts):   # the usual case: one folded character each
            same = list(range(len(self.string) + 1))
            return _to_simplified("".join(parts)), same, same
        src_of: list[int] = []
        fold_of: list[int] = []
        n = 0
        for i, f in enumerate(parts):
            fold_of.append(n)
            src_of.extend([i] * len(f))
            n += len(f)
        fold_of.append(n)
        src_of.append(len(self.string))
        return _to_simplified("".join(parts)), src_of, fold_of

    @property
    def folded(self) -> str:
        return self._folding[0]

    def view(self, start: int, end: int) -> View:
        """The folded view of source range [start, end)."""
        folded, src_of, fold_of = self._folding
        a, b = fold_of[start], fold_of[end]
        return View(folded[a:b], a, self)

    def block_views(self) -> list[View]:
        return [self.view(b.start, b.end) for b in self.blocks]


@dataclass(frozen=True)
class View:
    """A slice of the folded text; `s` is what patterns match, `source_span` maps back."""

    s: str
    base: int  # offset of s[0] in the whole folded text
    text: Text

    def source_span(self, i: int, j: int) -> Span:
        """Source span of folded-local range [i, j)."""
        src_of = self.text._folding[1]
        if j <= i:
            p = src_of[self.base + i]
            return Span(p, p)
        return Span(src_of[self.base + i], src_of[self.base + j - 1] + 1)

    @property
    def span(self) -> Span:
        return self.source_span(0, len(self.s))

    def source(self, i: int = 0, j: int | None = None) -> str:
        """The source text (as written) of folded-local range [i, j)."""
        sp = self.source_span(i, len(self.s) if j is None else j)
        return self.text.string[sp.start:sp.end]

    def sub(self, i: int, j: int) -> View:
        return View(self.s[i:j], self.base + i, self.text)
