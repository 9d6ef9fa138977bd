"""The ingest stage: raw WARC/WET, HTML, JSONL, Parquet, text, Markdown and subtitle files in, documents out.

Every record that could be a document becomes exactly one row, kept or rejected with a reason
(`corrupt_record`, `record_too_large`, `empty_after_extraction`, `mojibake`, `invalid_json`, ...), so that
`in == kept + rejected` holds per shard. WARC records that are not documents at all (requests, metadata,
non-200 responses, images, scripts) are only counted, under `skipped.*` in the manifest's `stats`.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import xxhash

from corpus_tool import schema, shards
from corpus_tool.errors import BadInputError, UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stage import Stage
from corpus_tool.stages.ingest import charset, formats
from corpus_tool.stages.ingest.extract import DEFAULT_EXTRACTOR, EXTRACTORS, FALLBACKS, tidy
from corpus_tool.stages.ingest.subtitles import subtitles_to_text
from corpus_tool.stages.ingest.warc import WarcItem, WarcProblem, iter_warc

log = logging.getLogger("corpus_tool")

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml+xhtml")
TEXT_TYPES = ("text/plain",)
LATIN1_MOJIBAKE_FRACTION = 0.3

_COLUMNS = [
    schema.ID,
    schema.TEXT,
    schema.SOURCE,
    schema.URL,
    schema.CRAWL_DATE,
    schema.HTML_LANG,
    schema.META,
]


@dataclass
class _Rows:
    """Column lists for one side (kept or rejected) of the batch being built."""

    cols: dict[str, list] = field(default_factory=lambda: {c: [] for c in _COLUMNS})
    reasons: list[str] = field(default_factory=list)
    details: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cols[schema.ID])

    def batch(self) -> pa.RecordBatch:
        n = len(self)
        arrays = []
        for f in schema.DOCUMENT_SCHEMA:
            arrays.append(pa.array(self.cols[f.name], type=f.type) if f.name in self.cols else pa.nulls(n, f.type))
        return pa.RecordBatch.from_arrays(arrays, schema=schema.DOCUMENT_SCHEMA)


class IngestStage(Stage):
    name = "ingest"

    def __init__(
        self,
        *,
        text_field: str = "text",
        id_field: str = "id",
        extractor: str = DEFAULT_EXTRACTOR,
        extraction_fallback: str = "all-text",
        files_per_shard: int = 1000,
        max_record_bytes: int = 50_000_000,
        max_doc_chars: int = 1_000_000,
        max_bad_char_fraction: float = 0.1,
    ):
        super().__init__()
        if extractor not in EXTRACTORS:
            raise UsageError(f"--extractor {extractor!r}: choose one of {', '.join(EXTRACTORS)}")
        if files_per_shard < 1 or max_record_bytes < 1 or max_doc_chars < 1:
            raise UsageError("--files-per-shard, --max-record-bytes and --max-doc-chars must be positive")
        self.text_field = text_field
        self.id_field = id_field
        self.extractor_name = extractor
        if extraction_fallback not in FALLBACKS:
            raise UsageError(f"--extraction-fallback {extraction_fallback!r}: choose one of {', '.join(FALLBACKS)}")
        self.extraction_fallback = extraction_fallback
        self.extract = EXTRACTORS[extractor]
        self.files_per_shard = files_per_shard
        self.max_record_bytes = max_record_bytes
        self.max_doc_chars = max_doc_chars
        self.max_bad_char_fraction = max_bad_char_fraction

    # ----------------------------------------------------------------------------------------- inputs
    def list_shards(self, inputs: list[str]) -> list[InputShard]:
        found, skipped = formats.list_ingest_shards(inputs, self.files_per_shard)
        if skipped:
            log.warning("ingest: skipped %d file(s) of unknown format, e.g. %s", len(skipped), skipped[0])
        return found

    # ------------------------------------------------------------------------------------------- work
    def process_shard(self, shard: InputShard, batch_size: int) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
        self._shard = shard
        self._kept, self._rejected = _Rows(), _Rows()
        fmt = shard.info.get("format")
        for path in shard.paths:
            if fmt == formats.WARC:
                rows = self._warc(path)
            elif fmt == formats.JSONL:
                rows = self._jsonl(path)
            elif fmt == formats.PARQUET:
                rows = self._parquet(path)
            else:
                rows = self._loose(path)
            for _ in rows:
                if len(self._kept) + len(self._rejected) >= batch_size:
                    yield self._flush()
        if len(self._kept) or len(self._rejected):
            yield self._flush()

    def _flush(self) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        kept = self._kept.batch()
        rej = schema.with_reasons(self._rejected.batch(), self.name, self._rejected.reasons, self._rejected.details)
        self._kept, self._rejected = _Rows(), _Rows()
        return kept, rej

    # -------------------------------------------------------------------------------------- rows
    def _doc_id(self, locator: str) -> str:
        return xxhash.xxh3_64_hexdigest(f"{self._shard.name}\0{locator}".encode())

    def _add(
        self,
        locator: str,
        source: str,
        text: str,
        *,
        url: str | None = None,
        crawl_date: str | None = None,
        html_lang: str | None = None,
        meta: dict | None = None,
        doc_id: str | None = None,
        reject: tuple[str, str | None] | None = None,
    ) -> None:
        """Append one document; unless already rejected, apply the checks every input shares."""
        meta = dict(meta or {})
        if reject is None:
            reject = self._check_text(text, meta)
            if reject is None and len(text) > self.max_doc_chars:
                meta["truncated_from_chars"] = len(text)
                text = text[: self.max_doc_chars]
                self.counters["truncated"] += 1
        side = self._kept if reject is None else self._rejected
        side.cols[schema.ID].append(doc_id or self._doc_id(locator))
        side.cols[schema.TEXT].append(text)
        side.cols[schema.SOURCE].append(source)
        side.cols[schema.URL].append(url)
        side.cols[schema.CRAWL_DATE].append(crawl_date)
        side.cols[schema.HTML_LANG].append(html_lang)
        side.cols[schema.META].append(json.dumps(meta, ensure_ascii=False, sort_keys=True) if meta else None)
        if reject is not None:
            side.reasons.append(reject[0])
            side.details.append(reject[1])

    def _check_text(self, text: str, meta: dict) -> tuple[str, str | None] | None:
        if not text.strip():
            return ("empty_after_extraction" if meta.get("format") in ("warc", "html") else "empty_text"), None
        bad, frac = charset.bad_char_fraction(text)
        if bad:
            meta["bad_chars"] = bad
        if frac > self.max_bad_char_fraction:
            return "mojibake", f"{bad} replacement/control characters, {frac:.0%} of the text"
        latin = charset.latin1_mojibake_fraction(text)
        if latin > LATIN1_MOJIBAKE_FRACTION:
            return "mojibake", f"{latin:.0%} of the text is U+00A0-U+00FF: bytes decoded as Latin-1"
        as_gbk = charset.utf8_as_gbk_fraction(text)
        if as_gbk > charset.UTF8_AS_GBK_FRACTION:
            return "mojibake", f"{as_gbk:.0%} of the characters are UTF-8 bytes decoded as GBK"
        return None

    def _html(self, data: bytes, http_charset: str | None, meta: dict) -> tuple[str, str | None, tuple | None]:
        """(text, html_lang, rejection) of an HTML payload; `meta` gets the encoding decisions."""
        decoded = charset.decode(data, http_charset)
        meta["encoding"] = decoded.encoding
        meta["encoding_by"] = decoded.how
        if decoded.declared_meta:
            meta["meta_charset"] = decoded.declared_meta
        if decoded.label_overruled:
            meta["charset_label_overruled"] = True
            self.counters["charset_label_overruled"] += 1
        self.counters[f"encoding.{decoded.encoding}"] += 1
        self.counters["html_bytes"] += len(data)
        try:
            if self.extractor_name == "resiliparse":
                ex = self.extract(decoded.text, self.extraction_fallback)
            else:
                ex = self.extract(decoded.text)
        except RecursionError:
            return "", None, ("extraction_failed", "HTML nested too deeply")
        except Exception as e:  # noqa: BLE001 - any parser failure on one page rejects that page only
            return "", None, ("extraction_failed", f"{type(e).__name__}: {e}")
        if ex.title:
            meta["title"] = ex.title
        if ex.fallback:
            meta["extractor_fallback"] = ex.fallback
            self.counters[f"extractor_fallback.{ex.fallback}"] += 1
        if ex.deeply_nested:
            meta["deeply_nested_html"] = True
            self.counters["deeply_nested_html"] += 1
        return ex.text, ex.html_lang, None

    # -------------------------------------------------------------------------------------- WARC
    def _warc(self, path: str) -> Iterator[None]:
        for item in iter_warc(path, self.max_record_bytes):
            source = f"{path}#{item.offset}"
            locator = str(item.offset)
            if isinstance(item, WarcProblem):
                h = item.headers or {}
                self.counters[f"problem.{item.reason}"] += 1
                log.warning("%s at byte %d: %s (%s)", path, item.offset, item.reason, item.detail)
                meta = {"format": "warc", "offset": item.offset}
                if h.get("warc-record-id"):
                    meta["warc_record_id"] = h["warc-record-id"]
                self._add(
                    locator,
                    source,
                    "",
                    url=h.get("warc-target-uri"),
                    crawl_date=h.get("warc-date"),
                    meta=meta,
                    reject=(item.reason, f"{path} at byte {item.offset}: {item.detail}"),
                )
                yield
                continue
            self.counters["warc_records"] += 1
            if self._warc_record(item, path, source, locator):
                yield

    def _warc_record(self, item: WarcItem, path: str, source: str, locator: str) -> bool:
        rec = item.record
        rtype = str(rec.record_type).rsplit(".", 1)[-1]
        if rtype not in ("response", "resource", "conversion"):
            self.counters[f"skipped.{rtype}"] += 1
            return False
        if rtype == "response":
            if not rec.is_http or rec.http_headers is None:
                self.counters["skipped.not_http"] += 1
                return False
            status = rec.http_headers.status_code
            if status != 200:
                self.counters["skipped.non_200"] += 1
                return False
            content_type = (rec.http_content_type or "").lower()
            http_charset = rec.http_charset
        else:
            content_type = rec.headers.get("Content-Type", "").split(";")[0].strip().lower()
            http_charset = None
            if rtype == "conversion":
                content_type = content_type or "text/plain"
        if not content_type.startswith(HTML_TYPES + TEXT_TYPES):
            self.counters["skipped.non_html"] += 1
            return False
        payload = item.payload or b""
        if len(payload) > self.max_record_bytes:
            self._add(
                locator,
                source,
                "",
                url=rec.headers.get("WARC-Target-URI"),
                meta={"format": "warc"},
                reject=(
                    "record_too_large",
                    f"{path} at byte {item.offset}: decoded payload exceeds "
                    f"--max-record-bytes {self.max_record_bytes:,}",
                ),
            )
            return True
        url = rec.headers.get("WARC-Target-URI")
        date = rec.headers.get("WARC-Date")
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
            text, lang, reject = self._html(payload, http_charset, meta)
        else:
            decoded = charset.decode(payload, http_charset, html=False)
            meta["encoding"] = decoded.encoding
            text, lang, reject = tidy(decoded.text), None, None
        self._add(locator, source, text, url=url, crawl_date=date, html_lang=lang, meta=meta, reject=reject)
        return True

    # ---------------------------------------------------------------------------------- JSONL / Parquet
    def _row_doc(self, row: Any, locator: str, source: str, fmt: str) -> None:
        if not isinstance(row, dict):
            self._add(
                locator,
                source,
                "",
                meta={"format": fmt},
                reject=("invalid_json", f"{source}: a JSON object was expected"),
            )
            return
        text = row.get(self.text_field)
        raw_id = row.get(self.id_field)
        doc_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
        url = row.get("url") if isinstance(row.get("url"), str) else None
        meta = {k: v for k, v in row.items() if k not in (self.text_field, self.id_field, "url")}
        meta["format"] = fmt
        if not isinstance(text, str):
            self._add(
                locator,
                source,
                "",
                url=url,
                meta=meta,
                doc_id=doc_id,
                reject=("missing_text_field", f"{source}: no string field {self.text_field!r}"),
            )
            return
        self._add(locator, source, tidy(text), url=url, meta=meta, doc_id=doc_id)

    def _jsonl(self, path: str) -> Iterator[None]:
        name = "<stdin>" if path == shards.STDIN else path
        lineno = 0
        try:
            with _open_jsonl(path) as fh:
                for lineno, raw, size in _bounded_lines(fh, self.max_record_bytes):
                    source = f"{name}#{lineno}"
                    if raw is None:  # longer than --max-record-bytes: skipped, never held in memory
                        self.counters["problem.record_too_large"] += 1
                        self._add(
                            str(lineno),
                            source,
                            "",
                            meta={"format": "jsonl"},
                            reject=(
                                "record_too_large",
                                f"{name} line {lineno}: {size:,} bytes or more exceeds "
                                f"--max-record-bytes {self.max_record_bytes:,}",
                            ),
                        )
                        yield
                        continue
                    if not raw.strip():
                        continue
                    line = raw.decode("utf-8", "replace")
                    try:
                        row = json.loads(line)
                    except (json.JSONDecodeError, RecursionError) as e:
                        self._add(
                            str(lineno),
                            source,
                            "",
                            meta={"format": "jsonl"},
                            reject=(
                                "invalid_json",
                                f"{name} line {lineno}: {getattr(e, 'msg', 'nested too deeply')}",
                            ),
                        )
                        yield
                        continue
                    if "\\ud" in line or "\\uD" in line:  # a JSON escape of a lone surrogate is not text
                        row = _scrub_surrogates(row)
                    self._row_doc(row, str(lineno), source, "jsonl")
                    yield
            if path != shards.STDIN and path.lower().endswith((".zst", ".zstd")):
                problem = _zstd_truncation(path)
                if problem:
                    raise EOFError(problem)
        except (OSError, EOFError, ValueError, zlib.error, _LineTooLong, _zstd_error()) as e:  # stream errors
            reason = "record_too_large" if isinstance(e, _LineTooLong) else "corrupt_record"
            self.counters[f"problem.{reason}"] += 1
            log.warning("%s after line %d: unreadable (%s)", name, lineno, e)
            self._add(
                f"corrupt-{lineno + 1}",
                f"{name}#{lineno + 1}",
                "",
                meta={"format": "jsonl"},
                reject=(reason, f"{name} after line {lineno}: cannot decompress or read ({e})"),
            )
            yield

    def _parquet(self, path: str) -> Iterator[None]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowException, OSError, ValueError) as e:  # ValueError: bad UTF-8 in a corrupt footer
            raise BadInputError(path, None, f"not a readable Parquet file ({e})") from e
        row_no = 0
        batches = pf.iter_batches(batch_size=1024)
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
                self._row_doc(row, str(row_no), f"{path}#{row_no}", "parquet")
                row_no += 1
                yield

    # ---------------------------------------------------------------------------------------- loose
    def _loose(self, path: str) -> Iterator[None]:
        locator = os.path.basename(path)
        source = f"{path}#0"
        fmt = formats.format_of(path) or formats.sniff_format(path)
        meta: dict[str, Any] = {"format": fmt}
        size = os.path.getsize(path)
        if size > self.max_record_bytes:
            self._add(
                locator,
                source,
                "",
                meta=meta,
                reject=("record_too_large", f"{path}: {size:,} bytes exceeds --max-record-bytes"),
            )
            yield
            return
        with open(path, "rb") as fh:
            data = fh.read()
        if fmt == formats.HTML:
            text, lang, reject = self._html(data, None, meta)
            self._add(locator, source, text, html_lang=lang, meta=meta, reject=reject)
        else:
            decoded = charset.decode(data, None, html=False)
            meta["encoding"] = decoded.encoding
            text = decoded.text
            text = subtitles_to_text(text) if fmt == formats.SUBTITLES else tidy(text)
            self._add(locator, source, text, meta=meta)
        yield


def _open_jsonl(path: str):
    """A binary line iterator over a JSONL file (plain, .gz or .zst) or stdin."""
    if path == shards.STDIN:
        return _nullcontext(sys.stdin.buffer)
    low = path.lower()
    if low.endswith((".zst", ".zstd")):
        import zstandard

        fh = open(path, "rb")  # noqa: SIM115 - closed by the wrapper below
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader)
    if low.endswith(".gz") or formats.sniff_format(path) == formats.JSONL and _is_gzip(path):
        return gzip.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115


def _zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError


class _LineTooLong(Exception):
    """A line so long that skipping it costs more than reading the file is worth: the rest is not read."""


# Skipping an over-long line reads it to its end; a decompression bomb's "line" may never end, so beyond
# this many times --max-record-bytes the rest of the file is given up (and reported).
SKIP_LIMIT_FACTOR = 20


def _bounded_lines(fh, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line, bytes) of a binary stream, never holding more than `limit` + 1 MB of one line:
    a longer line comes back as (number, None, bytes read) after being read past without keeping it."""
    lineno = 0
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield lineno, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = fh.readline(1 << 20)
            if not raw:
                break
            size += len(raw)
            if size > SKIP_LIMIT_FACTOR * limit:
                raise _LineTooLong(
                    f"line {lineno} is longer than {size:,} bytes ({SKIP_LIMIT_FACTOR} x "
                    "--max-record-bytes); the rest of the file was not read"
                )
        yield lineno, None, size


