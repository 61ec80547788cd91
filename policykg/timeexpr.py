"""Time expressions: 到2025年, 2018—2019年, 2024年底前, 2022年起, “十四五”期间, 年底前, 每年,
and 截至2023年底 (the date of a baseline, which is no deadline).

Found on the folded text; years inside 《》 (titles of other documents) are not this
document's time.
"""
from __future__ import annotations

import re

from policykg import model as m
from policykg.lexicon import Mappings
from policykg.text import View

_Y = r"((?:19|20)[0-9]{2})"
_PATTERNS = [  # (kind, pattern); earlier kinds win overlaps of equal start
    ("range", re.compile(_Y + r"\s*年?\s*(?:-|至|到)\s*" + _Y + r"\s*年")),
    ("as_of", re.compile(r"(?:截至|截止到|截止)(?:目前|\s*" + _Y + r"\s*年\s*(?:[0-9]{1,2}\s*月)?(?:底|末)?)")),
    ("by", re.compile(r"(?:到|至|至迟到)\s*" + _Y + r"\s*年\s*(?:[0-9]{1,2}\s*月)?(?:底|末)?")),
    ("before", re.compile(_Y + r"\s*年\s*(?:[0-9]{1,2}\s*月)?\s*(?:底|末|上半年|下半年)?\s*(?:前|之前|以前)")),
    ("since", re.compile(_Y + r"\s*年\s*(?:起|开始|以后)")),
    ("before", re.compile(r"(?:今年|当年|本年|年)(?:底|内)(?:前)?|(?<![0-9年\s])\s*[0-9]{1,2}\s*月\s*(?:底|末|中旬|下旬|上旬)?\s*(?:前|之前)")),
    ("year", re.compile(r"全年|本年度|当年度")),
    ("recurring", re.compile(r"每年(?:度)?")),
    ("ongoing", re.compile(r"长期坚持|持续推进|长期推进")),
    ("valid_until", re.compile(r"(?:有效期至|有效期到|执行至|执行到|实施至|有效期截至)\s*" + _Y + r"\s*年")),
    ("year", re.compile(r"(?:(?<=^)|(?<=[,;。(:\s]))" + _Y + r"\s*年(?![0-9]|\s*[0-9]+\s*月|以来|来|度|前|底|末|起|-|至|到)")),
]
_FIVE_YEAR_SUFFIX = r"[”\"']?\s*(?:期间|时期|末|内|规划期)"


def _masked(s: str) -> str:
    """s with the insides of 《》 blanked out (same length)."""
    return re.sub(r"《[^》]*》", lambda mt: "《" + "\0" * (len(mt.group()) - 2) + "》", s)


def find(v: View, lex: Mappings, doc_year: int | None) -> list[m.TimeExpression]:
    s = _masked(v.s)
    found: list[tuple[int, int, str, int | None, int | None]] = []
    for kind, pat in _PATTERNS:
        for mt in pat.finditer(s):
            a, b = mt.span()
            ys = [int(g) for g in mt.groups() if g]
            if kind == "range":
                start, end = ys[0], ys[1]
                if end < start:
                    continue
            elif kind == "since":
                start, end = ys[0], None
            elif kind == "as_of":  # 截至2023年底: a baseline's date, not a deadline
                start, end = None, None
            elif kind == "valid_until":
                start, end = None, ys[0]
            elif kind in ("by", "before", "year"):
                if not ys:  # 年底前, 9月底前, 全年: the document's own year
                    if doc_year is None:
                        continue
                    ys = [doc_year]
                start, end = (ys[0] if kind == "year" else None), ys[0]
            else:
                start = end = None
            found.append((a, b, kind, start, end))
    names = "|".join(re.escape(n) for n in sorted(lex.five_year_plans, key=len, reverse=True))
    for mt in re.finditer(rf"[“\"']?({names}){_FIVE_YEAR_SUFFIX}", s):
        if mt.start() > 0 and s[mt.start() - 1] in "第":
            continue
        start, end = lex.five_year_plans[mt.group(1)]
        found.append((mt.start(), mt.end(), "period", start, end))
    found.sort(key=lambda x: (x[0], -(x[1] - x[0])))
    out, last_end = [], -1
    for a, b, kind, start, end in found:
        if a < last_end:
            continue
        last_end = b
        sp = v.source_span(a, b)
        out.append(m.TimeExpression(sp, v.text.string[sp.start:sp.end], kind, start, end,
                                    "year" if kind == "recurring" else None))
    return out


def frame(expressions: list[m.TimeExpression], period: m.TimeFrame | None) -> m.TimeFrame | None:
    """A measure's time frame: from what it states, else the plan's period."""
    starts, ends, used = [], [], []
    for e in expressions:
        if e.kind in ("recurring", "ongoing", "valid_until", "as_of"):
            continue
        used.append(e)
        if e.start is not None:
            starts.append(e.start)
        if e.end is not None:
            ends.append(e.end)
    if used and (starts or ends):
        start = min(starts) if starts else (period.start if period else min(ends))
        end = max(ends) if ends else (period.end if period else max(starts))
        if start > end:
            start = end if not starts else start
            end = max(end, start)
        return m.TimeFrame(start, end, m.STATED, used)
    if period is not None:
        return m.TimeFrame(period.start, period.end, "document", [])
    return None
