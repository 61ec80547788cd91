"""One genre form per case: a short text we wrote, and the facts it must give."""
from __future__ import annotations

from decimal import Decimal

import pytest

from policykg.extract import extract
from policykg.loaders import read_text
from policykg.source import from_bytes

HEAD = "XX县优化营商环境行动方案（2024—2026年）\n一、主要任务\n"


def doc_of(body: str, head: str = HEAD):
    return extract(read_text(from_bytes((head + body).encode("utf-8"), path="case.txt")))


def roles(measure):
    return [(a.role, a.actor.written, a.actor.full, a.basis) for a in measure.assignments]


def test_forms_labelled_note_with_semicolon_and_deadline_label():
    d = doc_of("（一）推进审批改革。全面推行告知承诺制。（牵头单位：县行政审批局；责任单位：县司法局、县市场监管局，完成时限：2024年12月底前）\n")
    (m,) = d.measures
    assert roles(m) == [("lead", "县行政审批局", "县行政审批局", "stated"), ("co", "县司法局", "县司法局", None),
                        ("co", "县市场监管局", "县市场监管局", None)]
    assert (m.time_frame.start, m.time_frame.end, m.time_frame.basis) == (2024, 2024, "stated")


def test_forms_verb_note_lead_and_co():
    d = doc_of("（一）优化信贷服务。扩大首贷规模。（县金融办牵头负责，县财政局、人行县支行等配合）\n")
    assert roles(d.measures[0]) == [("lead", "县金融办", "县金融办", "stated"), ("co", "县财政局", "县财政局", None),
                                    ("co", "人行县支行", "人行县支行", None)]


def test_forms_stated_rule_makes_the_first_unit_lead_by_rule():
    head = "XX市数字政府建设方案（2024—2025年）\n各项任务中列第一位的为牵头单位。\n一、重点任务\n"
    d = doc_of("（一）建设数据平台。整合数据资源。（责任单位：市大数据局、市发展改革委）\n", head)
    assert d.lead_rule == "列第一位的为牵头单位"
    assert roles(d.measures[0])[0] == ("lead", "市大数据局", "市大数据局", "rule")


def test_forms_shared_prefix_and_nested_brackets_and_collectives():
    d = doc_of("（一）加强人才引进。落实人才政策。（责任单位：市委组织部（人才办）、宣传部，市人力社保局、财政局，各区县（市）政府）\n")
    got = {a.actor.written: (a.actor.full, a.actor.collective) for a in d.measures[0].assignments}
    assert got == {"市委组织部（人才办）": ("市委组织部（人才办）", False), "宣传部": ("市委宣传部", False),
                   "市人力社保局": ("市人力社保局", False), "财政局": ("市财政局", False),
                   "各区县（市）政府": ("各区县（市）政府", True)}


def test_forms_group_lead_is_inherited_and_own_line_notes_are_read():
    d = doc_of("（一）提升政务服务。（牵头部门：县政务服务中心）\n"
               "1.推行一窗受理。设立综合窗口。（县政务服务中心、县大数据中心按职责分工负责）\n"
               "2.推行帮办代办。\n责任单位：县政务服务中心、各乡镇人民政府\n"
               "3.推行延时服务。\n")
    m1, m2, m3 = d.measures
    assert roles(m1)[0] == ("lead", "县政务服务中心", "县政务服务中心", "inherited")
    assert [r[1] for r in roles(m1)[1:]] == ["县政务服务中心", "县大数据中心"]
    assert [r[:2] for r in roles(m2)] == [("lead", "县政务服务中心"), ("co", "县政务服务中心"), ("co", "各乡镇人民政府")]
    assert roles(m3) == [("lead", "县政务服务中心", "县政务服务中心", "inherited")]


def test_forms_fengong_paragraphs_make_one_measure():
    d = doc_of("（一）实施河湖清四乱行动。\n1.任务。清理乱占乱采。\n2.措施。开展专项整治。\n"
               "3.分工。牵头部门：县水利局。\n配合部门：县自然资源局、县生态环境分局。\n")
    (m,) = d.measures
    assert [(r[0], r[1]) for r in roles(m)] == [("lead", "县水利局"), ("co", "县自然资源局"), ("co", "县生态环境分局")]


def test_forms_heading_sentence_paragraphs_are_measures_and_assurance_clauses_are_not():
    d = doc_of("（一）推进垃圾分类。\n推进分类立法。制定管理条例。\n完善收运体系。配齐分类运输车辆。\n"
               "二、保障措施\n（一）加强组织领导。各部门要高度重视。\n（二）强化督查。（牵头单位：县委督查室）\n")
    assert [m.heading for m in d.measures] == ["推进分类立法", "完善收运体系", "强化督查"]
    clauses = [n for n in d.nodes() if n.kind == "clause"]
    assert [c.heading for c in clauses] == ["加强组织领导"]


