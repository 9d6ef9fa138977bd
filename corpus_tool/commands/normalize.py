"""CLI for the normalize stage: Traditional to Simplified (OpenCC) and character clean-up."""

from __future__ import annotations

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
  corpus-tool normalize langid/ -o normalized/
  corpus-tool normalize langid/ -o normalized/ --opencc tw2sp
  corpus-tool normalize langid/ -o normalized/ --opencc none
  corpus-tool normalize langid/ -o normalized/ --shard-index 0 --num-shards 8
  corpus-tool langid docs/ -o - | corpus-tool normalize - -o - > clean.jsonl
\b
OpenCC configs: t2s (default), tw2s, tw2sp, hk2s, hk2sp, s2t, s2tw, s2twp, s2hk, s2hkp, t2tw, t2hk, tw2t,
hk2t, t2jp, jp2t, or none. The rules and their order: docs/normalize.md."""


def register(app: typer.Typer) -> None:
    @app.command("normalize", epilog=EPILOG, short_help="Convert to Simplified Chinese and clean characters.")
    def normalize(
        ctx: typer.Context,
        inputs: Inputs,
        output: Output,
        opencc: Annotated[
            str,
            typer.Option(
                help="OpenCC config for script conversion, or 'none'. t2s keeps Simplified "
                "text as it is; tw2sp also converts Taiwan phrasing (軟體 -> 软件)."
            ),
        ] = "t2s",
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        progress_interval: ProgressInterval = 30.0,
        config: Config = None,
    ) -> None:
        """Normalize every document: HTML entities, ANSI escapes, control and invisible characters,
        full-width ASCII, radicals and half-width forms, NFC, OpenCC conversion, whitespace. The
        `normalized` column lists the rules that changed each document."""
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.normalize import NormalizeStage

        p = resolve(ctx, "normalize")
        stage = NormalizeStage(opencc_config=str(p["opencc"]))
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))
