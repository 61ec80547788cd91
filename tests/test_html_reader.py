"""The HTML reader: portal pages give the same plan as its text, with the portal's metadata,
without the page furniture, with tables kept aligned, and bad pages refused with the file named.

The pages in tests/data/html are ours (see the README there); each plan is also given as plain
text, and the two must give the same measures, leads and targets.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from rdflib import DCTERMS, Graph

from policykg.emit import PK, to_graph
from policykg.errors import EmptyDocumentError, SourceError
from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import from_bytes, read_source

DATA = Path(__file__).resolve().parent / "data" / "html"
PAGES = {  # page -> the same plan as plain text
    "yunxi_gb2312.html": "yunxi_plan.txt",
    "yunxi_nodecl.html": "yunxi_plan.txt",
    "yunxi_furniture.html": "yunxi_plan.txt",
    "beining_meta_below.html": "beining_plan.txt",
    "beining_word.html": "beining_plan.txt",
}
PORTAL_PAGES = ["yunxi_gb2312.html", "yunxi_nodecl.html", "yunxi_furniture.html", "beining_meta_below.html"]


def text_of(name: str):
    return read_text(read_source(DATA / name))


def html_text(html: str, name: str = "page.html"):
    return read_text(from_bytes(html.encode("utf-8"), path=name))


def blocks(text) -> list[str]:
    return [text.string[b.start:b.end] for b in text.blocks]


def outcome(text):
    """What the plan says, independent of the format it came in."""
    doc = extract(text)
    measures = [(n.path, n.heading, [(a.actor.key, a.role) for a in n.assignments]) for n in doc.measures]
    targets = sorted((t.indicator, str(t.value), t.unit, t.year, t.recurrence)
                     for t in doc.targets + [t for n in doc.nodes() for t in n.targets])
    return measures, targets, (doc.period.start, doc.period.end) if doc.period else None


@pytest.mark.parametrize("page", sorted(PAGES))
def test_html_page_gives_the_measures_leads_and_targets_of_the_plain_text(page):
    html, plain = outcome(text_of(page)), outcome(text_of(PAGES[page]))
    assert html == plain
    measures, targets, _ = html
    assert len(measures) >= 3 and all(any(role == "lead" for _, role in m[2]) for m in measures)
    assert targets


@pytest.mark.parametrize("page, number, created, issued, identifier, subject", [
    ("yunxi_gb2312.html", "云府办发〔2023〕12号", "2023-03-15", "2023-03-20", "11500123MB1234567X/2023-00031",
     "科技、教育"),
    ("yunxi_nodecl.html", "云府办发〔2023〕12号", "2023-03-15", "2023-03-20", "11500123MB1234567X/2023-00031",
     "科技、教育"),
    ("yunxi_furniture.html", "云府办发〔2023〕12号", "2023-03-15", "2023-03-20", "11500123MB1234567X/2023-00031",
     "科技、教育\\科技"),
    ("beining_meta_below.html", "北府发〔2024〕3号", "2024-02-26", "2024-03-01", "000014349/2024-00008", "科普"),
])
def test_html_portal_metadata_becomes_document_metadata(page, number, created, issued, identifier, subject):
    text = text_of(page)
    doc = extract(text)
    assert (doc.doc_number, str(doc.created), str(doc.issued)) == (number, created, issued)
    assert doc.fields["identifier"] == identifier and doc.fields["subject"] == subject
    g = to_graph(doc)
    d = next(g.subjects(PK.documentNumber, None))
    for prop in (PK.documentNumber, DCTERMS.created, DCTERMS.issued, PK.issuedBy, DCTERMS.identifier,
                 DCTERMS.subject):
        assert g.value(d, prop) is not None, prop


def test_html_metadata_below_the_article_comes_first_in_the_text():
    lines = blocks(text_of("beining_meta_below.html"))
    assert lines[:6] == ["索引号：000014349/2024-00008", "发布机构：北宁县人民政府", "发文日期：2024-02-26",
                         "文号：北府发〔2024〕3号", "主题词：科普", "发布日期：2024-03-01"]
    assert lines[6].startswith("北宁县人民政府关于印发")


def test_html_cli_graph_has_the_portal_metadata():
    out = subprocess.run([sys.executable, "-m", "policykg.cli", "extract", str(DATA / "yunxi_furniture.html"),
                          "--format", "ttl", "-q"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    g = Graph().parse(data=out.stdout, format="turtle")
    d = next(g.subjects(PK.hasMeasure, None))
    assert str(g.value(d, PK.documentNumber)) == "云府办发〔2023〕12号"
    assert str(g.value(d, DCTERMS.created)) == "2023-03-15" and str(g.value(d, DCTERMS.issued)) == "2023-03-20"
    assert g.value(d, PK.issuedBy) is not None and g.value(d, DCTERMS.identifier) is not None
    assert g.value(d, DCTERMS.subject) is not None


@pytest.mark.parametrize("page", PORTAL_PAGES)
def test_html_page_furniture_is_dropped(page):
    s = text_of(page).string
    for word in ("当前位置", "您现在的位置", "打印", "关闭窗口", "版权所有", "ICP备", "网站标识码", "主办单位",
                 "扫一扫", "上一篇", "下一篇", "相关链接", "相关文章", "浏览次数", "阅读次数", "大 中 小", "字体",
                 "分享到", "责任编辑", "联系我们", "网站地图", "首页", "政务公开", "热点专题", "长者模式",
                 "浏览器版本过低", "系统自动生成", "测试隐藏段落", "本站访问量"):
        assert word not in s, word
    for kept in ("一、总体要求" if "yunxi" in page else "一、总体目标", "牵头单位", "到202"):
        assert kept in s


def test_html_info_line_fields_are_kept_when_the_line_is_dropped():
    text = html_text("<html><body><h1>某某县科普工作实施方案</h1>"
                     "<div class='info'>发布时间：2024-02-19 | 作者：暂无 | 阅读次数：21</div>"
                     "<div class='article-content'><p>一、总体要求</p><p>（一）推进科普工作，建设科普基地。"
                     "（牵头单位：县科技局）</p></div></body></html>")
    assert blocks(text)[0] == "发布时间：2024-02-19"
    assert "作者" not in text.string and "阅读次数" not in text.string
    assert str(extract(text).issued) == "2024-02-19"


def test_html_metadata_box_with_empty_values_is_dropped_and_a_heading_is_never_a_value():
    text = html_text("<table><tr><td>索引号：</td><td></td><td>发文字号：</td><td></td></tr>"
                     "<tr><td>成文日期：</td><td></td><td>发布日期：</td><td></td></tr></table>"
                     "<ul><li>发布机构：某县人民政府</li><li>主题分类：</li></ul>"
                     "<p>一、总体要求</p><p>（一）推进科普工作。（牵头单位：县科技局）</p>")
    assert blocks(text) == ["发布机构：某县人民政府", "一、总体要求", "（一）推进科普工作。（牵头单位：县科技局）"]


@pytest.mark.parametrize("page, rows", [(p, [
    "| 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |",
    "| 1 | 建设科普阵地 | 县科技局 | 县教育局、县科协 | 2025年底前 |",
    "| 2 | 开展科普活动 | 〃 | 县科协 | 持续推进 |",
    "| 3 | 壮大科普队伍 | 县科协 | 县人力资源社会保障局 | 2026年底前 |",
]) for p in ("beining_meta_below.html", "beining_word.html")])
def test_html_task_table_rows_keep_their_columns_with_ditto_for_rowspan(page, rows):
    text = text_of(page)
    got = [text.string[b.start:b.end] for b in text.blocks if b.kind == "table_row"]
    assert got == rows
    assert rows == [line for line in (DATA / "beining_plan.txt").read_text(encoding="utf-8").splitlines()
                    if line.startswith("|")]


def test_html_colspan_keeps_columns_and_a_nested_table_becomes_cell_text():
    text = html_text("<table><tr><th>序号</th><th>任务</th><th>单位</th></tr>"
                     "<tr><td>1</td><td colspan='2'>统筹推进</td></tr>"
                     "<tr><td>2</td><td>建设基地</td><td><table><tr><td>市科技局</td><td>牵头</td></tr>"
                     "<tr><td>市教育局</td><td>配合</td></tr></table></td></tr>"
                     "<tr><td>3</td><td>—</td><td>%</td></tr></table>")
    assert blocks(text) == ["| 序号 | 任务 | 单位 |", "| 1 | 统筹推进 |  |", "| 2 | 建设基地 | 市科技局 牵头 市教育局 配合 |",
                            "| 3 | — | % |"]
    assert {b.kind for b in text.blocks} == {"table_row"}


def test_html_layout_tables_are_read_as_paragraphs():
    assert not [b for b in text_of("yunxi_gb2312.html").blocks if b.kind == "table_row"]  # the page is a table
    long = "坚持以习近平新时代中国特色社会主义思想为指导，全面提升公民科学素质。" * 12
    text = html_text(f"<table><tr><td><a href='/'>首页</a></td><td><h2>一、总体要求</h2><p>{long}</p>"
                     "<p>二、重点任务</p></td></tr></table>")
    assert blocks(text) == ["一、总体要求", long, "二、重点任务"]  # the cell of links is no part of the article
    assert text.blocks[0].kind == "heading"


def test_html_blocks_follow_paragraphs_line_breaks_and_headings():
    text = html_text("<html><body><div id='zoom'><h2>一、总体要求</h2>"
                     "<p>　　<strong>（一）</strong><span>加强</span><a href='#'>组织</a><font>领导</font>。&nbsp;</p>"
                     "<p>第一行<br>第二行</p><div>一段文字</div><ul><li>条目甲</li><li>条目乙</li></ul>"
                     "<p>跨行的\n    文字</p></div></body></html>")
    assert blocks(text) == ["一、总体要求", "（一）加强组织领导。", "第一行", "第二行", "一段文字", "条目甲", "条目乙",
                            "跨行的文字"]
    assert [b.kind for b in text.blocks][:2] == ["heading", "paragraph"]
    assert [b.locator for b in text.blocks][:4] == ["//div[@id='zoom']/h2", "//div[@id='zoom']/p[1]",
                                                    "//div[@id='zoom']/p[2]", "//div[@id='zoom']/p[2]"]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_html_every_block_lies_in_the_text_and_its_locator_finds_its_element(page):
    text = text_of(page)
    tree = lxml.html.document_fromstring((DATA / page).read_bytes().decode(text.encoding).encode(),
                                         parser=lxml.html.HTMLParser(encoding="utf-8", remove_comments=True))
    for b in text.blocks:
        assert 0 <= b.start < b.end <= len(text.string) and b.locator
        found = tree.xpath(b.locator)
        if not found and (m := re.fullmatch(r"(.*table)/tr\[(\d+)\]", b.locator)):  # rows of thead + tbody
            found = tree.xpath(f"({m[1]}//tr)[{m[2]}]")
        assert found, b.locator
        words = re.sub(r"[\s|〃]", "", text.string[b.start:b.end])[:4]
        if b.kind != "table_row" and not re.match(r"[\u4e00-\u9fff]+：", text.string[b.start:b.end]):
            assert words in re.sub(r"\s", "", found[0].text_content()), b.locator


def test_html_site_name_is_not_taken_for_the_title():
    text = html_text("<html><head><title>某某市人民政府门户网站</title></head><body><h1>某某市人民政府</h1>"
                     "<div id='zoom'><p>一、总体要求</p><p>（一）推进科普工作。（牵头单位：市科技局）</p></div>"
                     "</body></html>")
    assert blocks(text) == ["一、总体要求", "（一）推进科普工作。（牵头单位：市科技局）"]


def test_html_title_outside_the_article_comes_first_and_is_not_repeated():
    lines = blocks(text_of("yunxi_nodecl.html"))
    title = "云溪市人民政府办公室关于印发《云溪市全民科学素质提升行动实施方案（2023—2025年）》的通知"
    assert lines[6] == title and lines.count(title) == 1
    word = blocks(text_of("beining_word.html"))  # the Word export holds its title itself
    assert word[0].startswith("北宁县人民政府关于印发") and sum(x.endswith("的通知") for x in word) == 1


def test_html_encodings_declared_undeclared_mismatched_and_given():
    gb = text_of("yunxi_gb2312.html")
    assert gb.encoding == "gb18030" and not gb.notes and "公民具备科学素质的比例达到15%" in gb.string
    assert text_of("yunxi_nodecl.html").encoding == "utf-8"
    word = text_of("beining_word.html")  # says gb2312, is UTF-8
    assert word.encoding == "utf-8" and "gb2312" in word.notes[0] and "一、总体目标" in word.string
    given = read_text(from_bytes((DATA / "yunxi_gb2312.html").read_bytes(), path="p.html", encoding="gbk"))
    assert given.string == gb.string
    xml = '<?xml version="1.0" encoding="gb2312"?><html><body><p>一、总体要求</p></body></html>'
    assert read_text(from_bytes(xml.encode("gbk"), path="x.html")).string == "一、总体要求"
    bom = read_text(from_bytes(b"\xef\xbb\xbf<html><head><meta charset='gbk'></head><body><p>"
                               + "总体要求".encode() + b"</p></body></html>", path="b.html"))
    assert bom.string == "总体要求" and bom.encoding == "utf-8-sig"


@pytest.mark.parametrize("html, error, message", [
    ("<html><head><script>document.write('一、总体要求')</script></head><body></body></html>",
     EmptyDocumentError, "no Chinese text in its body; the page fills in its text with JavaScript"),
    ("<html><head><meta http-equiv='Refresh' content='0; URL=https://www.example.gov.cn/art/2023/plan.html'>"
     "</head><body></body></html>", SourceError, "redirect page that sends the browser on to "
                                                 "https://www.example.gov.cn/art/2023/plan.html"),
    ("<html><frameset cols='20%,80%'><frame src='menu.html'><frame src='main.html'></frameset></html>",
     SourceError, "a frameset page: its text is in other pages (menu.html, main.html)"),
    ("<html><body><h1>关于印发某县实施方案的通知</h1><div id='zoom'><p><img src='1.jpg'></p><p><img src='2.jpg'>"
     "</p></div></body></html>", SourceError, "only as 2 image(s); its text is in the images"),
    ("<html><body><div class='TRS_Editor'><p>附件：<a href='/P0201.pdf'>某县实施方案.pdf</a></p></div></body></html>",
     SourceError, "in attached file(s): 某县实施方案.pdf"),
    ("<html><body><div class='nav'><a href='/'>首页</a></div><div class='footer'>版权所有 某县人民政府</div>"
     "</body></html>", EmptyDocumentError, "no text but navigation and page furniture"),
    ("<!-- saved by a crawler -->", EmptyDocumentError, "an HTML page with nothing in it"),
    ("<div>" * 300 + "<p>一、总体要求</p>" + "</div>" * 300, SourceError, "nested deeper than the 256 levels"),
])
def test_html_bad_pages_name_the_file_and_say_what_is_wrong(html, error, message):
    with pytest.raises(error) as e:
        read_text(from_bytes(html.encode(), path="政府网站/bad page.html", media_type="text/html"))
    assert str(e.value).startswith("政府网站/bad page.html: ") and message in str(e.value)
