"""CLI for the ingest stage: raw crawls and files in, document shards out."""

from __future__ import annotations

import typer

from corpus_tool.commands.common import Call, inputs_arg, output_opt, report, stage_command
from corpus_tool.specs.ingest import IngestOptions

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

RAW_INPUTS_HELP = ("Raw inputs: WARC/WET, HTML, JSONL(.gz/.zst), Parquet, txt, md, srt, vtt files, globs or "
                   "directories; '-' reads JSONL from stdin.")


def run(call: Call) -> None:
    """Read raw crawls and files into document shards: decide each page's charset from its bytes,
    extract the main content with paragraph breaks, and write one row per document (rejected ones,
    with a reason, under OUT/rejected/)."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.ingest import IngestStage

    stage = call.options.build(IngestStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def register(app: typer.Typer) -> None:
    stage_command(app, IngestOptions, run, io=[inputs_arg(RAW_INPUTS_HELP), output_opt()], epilog=EPILOG,
                  short_help="Turn WARC/HTML/JSONL/text/subtitle files into documents.")
