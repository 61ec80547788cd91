"""The Word (.docx) and PDF readers: the same plan read from .docx and .pdf gives what its
plain text gives, tables come out as | cell | rows with 〃 for merges, PDF blocks keep their
pages, and every bad file is a SourceError that names it and says what is wrong.

All test documents are made here at test time from a short plan written for these tests:
.docx files with python-docx (numbers typed, or drawn by Word's automatic numbering), PDFs
by LibreOffice from those .docx files (one soffice run per session, plus one for an
encrypted PDF; a missing soffice fails the PDF tests), bad inputs byte by byte.
"""
from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import docx
import pdfplumber
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt

from policykg.errors import EmptyDocumentError, SourceError, UnsupportedFormatError
from policykg.loaders import read_text
from policykg.loaders.word_numbering import format_number
from policykg.pipeline import document_from_source
from policykg.source import DOCX, from_bytes

W = nsdecls("w")
HEADER = "江川市人民政府办公室文件"
TITLE = "江川市科技创新行动计划（2023—2025年）"
PREAMBLE = "为深入实施创新驱动发展战略，加快建设区域科技创新高地，推动全市经济高质量发展，结合我市实际，制定本行动计划。"

# (kind, text): title, h1 (一、), item (（一）), p (plain paragraph)
PLAN = [
    ("title", TITLE),
    ("p", PREAMBLE),
    ("h1", "一、总体要求"),
    ("item", "（一）指导思想。坚持创新在现代化建设全局中的核心地位，以企业为主体、市场为导向，强化科技创新与产业创新深度融合，"
             "为全市高质量发展提供有力支撑。"),
    ("item", "（二）主要目标。到2025年，全市全社会研发经费投入强度达到3%，高新技术企业达到1200家，"
             "规模以上工业企业中有研发活动的企业比例达到15%。"),
    ("h1", "二、重点任务"),
    ("item", "（一）壮大科技企业群体。实施高新技术企业培育计划，建立科技型中小企业梯次培育库，对首次认定的高新技术企业给予"
             "一次性奖励。到2025年，科技型中小企业达到2500家。（牵头单位：市科技局；配合单位：市财政局、市税务局）"),
    ("item", "（二）建设创新平台载体。支持龙头企业联合高校院所建设重点实验室和技术创新中心，推动中试基地向中小企业开放共享。"
             "2024年底前建成市级中试基地3个。（牵头单位：市发展改革委；配合单位：市科技局、市工业和信息化局）"),
    ("item", "（三）引育高层次科技人才。落实人才引进政策，支持企业柔性引进高端人才，完善科技人才评价激励机制。"
             "（牵头单位：市委组织部；配合单位：市人力资源社会保障局、市科技局）"),
    ("item", "（四）加强科学技术普及。推动科普基地建设，开展科技活动周和全国科普日活动。到2025年，公民具备科学素质的比例"
             "达到15%。（牵头单位：市科协；配合单位：市教育局、市科技局）"),
    ("item", "（五）促进科技成果转化。建设技术转移服务平台，培育技术经纪人队伍，2023—2025年每年举办科技成果对接活动"
             "不少于10场。（牵头单位：市科技局；配合单位：市市场监管局）"),
    ("h1", "三、保障措施"),
    ("item", "（一）加强组织领导。建立市科技创新工作联席会议制度，统筹推进各项任务落实，定期调度工作进展。"),
    ("item", "（二）强化资金保障。统筹市级科技专项资金，加大对基础研究和关键核心技术攻关的支持力度。"),
    ("p", "附件：1．重点任务分工表"),
    ("p", "2．主要指标表"),
]
TASK_ROWS = [
    "| 序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限 |",
    "| 1 | 壮大科技企业群体 | 市科技局 | 市财政局、市税务局 | 2025年底前 |",
    "| 2 | 促进科技成果转化 | 〃 | 市市场监管局 | 持续推进 |",
    "| 3 | 建设创新平台载体 | 市发展改革委 | 市科技局、市工业和信息化局 | 2024年底前 |",
]
INDICATOR_ROWS = [  # 指标 and 单位 merged over two rows, 目标值 across three columns
    "| 指标 | 单位 | 目标值 |  |  |",
    "| 〃 | 〃 | 2023年 | 2024年 | 2025年 |",
    "| 全社会研发经费投入强度 | % | 2.6 | 2.8 | 3 |",
    "| 高新技术企业数量 | 家 | 900 | 1050 | 1200 |",
]
ATTACHMENTS = [("p", "附件1"), ("p", "重点任务分工表"), ("task", TASK_ROWS), ("p", "附件2"), ("p", "主要指标表"),
               ("indicators", INDICATOR_ROWS)]