def test_forms_circled_and_parenthesised_numbers_and_gaps():
    d = doc_of("（一）推进改革。\n①简化流程。压减材料。\n②压缩时限。\n④降低成本。\n")
    assert [m.number for m in d.measures] == ["①", "②", "④"]
    assert any("④" in f.message and "3" in f.message for f in d.findings if f.code == "numbering-gap")


@pytest.mark.parametrize("sentence, value, unit, comparator, year, recurrence", [
    ("到2025年，全县公民具备科学素质的比例达到18%。", "18", "%", "EqualTo", 2025, None),
    ("每年新增家庭养老床位1000张左右。", "1000", "张", "Approximately", None, "year"),
    ("累计开展职业技能培训两万人次以上。", "2", "万人次", "AtLeast", None, None),
    ("新增技能人才一千名以上。", "1000", "名", "AtLeast", None, None),
    ("生活垃圾填埋比例不超过10%。", "10", "%", "AtMost", None, None),
    ("县财政按人均不低于3元的标准安排经费。", "3", "元/人", "AtLeast", None, None),
    ("2024年底前，厨余垃圾处理能力达到300吨/日。", "300", "吨/日", "EqualTo", 2024, None),
    ("城乡差距缩小3.5个百分点。", "3.5", "个百分点", "EqualTo", None, None),
    ("农村自来水普及率达到百分之九十。", "90", "%", "EqualTo", None, None),
    ("填埋比例控制在１０％以内。", "10", "％", "AtMost", None, None),  # the unit as written
    ("“十四五”期间培训高素质农民500名以上。", "500", "名", "AtLeast", 2025, None),
])
def test_forms_targets(sentence, value, unit, comparator, year, recurrence):
    d = doc_of(f"（一）推进工作。{sentence}（责任单位：县发展改革局）\n")
    (t,) = d.all_targets
    assert (t.value, t.unit, t.comparator, t.year, t.recurrence) == (Decimal(value), unit, comparator, year, recurrence)


@pytest.mark.parametrize("sentence", [
    "实施五项重点工程，推进5G基站建设。", "入选第三批国家级示范区。", "落实《2021—2025年规划》要求。",
    "常住人口超100万的县要建设科技馆。", "打造一批示范基地。",
    "对符合条件的项目给予最高50万元资助。", "对全县14家燃气企业开展检查。",
])
def test_forms_numbers_that_are_not_targets(sentence):
    assert doc_of(f"（一）推进工作。{sentence}（责任单位：县发展改革局）\n").all_targets == []


def test_forms_signature_with_chinese_numeral_date_and_several_organs():
    head = ("XX市民政局等2部门关于印发《XX市养老服务实施意见》的通知\n各区县民政局、财政局：\n现将《XX市养老服务实施意见》印发给你们。\n"
            "XX市民政局　　　　XX市财政局\n二〇二三年六月十二日\nXX市养老服务实施意见\n为推进养老服务，根据《国务院关于推进养老服务发展的意见》（国办发〔2019〕5号）要求，制定本意见。\n"
            "一、重点任务\n")
    d = doc_of("（一）发展社区养老。建设服务中心。（责任单位：市民政局）\n到2025年，全市养老床位达到3万张。\n", head)
    assert [a.written for a in d.issuers] == ["XX市民政局", "XX市财政局"]
    assert str(d.created) == "2023-06-12"
    assert d.plan_title == "XX市养老服务实施意见"
    assert [(c.title, c.number) for c in d.citations] == [("国务院关于推进养老服务发展的意见", "国办发〔2019〕5号")]
    assert (d.period.start, d.period.end) == (2023, 2025)


def test_forms_bare_unit_list_at_the_end_is_a_responsibility_list():
    d = doc_of("（一）推广创新产品。组织发布对接活动。（市工业和信息化局、市财政局、市科技局）\n"
               "（二）完善统计制度。（以下简称“统计制度”）\n")
    first, second = d.measures
    assert roles(first)[0] == ("lead", "市工业和信息化局", "市工业和信息化局", "list_order")
    assert [r[1] for r in roles(first)[1:]] == ["市财政局", "市科技局"]
    assert roles(second) == []


def test_forms_targets_for_places_share_the_indicator_before_them():
    d = doc_of("（一）推进工作。到2025年，全县公民具备科学素质的比例达到15%，城乡差距缩小。其中，城关镇、龙河镇达到18%以上，"
               "高家镇、兴义镇、三合街道力争达到12%。（责任单位：县科协）\n")
    assert [(t.indicator, t.value) for t in d.all_targets] == [
        ("全县公民具备科学素质的比例", Decimal(15)),
        ("城关镇、龙河镇公民具备科学素质的比例", Decimal(18)),
        ("高家镇、兴义镇、三合街道公民具备科学素质的比例", Decimal(12))]
