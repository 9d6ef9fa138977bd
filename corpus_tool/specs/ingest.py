"""The ingest stage's options and pipeline step (the stage: corpus_tool/stages/ingest/)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class IngestOptions(Options):
    command = "ingest"
    warm = ("corpus_tool.stages.ingest",)
    section = "ingest"

    text_field: str = option("text", "JSONL/Parquet field holding the text.")
    id_field: str = option("id", "JSONL/Parquet field holding a document id; rows without one get a generated id.")
    extractor: str = option(
        "resiliparse", "Main-content extractor for HTML: resiliparse (fast, default; on Chinese pages the article's "
        "run of prose lines is kept), resiliparse-untrimmed (without that trimming) or trafilatura (slower; needs "
        "the bench extra).")
    extraction_fallback: str = option(
        "all-text", "When resiliparse finds no main content on a page with text: all-text (keep all visible text), "
        "trafilatura (slower, cleaner) or none (reject as empty).")
    files_per_shard: int = option(
        1000, "Loose files (HTML, txt, md, srt, vtt, feeds) per output shard when a directory is given.", min=1)
    max_record_bytes: int = option(
        50_000_000, "Reject WARC records and files larger than this (bytes, decompressed).", min=1)
    max_doc_chars: int = option(
        1_000_000, "Truncate longer documents to this many characters (meta.truncated_from_chars records it).",
        min=1)
    max_bad_char_fraction: float = option(
        0.1, "Reject a document as mojibake when U+FFFD and control characters exceed this fraction of its "
        "characters.", min=0.0, max=1.0)


STAGE = StageSpec("ingest", (StepSpec(options=IngestOptions, documents=True, per_shard=True),))
