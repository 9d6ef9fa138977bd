"""Loose files (one file, one document; a feed, one document per item): HTML, text, Markdown, subtitles
and transcripts, RSS/Atom feeds. The file's bytes decide its encoding (charset.decode) and, for text, whether
it is a transcript (transcripts.detect): transcripts get meta `kind` = "transcript", `transcript_form` and
`speakers`, which the filter's rules may take into account (rules/zh_web.yaml `skip_kinds`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from corpus_tool.stages.ingest import charset, feeds, formats, markdown, subtitles, transcripts
from corpus_tool.stages.ingest.extract import extract_fragment, tidy
from corpus_tool.stages.ingest.pages import html_doc
from corpus_tool.stages.ingest.rows import Row, rejected

if TYPE_CHECKING:
    from corpus_tool.stages.ingest.stage import IngestStage


def read_loose(stage: IngestStage, path: str) -> Iterator[Row]:
    locator = os.path.basename(path)
    source = f"{path}#0"
    fmt = formats.format_of(path) or formats.sniff_format(path)
    meta: dict[str, Any] = {"format": fmt}
    size = os.path.getsize(path)
    if size > stage.max_record_bytes:
        detail = f"{path}: {size:,} bytes exceeds --max-record-bytes"
        yield rejected(locator, source, "record_too_large", detail, meta=meta)
        return
    with open(path, "rb") as fh:
        data = fh.read()
    if fmt == formats.HTML:
        text, lang, reject = html_doc(stage, data, None, meta)
        yield Row(locator, source, text, html_lang=lang, meta=meta, reject=reject)
        return
    decoded = charset.decode(data, feeds.declared_encoding(data) if fmt == formats.FEED else None, html=False)
    meta["encoding"] = decoded.encoding
    stage.counters[f"encoding.{decoded.encoding}"] += 1
    if decoded.undecodable:
        stage.counters["problem.undecodable"] += 1
        yield rejected(locator, source, "undecodable", f"{path}: {decoded.undecodable}", meta=meta)
        return
    if fmt == formats.FEED:
        yield from _feed_items(stage, path, decoded.text, meta)
        return
    text = decoded.text
    if fmt == formats.MARKDOWN:
        text, fields = markdown.to_text(text)
        meta.update(fields)
        yield Row(locator, source, tidy(text), meta=meta)
        return
    found = transcripts.detect(text)
    if found is None and fmt == formats.SUBTITLES:
        found = transcripts.Transcript(subtitles.subtitles_to_text(text), "subtitles", [])
    if found is not None:
        meta.update(kind="transcript", transcript_form=found.form)
        if found.speakers:
            meta["speakers"] = found.speakers
        stage.counters[f"transcript.{found.form}"] += 1
        text = found.text
    yield Row(locator, source, tidy(text), meta=meta)


def _feed_items(stage: IngestStage, path: str, text: str, file_meta: dict[str, Any]) -> Iterator[Row]:
    locator = os.path.basename(path)
    try:
        ftype, feed_title, items = feeds.parse(text)
    except feeds.FeedError as e:
        stage.counters["problem.invalid_feed"] += 1
        yield rejected(locator, f"{path}#0", "invalid_feed", f"{path}: {e}", meta=file_meta)
        return
    stage.counters[f"feed.{ftype}"] += 1
    for i, item in enumerate(items, 1):
        meta = dict(file_meta, feed_type=ftype)
        if feed_title:
            meta["feed_title"] = feed_title
        if item.title:
            meta["title"] = item.title
        if item.date:
            meta["date"] = item.date
        meta.update(item.extra)
        try:
            body = extract_fragment(item.text)
        except Exception as e:  # noqa: BLE001 - a parser failure on one item rejects that item only
            detail = f"{path} item {i}: {type(e).__name__}: {e}"
            yield rejected(f"{locator}#{i}", f"{path}#{i}", "extraction_failed", detail, url=item.link, meta=meta)
            continue
        yield Row(f"{locator}#{i}", f"{path}#{i}", body, url=item.link, meta=meta)
