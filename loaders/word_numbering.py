"""Word's paragraph styles and automatic numbering, as the Word reader needs them.

Plans number their headings 一、 （一） 1. （1）, and in Word that number is often not in the
paragraph's text but drawn by Word from numbering.xml. `Numbering.label` renders it the way
Word does: a paragraph's numbering comes from its own `w:numPr` or from its style's; the
level's `w:numFmt` and `w:lvlText` (`%1、`, `（%2）`) give its form; counters run per
abstract numbering definition (the `w:num` instances of one definition continue one count,
and a `w:startOverride` restarts it where an instance is first used), and a level restarts
when a higher level advances unless its `w:lvlRestart` says otherwise.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_NAME = re.compile(r"(heading|标题)\s*[1-9]|title|标题", re.I)
_TOC_NAME = re.compile(r"toc\s*[1-9]|目录\s*[1-9]", re.I)
_MAX_LEVELS = 9


def val(el, child: str | None = None) -> str | None:
    """The `w:val` of `el` (or of its child `w:<child>`), None when absent."""
    if el is not None and child is not None:
        el = el.find(W + child)
    return None if el is None else el.get(W + "val")


def _int(s: str | None, default: int | None = None) -> int | None:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default


@dataclass
class _Style:
    name: str
    based_on: str | None
    num_id: str | None
    ilvl: int | None
    outline: int | None


class Styles:
    """The paragraph styles of styles.xml: names, inheritance, numbering and outline levels."""

    def __init__(self, root) -> None:
        self._styles: dict[str, _Style] = {}
        self.default: str | None = None
        for st in root.iter(W + "style") if root is not None else ():
            sid = st.get(W + "styleId")
            if sid is None:
                continue
            ppr = st.find(W + "pPr")
            numpr = ppr.find(W + "numPr") if ppr is not None else None
            self._styles[sid] = _Style(val(st, "name") or sid, val(st, "basedOn"), val(numpr, "numId"),
                                       _int(val(numpr, "ilvl")), _int(val(ppr, "outlineLvl")))
            if st.get(W + "type") == "paragraph" and st.get(W + "default") in ("1", "true", "on"):
                self.default = sid

    def chain(self, style_id: str | None):
        """The style and the styles it is based on, nearest first."""
        seen: set[str] = set()
        sid = style_id or self.default
        while sid is not None and sid in self._styles and sid not in seen:
            seen.add(sid)
            yield sid, self._styles[sid]
            sid = self._styles[sid].based_on

    def is_heading(self, style_id: str | None) -> bool:
        """Heading N, 标题 N, Title, or a style with an outline level."""
        return any(_HEADING_NAME.fullmatch(s.name.strip()) or (s.outline is not None and s.outline < 9)
                   for _, s in self.chain(style_id))

    def is_toc(self, style_id: str | None) -> bool:
        """An entry of a table of contents (styles toc 1 … toc 9), which repeats the headings."""
        return any(_TOC_NAME.fullmatch(s.name.strip()) for _, s in self.chain(style_id))

    def num_pr(self, style_id: str | None) -> tuple[str | None, int | None, str | None]:
        """(numId, ilvl, id of the style that set them) from the nearest style with numbering."""
        for sid, s in self.chain(style_id):
            if s.num_id is not None:
                return s.num_id, s.ilvl, sid
        return None, None, None


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None   # w:lvlRestart: None restarts after any higher level, 0 never
    legal: bool = False          # w:isLgl: every number in the label written as decimal
    style: str | None = None     # w:pStyle: the paragraph style this level belongs to
    suffix: str = "tab"


def _level(lvl) -> _Level:
    return _Level(start=_int(val(lvl, "start"), 1), fmt=val(lvl, "numFmt") or "decimal",
                  text=val(lvl, "lvlText") or "", restart=_int(val(lvl, "lvlRestart")),
                  legal=lvl.find(W + "isLgl") is not None and val(lvl, "isLgl") not in ("0", "false"),
                  style=val(lvl, "pStyle"), suffix=val(lvl, "suff") or "tab")


@dataclass
class _Num:
    abstract: str
    starts: dict[int, int] = field(default_factory=dict)       # w:startOverride per level
    levels: dict[int, _Level] = field(default_factory=dict)    # whole levels overridden


class Numbering:
    """numbering.xml, with the counters of one pass through the document."""

    def __init__(self, root, styles: Styles) -> None:
        self._styles = styles
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._links: dict[str, str] = {}   # abstractNumId -> numbering style it defers to (numStyleLink)
        self._nums: dict[str, _Num] = {}
        for a in root.iter(W + "abstractNum") if root is not None else ():
            aid = a.get(W + "abstractNumId")
            self._abstract[aid] = {_int(lv.get(W + "ilvl"), 0): _level(lv) for lv in a.iter(W + "lvl")}
            if (link := val(a, "numStyleLink")) is not None:
                self._links[aid] = link
        for n in root.iter(W + "num") if root is not None else ():
            num = _Num(val(n, "abstractNumId") or "")
            for o in n.iter(W + "lvlOverride"):
                ilvl = _int(o.get(W + "ilvl"), 0)
                if (start := _int(val(o, "startOverride"))) is not None:
                    num.starts[ilvl] = start
                if (lv := o.find(W + "lvl")) is not None:
                    num.levels[ilvl] = _level(lv)
            self._nums[n.get(W + "numId")] = num
        self._counts: dict[str, list[int | None]] = {}
        self._used: set[str] = set()

    def _resolve(self, num_id: str) -> tuple[_Num, str] | None:
        """The w:num and the abstract definition whose levels it uses (following numStyleLink)."""
        num = self._nums.get(num_id)
        aid = num.abstract if num else None
        for _ in range(3):
            link = self._links.get(aid)
            if link is None:
                break
            linked, _, _ = self._styles.num_pr(link)
            target = self._nums.get(linked) if linked else None
            if target is None or target.abstract == aid:
                break
            aid = target.abstract
        return (num, aid) if num and aid in self._abstract else None

    def _lvl(self, num: _Num, aid: str, ilvl: int) -> _Level:
        return num.levels.get(ilvl) or self._abstract[aid].get(ilvl) or _Level(text=f"%{ilvl + 1}.")

    def label(self, ppr, style_id: str | None) -> tuple[str, str]:
        """The number Word draws before a paragraph and what follows it (tab, space or
        nothing); ("", "") when the paragraph is not numbered. Advances the counters."""
        numpr = ppr.find(W + "numPr") if ppr is not None else None
        num_id, ilvl = val(numpr, "numId"), _int(val(numpr, "ilvl"))
        owner = None
        if num_id is None:
            num_id, style_ilvl, owner = self._styles.num_pr(style_id)
            ilvl = ilvl if ilvl is not None else style_ilvl
        if num_id is None or num_id == "0" or (found := self._resolve(num_id)) is None:
            return "", ""
        num, aid = found
        if ilvl is None:  # the level whose w:pStyle is the style that brought the numbering
            ilvl = next((i for i, lv in self._abstract[aid].items() if owner and lv.style == owner), 0)
        ilvl = min(max(ilvl, 0), _MAX_LEVELS - 1)
        counts = self._counts.setdefault(aid, [None] * _MAX_LEVELS)
        if num_id not in self._used:
            self._used.add(num_id)
            for i in num.starts:
                if 0 <= i < _MAX_LEVELS:
                    counts[i] = None
        level = self._lvl(num, aid, ilvl)
        counts[ilvl] = self._start(num, aid, ilvl) if counts[ilvl] is None else counts[ilvl] + 1
        for deeper in range(ilvl + 1, _MAX_LEVELS):
            restart = self._lvl(num, aid, deeper).restart
            if restart is None or (restart > 0 and ilvl < restart):
                counts[deeper] = None
        if level.fmt in ("none", "bullet"):
            return "", ""

        def number(m: re.Match) -> str:
            i = int(m.group(1)) - 1
            if not 0 <= i <= ilvl:
                return ""
            n = counts[i] if counts[i] is not None else self._start(num, aid, i)
            return format_number(n, "decimal" if level.legal and i < ilvl else self._lvl(num, aid, i).fmt)

        return re.sub(r"%([1-9])", number, level.text), level.suffix

    def _start(self, num: _Num, aid: str, ilvl: int) -> int:
        return num.starts.get(ilvl, self._lvl(num, aid, ilvl).start)


_CN_DIGITS = "零一二三四五六七八九"
_CN_LEGAL = str.maketrans("零一二三四五六七八九十百千", "零壹贰叁肆伍陆柒捌玖拾佰仟")
_CN_LEGAL_TRAD = str.maketrans("零一二三四五六七八九十百千", "零壹貳參肆伍陸柒捌玖拾佰仟")
_SERIES = {
    "ideographTraditional": "甲乙丙丁戊己庚辛壬癸",
    "ideographZodiac": "子丑寅卯辰巳午未申酉戌亥",
    "decimalEnclosedCircle": "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳",
    "decimalEnclosedCircleChinese": "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳",
    "decimalEnclosedParen": "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇",
    "decimalEnclosedFullstop": "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛",
    "ideographEnclosedCircle": "㊀㊁㊂㊃㊄㊅㊆㊇㊈㊉",
}
_COUNTING = ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
             "taiwaneseCountingThousand", "ideographLegalTraditional", "chineseLegalSimplified",
             "japaneseLegal")
_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
          (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def format_number(n: int, fmt: str) -> str:
    """A counter written in one of Word's number formats; decimal for formats not known here
    and for numbers a format cannot write (㊉ is the last of ideographEnclosedCircle).

    >>> [format_number(n, "chineseCounting") for n in (3, 10, 12, 20, 105)]
    ['三', '十', '十二', '二十', '一百零五']
    """
    if n <= 0:
        return str(n)
    if fmt in _SERIES:
        series = _SERIES[fmt]
        return series[n - 1] if n <= len(series) else str(n)
    if fmt in _COUNTING and n < 10000:
        s = _chinese(n)
        if fmt in ("chineseLegalSimplified", "japaneseLegal"):
            return s.translate(_CN_LEGAL)
        return s.translate(_CN_LEGAL_TRAD) if fmt == "ideographLegalTraditional" else s
    if fmt in ("ideographDigital", "japaneseDigitalTenThousand"):
        return "".join("〇" if d == "0" else _CN_DIGITS[int(d)] for d in str(n))
    if fmt in ("upperLetter", "lowerLetter"):
        s = chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return s if fmt == "upperLetter" else s.lower()
    if fmt in ("upperRoman", "lowerRoman") and n < 4000:
        s = ""
        for value, letters in _ROMAN:
            while n >= value:
                s, n = s + letters, n - value
        return s if fmt == "upperRoman" else s.lower()
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _chinese(n: int) -> str:
    """1 <= n < 10000 in Chinese numerals: 十, 十二, 二十, 一百零五, 一千零一十."""
    digits = str(n)
    out, zero = [], False
    for i, d in enumerate(digits):
        place = len(digits) - 1 - i
        if d == "0":
            zero = True
            continue
        if zero and out:
            out.append("零")
        zero = False
        out.append(_CN_DIGITS[int(d)] + ("", "十", "百", "千")[place])
    s = "".join(out)
    return s[1:] if s.startswith("一十") else s
