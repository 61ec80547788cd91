"""The same plan in other formats, made from its plain text: a portal page (HTML), a Word file
(python-docx) and a PDF (LibreOffice from the Word file).

Lines become paragraphs; runs of `| a | b |` lines become tables, with a cell written 〃
turned into a real merged cell (rowspan, Word's vertical merge), as the formats write them.
"""
from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DITTO = "〃"


def parts(text: str) -> list[str | list[list[str]]]:
    """The plan as paragraphs (str) and tables (rows of cells)."""
    out: list = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line[1:-1].split("|")]
            if out and isinstance(out[-1], list):
                out[-1].append(cells)
            else:
                out.append([cells])
        else:
            out.append(line)
    for p in out:  # a ragged table (a mutated one) gets empty cells to its widest row
        if isinstance(p, list):
            width = max(len(r) for r in p)
            for r in p:
                r.extend([""] * (width - len(r)))
    return out


def _spans(rows: list[list[str]]) -> dict[tuple[int, int], int]:
    """(row, col) of each cell that starts a vertical run of 〃 cells -> rows it spans."""
    spans = {}
    for c in range(len(rows[0])):
        r = 0
        while r < len(rows):
            n = 1
            while r + n < len(rows) and rows[r + n][c] == DITTO:
                n += 1
            if n > 1:
                spans[(r, c)] = n
            r += n
    return spans


def to_html(text: str, *, encoding: str = "utf-8", title_suffix: str = "_南岭县人民政府门户网站") -> bytes:
    """A portal page: navigation, breadcrumbs, date and counter line, the article, print and
    close links and a footer around it, declared in `encoding`."""
    body = []
    first = None
    for p in parts(text):
        if isinstance(p, str):
            first = first or p
            body.append(f'<p style="text-indent:2em">{html.escape(p)}</p>')
            continue
        spans = _spans(p)
        rows = []
        for r, cells in enumerate(p):
            tds = []
            for c, cell in enumerate(cells):
                if cell == DITTO:
                    continue
                n = spans.get((r, c), 1)
                attr = f' rowspan="{n}"' if n > 1 else ""
                tds.append(f"<td{attr}>{html.escape(cell)}</td>")
            rows.append("<tr>" + "".join(tds) + "</tr>")
        body.append('<table border="1" cellspacing="0">' + "".join(rows) + "</table>")
    charset = {"gb18030": "gb2312"}.get(encoding, encoding)
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{html.escape(first or '')}{title_suffix}</title>
<script>var _hmt = _hmt || [];</script><style>.nav li {{ float: left }}</style></head>
<body>
<div class="header"><ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政策文件</div>
<div class="article">
<div class="info">发布时间：2024-02-27 来源：县政府办公室 阅读次数：<span id="hits">1024</span></div>
<div class="TRS_Editor" id="zoom">
{chr(10).join(body)}
</div>
<div class="tools">【<a href="javascript:window.print()">打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div>
</div>
<div class="footer"><p>主办单位：南岭县人民政府办公室 网站标识码：0000000000</p><p>备案号：X ICP备00000000号</p></div>
</body></html>"""
    return page.encode(encoding)


def to_docx(text: str) -> bytes:
    """A Word file: one paragraph a line, tables with grid lines and merged cells."""
    import docx

    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)  # XML cannot hold them
    d = docx.Document()
    for p in parts(text):
        if isinstance(p, str):
            d.add_paragraph(p)
            continue
        table = d.add_table(rows=len(p), cols=len(p[0]))
        table.style = "Table Grid"
        for r, cells in enumerate(p):
            for c, cell in enumerate(cells):
                if cell != DITTO:
                    table.cell(r, c).text = cell
        for (r, c), n in _spans(p).items():
            table.cell(r, c).merge(table.cell(r + n - 1, c))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def to_pdf(docx_data: bytes, workdir: Path) -> bytes:
    """The Word file printed to PDF by LibreOffice (soffice from Debian; CI installs it)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is needed to make the PDF variant: apt-get install libreoffice-writer-nogui")
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / "plan.docx"
    src.write_bytes(docx_data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{workdir}/lo-profile",
                    "--convert-to", "pdf", "--outdir", str(workdir), str(src)],
                   check=True, capture_output=True, timeout=180)
    return (workdir / "plan.pdf").read_bytes()
