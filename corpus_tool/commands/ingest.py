"""CLI for the ingest stage: raw crawls and files in, document shards out."""

from __future__ import annotations

from typing import Annotated

import typer

from corpus_tool.commands.common import (
    BatchSize,
    Config,
    NumShards,
    Output,
    Overwrite,
    ProgressInterval,
    Rejected,
    ShardIndex,
    report,
    resolve,
    run_kwargs,
)

EPILOG = (
    """\b
Examples:
  corpus-tool ingest CC-MAIN-*.warc.gz -o docs/
  corpus-tool ingest crawl/ -o docs/ --shard-index 0 --num-shards 64
  corpus-tool ingest pages/ -o docs/ --files-per-shard 5000
  corpus-tool ingest export.jsonl.zst --text-field content -o docs/
  corpus-tool ingest talks/*.srt talks/*.vtt notes.md -o docs/
  cat rows.jsonl | corpus-tool ingest - -o docs/
  corpus-tool ingest x.warc.gz -o - | corpus-tool langid - -o langid/

"""
    "Formats: WARC/WET (.warc, .warc.gz per-record gzip, .wet.gz), HTML files (.html, .htm), JSONL (.jsonl, "
    ".jsonl.gz, .jsonl.zst), Parquet, plain text and Markdown (.txt, .md), subtitles (.srt, .vtt). Directories "
    "are read recursively. Each container file is one output shard named after it; loose files in a directory "
    "are grouped into shards <dirname>-00000, <dirname>-00001, ...\n\n"
    "Charset rule, extractor choice and every option: docs/ingest.md."
)

RawInputs = Annotated[
    list[str],
    typer.Argument(
        help="Raw inputs: WARC/WET, HTML, JSONL(.gz/.zst), Parquet, txt, md, srt, vtt files, "
        "globs or directories; '-' reads JSONL from stdin.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    @app.command(
        "ingest", epilog=EPILOG, short_help="Turn WARC/HTML/JSONL/text/subtitle files into documents."
    )
    def ingest(
        ctx: typer.Context,
        inputs: RawInputs,
        output: Output,
        text_field: Annotated[str, typer.Option(help="JSONL/Parquet field holding the text.")] = "text",
        id_field: Annotated[
            str,
            typer.Option(
                help="JSONL/Parquet field holding a document id; rows without one get a generated id."
            ),
        ] = "id",
        extractor: Annotated[
            str,
            typer.Option(
                help="Main-content extractor for HTML: resiliparse (fast, "
                "default) or trafilatura (slower, fewer boilerplate "
                "lines; needs the bench extra)."
            ),
        ] = "resiliparse",
        extraction_fallback: Annotated[
            str,
            typer.Option(
                help="When resiliparse finds no main content on a page with text: all-text (keep all "
                "visible text), trafilatura (slower, cleaner) or none (reject as empty)."
            ),
        ] = "all-text",
        files_per_shard: Annotated[
            int,
            typer.Option(
                help="Loose files (HTML, txt, md, srt, vtt) per output shard when a directory is given.",
                min=1,
            ),
        ] = 1000,
        max_record_bytes: Annotated[
            int,
            typer.Option(help="Reject WARC records and files larger than this (bytes, decompressed).", min=1),
        ] = 50_000_000,
        max_doc_chars: Annotated[
            int,
            typer.Option(
                help="Truncate longer documents to this many characters "
                "(meta.truncated_from_chars records it).",
                min=1,
            ),
        ] = 1_000_000,
        max_bad_char_fraction: Annotated[
            float,
            typer.Option(
                help="Reject a document as mojibake when U+FFFD "
                "and control characters exceed this fraction "
                "of its characters.",
                min=0.0,
                max=1.0,
            ),
        ] = 0.1,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        progress_interval: ProgressInterval = 30.0,
        config: Config = None,
    ) -> None:
        """Read raw crawls and files into document shards: decide each page's charset from its bytes,
        extract the main content with paragraph breaks, and write one row per document (rejected ones,
        with a reason, under OUT/rejected/)."""
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.ingest import IngestStage

        p = resolve(ctx, "ingest")
        stage = IngestStage(
            text_field=str(p["text_field"]),
            id_field=str(p["id_field"]),
            extractor=str(p["extractor"]),
            extraction_fallback=str(p["extraction_fallback"]),
            files_per_shard=int(p["files_per_shard"]),
            max_record_bytes=int(p["max_record_bytes"]),
            max_doc_chars=int(p["max_doc_chars"]),
            max_bad_char_fraction=float(p["max_bad_char_fraction"]),
        )
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))
