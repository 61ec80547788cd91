"""Actors resolved: each unit a text names, as the one real unit it is.

A name as written (市科技局, 县应急局, 团县委, 中共威海市委组织部) is resolved within the
document's jurisdiction, read from its issuers, titles and 文号: a 市/县/区/省/州/旗 prefix
names the nearest division of that kind above or at the document's own (市 in a 环翠区 plan is
威海市), the organ's name is written out from mappings/unit_abbreviations.tsv (科技局 =
科学技术局), and party and youth-league bodies take their formal names (市委组织部 = 中共威海市委
组织部, 团县委 = 共青团丰都县委员会). The result names the unit in full within its division:
the same unit in two plans of one place is one node. A name that cannot be placed is kept as
written, scoped to its document, and marked unresolved.

Jurisdictions come from mappings/jurisdictions.tsv (the national division codes); kinds of
unit from mappings/unit_types.tsv.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from policykg import lexicon
from policykg import model as m
from policykg.lexicon import read_table
from policykg.resources import data_dir
from policykg.text import fold

_PREFIX_LEVEL = {"省": "省", "市": "市", "县": "县", "区": "区", "州": "州", "旗": "旗"}
_PARTY = re.compile(r"^(?:中共|中国共产党)?(?P<j>.*?)(?P<kind>[省市县区州旗])委(?P<rest>.*)$")
_LEAGUE = re.compile(r"^(?:共青团|团)(?P<j>.*?)(?P<kind>[省市县区州旗])委(?:员会)?$")


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str       # 威海市
    short: str      # 威海
    level: str      # province | city | county
    parent: str | None


@dataclass(frozen=True)
class UnitType:
    id: str
    label_zh: str
    label_en: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Resolved:
    """What a name as written turned out to be."""

    name: str                       # canonical: 威海市科学技术局; as written when unresolved
    jurisdiction: Jurisdiction | None
    unit_type: UnitType | None      # a row of unit_types.tsv
    resolved: bool


class Gazetteer:
    """The divisions of mappings/jurisdictions.tsv, by code and by name."""

    def __init__(self, rows: list[dict[str, str]]):
        self.by_code = {r["code"]: Jurisdiction(r["code"], r["name"], r["short"], r["level"], r["parent"] or None)
                        for r in rows}
        self.by_name: dict[str, list[Jurisdiction]] = {}
        for j in self.by_code.values():  # full names only: short ones (城关, 和平) open unit names too
            self.by_name.setdefault(j.name, []).append(j)
        self._names = sorted(self.by_name, key=len, reverse=True)
        self._lead = re.compile("|".join(re.escape(n) for n in self._names)) if self._names else re.compile("$^")

    def chain(self, j: Jurisdiction | None) -> list[Jurisdiction]:
        """j and the divisions above it, nearest first."""
        out = []
        while j is not None:
            out.append(j)
            j = self.by_code.get(j.parent) if j.parent else None
        return out

    def leading(self, s: str, within: Jurisdiction | None = None) -> tuple[Jurisdiction, int] | None:
        """The most specific division named at the start of s (威海市环翠区… -> 环翠区), with where
        its name ends. A name shared by several divisions is taken in the one under `within` (or
        the one the name before it sits in), else left alone."""
        at, found = 0, None
        while True:
            mt = self._lead.match(s, at)
            if not mt:
                return found
            candidates = self.by_name[mt.group()]
            context = [found[0]] if found else self.chain(within)
            j = _pick(candidates, context, self)
            if j is None:
                return found
            found, at = (j, mt.end()), mt.end()


def _pick(candidates: list[Jurisdiction], context: list[Jurisdiction], gaz: Gazetteer) -> Jurisdiction | None:
    if len(candidates) == 1:
        return candidates[0]
    codes = {c.code for c in context}
    under = [c for c in candidates if codes & {x.code for x in gaz.chain(c)}]
    return under[0] if len(under) == 1 else None


@dataclass(frozen=True)
class ActorTables:
    gazetteer: Gazetteer
    abbreviations: dict[str, str]      # folded short -> full
    unit_types: tuple[UnitType, ...]

    def unit_type(self, name: str) -> UnitType | None:
        f = fold(name)
        return next((t for t in self.unit_types if t.pattern.search(f)), None)


@lru_cache(maxsize=1)
def tables() -> ActorTables:
    folder = data_dir("mappings")
    abbreviations = {fold(r["short"]): r["full"] for r in read_table(folder, "unit_abbreviations.tsv", ["short", "full"])}
    types = tuple(UnitType(r["type"], r["label_zh"], r["label_en"], re.compile(r["pattern"]))
                  for r in read_table(folder, "unit_types.tsv", ["type", "label_zh", "label_en", "pattern"]))
    rows = read_table(folder, "jurisdictions.tsv", ["code", "name", "short", "level", "parent"])
    return ActorTables(Gazetteer(rows), dict(sorted(abbreviations.items(), key=lambda kv: -len(kv[0]))), types)


def document_jurisdiction(doc: m.Document, t: ActorTables | None = None) -> Jurisdiction | None:
    """The division a plan is of: the deepest one its issuers name (威海市环翠区人民政府 ->
    环翠区; 22 bureaus of 威海市 -> 威海市), else the one its titles open with."""
    t = t or tables()
    found = []
    for a in doc.issuers:
        name = re.sub(r"^(?:中共|中国共产党|共青团)", "", fold(a.full))
        got = t.gazetteer.leading(name)
        if got:
            found.append(got[0])
    for title in (doc.plan_title, doc.notice_title):
        if not found and title:
            got = t.gazetteer.leading(fold(title))
            if got:
                found.append(got[0])
    if not found:
        return None
    depth = {j.code: len(t.gazetteer.chain(j)) for j in found}
    # the most common, then the deepest: one district office among city bureaus is still a city plan
    return max(found, key=lambda j: (sum(1 for x in found if x.code == j.code), depth[j.code]))


def resolve(mention: m.ActorMention, home: Jurisdiction | None, t: ActorTables | None = None) -> Resolved:
    """The unit a mention names, within the document's division `home`."""
    t = t or tables()
    written = mention.full
    f = fold(written).replace(" ", "")
    if mention.collective:
        return Resolved(written, home, None, home is not None)
    gaz = t.gazetteer
    league = _LEAGUE.match(f)
    if league:
        j = _place(league.group("j"), league.group("kind"), home, gaz)
        return _done(f"共青团{j.name}委员会", j, t) if j else _unresolved(written, t)
    party = _PARTY.match(f)
    if party:
        j = _place(party.group("j"), party.group("kind"), home, gaz)
        if j is None:
            return _unresolved(written, t)
        rest = _expand(party.group("rest"), t)
        return _done(f"中共{j.name}委{rest}" if rest else f"中共{j.name}委员会", j, t)
    explicit = gaz.leading(f, home)
    if explicit:
        j, at = explicit
        return _done(j.name + _expand(f[at:], t), j, t)
    placed = next((j for j in gaz.chain(home) if j.name in f), None)
    if placed is not None:  # 国家税务总局威海市税务局: the name places itself
        return _done(written, placed, t)
    kind = f[:1]
    if kind in _PREFIX_LEVEL and len(f) > 1 and not f.startswith(lexicon.default().not_prefixes):
        j = _nearest(kind, home, gaz)
        if j is None:
            return _unresolved(written, t)
        return _done(j.name + _expand(f[1:], t), j, t)
    if home is not None:  # no prefix: a unit of the document's own division (科协 in a county plan)
        return _done(home.name + _expand(f, t), home, t)
    return _unresolved(written, t)