_LONG_TASKS = [
    ("实施企业研发投入攻坚行动", "市科技局", "市财政局、市税务局、市统计局", "2025年底前",
     "落实研发费用加计扣除政策，引导企业建立研发准备金制度，对研发投入增长较快的企业按增量给予后补助。推动规模以上工业企业"
     "研发机构全覆盖，支持企业牵头组建创新联合体，承担国家和省级科技计划项目。到2025年，规模以上工业企业研发经费"
     "支出达到120亿元，有研发机构的企业比例达到45%。"),
    ("建设高能级创新平台", "市发展改革委", "市科技局、市工业和信息化局", "2025年底前",
     "围绕新材料、生物医药和高端装备等优势产业，布局建设一批重点实验室、工程研究中心和产业技术研究院。支持高校院所"
     "与龙头企业共建新型研发机构，对绩效评价优秀的平台给予运行经费支持，推动大型科研仪器设施开放共享。到2025年，"
     "省级以上创新平台达到150家。"),
    ("推进关键核心技术攻关", "市科技局", "市工业和信息化局、市发展改革委", "持续推进",
     "聚焦产业链关键环节，每年发布重点技术攻关需求清单，采取揭榜挂帅、赛马制等方式组织实施重大科技专项。建立攻关项目"
     "首席专家负责制，赋予科研团队更大的技术路线决定权和经费使用权，加快形成一批具有自主知识产权的标志性成果。"),
    ("加快科技成果转移转化", "市科技局", "市市场监管局、市教育局", "2024年底前",
     "建设市级技术转移服务平台，培育专业化技术经纪人队伍，完善科技成果评价和交易机制。支持高校院所开展职务科技成果"
     "赋权改革，鼓励企业购买国内外先进技术成果在本地转化。2024年底前建成技术转移服务平台，技术合同成交额年均增长10%以上。"),
    ("打造科技人才集聚高地", "市委组织部", "市人力资源社会保障局、市科技局", "持续推进",
     "深入实施高层次人才引进计划，对顶尖人才团队实行一事一议支持。完善人才住房、子女入学和医疗保障等服务，搭建青年"
     "科技人才成长平台，支持企业设立博士后科研工作站。到2025年，全市研发人员达到3.5万人，新引进高层次人才500名。"),
    ("深化科技金融融合发展", "市金融工作局", "市科技局、市财政局", "2025年底前",
     "设立市级科技创新引导基金，吸引社会资本投向种子期、初创期科技企业。推广知识产权质押融资和科技保险，建立科技型"
     "企业贷款风险补偿机制，支持符合条件的科技企业上市挂牌融资。到2025年，科技信贷余额达到300亿元。"),
    ("提升全民科学素质", "市科协", "市教育局、市科技局、市文化和旅游局", "持续推进",
     "推动科普场馆提档升级，支持学校、企业和园区建设各类科普基地，开展科技活动周、全国科普日等群众性科普活动。加强"
     "科普人才队伍建设，推进科普信息化。到2025年，公民具备科学素质的比例达到15%，每万人拥有科普场馆面积达到300平方米。"),
    ("优化科技创新生态", "市科技局", "市司法局、市市场监管局", "2025年底前",
     "深化科技体制改革，推行科研项目经费包干制，减轻科研人员事务性负担。加强知识产权保护，健全科研诚信和科技伦理"
     "治理体系，营造鼓励创新、宽容失败的良好氛围。每年开展科技政策宣讲不少于20场。"),
]
_CN = "一二三四五六七八九十"


def long_plan() -> list[tuple[str, object]]:
    """A plan long enough to take several pages: 二、 starts page 2, its measures run on."""
    items: list[tuple[str, object]] = [("title", TITLE), ("p", PREAMBLE), ("h1", "一、总体要求"), PLAN[3], PLAN[4],
                                       ("h1+break", "二、重点任务")]
    for i, (head, lead, co, _, body) in enumerate(_LONG_TASKS):
        items.append(("item", f"（{_CN[i]}）{head}。{body}（牵头单位：{lead}；配合单位：{co}）"))
    items += [("h1", "三、保障措施"), PLAN[12], PLAN[13], ("p", "附件：重点任务分工表"), ("p", "附件"),
              ("p", "重点任务分工表"), ("task", long_task_rows())]
    return items


def long_task_rows() -> list[str]:
    """The task table of the long plan: 16 rows, a lead merged over two rows."""
    tasks = _LONG_TASKS + _LONG_TASKS[1:] + _LONG_TASKS[:1]
    rows = [TASK_ROWS[0]]
    for i, (head, lead, co, due, _) in enumerate(tasks):
        same = 0 < i < 8 and lead == tasks[i - 1][1]
        rows.append(f"| {i + 1} | {head} | {'〃' if same else lead} | {co} | {due} |")
    return rows


def plain_text(items) -> str:
    """The plan as a text file, tables written as | cell | rows."""
    lines = []
    for kind, value in items:
        lines.extend(value if kind in ("task", "indicators") else [value])
    return "\n".join(lines) + "\n"


