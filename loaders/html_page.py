"""HTML reader: a plan saved from a government portal -> Text.

Kept: the article (the content container portals use, else the element that holds most of
the page's text outside links), its title, and the portal's metadata fields (索引号, 发文字号,
成文日期 … wherever on the page they sit), written first as `发文字号：X` lines for
policykg/metadata.py. Dropped: scripts, hidden elements, navigation and the page furniture of
mappings/page_furniture.tsv. The walk over the parsed page is in loaders/html_tree.py, the
rules over the text portals put around a plan in loaders/portal.py.

Each <p>, heading, <li>, <div> of text and <br>-broken line is a block; data tables go through
TextBuilder.table with merged cells kept aligned; layout tables (one row or column, or cells
of running text) are read as paragraphs. A block's locator is an XPath to its element,
starting from the nearest ancestor with an id (`//div[@id='zoom']/p[12]`); a table row's is
its table's (or tbody's) path and `/tr[n]`, n counting the table's rows in order.
"""
from __future__ import annotations

import codecs
import re

import lxml.html
from lxml import etree

from policykg import lexicon
from policykg.errors import EmptyDocumentError, SourceError
from policykg.source import SourceDocument
from policykg.text import Text, fold

from .builder import TextBuilder, clean
from .html_tree import BLOCK, HEADINGS, Item, Page, Walker, grid, is_layout
from .plaintext import decode
from .portal import box_pairs, furniture, han, labels, likeness, line_pairs, strip_furniture, tokens
from .registry import register

# Content containers of portal pages, most specific first (class names or ids, lower case).
_CONTAINERS = ("trs_editor", "trs_ueditor", "custom_unionstyle", "ucap-content", "zoom", "fontzoom",
               "pages_content", "article-content", "article_content", "articlecontent", "news_content",
               "xxgk_content", "zwgk_content", "detail-content", "wz_article", "zw", "content", "article",
               "view", "main")
_GB = frozenset({"gb2312", "gbk", "x-gbk", "cp936", "ms936", "gb_2312-80", "gb2312-80", "euc-cn", "csgb2312"})
_WESTERN = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252"})  # codec names no Chinese page is written in
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']?([\w.:-]+)|<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)",
                       re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_TITLE_SEP = re.compile(r"\s*[_|｜]\s*|\s+[-–—]+\s+")
_TITLE_ATTR = re.compile(r"title|biaoti|^bt$|^tit$")
_REFRESH = re.compile(r"^\s*[\d.]*\s*[;,]\s*(?:url\s*=\s*)?['\"]?([^'\"\s]+)", re.I)
_JS_REDIRECT = re.compile(r"location(?:\.href)?\s*=\s*['\"]([^'\"]+)['\"]|location\.replace\(\s*['\"]([^'\"]+)")


def _decode(source: SourceDocument, notes: list[str]) -> tuple[str, str]:
    """The page as text: the caller's encoding, a byte-order mark, the page's own declaration
    (GB2312 and GBK read as GB18030) or detection, in that order. Raises EncodingError."""
    data = source.data
    if source.encoding or data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode(data, source.encoding, source.path)
    m = _DECLARED.search(data[:4096])
    if m is None:
        return decode(data, None, source.path)
    declared = (m.group(1) or m.group(2)).decode("ascii").lower()
    try:
        codec = codecs.lookup("gb18030" if declared in _GB else declared).name
    except LookupError:
        string, used = decode(data, None, source.path)
        notes.append(f"the page declares an encoding policykg does not know ({declared}); read it as {used}")
        return string, used
    # Bytes that are valid UTF-8 (with Chinese in them) are UTF-8 whatever the page says, and
    # no Chinese page is written in Latin-1.
    if codec == "utf-8" or data.isascii() or (codec not in _WESTERN and not _is_utf8(data)):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
    string, used = decode(data, None, source.path)
    notes.append(f"the page declares the encoding {declared} but is not written in it; read it as {used}")
    return string, used


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(string: str, path: str | None):
    """The page's <html> element. Raises EmptyDocumentError when it holds no HTML at all and
    SourceError when it nests elements deeper than libxml2 reads (256 levels)."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(_XML_DECL.sub("", string.lstrip("\ufeff")).encode("utf-8"),
                                             parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise EmptyDocumentError(path, f"an HTML page with nothing in it ({e})",
                                 "save the page again from the browser once it has loaded") from None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise SourceError(path, "an HTML page nested deeper than the 256 levels policykg reads",
                          "save the page's text as a .txt file and give that")
    return root


def _title(root, body, page: Page, containers: list) -> tuple[str, object] | None:
    """The article's title outside its container, and its element: the heading most like the
    page's <title> (less the site name after _ or |), else that <title>, else the first <h1>;
    only text that ends like a document's title (…实施方案, …的通知) is taken."""
    head = root.find("head")
    meta = head.xpath("meta[translate(@name,'ARTICLETIL','articletil')='articletitle']/@content") \
        if head is not None else []
    title_el = root.find(".//title")
    parts = [p for p in _TITLE_SEP.split(clean(title_el.text_content())) if p] if title_el is not None else []
    wanted = clean(meta[0]) if meta else max(parts, key=len, default="")
    inside = {e for c in containers for e in c.iter(etree.Element)}
    cands = []
    for e in body.iter(etree.Element):
        if e not in inside and (e.tag in ("h1", "h2", "h3") or any(_TITLE_ATTR.search(t) for t in tokens(e))) \
                and all(page.keeps(a) or a in page.skip for a in (e, *e.iterancestors())):
            t = clean(e.text_content())
            if len(t) <= 200 and _titled(t):
                cands.append((t, e, any(a in page.skip for a in (e, *e.iterancestors()))))
    if wanted:
        w = fold(wanted).replace(" ", "")
        scored = [(likeness(w, fold(t).replace(" ", "")), e.tag in HEADINGS, t, e) for t, e, _ in cands]
        best = max(scored, key=lambda x: x[:2], default=None)
        if best and best[0] >= 0.6:
            return best[2], best[3]
        if _titled(wanted):
            return wanted, title_el if title_el is not None else head
    return next(((t, e) for t, e, skipped in cands if e.tag == "h1" and not skipped), None)


