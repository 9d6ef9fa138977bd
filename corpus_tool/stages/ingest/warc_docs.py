"""WARC/WET records to rows: HTTP 200 responses (and resource/conversion records) with HTML or plain-text
content become documents; corrupt or oversized records become rejection rows; the rest is only counted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from corpus_tool.stages.ingest import charset
from corpus_tool.stages.ingest.extract import tidy
from corpus_tool.stages.ingest.pages import html_doc
from corpus_tool.stages.ingest.rows import Row, rejected
from corpus_tool.stages.ingest.warc import WarcItem, WarcProblem, iter_warc

if TYPE_CHECKING:
    from corpus_tool.stages.ingest.stage import IngestStage

log = logging.getLogger("corpus_tool")

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml")
TEXT_TYPES = ("text/plain",)


def read_warc(stage: IngestStage, path: str) -> Iterator[Row]:
    for item in iter_warc(path, stage.max_record_bytes):
        source = f"{path}#{item.offset}"
        locator = str(item.offset)
        if isinstance(item, WarcProblem):
            h = item.headers or {}
            stage.counters[f"problem.{item.reason}"] += 1
            log.warning("%s at byte %d: %s (%s)", path, item.offset, item.reason, item.detail)
            meta: dict[str, Any] = {"format": "warc", "offset": item.offset}
            if h.get("warc-record-id"):
                meta["warc_record_id"] = h["warc-record-id"]
            detail = f"{path} at byte {item.offset}: {item.detail}"
            yield rejected(
                locator,
                source,
                item.reason,
                detail,
                url=h.get("warc-target-uri"),
                crawl_date=h.get("warc-date"),
                meta=meta,
            )
            continue
        stage.counters["warc_records"] += 1
        row = _record(stage, item, path, source, locator)
        if row is not None:
            yield row


def _record(stage: IngestStage, item: WarcItem, path: str, source: str, locator: str) -> Row | None:
    rec = item.record
    rtype = str(rec.record_type).rsplit(".", 1)[-1]
    if rtype not in ("response", "resource", "conversion"):
        stage.counters[f"skipped.{rtype}"] += 1
        return None
    if rtype == "response":
        if not rec.is_http or rec.http_headers is None:
            stage.counters["skipped.not_http"] += 1
            return None
        if rec.http_headers.status_code != 200:
            stage.counters["skipped.non_200"] += 1
            return None
        content_type = (rec.http_content_type or "").lower()
        http_charset = rec.http_charset
    else:
        content_type = rec.headers.get("Content-Type", "").split(";")[0].strip().lower()
        http_charset = None
        if rtype == "conversion":
            content_type = content_type or "text/plain"
    if not content_type.startswith(HTML_TYPES + TEXT_TYPES):
        stage.counters["skipped.non_html"] += 1
        return None
    payload = item.payload or b""
    url = rec.headers.get("WARC-Target-URI")
    if len(payload) > stage.max_record_bytes:
        detail = f"{path} at byte {item.offset}: decoded payload exceeds --max-record-bytes {stage.max_record_bytes:,}"
        return rejected(locator, source, "record_too_large", detail, url=url, meta={"format": "warc"})
    meta: dict[str, Any] = {
        "format": "warc",
        "warc_record_id": rec.record_id,
        "content_type": content_type,
        "offset": item.offset,
    }
    if http_charset:
        meta["http_charset"] = http_charset
    if rtype == "conversion":
        meta["warc_type"] = "conversion"
    if content_type.startswith(HTML_TYPES):
        text, lang, reject = html_doc(stage, payload, http_charset, meta)
    else:
        decoded = charset.decode(payload, http_charset, html=False)
        meta["encoding"] = decoded.encoding
        text, lang = tidy(decoded.text), None
        reject = ("undecodable", decoded.undecodable) if decoded.undecodable else None
    date = rec.headers.get("WARC-Date")
    return Row(locator, source, text, url=url, crawl_date=date, html_lang=lang, meta=meta, reject=reject)
