"""Task-division and indicator tables, written as plain-text rows (the form every reader gives).

The cases are short plans we wrote; samples/kepu_tables_plan.txt is the longer one."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rdflib import Literal, Namespace

from policykg.emit import to_graph
from policykg.extract import extract
from policykg.lexicon import default
from policykg.loaders import read_text
from policykg.source import from_bytes, read_source
from policykg.tables import find

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "kepu_tables_plan.txt"
PK = Namespace("https://w3id.org/policykg/ontology#")
HEAD = "XX市科技创新行动计划（2024—2026年）\n一、重点任务\n"


def doc_of(text: str):
    return extract(read_text(from_bytes(text.encode("utf-8"), path="case.txt")))


def units(node):
    return ([a.actor.full for a in node.leads], [a.actor.full for a in node.assignments if a.role == "co"])


def by_heading(doc):
    return {n.heading: n for n in doc.measures}


def test_tables_sample_rows_give_body_measures_their_units_and_deadlines():
    doc = extract(read_text(read_source(SAMPLE)))
    m = by_heading(doc)
    assert units(m["建设县科技馆新馆"]) == (["县科协"], ["县发展改革局", "县财政局", "县住房城乡建设局"])
    assert m["建设县科技馆新馆"].lead_basis == "stated"
    tf = m["建设县科技馆新馆"].time_frame
    assert (tf.start, tf.end, tf.basis) == (2024, 2025, "stated")
    # the measure's own 责任单位 and the table's 配合单位 name the same units once
    assert units(m["推进基层科普阵地建设"]) == (["县科协"], ["各乡镇人民政府", "各街道办事处"])
    # 持续推进 / 长期坚持: ongoing, so the plan's period applies
    tf = m["发展科技志愿服务队伍"].time_frame
    assert (tf.start, tf.end, tf.basis) == (2024, 2026, "document")
    assert [e.kind for e in m["发展科技志愿服务队伍"].time_expressions] == ["ongoing"]


def test_tables_sample_rows_the_body_lacks_are_measures_under_the_group_they_name():
    doc = extract(read_text(read_source(SAMPLE)))
    m = by_heading(doc)
    extra = m["建设科普网络传播矩阵"]
    assert extra.parent.heading == "打造科普活动品牌" and extra.parent.number == "（三）"
    assert units(extra) == (["县融媒体中心"], ["县科协"])
    assert (extra.time_frame.start, extra.time_frame.end) == (2024, 2024)  # 2024年6月底前
    text = read_text(read_source(SAMPLE)).string
    assert text[extra.span.start:extra.span.end] == "建设科普网络传播矩阵"
    assert len(doc.measures) == 7 and all(n.leads for n in doc.measures)


def test_tables_sample_indicator_table_gives_targets_per_year_and_skips_the_baseline():
    doc = extract(read_text(read_source(SAMPLE)))
    table = [(t.indicator, t.value, t.unit, t.year, t.comparator) for t in doc.targets if t.text != "16%"]
    assert ("公民具备科学素质的比例", Decimal("14"), "%", 2024, "EqualTo") in table
    assert ("注册科技志愿者人数", Decimal("3000"), "人", 2026, "AtLeast") in table
    assert ("人均科普经费", Decimal("2"), "元/人", 2026, "EqualTo") in table
    assert not [t for t in table if t[3] == 2023]  # 2023年（基期）
    assert len(table) == 12


def test_tables_sample_graph_traces_table_facts_to_their_cells():
    doc = extract(read_text(read_source(SAMPLE)))
    g = to_graph(doc)
    text = read_text(read_source(SAMPLE)).string
    lit = Literal("县融媒体中心")
    spans = [(int(g.value(s, Namespace("http://www.w3.org/ns/oa#").start)),
              int(g.value(s, Namespace("http://www.w3.org/ns/oa#").end)))
             for r in g.subjects(PK.writtenAs, lit) for s in g.objects(r, PK.span)]
    assert spans and all(text[a:b] == "县融媒体中心" for a, b in spans)
    kinds = set(g.objects(None, PK.expressionKind))
    assert PK.OngoingExpression in kinds and PK.BeforeExpression in kinds


def test_tables_ditto_and_same_as_above_repeat_the_cell_above():
    doc = doc_of(HEAD + "附件\n"
                 "| 序号 | 工作任务 | 牵头单位 | 配合单位 | 完成时限 |\n"
                 "| 1 | 建设创新平台 | 市科技局 | 市财政局 | 2025年底前 |\n"
                 "| 2 | 培育科技企业 | 同上 | 市税务局 | 〃 |\n")
    m = by_heading(doc)
    assert units(m["培育科技企业"]) == (["市科技局"], ["市税务局"])
    assert m["培育科技企业"].time_frame.end == 2025
    lead = m["培育科技企业"].leads[0].actor
    assert lead.span == m["建设创新平台"].leads[0].actor.span  # the fact points at the cell that states it


def test_tables_tab_separated_rows_and_markdown_rules_are_tables():
    text = HEAD + ("（一）建设平台。\n附件\n序号\t重点任务\t责任单位\t完成时间\n1\t建设创新平台\t市科技局、市发展改革委\t2024年\n")
    doc = doc_of(text)
    m = by_heading(doc)
    assert units(m["建设平台"]) == (["市科技局"], ["市发展改革委"])
    assert m["建设平台"].lead_basis == "list_order"
    assert m["建设平台"].time_frame.end == 2024  # a bare year in a deadline column is the year it is due by
    md = doc_of(HEAD + "（一）建设平台。\n附件\n| 序号 | 重点任务 | 牵头单位 |\n|---|---|---|\n| 1 | 建设平台 | 市科技局 |\n")
    assert units(by_heading(md)["建设平台"]) == (["市科技局"], [])
    # as scrapers save pages: no opening bar
    scraped = doc_of(HEAD + "（一）建设平台。\n附件\n序号 | 重点任务 | 牵头单位 |\n1 | 建设平台 | 市科技局 |\n")
    assert units(by_heading(scraped)["建设平台"]) == (["市科技局"], [])


def test_tables_a_lead_the_measure_states_itself_stands():
    doc = doc_of(HEAD + "（一）建设平台。整合资源。（牵头单位：市科技局）\n附件\n"
                 "| 序号 | 重点任务 | 牵头单位 | 配合单位 |\n| 1 | 建设平台 | 市发展改革委 | 市财政局 |\n")
    (m,) = doc.measures
    assert units(m) == (["市科技局"], [])


def test_tables_a_plan_that_is_only_a_table_has_its_rows_as_measures():
    doc = doc_of("XX区2024年科技工作要点任务清单\n"
                 "| 序号 | 任务分类 | 具体任务 | 责任单位 | 完成时限 |\n"
                 "| 1 | 创新平台 | 新建省级重点实验室2家 | 区科技局（牵头）、区财政局 | 2024年12月底前 |\n"
                 "| 2 | 〃 | 推进孵化器提质 | 区科技局 | 持续推进 |\n"
                 "| 3 | 人才引育 | 引进高层次人才50名 | 区委组织部、区人社局 | 2024年底前 |\n")
    assert [n.heading for n in doc.measures] == ["新建省级重点实验室2家", "推进孵化器提质", "引进高层次人才50名"]
    assert [n.parent.heading for n in doc.measures] == ["创新平台", "创新平台", "人才引育"]
    first, _, third = doc.measures
    assert units(first) == (["区科技局"], ["区财政局"]) and first.lead_basis == "stated"
    assert units(third) == (["区委组织部"], ["区人社局"]) and third.lead_basis == "list_order"
    (t,) = [t for t in doc.all_targets if t.unit == "家"]
    assert (t.value, t.year) == (Decimal("2"), 2024)


def test_tables_indicator_table_units_from_brackets_and_magnitudes():
    doc = doc_of(HEAD + "（一）建设平台。（牵头单位：市科技局）\n附件\n"
                 "| 指标 | 单位 | 2022年 | 2025年目标值 | 属性 |\n"
                 "| 研发经费投入强度（%） | | 2.1 | 2.8 | 预期性 |\n"
                 "| 技术合同成交额 | 亿元 | 30 | 50 | 预期性 |\n"
                 "| 科技志愿者 | 万人 | 1 | 1.5 | 预期性 |\n"
                 "| 科普基地 | 个 | 12 | — | 预期性 |\n")
    got = {(t.indicator, t.unit): t for t in doc.targets}
    assert set(got) == {("研发经费投入强度", "%"), ("技术合同成交额", "亿元"), ("科技志愿者", "万人")}
    assert got["研发经费投入强度", "%"].year == 2025 and got["研发经费投入强度", "%"].value == Decimal("2.8")
    assert got["科技志愿者", "万人"].normalized_value == Decimal("15000.0")


def test_tables_other_tables_are_left_as_text():
    text = read_text(from_bytes("| 索引号 | 123/2024-001 | 发文字号 | X发〔2024〕1号 |\n一、任务\n".encode(), path="a.txt"))
    assert find(text, default()) == []
