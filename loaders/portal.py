"""What government portals put on a page around a plan, as rules over text.

The page furniture of mappings/page_furniture.tsv (breadcrumbs, page tools, counters, site
footers), and the portal's metadata fields (索引号, 发文字号, 成文日期 …) labelled as in
mappings/metadata_fields.tsv, in any of the forms portals lay them out: `[ 发文字号 ] | X`,
`发文字号：X`, or a label cell followed by a value cell.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from policykg import lexicon
from policykg.errors import MappingError
from policykg.resources import data_dir
from policykg.text import fold

_HAN = re.compile(r"[\u4e00-\u9fff]")
_NUMBERED = re.compile(r"\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十0-9]+[）)]|[0-9]+[.．、](?![0-9]))")
_ANY_LABEL = re.compile(r"(?:^|(?<=[\s|•·]))[\[【]?[\u4e00-\u9fff][\u4e00-\u9fff ]{0,7}[\]】]?\s*[:：]")


@dataclass(frozen=True)
class Furniture:
    """mappings/page_furniture.tsv: class/id patterns, line patterns and article-ending patterns."""

    attrs: tuple[re.Pattern, ...]
    lines: tuple[tuple[re.Pattern, int], ...]
    ends: tuple[tuple[re.Pattern, int], ...]


@lru_cache(maxsize=1)
def furniture() -> Furniture:
    """The page furniture table, read once. Raises MappingError naming the line of a bad row."""
    name = "page_furniture.tsv"
    folder = data_dir("mappings")
    rows = lexicon.read_table(folder, name, ["pattern", "where", "max"])
    numbers = [n for n, line in enumerate(folder.joinpath(name).read_text(encoding="utf-8").splitlines(), 1)
               if line.strip() and not line.lstrip().startswith("#")][1:]
    got: dict[str, list] = {"attr": [], "line": [], "end": []}
    for n, r in zip(numbers, rows, strict=True):
        if r["where"] not in got:
            raise MappingError(name, n, f"where must be attr, line or end, not {r['where']!r}")
        try:
            pattern = re.compile(r["pattern"])
        except re.error as e:
            raise MappingError(name, n, f"bad pattern {r['pattern']!r}: {e}") from None
        if r["where"] == "attr":
            got["attr"].append(pattern)
        elif r["max"].isdigit():
            got[r["where"]].append((pattern, int(r["max"])))
        else:
            raise MappingError(name, n, f"max must be a number of characters, not {r['max']!r}")
    return Furniture(tuple(got["attr"]), tuple(got["line"]), tuple(got["end"]))


@dataclass(frozen=True)
class Labels:
    """The metadata field labels of mappings/metadata_fields.tsv as patterns over raw text."""

    fields: dict[str, str]   # folded label -> field
    opening: re.Pattern      # a cell that opens with a label: [ 发文字号 ] / 发文字号： / 文 号
    within: re.Pattern       # a `label：` anywhere in a line
    anywhere: re.Pattern     # a label anywhere


@lru_cache(maxsize=1)
def labels() -> Labels:
    fields = lexicon.default().metadata_fields
    alt = "|".join(r"\s*".join(map(re.escape, label)) for label in fields)
    return Labels(fields, re.compile(rf"[\s\[【［]*(?P<label>{alt})[\s\]】］]*[:：]?\s*"),
                   re.compile(rf"[\[【［]?\s*(?P<label>{alt})\s*[\]】］]?\s*[:：]"), re.compile(alt))


def han(s: str | None) -> int:
    """How many Chinese characters s holds (the measure of how much text an element has)."""
    return len(_HAN.findall(s)) if s else 0


def tokens(el) -> list[str]:
    """An element's class names and id, lower case."""
    return (el.get("class", "") + " " + el.get("id", "")).lower().split()


def likeness(a: str, b: str) -> float:
    """How alike two titles are (0 to 1); one holding the other counts at least 0.9."""
    score = difflib.SequenceMatcher(None, a, b).ratio()
    return max(score, 0.9) if min(len(a), len(b)) >= 6 and (a in b or b in a) else score


def line_pairs(s: str) -> list[tuple[str, str]]:
    """The metadata fields of one line: 发布时间：2024-02-19 | 来源：X -> [(发布时间, 2024-02-19)]."""
    lab = labels()
    cuts = [(m.start(), m.end(), m["label"]) for m in lab.within.finditer(s)]
    cuts += [(m.start(), m.end(), None) for m in _ANY_LABEL.finditer(s)
             if not any(a < m.end() and m.start() < b for a, b, _ in cuts)]
    m = lab.opening.match(s)
    if m and not any(a == 0 for a, _, _ in cuts):
        cuts.append((0, m.end(), m["label"]))
    cuts.sort()
    out = []
    for k, (_, b, label) in enumerate(cuts):
        value = s[b:cuts[k + 1][0] if k + 1 < len(cuts) else len(s)].strip(" |•·\u3000\xa0")
        if label and value:
            out.append((re.sub(r"\s", "", label), value))
    return out


def box_pairs(cells: list[str]) -> list[tuple[str, str]] | None:
    """The fields of a metadata box given its cells, or None when the cells are no such box:
    it names two fields (values may be empty: some portals fill them in with JavaScript) and
    holds nothing but labels, values and a few short words."""
    lab = labels()
    pairs, named, stray, i = [], set(), 0, 0
    while i < len(cells):
        c, m = cells[i], lab.opening.fullmatch(cells[i])
        if m:
            label = re.sub(r"\s", "", m["label"])
            named.add(lab.fields[fold(label)])
            value = cells[i + 1] if i + 1 < len(cells) else ""
            if value and not lab.opening.match(value) and not _NUMBERED.match(value):
                pairs.append((label, value))
                i += 1
        elif got := line_pairs(c):
            pairs += got
            named |= {lab.fields[fold(label)] for label, _ in got}
        elif not _ANY_LABEL.match(c):
            if len(c) > 16:
                return None
            stray += 1
        i += 1
    return pairs if len(named) >= 2 and stray <= len(pairs) else None


def strip_furniture(items: list, pairs: list) -> list:
    """The article's items (paragraphs, headings, tables) less page furniture lines, and less
    everything from an article-ending line on (上一篇, 相关链接). The metadata fields of the
    furniture lines (发布时间：…) are added to `pairs` as (label, value, element)."""
    fur = furniture()
    out, seen, ended = [], 0, False  # seen: Chinese characters of article kept so far
    for it in items:
        f = fold(it.text)
        if it.kind != "table" and seen >= 100 and any(len(f) <= n and p.search(f) for p, n in fur.ends):
            ended = True
        if ended:
            continue
        if it.kind != "table" and any(len(f) <= n and p.search(f) for p, n in fur.lines):
            pairs += [(label, value, it.el) for label, value in line_pairs(it.text)]
            continue
        out.append(it)
        seen += han(it.text) + sum(han(c) for r in it.rows or [] for c in r if isinstance(c, str))
    return out


