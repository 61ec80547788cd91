"""Quantified targets: indicator, value, unit as written, comparator, due year, recurrence.

公民具备科学素质的比例达到18% / 每年培训200名以上科技辅导员 / 新建科技馆5个 / 人均2元 /
5000万元 / 两万人次 / 最高50万元 (a cap). Units come from mappings/target_units.tsv,
comparators from comparators.tsv, and numbers that are not targets (实施五项工程, 5G,
第三) from target_exclusions.tsv.
"""
from __future__ import annotations

import re

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.numerals import to_decimal
from policykg.text import View, fold

_PCT_CN = re.compile(r"百分之(?P<num>[零〇一二两三四五六七八九十百]+(?:点[零一二三四五六七八九]+)?)")
_CLAUSE_END = ",;。:!?"
_STANDARD = ("标准", "目标", "水平", "比例", "规模")
_SENTENCE_END = ";。!?"
_TRIM_LEFT = re.compile(r"^(?:[,、;:\s]|其中|原则上|同时|并|和|及|或)+")
_LEADING_TIME = re.compile(r"^(?:到|至|截至)?\s*(?:19|20)[0-9]{2}\s*年(?:底|末)?(?:前|起)?\s*,?")
_VERBS = ("培训", "新建", "建设", "建成", "打造", "培育", "开展", "举办", "遴选", "评选", "发放", "注册", "认定",
          "创建", "组建", "招募", "开设", "设立", "推出", "引进", "扶持", "资助", "新增", "培养", "组织", "建立",
          "拥有", "建有", "配备", "覆盖", "完成", "实现")


def _masked(s: str) -> str:
    """Blank out titles 《…》 and short quotations “…” (names, not commitments)."""
    s = re.sub(r"《[^》]*》", lambda mt: "\0" * len(mt.group()), s)
    return re.sub(r"“[^”]{0,16}”", lambda mt: "“" + "\0" * (len(mt.group()) - 2) + "”", s)


def _bounds(s: str, i: int, stops: str) -> tuple[int, int]:
    a = i
    while a > 0 and s[a - 1] not in stops:
        a -= 1
    b = i
    while b < len(s) and s[b] not in stops:
        b += 1
    return a, b


def _excluded(s: str, a: int, b: int, lex: Mappings) -> bool:
    lo, hi = max(0, a - 16), min(len(s), b + 20)
    for p in lex.target_exclusions:
        for mt in p.finditer(s, lo, hi):
            if mt.start() <= a < mt.end():
                return True
    return False


def find(v: View, lex: Mappings, time_expressions: list[m.TimeExpression] = (), *,
         inherit: bool = False, context_year: int | None = None) -> list[m.Target]:
    """Targets stated in one block; time_expressions are this block's. With `inherit` (a goal
    section), a target with no year in its sentence takes the last one stated before it:
    earlier in the block, else `context_year` from earlier blocks."""
    s = _masked(v.s)
    out = []
    matches = [(mt.start(), mt.end(), mt.group("num"), mt.group("mag") or "", mt.group("unit"),
                mt.start("mag") if mt.group("mag") else mt.start("unit"))
               for mt in lex.figure_re.finditer(s)]
    matches += [(mt.start(), mt.end(), mt.group("num"), "", "%", mt.end()) for mt in _PCT_CN.finditer(s)]
    base: str | None = None   # the indicator of the last target of the passage that names one
    for a, b, num, mag, unit, unit_at in sorted(matches):
        if not num[0].isdigit() and len(num) > 1 and lex.magnitudes.get(num[-1], 0) >= 10_000 \
                and num[:-1] not in ("十", "百"):
            mag, num, unit_at = num[-1] + mag, num[:-1], unit_at - 1 if mag else a + len(num) - 1
        if not unit and not mag:
            continue
        if a > 0 and (s[a - 1].isdigit() or s[a - 1] in ".-"):
            continue
        if s[b:b + 1] in ("年", "月", "日", "号") or (num.isdigit() and len(num) == 4 and num.startswith(("19", "20")) and not unit):
            continue
        value = to_decimal(num)
        if value is None or _excluded(s, a, b, lex):
            continue
        if not num[0].isdigit() and value == 1:
            continue
        unit = unit or ""
        written_unit = v.source(unit_at, b) if unit_at < b else unit  # as written: 5000万元
        # a per-head figure: 人均2元, 人均不低于3元
        if unit == "元" and "人均" in s[max(0, a - 8):a]:
            written_unit += "/人"
        after = b
        post = next((c for c in lex.comparators if c.position == "after" and s.startswith(c.word, after)), None)
        if post:
            after += len(post.word)
        if s[after:after + 1] == "的" and not s.startswith(_STANDARD, after + 1):
            continue  # a qualifier (常住人口超100万的区, 观众超过5000人的演唱会), not a commitment
        ca, cb = _bounds(s, a, _CLAUSE_END)
        sa, sb = _bounds(s, a, _SENTENCE_END)
        before = s[ca:a]
        pre = next((c for c in lex.comparators if c.position == "before" and c.word in before[-6:]), None)
        aspirational = any(c.aspirational and c.word in before for c in lex.comparators)
        comparator = (post.comparator if post else None) or (pre.comparator if pre and pre.comparator else None)
        if comparator is None and pre is None and post is None:
            comparator = "EqualTo"
        sentence = v.source_span(sa, sb)
        exprs = [e for e in time_expressions if sentence.start <= e.span.start < sentence.end]
        if any(e.kind == "as_of" for e in exprs):
            continue  # 截至2023年底，全市高新技术企业863家: where things stand, not a target
        before_src = v.source_span(ca, a)
        recurring = any(e.kind == "recurring" and before_src.start <= e.span.start < before_src.end for e in exprs)
        dated = [e for e in exprs if e.kind not in ("recurring", "ongoing") and e.end is not None or e.kind == "since"]
        year = None
        expr = None
        if dated:
            expr = dated[0]
            year = expr.start if expr.kind == "since" else expr.end
        elif not recurring and inherit:  # a goal section's 到2025年 governs what follows it
            earlier = [e for e in time_expressions if e.span.start < sentence.start
                       and e.kind in ("by", "year", "period") and e.end]
            year = earlier[-1].end if earlier else context_year
        factor = lex.magnitudes.get(mag)
        sp = v.source_span(a, after)
        indicator = _indicator(v, s, ca, a, after, cb, lex)
        if _places_only(indicator, lex):
            if base is not None:
                # 全市…比例达到22%。其中，上城区、拱墅区达到25%以上: the places' share of the same thing
                indicator += _without_scope(base, lex)
        else:
            base = indicator
        out.append(m.Target(
            span=sp, text=v.text.string[sp.start:sp.end],
            indicator=indicator,
            value=value, unit=written_unit,
            comparator=comparator, aspirational=aspirational, year=year,
            recurrence="year" if recurring else None,
            normalized_value=value * factor if factor else None,
            normalized_unit=unit if factor else None,
            time_expression=expr))
    return out