def _titled(s: str) -> bool:
    """True when s ends like a document's title (…实施方案, …的通知, genre_words.tsv), not
    like a site name (某某市人民政府)."""
    s = re.sub(r"\s*\([^)]*\)\s*$", "", fold(s).strip())
    return han(s) >= 6 and s.endswith(tuple(ending for ending, _ in lexicon.default().genre_words))


def _metadata_boxes(body, page: Page) -> list[tuple[str, str, object]]:
    """Read and skip the page's metadata boxes (a table, list or div of 索引号/发文字号/… pairs)."""
    lab = labels()
    out = []
    for el in body.iter(etree.Element):
        if el.tag not in BLOCK or el.tag in ("body", "td", "th", "li", "dt", "dd") or not page.keeps(el) \
                or any(a in page.skip for a in el.iterancestors()):
            continue
        text = el.text_content()
        if len(text) > 3000 or han(text) > 600:
            continue
        if len({fold(re.sub(r"\s", "", x)) for x in lab.anywhere.findall(text)}) < 2:
            continue
        cells = [it.text for it in Walker(page, "cells").inside(el).items]
        pairs = box_pairs(cells)
        if pairs is not None:
            page.skip.add(el)
            out += [(label, value, el) for label, value in pairs]
    return out


def _skip_furniture(body, page: Page) -> None:
    """Skip the elements page_furniture.tsv names by class or id, and <header>/<footer>, unless
    they hold over 300 characters of text outside links (then they hold an article)."""
    attrs = furniture().attrs
    for el in body.iter(etree.Element):
        if el.tag in ("header", "footer") or any(p.search(t) for t in tokens(el) for p in attrs):
            plain = han(el.text_content()) - sum(han(a.text_content()) for a in el.iter("a"))
            if plain <= 300:
                page.skip.add(el)


def _containers(body, page: Page) -> list:
    """The elements that hold the article, in document order: the matches of the most specific
    known content container that hold half the page's text outside links, else the densest."""
    total = page.plain(body)
    found: dict[str, list] = {}
    for el in body.iter(etree.Element):
        if el in page.count:
            for name in set(tokens(el)) | ({"article"} if el.tag == "article" else set()):
                found.setdefault(name, []).append(el)
    for name in _CONTAINERS:
        chosen: set = set()
        for el in found.get(name, []):
            if not any(a in chosen for a in el.iterancestors()):
                chosen.add(el)
        biggest = max((page.plain(e) for e in chosen), default=0)
        big = [e for e in found.get(name, []) if e in chosen and page.plain(e) >= 0.1 * biggest]
        if total and sum(page.plain(e) for e in big) >= 0.5 * total:
            return big
    return [_densest(body, page)]


def _densest(body, page: Page):
    """The deepest element that holds 70% of its parent's text outside links, going down
    from <body> into elements that hold blocks (into a table only when it lays out the page)."""
    el = body
    while True:
        best = max((c for c in el if c in page.count), key=page.plain, default=None)
        if best is None or page.plain(best) < 0.7 * page.plain(el) or page.plain(best) == 0 \
                or not any(c.tag in BLOCK for c in best.iter(etree.Element) if c is not best) \
                or (best.tag == "table" and not is_layout(grid(best, page), page)):
            return el
        el = best


