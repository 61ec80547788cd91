"""Reading text: encodings, folding with offsets mapped back, and bad input."""
from __future__ import annotations

import pytest

from policykg.errors import EmptyDocumentError, EncodingError, SourceError, UnsupportedFormatError
from policykg.loaders import read_text
from policykg.source import from_bytes
from policykg.text import fold

PLAN = "杭州市提升全民科學文化素質行動實施方案（2021—2025年）\n一、總體目標\n（一）做優做強科普工作品牌。（牽頭單位：市科協）\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "big5"])
def test_text_reads_every_encoding_plans_come_in(encoding):
    data = PLAN.encode(encoding)
    text = read_text(from_bytes(data, path=f"plan.{encoding}.txt"))
    assert text.string == PLAN
    assert [text.string[b.start:b.end] for b in text.blocks] == PLAN.strip().split("\n")


def test_text_gbk_plan_is_read_as_gbk():
    simplified = "丰都县全民科学素质行动规划纲要实施方案\n一、指导思想\n"
    text = read_text(from_bytes(simplified.encode("gbk"), path="plan.txt"))
    assert text.string == simplified and text.encoding == "gb18030"


def test_text_folded_view_maps_back_to_the_text_as_written():
    text = read_text(from_bytes(PLAN.encode("utf-8"), path="plan.txt"))
    v = text.view(0, len(text.string))
    i = v.s.index("(2021-2025年)")  # full-width brackets and the dash fold to ASCII
    assert text.string[v.source_span(i, i + 12).start:v.source_span(i, i + 12).end] == "（2021—2025年）"
    j = v.s.index("牵头单位:市科协")  # traditional folds to simplified
    assert v.source(j, j + 8) == "牽頭單位：市科協"


def test_text_fold_keeps_circled_numbers_and_unifies_brackets():
    assert fold("①〔2024〕［3］﹝5﹞（一）：") == "①[2024][3][5](一):"


def test_text_empty_file_is_an_error_that_names_it():
    with pytest.raises(EmptyDocumentError, match="empty.txt: the file is empty"):
        from_bytes(b"  \n\n", path="empty.txt")


def test_text_binary_file_is_an_error_that_names_it():
    with pytest.raises(SourceError, match=r"blob.txt: binary data, not text"):
        read_text(from_bytes(bytes(range(256)) * 8, path="blob.txt"))


def test_text_wrong_declared_encoding_says_where_it_breaks():
    data = PLAN.encode("gb18030")
    with pytest.raises(EncodingError, match=r"plan.txt \(byte \d+\): not valid utf-8"):
        read_text(from_bytes(data, path="plan.txt", encoding="utf-8"))


def test_text_unknown_declared_encoding_lists_how_to_fix():
    with pytest.raises(EncodingError, match="unknown encoding 'klingon'"):
        read_text(from_bytes(PLAN.encode(), path="plan.txt", encoding="klingon"))


def test_text_html_where_text_was_expected_is_read_as_html():
    html = "<!DOCTYPE html><html><body><p>一、总体要求</p></body></html>".encode()
    text = read_text(from_bytes(html, path="page.txt"))
    assert text.media_type == "text/html" and text.string == "一、总体要求"


def test_text_rtf_where_text_was_expected_is_refused_with_the_readers_available():
    with pytest.raises(UnsupportedFormatError) as e:
        read_text(from_bytes(b"{\\rtf1\\ansi \\u19968?}", path="page.txt"))
    assert e.value.media_type == "application/rtf" and {"text/plain", "text/html"} <= set(e.value.available)
    assert "page.txt" in str(e.value) and "RTF" in str(e.value)
