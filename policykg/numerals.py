"""Numbers as Chinese plans write them: 18, 1.5, 三十, 两千, 一百五十, 二〇二四, 百分之十五."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
           "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL_CHARS = "".join(_DIGITS) + "".join(_SMALL) + "".join(_BIG)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def cn_to_int(s: str) -> int | None:
    """三十 -> 30, 一百零五 -> 105, 两万 -> 20000, 二〇二四 -> 2024 (digit by digit)."""
    if not s or any(c not in CN_NUMERAL_CHARS for c in s):
        return None
    if all(c in _DIGITS for c in s):  # 二〇二四: read digit by digit
        return int("".join(str(_DIGITS[c]) for c in s))
    total, section, digit = 0, 0, None
    for c in s:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _SMALL:
            section += (1 if digit is None else digit) * _SMALL[c]
            digit = None
        else:  # 万, 亿
            section += digit or 0
            total = (total + section) * _BIG[c]
            section, digit = 0, None
    return total + section + (digit or 0)


def heading_number(s: str) -> int | None:
    """The value of a heading's numeral: 十二 -> 12, 3 -> 3, ③ -> 3."""
    if len(s) == 1 and s in CIRCLED:  # before isdigit(): '①'.isdigit() is True
        return CIRCLED.index(s) + 1
    if s.isascii() and s.isdigit():
        return int(s)
    if len(s) == 1 and s in CIRCLED:
        return CIRCLED.index(s) + 1
    return cn_to_int(s)


def to_decimal(s: str) -> Decimal | None:
    """Arabic (with , thousands) or Chinese numeral -> Decimal."""
    s = s.replace(",", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        pass
    if "点" in s:
        whole, _, frac = s.partition("点")
        w = cn_to_int(whole)
        if w is None or not frac or any(c not in _DIGITS for c in frac):
            return None
        return Decimal(f"{w}.{''.join(str(_DIGITS[c]) for c in frac)}")
    v = cn_to_int(s)
    return None if v is None else Decimal(v)