def _refuse(root, body, page: Page, walker: Walker, whole: Walker, path: str | None) -> None:
    """Raise SourceError for a page whose article (walker) holds no plan text: a redirect, a
    frameset, images of the plan, only links to attached files, or nothing at all (whole: the
    walk of the entire body)."""
    shown = sum(han(it.text) + sum(han(c) for r in it.rows or [] for c in r if isinstance(c, str))
                for it in walker.items)
    if shown >= 50:
        return
    refresh = root.xpath("//meta[translate(@http-equiv,'REFSH','refsh')='refresh']/@content")
    target = next((m.group(1) for c in refresh if (m := _REFRESH.match(c)) and m.group(1)), None)
    scripts = [s.text_content() for s in root.iter("script")]
    if target is None and page.plain(body) == 0:
        target = next((m.group(1) or m.group(2) for s in scripts if (m := _JS_REDIRECT.search(s))), None)
    if target:
        raise SourceError(path, f"a redirect page that sends the browser on to {target}, not the plan",
                          f"open {target} and save that page")
    frames = root.xpath("//frame/@src|//iframe/@src")
    if root.find(".//frameset") is not None and page.plain(body) == 0:
        raise SourceError(path, "a frameset page: its text is in other pages (" + ", ".join(frames) + ")",
                          "open the frame that holds the plan and save that page")
    if whole.images:
        raise SourceError(path, f"the plan is on this page only as {len(whole.images)} image(s); "
                          "its text is in the images, not in the page",
                          "run OCR on the images, or find the plan as text, Word or PDF")
    if whole.files:
        raise SourceError(path, "the plan is not on this page but in attached file(s): " + ", ".join(whole.files),
                          "download the attachment and give that file")
    if shown == 0:
        hint = ("the page fills in its text with JavaScript: save it from the browser once it has loaded, "
                "or copy its text into a .txt file") if scripts else "give the page that holds the plan"
        visible = han("".join(body.xpath(".//text()[not(ancestor::script or ancestor::style)]")))
        what = "no text but navigation and page furniture" if visible else "no Chinese text in its body"
        raise EmptyDocumentError(path, f"an HTML page with {what}", hint)


def _above(items: list[Item], container) -> list[tuple[str, str, object]]:
    """The metadata fields of the short lines above the article (发布时间：… 来源：…)."""
    order = {e: i for i, e in enumerate(container.getroottree().iter(etree.Element))}
    start = order[container]
    return [(label, value, it.el) for it in items if it.kind != "table" and order.get(it.el, start) < start
            and len(it.text) <= 120 for label, value in line_pairs(it.text)]


@register("text/html")
def read_html(source: SourceDocument) -> Text:
    """A plan saved from a portal as HTML -> Text: metadata fields first, then the title and
    the article. Raises SourceError (or a subclass) naming the file for pages with no plan
    text (redirects, framesets, images of the plan, empty pages) and bad encodings."""
    builder = TextBuilder()
    string, encoding = _decode(source, builder.notes)
    root = _parse(string, source.path)
    page = Page(root)
    body = root.find("body")
    if body is None:
        body = root
    pairs = _metadata_boxes(body, page)
    _skip_furniture(body, page)
    page.tally(body)
    containers = _containers(body, page)
    walker = Walker(page)
    for container in containers:
        walker.inside(container)
    whole = Walker(page).inside(body)
    _refuse(root, body, page, walker, whole, source.path)
    pairs += _above(whole.items, containers[0])
    items = strip_furniture(walker.items, pairs)
    title = _title(root, body, page, containers)
    seen: set[str] = set()
    for label, value, el in pairs:
        field = labels().fields[fold(label)]
        if field != "title" and field not in seen:
            seen.add(field)
            builder.paragraph(f"{label}：{value}", locator=page.locator(el))
    if title and not any(fold(title[0]).replace(" ", "") in fold(it.text).replace(" ", "") for it in items[:5]):
        builder.paragraph(title[0], kind="heading", locator=page.locator(title[1]))
    for it in items:
        if it.kind == "table":
            builder.table(it.rows, locator=page.locator(it.el))
        else:
            builder.paragraph(it.text, kind=it.kind, locator=page.locator(it.el))
    if walker.images:
        builder.notes.append(f"{len(walker.images)} image(s) in the article are not read; text they show is missing")
    if walker.files:
        builder.notes.append("the page links attached files whose text is not read: " + ", ".join(walker.files))
    return builder.build(source, encoding=encoding)
