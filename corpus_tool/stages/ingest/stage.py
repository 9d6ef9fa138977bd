"""The ingest stage: raw WARC/WET, HTML, JSONL, Parquet, text, Markdown, subtitle, transcript and feed files
in, documents out.

Every record that could be a document becomes exactly one row, kept or rejected with a reason
(`corrupt_record`, `record_too_large`, `empty_after_extraction`, `mojibake`, `undecodable`, `invalid_json`,
...), so that `in == kept + rejected` holds per shard. WARC records that are not documents at all (requests,
metadata, non-200 responses, images, scripts) are only counted, under `skipped.*` in the manifest's `stats`.

Each reader (warc_docs, tabular, loose) is a generator of `Row`s; this module applies the checks every input
shares (empty, mojibake, length, control characters) and packs the rows into record batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pyarrow as pa
import xxhash

from corpus_tool import schema
from corpus_tool.errors import UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stage import Stage
from corpus_tool.stages.ingest import charset, formats
from corpus_tool.stages.ingest.extract import DEFAULT_EXTRACTOR, EXTRACTORS, FALLBACKS
from corpus_tool.stages.ingest.loose import read_loose
from corpus_tool.stages.ingest.rows import Row, RowBuffer
from corpus_tool.stages.ingest.tabular import read_jsonl, read_parquet
from corpus_tool.stages.ingest.warc_docs import read_warc

log = logging.getLogger("corpus_tool")

LATIN1_MOJIBAKE_FRACTION = 0.3
READERS: dict[str, Callable[[IngestStage, str], Iterator[Row]]] = {
    formats.WARC: read_warc,
    formats.JSONL: read_jsonl,
    formats.PARQUET: read_parquet,
}


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
        reader = READERS.get(shard.info.get("format"), read_loose)
        kept, rejected = RowBuffer(), RowBuffer()
        for path in shard.paths:
            for row in reader(self, path):
                row = self.finish(row)
                doc_id = row.doc_id or xxhash.xxh3_64_hexdigest(f"{shard.name}\0{row.locator}".encode())
                (kept if row.reject is None else rejected).append(row, doc_id)
                if len(kept) + len(rejected) >= batch_size:
                    yield self._batches(kept, rejected)
                    kept, rejected = RowBuffer(), RowBuffer()
        if len(kept) or len(rejected):
            yield self._batches(kept, rejected)

    def _batches(self, kept: RowBuffer, rejected: RowBuffer) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        return kept.batch(), schema.with_reasons(rejected.batch(), self.name, rejected.reasons, rejected.details)

    # -------------------------------------------------------------------------------------- rows
    def finish(self, row: Row) -> Row:
        """Apply the checks every input shares to a row not yet rejected (empty text, mojibake, length), and
        remove control characters from its text. Returns the same row, updated."""
        counts = None
        if row.reject is None:
            counts = charset.char_counts(row.text)
            row.reject = self._check_text(row.text, row.meta, counts)
            if row.reject is None and len(row.text) > self.max_doc_chars:
                row.meta["truncated_from_chars"] = len(row.text)
                row.text = row.text[: self.max_doc_chars]
                self.counters["truncated"] += 1
        # (counted before a truncation: CONTROL.sub then finds nothing to remove, the same text)
        if counts.control if counts is not None else charset.control_count(row.text):
            row.text = charset.CONTROL.sub("", row.text)
        return row

    def _check_text(self, text: str, meta: dict, counts: charset.CharCounts) -> tuple[str, str | None] | None:
        if not text.strip():
            return ("empty_after_extraction" if meta.get("format") in ("warc", "html", "feed") else "empty_text"), None
        bad, frac = counts.bad, counts.bad_fraction()
        if bad:
            meta["bad_chars"] = bad
        if frac > self.max_bad_char_fraction:
            return "mojibake", f"{bad} replacement/control characters, {frac:.0%} of the text"
        latin = counts.latin1_fraction()
        if latin > LATIN1_MOJIBAKE_FRACTION:
            return "mojibake", f"{latin:.0%} of the text is U+00A0-U+00FF: bytes decoded as Latin-1"
        as_gbk = counts.utf8_as_gbk_fraction()
        if as_gbk > charset.UTF8_AS_GBK_FRACTION:
            return "mojibake", f"{as_gbk:.0%} of the characters are UTF-8 bytes decoded as GBK"
        return None