def _scrub_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with lone surrogates (from \\udXXX escapes) replaced by U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_scrub_surrogates(k): _scrub_surrogates(v) for k, v in value.items()}
    return value


def _zstd_truncation(path: str) -> str | None:
    """What is wrong if the last zstd frame of `path` is cut short, else None. zstandard's stream reader
    ends silently at a truncated frame, so the frames' block headers are walked (no decompression)."""
    import zstandard

    size = os.path.getsize(path)
    pos = 0
    with open(path, "rb") as fh:
        while pos < size:
            fh.seek(pos)
            head = fh.read(18)
            magic = int.from_bytes(head[:4], "little")
            if 0x184D2A50 <= magic <= 0x184D2A5F and len(head) >= 8:  # skippable frame
                pos += 8 + int.from_bytes(head[4:8], "little")
                continue
            try:
                params = zstandard.get_frame_parameters(head)
                pos += zstandard.frame_header_size(head)
            except zstandard.ZstdError:
                return f"not a complete zstd frame at byte {pos:,}"
            while True:
                fh.seek(pos)
                block = fh.read(3)
                if len(block) < 3:
                    return f"truncated zstd stream: the frame ends at byte {size:,} inside a block header"
                v = int.from_bytes(block, "little")
                pos += 3 + (1 if (v >> 1) & 3 == 1 else v >> 3)
                if v & 1:
                    break
            pos += 4 if params.has_checksum else 0
            if pos > size:
                return f"truncated zstd stream: the file ends at byte {size:,}, inside a frame"
    return None


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


class _nullcontext:
    def __init__(self, obj):
        self.obj = obj

    def __enter__(self):
        return self.obj

    def __exit__(self, *exc):
        return False
