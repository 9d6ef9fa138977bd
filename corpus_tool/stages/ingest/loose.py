"""Loose files (one file, one document; a feed, one document per item): HTML, text, Markdown, subtitles
and transcripts, RSS/Atom feeds. The file's bytes decide its encoding (charset.decode) and, for text, whether
it is a transcript (transcripts.detect)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from corpus_tool.stages.ingest import charset, formats
from corpus_tool.stages.ingest.extract import tidy
from corpus_tool.stages.ingest.pages import html_doc
from corpus_tool.stages.ingest.rows import Row, rejected
from corpus_tool.stages.ingest.subtitles import subtitles_to_text

if TYPE_CHECKING:
    from corpus_tool.stages.ingest.stage import IngestStage


def read_loose(stage: IngestStage, path: str) -> Iterator[Row]:
    locator = os.path.basename(path)
    source = f"{path}#0"
    fmt = formats.format_of(path) or formats.sniff_format(path)
    meta: dict[str, Any] = {"format": fmt}
    size = os.path.getsize(path)
    if size > stage.max_record_bytes:
        yield rejected(
            locator, source, "record_too_large", f"{path}: {size:,} bytes exceeds --max-record-bytes", meta=meta
        )
        return
    with open(path, "rb") as fh:
        data = fh.read()
    if fmt == formats.HTML:
        text, lang, reject = html_doc(stage, data, None, meta)
        yield Row(locator, source, text, html_lang=lang, meta=meta, reject=reject)
        return
    decoded = charset.decode(data, None, html=False)
    meta["encoding"] = decoded.encoding
    if decoded.undecodable:
        yield rejected(locator, source, "undecodable", f"{path}: {decoded.undecodable}", meta=meta)
        return
    text = decoded.text
    text = subtitles_to_text(text) if fmt == formats.SUBTITLES else tidy(text)
    yield Row(locator, source, text, meta=meta)
