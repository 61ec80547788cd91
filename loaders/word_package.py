"""A .docx as a package: the zip archive checked before anything is unpacked, its parts as XML.

Everything that can go wrong with the container is a SourceError naming the file: not a zip,
a damaged or truncated zip, a zip bomb (judged from the central directory, before any member
is decompressed), a zip that is no Word document, a password-protected Word file (which is
an OLE compound file, not a zip), XML that is not well formed.
"""
from __future__ import annotations

import io
import posixpath
import zipfile
import zlib

from lxml import etree

from policykg.errors import SourceError
from policykg.source import SourceDocument

#: Most a Word file may unpack to, all members together. Real plans unpack to a few MB.
MAX_UNPACKED = 200 * 1024 * 1024
#: A member larger than LARGE_MEMBER that is compressed more than MAX_RATIO:1 is a bomb.
MAX_RATIO = 100
LARGE_MEMBER = 10 * 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_OFFICE_DOCUMENT = "/officeDocument"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True,
                          remove_pis=True)
_RESAVE = "open it in Word or WPS and save it again as .docx, or get the file again"


def is_encrypted_office_file(data: bytes) -> bool:
    """An OLE compound file holding an encrypted Office Open XML package (a .docx with a
    password to open), told from an old .doc by its EncryptedPackage stream."""
    return data.startswith(OLE_MAGIC) and "EncryptedPackage".encode("utf-16-le") in data


def encrypted_error(source: SourceDocument) -> SourceError:
    return SourceError(source.path, "a password-protected Word file: it is encrypted, so its text cannot be read",
                       "open it in Word or WPS with the password, remove the password "
                       "(文件 → 信息 → 保护文档 → 用密码进行加密) and save it again")


class Package:
    """The parts of a Word file that hold its text, parsed: `document`, `styles`,
    `numbering` (the last two None when the file has none)."""

    def __init__(self, source: SourceDocument) -> None:
        self._source = source
        data = source.data
        if is_encrypted_office_file(data):
            raise encrypted_error(source)
        if not data.startswith(b"PK"):
            raise SourceError(source.path, "not a Word file: a .docx is a zip archive, this is not one",
                              "if it is an old .doc, a web page or text saved with a .docx name, "
                              "save it from Word or WPS as .docx, or give it under its real suffix")
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as e:
            raise SourceError(source.path, f"a damaged or truncated Word file: its zip archive cannot be read ({e})",
                              _RESAVE) from None
        with z:
            self._check_sizes(z)
            self._zip = z
            main = self._target("_rels/.rels", "", _OFFICE_DOCUMENT) or "word/document.xml"
            self.document = self._xml(main)
            if self.document is None:
                raise SourceError(source.path, "a zip archive but not a Word document (it has no word/document.xml)",
                                  "give the plan's .docx itself; if the zip holds it, unpack it first")
            folder = posixpath.dirname(main)
            rels = posixpath.join(folder, "_rels", posixpath.basename(main) + ".rels")
            self.styles = self._xml(self._target(rels, folder, "/styles") or "word/styles.xml")
            self.numbering = self._xml(self._target(rels, folder, "/numbering") or "word/numbering.xml")

    def _check_sizes(self, z: zipfile.ZipFile) -> None:
        infos = z.infolist()
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED:
            raise SourceError(self._source.path, f"a zip bomb or no real Word file: its {len(infos)} members would "
                              f"unpack to {total / 2**20:,.0f} MB, over the {MAX_UNPACKED // 2**20} MB limit",
                              "nothing was unpacked; check where the file came from")
        for i in infos:
            if i.file_size > LARGE_MEMBER and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                raise SourceError(self._source.path, f"a zip bomb: member {i.filename} would unpack from "
                                  f"{i.compress_size / 1024:,.0f} KB to {i.file_size / 2**20:,.0f} MB "
                                  f"(over {MAX_RATIO}:1)", "nothing was unpacked; check where the file came from")

    def _read(self, name: str) -> bytes | None:
        try:
            return self._zip.read(name)
        except KeyError:
            return None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            raise SourceError(self._source.path, f"a damaged Word file: part {name} cannot be unpacked ({e})",
                              _RESAVE) from None

    def _xml(self, name: str):
        raw = self._read(name)
        if raw is None:
            return None
        try:
            return etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as e:
            raise SourceError(self._source.path, f"a damaged Word file: part {name} is not well-formed XML ({e})",
                              _RESAVE) from None

    def _target(self, rels: str, base: str, type_suffix: str) -> str | None:
        """The part a relationship of the given type points to, as a name in the zip."""
        root = self._xml(rels)
        for rel in root.iter(_REL) if root is not None else ():
            if rel.get("Type", "").endswith(type_suffix) and rel.get("TargetMode") != "External":
                target = rel.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        return None
