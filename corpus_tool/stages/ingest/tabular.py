"""JSONL (plain, .gz, .zst, stdin) and Parquet readers: one row per line or table row, yielded as `Row`s.

`--text-field` is the text, `--id-field` the id when it is a string or an integer, `url` the url; every
other field goes to `meta`. A stream that cannot be read further ends with one `corrupt_record` (or
`record_too_large`) row saying where."""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from corpus_tool import shards
from corpus_tool.errors import BadInputError
from corpus_tool.stages.ingest import streams
from corpus_tool.stages.ingest.extract import tidy
from corpus_tool.stages.ingest.rows import Row, rejected

if TYPE_CHECKING:
    from corpus_tool.stages.ingest.stage import IngestStage

log = logging.getLogger("corpus_tool")


def row_doc(stage: IngestStage, row: Any, locator: str, source: str, fmt: str) -> Row:
    """The document (or rejection) of one parsed JSON object or Parquet row."""
    if not isinstance(row, dict):
        return rejected(locator, source, "invalid_json", f"{source}: a JSON object was expected", meta={"format": fmt})
    text = row.get(stage.text_field)
    raw_id = row.get(stage.id_field)
    doc_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    url = row.get("url") if isinstance(row.get("url"), str) else None
    meta = {k: v for k, v in row.items() if k not in (stage.text_field, stage.id_field, "url")}
    meta["format"] = fmt
    if not isinstance(text, str):
        detail = f"{source}: no string field {stage.text_field!r}"
        return rejected(locator, source, "missing_text_field", detail, url=url, meta=meta, doc_id=doc_id)
    return Row(locator, source, tidy(text), url=url, meta=meta, doc_id=doc_id)


def read_jsonl(stage: IngestStage, path: str) -> Iterator[Row]:
    name = "<stdin>" if path == shards.STDIN else path
    limit = stage.max_record_bytes
    lineno = 0
    try:
        with streams.open_jsonl(path) as fh:
            for lineno, raw, size in streams.bounded_lines(fh, limit):
                source = f"{name}#{lineno}"
                if raw is None:  # longer than --max-record-bytes: skipped, never held in memory
                    stage.counters["problem.record_too_large"] += 1
                    detail = f"{name} line {lineno}: {size:,} bytes or more exceeds --max-record-bytes {limit:,}"
                    yield rejected(str(lineno), source, "record_too_large", detail, meta={"format": "jsonl"})
                    continue
                if not raw.strip():
                    continue
                line = raw.decode("utf-8", "replace")
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as e:
                    detail = f"{name} line {lineno}: {getattr(e, 'msg', 'nested too deeply')}"
                    yield rejected(str(lineno), source, "invalid_json", detail, meta={"format": "jsonl"})
                    continue
                if "\\ud" in line or "\\uD" in line:  # a JSON escape of a lone surrogate is not text
                    row = scrub_surrogates(row)
                yield row_doc(stage, row, str(lineno), source, "jsonl")
        if streams.is_zstd_path(path):
            problem = streams.zstd_truncation(path)
            if problem:
                raise EOFError(problem)
    except (OSError, EOFError, ValueError, zlib.error, streams.LineTooLong, streams.zstd_error()) as e:
        reason = "record_too_large" if isinstance(e, streams.LineTooLong) else "corrupt_record"
        stage.counters[f"problem.{reason}"] += 1
        log.warning("%s after line %d: unreadable (%s)", name, lineno, e)
        detail = f"{name} after line {lineno}: cannot decompress or read ({e})"
        yield rejected(f"corrupt-{lineno + 1}", f"{name}#{lineno + 1}", reason, detail, meta={"format": "jsonl"})


def read_parquet(stage: IngestStage, path: str) -> Iterator[Row]:
    try:
        pf = shards.open_parquet(path)
    except (pa.ArrowException, OSError, ValueError) as e:  # ValueError: bad UTF-8 in a corrupt footer
        raise BadInputError(path, None, f"not a readable Parquet file ({e})") from e
    row_no = 0
    batches = shards.stream_batches(pf, 1024)
    while True:
        try:  # corrupt pages fail here, or decode to invalid UTF-8 (Arrow does not check it on read)
            batch = next(batches, None)
            if batch is None:
                return
            batch.validate(full=True)
            rows = batch.to_pylist()
        except (pa.ArrowException, OSError, ValueError) as e:
            raise BadInputError(path, f"row {row_no}", f"corrupt Parquet data ({e})") from e
        for row in rows:
            yield row_doc(stage, row, str(row_no), f"{path}#{row_no}", "parquet")
            row_no += 1


def scrub_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with lone surrogates (from \\udXXX escapes) replaced by U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {scrub_surrogates(k): scrub_surrogates(v) for k, v in value.items()}
    return value
