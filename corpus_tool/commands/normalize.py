"""CLI for the normalize stage: Traditional to Simplified (OpenCC) and character clean-up."""

from __future__ import annotations

import typer

from corpus_tool.commands.common import Call, report, stage_command
from corpus_tool.specs.normalize import NormalizeOptions

EPILOG = """\b
Examples:
  corpus-tool normalize langid/ -o normalized/
  corpus-tool normalize langid/ -o normalized/ --opencc tw2sp
  corpus-tool normalize langid/ -o normalized/ --opencc none
  corpus-tool normalize langid/ -o normalized/ --shard-index 0 --num-shards 8
  corpus-tool langid docs/ -o - | corpus-tool normalize - -o - > clean.jsonl
\b
OpenCC configs: t2s (default), tw2s, tw2sp, hk2s, hk2sp, s2t, s2tw, s2twp, s2hk, s2hkp, t2tw, t2hk, tw2t,
hk2t, t2jp, jp2t, or none. The rules and their order: docs/normalize.md."""


def run(call: Call) -> None:
    """Normalize every document: HTML entities, ANSI escapes, control and invisible characters,
    full-width ASCII, radicals and half-width forms, NFC, OpenCC conversion, whitespace. The
    `normalized` column lists the rules that changed each document."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.normalize import NormalizeStage

    stage = call.options.build(NormalizeStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def register(app: typer.Typer) -> None:
    stage_command(app, NormalizeOptions, run, epilog=EPILOG,
                  short_help="Convert to Simplified Chinese and clean characters.")