def _place_endings(lex: Mappings) -> tuple[str, ...]:
    """省 市 县 区 镇 街道 …: the jurisdiction prefixes that also end the names of places."""
    return tuple(p for p in lex.jurisdiction_prefixes if not p.endswith("委"))


def _places_only(indicator: str, lex: Mappings) -> bool:
    """Whether an indicator is nothing but a list of places (上城区、拱墅区、西湖区)."""
    items = fold(indicator).split("、")
    return len(items) > 1 and all(1 < len(x) <= 8 and x.endswith(_place_endings(lex)) for x in items)


def _without_scope(indicator: str, lex: Mappings) -> str:
    """An indicator less its opening scope (全市具备科学素质的公民比例 -> 具备科学素质的公民比例)."""
    folded = fold(indicator)
    for end in _place_endings(lex):
        if folded.startswith("全" + end):
            return indicator[1 + len(end):]
    return indicator


def _indicator(v: View, s: str, ca: int, a: int, after: int, cb: int, lex: Mappings) -> str:
    """What is measured: the clause around the number, less time, comparators and fillers."""
    left = s[ca:a]
    left = _LEADING_TIME.sub("", _TRIM_LEFT.sub("", left))
    left = re.sub(r"^(?:每年度?|争取|力争|确保|努力)+", "", left)
    for c in lex.comparators:
        if c.position == "before" and left.endswith(c.word):
            left = left[: -len(c.word)]
            break
    left = re.sub(r"(?:力争|争取|确保|要|应当|应)+$", "", left).strip(" ,、")
    if "、" in left and re.search(r"[0-9]", left):  # …5000人以上、科技志愿者1000人以上
        left = left[left.rindex("、") + 1:]
    verbs = [left.find(x) for x in _VERBS if x in left]
    if verbs:  # 依托…培育农村专业技术协会 -> 培育农村专业技术协会
        left = left[min(verbs):]
    right = s[after:cb]
    right = re.split(r"[、,;。]", right, maxsplit=1)[0].strip()
    li = s.rfind(left, ca, a) if left else a
    if right and len(right) <= 20 and (not left or len(left) <= 3 or left.endswith(_VERBS)):
        return (v.source(li, li + len(left)) + v.source(after, after + len(right))).replace("\n", "")
    if left:
        return v.source(li, li + len(left)).replace("\n", "")
    if right:
        return v.source(after, after + len(right)).replace("\n", "")
    return v.source(ca, cb).replace("\n", "")


def dedupe(targets: list[m.Target]) -> list[m.Target]:
    seen, out = set(), []
    for t in targets:
        key = (t.span.start, t.span.end)
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out

