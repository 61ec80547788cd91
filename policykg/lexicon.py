"""The mapping tables of mappings/, read once into typed lookups (the lexicon).

The tables are the only place the extractor learns words of the domain. Literal columns are
folded like the text (so 牽頭單位 and 牵头单位 are one key); `pattern` columns are regular
expressions over folded text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources.abc import Traversable
from pathlib import Path

from policykg.errors import MappingError
from policykg.resources import data_dir
from policykg.text import fold


def read_table(folder: Traversable | Path, name: str, columns: list[str]) -> list[dict[str, str]]:
    """Rows of one TSV table as dicts; raises MappingError on a missing column or short row."""
    text = folder.joinpath(name).read_text(encoding="utf-8")
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if header is None:
            header = cells
            missing = [c for c in columns if c not in header]
            if missing:
                raise MappingError(name, lineno, f"header lacks column(s) {', '.join(missing)}; "
                                   f"it has {', '.join(header)}")
            continue
        if len(cells) < len(header):
            raise MappingError(name, lineno, f"{len(cells)} cells, the header names {len(header)} "
                               "(cells are separated by tabs)")
        rows.append(dict(zip(header, cells[:len(header)], strict=True)))
    if header is None:
        raise MappingError(name, 1, "the table is empty")
    return rows


def _compile(name: str, lineno: int, pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise MappingError(name, lineno, f"bad pattern {pattern!r}: {e}") from None


@dataclass(frozen=True)
class HeadingStyle:
    name: str
    rank: int
    pattern: re.Pattern  # matches at the start of a folded line


@dataclass(frozen=True)
class ComparatorWord:
    word: str
    position: str  # before | after
    comparator: str | None
    aspirational: bool


@dataclass(frozen=True, eq=False)
class Mappings:
    responsibility_keywords: dict[str, str]
    responsibility_verbs: dict[str, str]
    lead_rules: tuple[re.Pattern, ...]
    heading_styles: tuple[HeadingStyle, ...]
    section_kinds: dict[str, str]
    measure_parts: frozenset[str]
    five_year_plans: dict[str, tuple[int, int]]
    comparators: tuple[ComparatorWord, ...]
    target_units: dict[str, str]
    magnitudes: dict[str, int]
    target_exclusions: tuple[re.Pattern, ...]
    organ_suffixes: tuple[str, ...]
    jurisdiction_prefixes: tuple[str, ...]
    not_prefixes: tuple[str, ...]
    collective_patterns: tuple[re.Pattern, ...]
    metadata_fields: dict[str, str]
    genre_words: tuple[tuple[str, str], ...]
    table_columns: dict[str, str]
    responsibility_keyword_re: re.Pattern = re.compile("$^")
    figure_re: re.Pattern = re.compile("$^")   # a number with its magnitude and unit (targets)

    def is_collective(self, folded_name: str) -> bool:
        return any(p.search(folded_name) for p in self.collective_patterns)

    def has_organ_suffix(self, folded_name: str) -> bool:
        return folded_name.endswith(self.organ_suffixes)


_NUMBER = r"(?P<num>[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|[一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿]*(?:点[零一二三四五六七八九]+)?)"


def figure_pattern(target_units: dict[str, str], magnitudes: dict[str, int]) -> re.Pattern:
    """A number, an optional magnitude and an optional unit (with a denominator: 吨/日)."""
    units = "|".join(re.escape(u) for u in target_units)
    mags = "|".join(re.escape(x) for x in sorted(magnitudes, key=len, reverse=True))
    per = "|".join(re.escape(u) for u, k in target_units.items() if k == "per")
    return re.compile(_NUMBER + rf"\s*(?P<mag>{mags})?(?P<unit>(?:{units})(?:{per})?)?")


def _keyword_pattern(keywords) -> re.Pattern:
    """A labelled list opens with a keyword and a colon: 牵头单位：…"""
    return re.compile("(" + "|".join(re.escape(k) for k in keywords) + r")\s*[:]\s*")


def _patterns(folder, name: str) -> tuple[re.Pattern, ...]:
    return tuple(_compile(name, i, r["pattern"]) for i, r in enumerate(read_table(folder, name, ["pattern"]), 2))


def _by_length(d: dict[str, str]) -> dict[str, str]:
    return dict(sorted(d.items(), key=lambda kv: -len(kv[0])))


def load(folder: Traversable | Path | None = None) -> Mappings:
    """Read every table from `folder` (default: the installed mappings/)."""
    f = folder if folder is not None else data_dir("mappings")
    styles = []
    for i, r in enumerate(read_table(f, "heading_styles.tsv", ["style", "rank", "pattern"]), 2):
        if not r["rank"].isdigit():
            raise MappingError("heading_styles.tsv", i, f"rank {r['rank']!r} is not a whole number")
        styles.append(HeadingStyle(r["style"], int(r["rank"]), _compile("heading_styles.tsv", i, r["pattern"])))
    comparators = []
    for i, r in enumerate(read_table(f, "comparators.tsv", ["word", "position", "comparator", "aspirational"]), 2):
        if r["position"] not in ("before", "after"):
            raise MappingError("comparators.tsv", i, f"position must be before or after, not {r['position']!r}")
        comparators.append(ComparatorWord(fold(r["word"]), r["position"],
                                          None if r["comparator"] == "-" else r["comparator"],
                                          r["aspirational"] == "yes"))
    comparators.sort(key=lambda c: -len(c.word))
    prefixes = read_table(f, "jurisdiction_prefixes.tsv", ["prefix", "kind"])
    fyp = {}
    for i, r in enumerate(read_table(f, "five_year_plans.tsv", ["name", "start", "end"]), 2):
        try:
            fyp[fold(r["name"])] = (int(r["start"]), int(r["end"]))
        except ValueError:
            raise MappingError("five_year_plans.tsv", i, "start and end must be years") from None
    keywords = _by_length({fold(r["keyword"]): r["role"] for r in
                           read_table(f, "responsibility_keywords.tsv", ["keyword", "role"])})
    units = _by_length({fold(r["unit"]): r["kind"] for r in read_table(f, "target_units.tsv", ["unit", "kind"])})
    magnitudes = {fold(r["prefix"]): int(r["factor"]) for r in read_table(f, "magnitudes.tsv", ["prefix", "factor"])}
    return Mappings(
        responsibility_keywords=keywords,
        responsibility_keyword_re=_keyword_pattern(keywords),
        responsibility_verbs=_by_length({fold(r["verb"]): r["role"] for r in
                                         read_table(f, "responsibility_verbs.tsv", ["verb", "role"])}),
        lead_rules=_patterns(f, "lead_rules.tsv"),
        heading_styles=tuple(styles),
        section_kinds=_by_length({fold(r["keyword"]): r["kind"] for r in
                                  read_table(f, "section_kinds.tsv", ["keyword", "kind"])}),
        measure_parts=frozenset(fold(r["label"]) for r in read_table(f, "measure_parts.tsv", ["label"])),
        five_year_plans=fyp,
        comparators=tuple(comparators),
        target_units=units,
        magnitudes=magnitudes,
        figure_re=figure_pattern(units, magnitudes),
        target_exclusions=_patterns(f, "target_exclusions.tsv"),
        organ_suffixes=tuple(sorted({fold(r["suffix"]) for r in read_table(f, "organ_suffixes.tsv", ["suffix"])},
                                    key=len, reverse=True)),
        jurisdiction_prefixes=tuple(sorted((fold(r["prefix"]) for r in prefixes if r["kind"] == "prefix"),
                                           key=len, reverse=True)),
        not_prefixes=tuple(fold(r["prefix"]) for r in prefixes if r["kind"] == "notprefix"),
        collective_patterns=_patterns(f, "collective_actors.tsv"),
        metadata_fields=_by_length({fold(r["label"]): r["field"] for r in
                                    read_table(f, "metadata_fields.tsv", ["label", "field"])}),
        genre_words=tuple(sorted(((fold(r["ending"]), r["kind"]) for r in
                                  read_table(f, "genre_words.tsv", ["ending", "kind"])), key=lambda x: -len(x[0]))),
        table_columns=_by_length({fold(r["label"]): r["column"] for r in
                                  read_table(f, "table_columns.tsv", ["label", "column"])}),
    )


@lru_cache(maxsize=1)
def default() -> Mappings:
    """The installed tables, read once per process."""
    return load()