_NUMBER = re.compile(r"^[一二三四五六七八九十]+、|^（[一二三四五六七八九十]+）")


def word_file(items, *, auto_numbering: bool = False) -> bytes:
    """The plan as a .docx. With auto_numbering the 一、 and （一） are not in the text: the
    一、 level comes from the Heading 1 style, the （一） level from the paragraph's own numPr."""
    d = _document()
    if auto_numbering:
        add_numbering(d, 90, [("chineseCounting", "%1、", 1, "Heading1"), ("chineseCounting", "（%2）", 1, None)])
        d.styles["Heading 1"].element.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {W}><w:numId w:val="90"/></w:numPr>'))
    for kind, value in items:
        if kind in ("task", "indicators"):
            _table(d, value)
        elif kind == "title":
            d.add_paragraph(value, style="Title")
        elif kind.startswith("h1"):
            p = d.add_paragraph(_NUMBER.sub("", value) if auto_numbering else value, style="Heading 1")
            p.paragraph_format.page_break_before = kind.endswith("break")
        elif kind == "item" and auto_numbering:
            numbered(_body(d, _NUMBER.sub("", value)), 90, 1)
        else:
            _body(d, value)
    return save(d)


def official_word_file(items) -> bytes:
    """The plan laid out the way official documents are (GB/T 9704): A4, 16 pt text on a
    fixed 28.9 pt line pitch with no space between paragraphs, justified, headings indented
    like body text, a 22 pt title centred over two lines, the page number at the outer edge."""
    d = docx.Document()
    section = d.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin, section.left_margin, section.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    normal = d.styles["Normal"]
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "WenQuanYi Micro Hei")
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing, normal.paragraph_format.space_after = Pt(28.9), Pt(0)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run("— ")
    footer._p.append(parse_xml(f'<w:fldSimple {W} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    footer.add_run(" —")
    for kind, value in items:
        if kind == "task":
            _table(d, value)
            continue
        p = d.add_paragraph(value)
        if kind == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.runs[0].font.size, p.paragraph_format.line_spacing = Pt(22), Pt(36)
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            p.paragraph_format.first_line_indent = Pt(32)
            p.paragraph_format.page_break_before = kind.endswith("break")
    return save(d)


def official_plan() -> list[tuple[str, object]]:
    return [("title", f"江川市人民政府办公室关于印发{TITLE}的通知")] + long_plan()[1:]


def _document():
    d = docx.Document()
    normal = d.styles["Normal"]
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "WenQuanYi Micro Hei")
    section = d.sections[0]
    section.header.paragraphs[0].text = HEADER
    footer = section.footer.paragraphs[0]
    footer.alignment = 1
    footer.add_run("— ")
    footer._p.append(parse_xml(f'<w:fldSimple {W} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    footer.add_run(" —")
    return d


def _body(d, text: str):
    p = d.add_paragraph(text)
    p.paragraph_format.first_line_indent = Pt(24)  # two characters, as Chinese paragraphs start
    return p


def _table(d, rows: list[str]) -> None:
    """A ruled Word table from `| a | b |` rows: 〃 merges with the cell above; an empty cell
    after a filled one in the first row merges with it (a header spanning columns)."""
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    t = d.add_table(rows=len(cells), cols=len(cells[0]))
    t.style = "Table Grid"
    t.rows[0]._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {W}/>"))  # repeated on each page
    for i, row in enumerate(cells):
        for j, text in enumerate(row):
            if text != "〃":
                t.cell(i, j).text = text
    for j in range(len(cells[0])):  # merge down
        for i in range(len(cells) - 1, 0, -1):
            if cells[i][j] == "〃":
                top = i
                while cells[top][j] == "〃":
                    top -= 1
                t.cell(top, j).merge(t.cell(i, j)).text = cells[top][j]
                break
    first = cells[0]
    for j in range(1, len(first)):  # merge across
        if first[j] == "" and first[j - 1] != "":
            end = j
            while end + 1 < len(first) and first[end + 1] == "":
                end += 1
            t.cell(0, j - 1).merge(t.cell(0, end)).text = first[j - 1]


def add_numbering(d, ident: int, levels, starts: dict[int, int] | None = None, num_id: int | None = None,
                  suffix: str = "nothing") -> None:
    """An abstract numbering definition `ident` with (numFmt, lvlText, start, pStyle) levels
    (none: only the w:num) and a w:num `num_id` (default: ident) using it, with a
    w:startOverride per level in `starts`; `suffix` is what follows the number."""
    numbering = d.part.numbering_part.element
    if levels:
        lvls = "".join(
            f'<w:lvl w:ilvl="{i}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            + (f'<w:pStyle w:val="{style}"/>' if style else "")
            + f'<w:suff w:val="{suffix}"/><w:lvlText w:val="{text}"/></w:lvl>'
            for i, (fmt, text, start, style) in enumerate(levels))
        first_num = numbering.find(qn("w:num"))
        abstract = parse_xml(f'<w:abstractNum {W} w:abstractNumId="{ident}">{lvls}</w:abstractNum>')
        first_num.addprevious(abstract) if first_num is not None else numbering.append(abstract)
    overrides = "".join(f'<w:lvlOverride w:ilvl="{i}"><w:startOverride w:val="{v}"/></w:lvlOverride>'
                        for i, v in (starts or {}).items())
    numbering.append(parse_xml(f'<w:num {W} w:numId="{num_id or ident}"><w:abstractNumId w:val="{ident}"/>'
                               f"{overrides}</w:num>"))


def numbered(p, num_id: int, ilvl: int):
    p._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {W}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return p


def save(d) -> bytes:
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def picture_docx() -> bytes:
    """A Word file whose only content is a picture (a scanned page pasted in)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (400, 560), 255)
    draw = ImageDraw.Draw(img)
    for y in range(40, 520, 24):
        draw.rectangle((40, y, 360, y + 10), fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    d = docx.Document()
    d.add_picture(io.BytesIO(buf.getvalue()))
    return save(d)


def to_pdf(files: dict[str, bytes], folder: Path, *, filter_options: str = "") -> dict[str, bytes]:
    """PDFs LibreOffice makes of the given .docx files, in one run (a private profile, so a
    LibreOffice already running elsewhere does not take the job)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed; the PDF tests need it to make their PDFs")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.docx").write_bytes(data)
    target = "pdf" + (f":writer_pdf_Export:{filter_options}" if filter_options else "")
    subprocess.run([soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                    "--convert-to", target, "--outdir", str(folder), *(str(folder / f"{n}.docx") for n in files)],
                   check=True, capture_output=True, timeout=180)
    return {name: (folder / f"{name}.pdf").read_bytes() for name in files}


def zip_bomb(total_mb: int, member: str = "word/document.xml") -> bytes:
    """A zip whose one member unpacks to `total_mb` MB of zeros (about 1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open(member, "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(total_mb):
                f.write(chunk)
    return out.getvalue()


def encrypted_docx() -> bytes:
    """What Word writes for a .docx with a password to open: an OLE compound file (CFB v3)
    holding the streams EncryptionInfo and EncryptedPackage (contents here are filler)."""
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    stream = 4096  # at the mini-stream cutoff, so streams live in regular 512-byte sectors
    fat = [fat_sector, end] + list(range(3, 10)) + [end] + list(range(11, 18)) + [end]
    fat += [free] * (128 - len(fat))

    def entry(name: str, kind: int, left=no_stream, right=no_stream, child=no_stream, start=end, size=0):
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB3I16sI16sIII", len(encoded), kind, 1, left, right,
                                                        child, bytes(16), 0, bytes(16), start, size, 0))

    directory = (entry("Root Entry", 5, child=1) + entry("EncryptionInfo", 2, right=2, start=2, size=stream)
                 + entry("EncryptedPackage", 2, start=10, size=stream) + entry("", 0))
    header = (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<109I", 0, *([free] * 108)))
    return (header + struct.pack("<128I", *fat) + directory + b"\x01" * stream
            + struct.pack("<Q", 1234) + b"\x5a" * (stream - 8))


def raw_pdf(objects: list[str], root: int = 1) -> bytes:
    """A PDF from its objects' bodies (object i+1 is objects[i]), with a correct xref table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _stream(content: str) -> str:
    return f"<< /Length {len(content)} >>\nstream\n{content}\nendstream"


def cid_font_pdf() -> bytes:
    """A one-page PDF whose text is in a CID font without a ToUnicode map: pdfminer can only
    read it as (cid:N) codes."""
    codes = "".join(f"{c:04X}" for c in range(0x300, 0x340))
    return raw_pdf([
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(f"BT /F1 12 Tf 72 760 Td <{codes}> Tj 0 -20 Td <{codes}> Tj ET"),
        "<< /Type /Font /Subtype /Type0 /BaseFont /FZSSK--GBK1-0 /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /FZSSK--GBK1-0 "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    ])


def blank_pages_pdf(n: int) -> bytes:
    """A PDF of n empty pages (no text, no images)."""
    kids = " ".join(f"{i + 3} 0 R" for i in range(n))
    return raw_pdf(["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {n} >>"]
                   + ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * n)


# --- session fixtures: the documents, and LibreOffice's PDFs of them ---------------------------

SHORT = PLAN + ATTACHMENTS


@pytest.fixture(scope="session")
def docs() -> dict[str, bytes]:
    return {"plan": word_file(SHORT), "auto": word_file(SHORT, auto_numbering=True),
            "long": word_file(long_plan()), "official": official_word_file(official_plan()), "picture": picture_docx()}


@pytest.fixture(scope="session")
def pdfs(docs, tmp_path_factory) -> dict[str, bytes]:
    made = _pdf_or_fail(docs, tmp_path_factory.mktemp("pdf"))
    made["encrypted"] = _pdf_or_fail({"plan": docs["plan"]}, tmp_path_factory.mktemp("encrypted"),
                                     filter_options='{"EncryptFile":{"type":"boolean","value":"true"},'
                                                    '"DocumentOpenPassword":{"type":"string","value":"secret"}}')["plan"]
    return made


def _pdf_or_fail(files, folder, **kw):
    try:
        return to_pdf(files, folder, **kw)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        pytest.fail(f"cannot make the test PDFs with LibreOffice: {e}")


def _read(data: bytes, name: str, media_type: str | None = None):
    return read_text(from_bytes(data, path=name, media_type=media_type))


def _blocks(text) -> list[str]:
    return [text.string[b.start:b.end] for b in text.blocks]


def _summary(data: bytes, name: str):
    """What extraction finds: each measure's number, heading, leads and co-units, time frame
    and targets; the plan's title, period and all its targets."""
    doc = document_from_source(from_bytes(data, path=name))
    measures = [(n.number, n.heading, [(a.actor.full, a.role) for a in n.assignments],
                 n.time_frame and (n.time_frame.start, n.time_frame.end),
                 [(t.indicator, t.value, t.unit) for t in n.targets]) for n in doc.measures]
    return (measures, doc.plan_title, doc.period and (doc.period.start, doc.period.end),
            [(t.indicator, t.value, t.unit) for t in doc.all_targets])


def _plain(name: str) -> str:
    return plain_text({"plan": SHORT, "auto": SHORT}.get(name) or (long_plan() if name == "long" else official_plan()))


def _page_texts(pdf: bytes) -> list[str]:
    """Each page's raw text as pdfplumber gives it, line breaks and all removed."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [re.sub(r"\s+", "", p.extract_text() or "") for p in doc.pages]


# --- Word -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["plan", "auto", "long"])
def test_word_extraction_equals_the_plain_text_of_the_plan(docs, name):
    expected = _summary(_plain(name).encode(), f"{name}.txt")
    assert expected[0] and expected[0][0][2], "the reference plan has measures with leads"
    assert _summary(docs[name], f"{name}.docx") == expected


def test_word_blocks_are_the_paragraphs_and_table_rows_in_order(docs):
    text = _read(docs["plan"], "plan.docx")
    assert _blocks(text) == [line for line in _plain("plan").splitlines() if line]
    assert text.media_type == DOCX and text.name == "plan.docx"


def test_word_automatic_numbering_is_put_in_front_of_the_text(docs):
    auto = _read(docs["auto"], "auto.docx")
    assert _blocks(auto) == _blocks(_read(docs["plan"], "plan.docx"))
    assert "二、重点任务" in _blocks(auto) and "（五）促进科技成果转化" in auto.string  # （一） restarts under 二、


def test_word_headings_and_locators(docs):
    text = _read(docs["plan"], "plan.docx")
    by_text = {text.string[b.start:b.end]: b for b in text.blocks}
    assert [t for t, b in by_text.items() if b.kind == "heading"] == [TITLE, "一、总体要求", "二、重点任务", "三、保障措施"]
    assert by_text[TITLE].locator == "body/p[1]" and by_text["一、总体要求"].locator == "body/p[3]"
    assert by_text[TASK_ROWS[2]].kind == "table_row" and by_text[TASK_ROWS[2]].locator == "body/tbl[1]/tr[3]"
    assert by_text[INDICATOR_ROWS[1]].locator == "body/tbl[2]/tr[2]"
    assert all(b.page is None for b in text.blocks)


def test_word_tables_are_rows_with_ditto_for_merged_cells(docs):
    rows = [t for t, b in zip(_blocks(_read(docs["plan"], "plan.docx")), _read(docs["plan"], "p.docx").blocks,
                              strict=True) if b.kind == "table_row"]
    assert rows == TASK_ROWS + INDICATOR_ROWS  # vMerge -> 〃, gridSpan -> empty cells


def _numbering_docx() -> bytes:
    d = _document()
    add_numbering(d, 91, [("ideographTraditional", "%1、", 1, None), ("decimalEnclosedCircle", "%2", 1, None),
                          ("lowerLetter", "%3)", 1, None), ("upperRoman", "%4.", 1, None)])
    add_numbering(d, 91, [], starts={0: 5}, num_id=92)       # a second instance, restarting at 5
    add_numbering(d, 93, [("chineseCountingThousand", "第%1条", 11, "PlanItem")], suffix="space")
    add_numbering(d, 94, [("decimal", "%1.", 1, None), ("decimal", "%1.%2.", 1, None)])
    style = d.styles.add_style("PlanItem", WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_pPr().append(parse_xml(f'<w:numPr {W}><w:numId w:val="93"/></w:numPr>'))
    for num, level, text in [(91, 0, "总体要求"), (91, 1, "指导思想"), (91, 1, "基本原则"), (91, 2, "坚持创新"),
                             (91, 3, "细则"), (91, 0, "重点任务"), (91, 1, "培育企业"), (92, 0, "保障措施"),
                             (91, 0, "附则"), (94, 0, "任务"), (94, 1, "子任务"), (94, 1, "子任务"), (94, 0, "任务"),
                             (94, 1, "子任务")]:
        numbered(d.add_paragraph(text), num, level)
    add_numbering(d, 95, [("decimal", "%1", 1, None)])
    table = d.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "序号", "任务"
    for i, task in ((1, "建设平台"), (2, "培育人才")):
        numbered(table.cell(i, 0).paragraphs[0], 95, 0)  # the number is all the cell shows
        table.cell(i, 1).text = task
    d.add_paragraph("本办法自印发之日起施行。", style="PlanItem")
    d.add_paragraph("各区县参照执行。", style="PlanItem")
    numbered(d.add_paragraph("不编号的段落", style="PlanItem"), 0, 0)  # numId 0 switches numbering off
    return save(d)


def test_word_numbering_levels_formats_restarts_and_styles():
    assert _blocks(_read(_numbering_docx(), "numbering.docx")) == [
        "甲、总体要求", "①指导思想", "②基本原则", "a)坚持创新", "I.细则", "乙、重点任务", "①培育企业",
        "戊、保障措施",  # w:startOverride where instance 92 is first used
        "己、附则",      # instance 91 goes on with the count the two instances share
        "1.任务", "1.1.子任务", "1.2.子任务", "2.任务", "2.1.子任务", "| 序号 | 任务 |", "| 1 | 建设平台 |", "| 2 | 培育人才 |",
        "第十一条 本办法自印发之日起施行。", "第十二条 各区县参照执行。", "不编号的段落"]


@pytest.mark.parametrize("fmt, numbers, written", [
    ("chineseCounting", [1, 10, 11, 20, 21, 100, 105, 110], ["一", "十", "十一", "二十", "二十一", "一百", "一百零五", "一百一十"]),
    ("chineseCountingThousand", [3, 12, 1001], ["三", "十二", "一千零一"]),
    ("japaneseCounting", [4, 14], ["四", "十四"]),
    ("ideographTraditional", [1, 4, 10, 11], ["甲", "丁", "癸", "11"]),
    ("decimalEnclosedCircle", [1, 20, 21], ["①", "⑳", "21"]),
    ("decimalEnclosedCircleChinese", [3], ["③"]),
    ("upperLetter", [1, 26, 27], ["A", "Z", "AA"]),
    ("lowerLetter", [2, 28], ["b", "bb"]),
    ("upperRoman", [4, 9, 14], ["IV", "IX", "XIV"]),
    ("lowerRoman", [3, 40], ["iii", "xl"]),
    ("decimal", [7], ["7"]),
    ("decimalZero", [7], ["07"]),
    ("decimalFullWidth", [12], ["１２"]),
    ("chineseLegalSimplified", [3], ["叁"]),
    ("ideographLegalTraditional", [3], ["參"]),
    ("someFutureFormat", [5], ["5"]),
])
def test_word_number_formats(fmt, numbers, written):
    assert [format_number(n, fmt) for n in numbers] == written


def _features_docx() -> bytes:
    """Deleted and inserted text, a field, a comment, hidden text, a content control, a
    table-of-contents entry, a line break, a one-column table, a nested table and a layout
    table, with a running header and footer."""
    d = _document()
    toc = d.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH)
    d.add_paragraph("一、总体要求………1", style=toc)
    body = d.element.body
    for xml in [
        '<w:p><w:r><w:t>保留的文字</w:t></w:r><w:del w:id="1" w:author="a"><w:r><w:delText>删除的文字</w:delText>'
        '</w:r></w:del><w:ins w:id="2" w:author="a"><w:r><w:t>和新增的文字</w:t></w:r></w:ins></w:p>',
        '<w:p><w:r><w:t xml:space="preserve">印发日期：</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> DATE \\@ "yyyy年M月d日" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>2024年1月30日</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>',
        '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>有批注的文字</w:t></w:r><w:commentRangeEnd w:id="0"/>'
        '<w:r><w:commentReference w:id="0"/></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>隐藏的文字</w:t></w:r></w:p>',
        '<w:sdt><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>内容控件中的段落</w:t></w:r></w:p></w:sdtContent></w:sdt>',
        '<w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t><w:sym w:font="Wingdings" w:char="F0B7"/></w:r></w:p>',
    ]:
        body.sectPr.addprevious(parse_xml(xml.replace("<w:p>", f"<w:p {W}>", 1).replace("<w:sdt>", f"<w:sdt {W}>", 1)))
    one_column = d.add_table(rows=2, cols=1)
    one_column.cell(0, 0).text = "一、总体要求"
    one_column.cell(1, 0).text = "（一）单列表格中的段落。"
    outer = d.add_table(rows=2, cols=2)
    outer.style = "Table Grid"
    for (i, j), t in {(0, 0): "指标", (0, 1): "目标值", (1, 0): "研发投入"}.items():
        outer.cell(i, j).text = t
    inner = outer.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "2024年", "3%"
    layout = d.add_table(rows=1, cols=2)
    layout.cell(0, 0).text = "说明"
    cell = layout.cell(0, 1)
    cell.text = PLAN[6][1]
    for _, t in PLAN[7:11]:
        cell.add_paragraph(t)
    return save(d)


def test_word_reads_what_the_page_shows_and_nothing_else():
    text = _read(_features_docx(), "features.docx")
    assert _blocks(text) == [
        "保留的文字和新增的文字", "印发日期：2024年1月30日", "有批注的文字", "内容控件中的段落", "第一行 第二行",
        "一、总体要求", "（一）单列表格中的段落。",
        "| 指标 | 目标值 |", "| 研发投入 | 2024年 3% |",
        "说明", *[t for _, t in PLAN[6:11]]]
    assert HEADER not in text.string and "DATE" not in text.string and "………" not in text.string
    assert [b.locator for b in text.blocks][-3:] == ["body/tbl[3]/tr[1]/tc[2]/p[3]", "body/tbl[3]/tr[1]/tc[2]/p[4]",
                                                    "body/tbl[3]/tr[1]/tc[2]/p[5]"]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


WORD_BAD = {
    "empty": (lambda docs: b"", None, EmptyDocumentError, "the file is empty"),
    "not a zip": (lambda docs: "一、总体要求\n（一）这是文本".encode(), None, SourceError,
                  "not a Word file: a .docx is a zip archive, this is not one"),
    "truncated": (lambda docs: docs["plan"][: len(docs["plan"]) // 2], None, SourceError,
                  "damaged or truncated Word file"),
    "damaged xml": (lambda docs: _zip({"word/document.xml": b"<w:document><w:body>"}), DOCX, SourceError,
                    "part word/document.xml is not well-formed XML"),
    "zip of no Word file": (lambda docs: _zip({"plan.txt": "一、总体要求".encode()}), DOCX, SourceError,
                            "a zip archive but not a Word document"),
    "zip bomb": (lambda docs: zip_bomb(201), None, SourceError, r"zip bomb.*201 MB, over the 200 MB limit"),
    "zip bomb by ratio": (lambda docs: zip_bomb(20), None, SourceError, r"zip bomb: member word/document.xml.*100:1"),
    "encrypted": (lambda docs: encrypted_docx(), None, SourceError, "password-protected Word file"),
    "no text": (lambda docs: docs["picture"], None, EmptyDocumentError, "a Word file with no text in its body"),
}


@pytest.mark.parametrize("case", WORD_BAD)
def test_word_bad_input_is_an_error_naming_the_file_and_the_problem(docs, case):
    make, media_type, error, problem = WORD_BAD[case]
    with pytest.raises(error, match=problem) as e:
        _read(make(docs), "bad plan.docx", media_type)
    assert str(e.value).startswith("bad plan.docx: ")


def test_word_old_doc_is_refused_with_what_to_do():
    ole = encrypted_docx().replace("EncryptedPackage".encode("utf-16-le"), "WordDocument\0\0\0\0".encode("utf-16-le"))
    with pytest.raises(UnsupportedFormatError, match=r"old.doc: an old-style Word file \(.doc or .wps\)") as e:
        _read(ole, "old.doc")
    assert "application/x-ole-storage" not in e.value.available


# --- PDF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["plan", "auto", "long", "official"])
def test_pdf_extraction_equals_the_plain_text_of_the_plan(pdfs, name):
    assert _summary(pdfs[name], f"{name}.pdf") == _summary(_plain(name).encode(), f"{name}.txt")


def test_pdf_lines_are_joined_into_the_paragraphs_of_the_plan(pdfs):
    for name in ("plan", "long", "official"):
        text = _read(pdfs[name], f"{name}.pdf")
        assert _blocks(text) == [line for line in _plain(name).splitlines() if line]
        assert text.media_type == "application/pdf"


def test_pdf_auto_numbered_word_file_reads_as_its_numbers_typed(pdfs):
    assert _blocks(_read(pdfs["auto"], "auto.pdf")) == _blocks(_read(pdfs["plan"], "plan.pdf"))


def test_pdf_blocks_carry_the_page_they_start_on(pdfs):
    pages = _page_texts(pdfs["long"])
    assert len(pages) >= 3
    text = _read(pdfs["long"], "long.pdf")
    for b in text.blocks:
        s = text.string[b.start:b.end].replace(" ", "")
        head = s[:12] if b.kind != "table_row" else s.split("|")[1] + s.split("|")[2][:4]
        assert head in pages[b.page - 1], (b, s)
        assert b.locator.startswith(f"page[{b.page}]")
    by_text = {text.string[b.start:b.end]: b for b in text.blocks}
    assert by_text[TITLE].page == 1 and by_text["二、重点任务"].page == 2  # 二、 is put on a page of its own


def test_pdf_paragraph_broken_across_a_page_is_one_block(pdfs):
    pages = _page_texts(pdfs["long"])
    text = _read(pdfs["long"], "long.pdf")
    blocks = {text.string[b.start:b.end]: b for b in text.blocks}
    broken = [(t, k) for _, t in long_plan() if isinstance(t, str)
              for k in range(len(pages) - 1) if t[:15] in pages[k] and t[-12:] in pages[k + 1] and t[:15] not in pages[k + 1]]
    assert broken, "the long plan should have a paragraph running over a page break"
    for t, k in broken:
        assert blocks[t].page == k + 1


def test_pdf_running_header_and_page_numbers_are_dropped(pdfs):
    pages = _page_texts(pdfs["long"])
    assert all(HEADER in p and re.search(r"—\d+—", p) for p in pages)  # the PDF has them on every page
    for name in ("plan", "long", "official"):
        text = _read(pdfs[name], f"{name}.pdf")
        assert HEADER not in text.string
        assert not any(re.fullmatch(r"[-—\s\d]+", s) for s in _blocks(text))


def test_pdf_tables_are_rows_with_ditto_for_merged_cells(pdfs):
    text = _read(pdfs["plan"], "plan.pdf")
    rows = [(text.string[b.start:b.end], b.locator) for b in text.blocks if b.kind == "table_row"]
    assert [r for r, _ in rows] == TASK_ROWS + INDICATOR_ROWS
    assert rows[0][1] == "page[2]/table[1]/tr[1]" and rows[-1][1] == "page[2]/table[2]/tr[4]"
    assert text.string.count("2025年底前") == 1 and text.string.count("持续推进") == 1  # not also as paragraphs


def test_pdf_table_running_over_a_page_reads_as_one_table(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["long"])) as doc:
        on = [n for n, p in enumerate(doc.pages, 1) if p.find_tables()]
    assert len(on) == 2, "the long task table should run over a page break, its header repeated"
    text = _read(pdfs["long"], "long.pdf")
    rows = [b for b in text.blocks if b.kind == "table_row"]
    assert [text.string[b.start:b.end] for b in rows] == long_task_rows()  # one header row
    assert {b.page for b in rows} == set(on)
    assert all(b.kind == "table_row" for b in text.blocks[text.blocks.index(rows[0]):])


def test_pdf_table_row_broken_by_a_page_break_is_one_row(pdfs):
    with pdfplumber.open(io.BytesIO(pdfs["official"])) as doc:
        continued = [t.extract() for p in doc.pages[1:] for t in p.find_tables()[:1]]
    assert any(rows[1][0] == "" for rows in continued if len(rows) > 1), \
        "the official layout should break a table row over a page"
    text = _read(pdfs["official"], "official.pdf")
    assert [text.string[b.start:b.end] for b in text.blocks if b.kind == "table_row"] == long_task_rows()


PDF_BAD = {
    "malformed": (lambda pdfs: b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ngarbage", SourceError,
                  "damaged or truncated PDF"),
    "truncated": (lambda pdfs: pdfs["plan"][: len(pdfs["plan"]) // 2], SourceError, "damaged or truncated PDF"),
    "scan": (lambda pdfs: pdfs["picture"], EmptyDocumentError,
             r"no text layer \(1 page, images only: a scan\); run OCR on it first \(e.g. ocrmypdf"),
    "no text at all": (lambda pdfs: blank_pages_pdf(2), EmptyDocumentError, r"holds no text \(2 pages"),
    "undecodable fonts": (lambda pdfs: cid_font_pdf(), SourceError,
                          r"text cannot be decoded: 128 of 128 characters .*Unicode mapping"),
    "encrypted": (lambda pdfs: pdfs["encrypted"], SourceError, "encrypted PDF that needs a password"),
    "too many pages": (lambda pdfs: blank_pages_pdf(501), SourceError, "a PDF of 501 pages, over the 500-page limit"),
}


@pytest.mark.parametrize("case", PDF_BAD)
def test_pdf_bad_input_is_an_error_naming_the_file_and_the_problem(pdfs, case, capfd):
    make, error, problem = PDF_BAD[case]
    with pytest.raises(error, match=problem) as e:
        _read(make(pdfs), "bad plan.pdf")
    assert str(e.value).startswith("bad plan.pdf: ")
    assert capfd.readouterr().err == ""  # nothing printed (pdfminer's warnings stay in logging)