def _place(named: str, kind: str, home: Jurisdiction | None, gaz: Gazetteer) -> Jurisdiction | None:
    """The division of a party or league body: named (威海市委) or by its prefix (市委)."""
    if named:
        got = gaz.leading(named + kind, home) or gaz.leading(named, home)
        return got[0] if got else None
    return _nearest(kind, home, gaz)


def _nearest(kind: str, home: Jurisdiction | None, gaz: Gazetteer) -> Jurisdiction | None:
    """The nearest division at or above `home` whose name ends in `kind` (市, 县, 区 …); 省 is
    the province, whatever its name ends in."""
    for j in gaz.chain(home):
        if kind == "省" and j.level == "province" or j.name.endswith(kind):
            return j
    return None


def _expand(rest: str, t: ActorTables) -> str:
    """An organ's name written out: 科技局 -> 科学技术局, 人力社保局 -> 人力资源和社会保障局."""
    if rest in t.abbreviations:
        return t.abbreviations[rest]
    for short, full in t.abbreviations.items():  # longest first: 经贸信息委 before 信息委
        # a two-character short form is too likely the end of another name (民族宗教委 is no 教委)
        if len(short) >= 3 and rest.endswith(short):
            return rest[: -len(short)] + full
    return rest


def _done(name: str, j: Jurisdiction | None, t: ActorTables) -> Resolved:
    return Resolved(name, j, t.unit_type(name), True)


def _unresolved(written: str, t: ActorTables) -> Resolved:
    return Resolved(written, None, t.unit_type(written), False)
