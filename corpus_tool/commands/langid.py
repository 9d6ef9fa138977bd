"""CLI for the langid stage: label every document's language and keep the Chinese ones."""

from __future__ import annotations

import typer

from corpus_tool.commands.common import Call, report, stage_command
from corpus_tool.specs.langid import LangIdOptions

EPILOG = """\b
Examples:
  corpus-tool langid docs/ -o langid/
  corpus-tool langid docs/ -o langid/ --langs zh,en --threshold 0.8
  corpus-tool langid docs/ -o langid/ --model /models/glotlid.bin --langs cmn_Hani
  corpus-tool langid docs/ -o langid/ --shard-index 3 --num-shards 16
  corpus-tool ingest pages.jsonl -o - | corpus-tool langid - -o - > zh.jsonl
\b
Rejected documents go to OUT/rejected/ with reason too_short, low_confidence or lang_XX (e.g. lang_ja).
Defaults and measured accuracy: docs/langid.md."""


def run(call: Call) -> None:
    """Label every document's language (lang, lang_score, han_frac) with fastText plus script evidence,
    and keep the documents in --langs with a score of at least --threshold."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.langid import LangIdStage

    stage = call.options.build(LangIdStage)
    stage.model  # load now: a bad --model fails before any shard is touched  # noqa: B018
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def register(app: typer.Typer) -> None:
    stage_command(app, LangIdOptions, run, epilog=EPILOG, short_help="Label each document's language; keep Chinese.")
