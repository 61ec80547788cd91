"""Bad input: every kind of broken file gets an error naming the file and the problem, exit
status 2, and in a batch the other documents still load and the summary lists the failures.

The bad files are made here; the good ones are the sample plan as text, page, Word and PDF."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from variants import to_docx, to_html, to_pdf

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "kepu_tables_plan.txt"
POLICYKG = [sys.executable, "-m", "policykg.cli"]


def policykg(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*POLICYKG, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "POLICYKG_STORE": str(cwd / "default-store")})


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (210 * 1024 * 1024))
    return buf.getvalue()


def _scan_pdf(workdir: Path) -> bytes:
    """A PDF whose page is only a picture: a Word file holding an image, printed to PDF."""
    import docx
    from docx.shared import Cm

    png = workdir / "page.png"
    png.write_bytes(_png(80, 60))
    d = docx.Document()
    d.add_picture(str(png), width=Cm(15))
    buf = io.BytesIO()
    d.save(buf)
    return to_pdf(buf.getvalue(), workdir / "scan")


def _png(w: int, h: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\0" + bytes([(x * 3 + y) % 256 for x in range(w)]) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# name -> (bytes or a maker, words the error must hold)
BAD = {
    "empty.txt": (b"", "empty"),
    "binary.txt": (bytes(range(256)) * 8, "binary"),
    "truncated.docx": (lambda d, w: to_docx(d)[:3000], "damaged"),
    "not-a-zip.docx": (b"this is not a Word file at all\n" * 10, "zip archive"),
    "bomb.docx": (lambda d, w: _bomb(), "MB"),
    "broken.pdf": (lambda d, w: to_pdf(to_docx(d), w / "broken")[:1500], "PDF"),
    "scan.pdf": (lambda d, w: _scan_pdf(w), "no text layer"),
    "no-body.html": (b"<!DOCTYPE html><html><head><title>x</title><script>var a=1;</script></head></html>",
                     "no Chinese text"),
    "old.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "WordDocument".encode("utf-16-le") + b"\0" * 600,
                ".docx"),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    """A folder of good plans (text, page, Word, PDF) and every kind of bad file."""
    d = tmp_path_factory.mktemp("batch")
    plain = SAMPLE.read_text(encoding="utf-8")
    (d / "good.txt").write_text(plain, encoding="utf-8")
    (d / "good.html").write_bytes(to_html(plain.replace("南岭", "北岭")))
    (d / "good.docx").write_bytes(to_docx(plain.replace("南岭", "东岭")))
    (d / "good.pdf").write_bytes(to_pdf(to_docx(plain.replace("南岭", "西岭")), d / "lo"))
    for name, (content, _) in BAD.items():
        (d / name).write_bytes(content(plain, d) if callable(content) else content)
    with open(d / "huge.txt", "wb") as f:  # over the size limit, without writing 60 MB
        f.truncate(60 * 1024 * 1024)
    return d


@pytest.mark.parametrize("name", [*BAD, "huge.txt"])
def test_bad_input_extract_names_the_file_and_the_problem(batch, name):
    r = policykg("extract", name, cwd=batch)
    words = BAD[name][1] if name in BAD else "over the 50 MB limit"
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert name in r.stderr and words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_bad_input_batch_loads_the_good_and_lists_every_failure(batch):
    bad = [*BAD, "huge.txt"]
    r = policykg("load", "good.txt", *bad, "good.html", "good.docx", "good.pdf", "--store", "store", cwd=batch)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    failed = [line for line in r.stderr.splitlines() if any(name in line for name in bad)]
    for name in bad:
        assert any(name in line for line in failed), f"{name} missing from the summary:\n{r.stderr}"
    q = policykg("query", "documents", "--store", "store", "--format", "csv", cwd=batch)
    assert q.returncode == 0, q.stderr
    titles = [line for line in q.stdout.splitlines() if "科普能力提升三年行动计划" in line]
    assert len(titles) == 4 and {p for p in ("南岭县", "北岭县", "东岭县", "西岭县") if any(p in t for t in titles)} == {
        "南岭县", "北岭县", "东岭县", "西岭县"}


def test_bad_input_validate_checks_the_good_and_reports_the_bad(batch):
    r = policykg("validate", "good.docx", "bomb.docx", "scan.pdf", "good.pdf", cwd=batch)
    assert r.returncode == 2
    assert "bomb.docx" in r.stdout + r.stderr and "scan.pdf" in r.stdout + r.stderr
    assert "东岭县" in r.stdout and "西岭县" in r.stdout
