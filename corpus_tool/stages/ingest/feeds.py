"""RSS 2.0 (and 0.9x), RSS 1.0 (RDF) and Atom 1.0/0.3 feeds: one document per item or entry.

The encoding is decided from the bytes with the XML declaration's label as the hint (charset.decode, as an
HTML page's meta tag is), then the text is parsed by the standard library's XML parser (expat: no external
entities, entity-expansion limits). HTML entities that XML does not define (`&nbsp;`, as feeds written by
hand have) are resolved first. An item's content is its longest body (`content:encoded`, Atom `content`,
then `description`/`summary`); escaped HTML (or inline XHTML, or Atom 0.3 base64) is extracted as text
with paragraph breaks. The title goes to meta `title`, the link to `url`, the date to meta `date` (ISO 8601:
RSS 2.0's RFC 822 dates are converted, others kept as written).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

_XML_DECL = re.compile(r"""\A\s*<\?xml[^>]*?\?>""")
_XML_DECL_ENCODING = re.compile(rb"""\A\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_\-.:]{2,40})["']""")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_BODY_TAGS = ("encoded", "content", "description", "summary", "abstract")
_DATE_TAGS = ("pubDate", "date", "published", "updated", "issued", "modified", "created")


@dataclass
class Item:
    text: str
    title: str | None
    link: str | None
    date: str | None
    extra: dict = field(default_factory=dict)


class FeedError(ValueError):
    """Not a feed, or not well-formed XML."""


def declared_encoding(data: bytes) -> str | None:
    """The encoding an XML declaration names (a hint only); None for UTF-16/32 bytes or no declaration."""
    m = _XML_DECL_ENCODING.match(data[:512])
    return m.group(1).decode("ascii") if m else None


def looks_like_feed(head: str) -> bool:
    low = head[:4096].lower()
    return "<rss" in low or "<feed" in low or "<rdf:rdf" in low


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _resolve_entities(text: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) in _XML_ENTITIES:
            return m.group(0)
        value = html.unescape(m.group(0))
        if value == m.group(0):
            return m.group(0)
        return value.replace("&", "&amp;").replace("<", "&lt;")

    return _ENTITY.sub(sub, text) if "&" in text else text


def parse(text: str) -> tuple[str, str | None, list[Item]]:
    """(feed type, feed title, items) of a decoded feed document."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only when there is a feed (start-up time)

    text = _resolve_entities(_XML_DECL.sub("", text.lstrip("\ufeff"), count=1))
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise FeedError(f"not well-formed XML ({e})") from e
    kind = _local(root.tag)
    if kind == "rss":
        channel = next((c for c in root if _local(c.tag) == "channel"), root)
        items = [c for c in channel if _local(c.tag) == "item"]
        ftype, title_of = f"rss{root.get('version', '2.0')}", channel
    elif kind == "RDF":
        items = [c for c in root.iter() if _local(c.tag) == "item"]
        channel = next((c for c in root if _local(c.tag) == "channel"), root)
        ftype, title_of = "rss1.0", channel
    elif kind == "feed":
        items = [c for c in root if _local(c.tag) == "entry"]
        ftype, title_of = ("atom0.3" if root.get("version") == "0.3" else "atom1.0"), root
    else:
        raise FeedError(f"the root element is <{kind}>, not <rss>, <rdf:RDF> or <feed>")
    return ftype, _child_text(title_of, "title"), [_item(e) for e in items]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child_text(el: ET.Element, name: str) -> str | None:
    for c in _children(el, name):
        value = _element_text(c).strip()
        if value:
            return html.unescape(re.sub(r"<[^>]+>", "", value)) if "<" in value else value
    return None


def _element_text(el: ET.Element) -> str:
    """The body of an element as HTML: its text (escaped HTML is unescaped by the parser already), inline
    XHTML children serialised, Atom 0.3 `mode="base64"` decoded."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415
    if el.get("mode") == "base64":
        try:
            return base64.b64decode(el.text or "").decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return ""
    if len(el):
        inner = (el.text or "") + "".join(ET.tostring(c, encoding="unicode") for c in el)
        return re.sub(r"\s?xmlns(?::\w+)?=\"[^\"]*\"", "", re.sub(r"<(/?)[\w.-]+:", r"<\1", inner))
    return el.text or ""


def _link(item: ET.Element) -> str | None:
    links = _children(item, "link")
    for link in links:  # Atom: <link rel="alternate" href="..."/>, the first alternate one
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return link.get("href").strip()
    for link in links:  # RSS: <link>url</link>
        if (link.text or "").strip():
            return link.text.strip()
    for guid in _children(item, "guid"):
        if guid.get("isPermaLink", "true") == "true" and (guid.text or "").startswith("http"):
            return guid.text.strip()
    about = next((v for k, v in item.attrib.items() if _local(k) == "about"), None)  # RSS 1.0 rdf:about
    return about


def iso_date(value: str | None) -> str | None:
    """An item's date as ISO 8601, the form front matter dates and WARC-Date have: an ISO date (Atom, dc:date)
    as written, an RFC 822 date (RSS 2.0 pubDate, `Tue, 18 Nov 2026 09:30:00 +0800`) converted with its
    offset (`2026-11-18T09:30:00+08:00`; no zone or -0000: naive). A date in neither form stays as written."""
    if not value:
        return value
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat):
        try:
            parse(value)
            return value
        except ValueError:
            pass
    try:
        return email.utils.parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return value


def _item(item: ET.Element) -> Item:
    bodies = [_element_text(c) for c in item if _local(c.tag) in _BODY_TAGS]
    body = max(bodies, key=len, default="")
    date = iso_date(next((d for d in (_child_text(item, t) for t in _DATE_TAGS) if d), None))
    tags = [c.get("term") or (c.text or "").strip() for c in _children(item, "category")]
    extra = {"tags": [t for t in tags if t]} if any(tags) else {}
    author = _child_text(item, "author") or _child_text(item, "creator")
    if author:
        extra["author"] = author
    return Item(body, _child_text(item, "title"), _link(item), date, extra)
