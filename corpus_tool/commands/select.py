"""CLI for select: thresholds on annotated shards (`signals`, `flags`, numeric columns), nothing recomputed."""

from __future__ import annotations

from typing import Annotated

import typer

from corpus_tool.commands.common import (
    BatchSize,
    Config,
    NumShards,
    Overwrite,
    Rejected,
    ShardIndex,
    report,
    resolve,
    run_kwargs,
)

EPILOG = """\b
Examples:
  corpus-tool filter normalized/ -o annotated/ --annotate
  corpus-tool select annotated/ -o filtered/                 # = the plain filter run
  corpus-tool select annotated/ -o filtered/ --ignore-flag repetition \\
      --where 'repetition.dup_line_char_frac <= 0.15'
  corpus-tool select scored/ -o best/ --no-flags --where 'quality_score >= 0.6'
\b
KEY is a column (quality_score, ppl, han_frac, lang_score) or a dotted path
into `signals` (rule.measure). A document without the value passes. reason =
the flag, or KEY's first part; reason_detail = the value against the threshold."""


def register(app: typer.Typer) -> None:
    @app.command("select", epilog=EPILOG, short_help="Apply thresholds to annotated shards (--annotate).")
    def select_(
        ctx: typer.Context,
        inputs: Annotated[
            list[str] | None,
            typer.Argument(help="Annotated shards: Parquet files, globs or directories; '-' reads JSONL from "
                                "stdin.", show_default=False),
        ] = None,
        output: Annotated[
            str | None, typer.Option("-o", "--output", help="Output directory ('-' writes kept documents as "
                                                            "JSONL to stdout).")
        ] = None,
        where: Annotated[
            list[str] | None,
            typer.Option("--where", help="Keep documents where KEY OP NUMBER holds (repeatable; all must "
                                         "hold). OP: < <= > >= == !=."),
        ] = None,
        flags: Annotated[
            bool, typer.Option("--flags/--no-flags", help="Reject documents whose `flags` name a rule (the "
                                                          "plain filter's decision).")
        ] = True,
        ignore_flag: Annotated[
            list[str] | None,
            typer.Option("--ignore-flag", help="A flag not to reject on (repeatable), e.g. to re-threshold "
                                               "that rule with --where."),
        ] = None,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        config: Config = None,
    ) -> None:
        """Keep or reject annotated documents by their flags and by thresholds on their signals."""
        from corpus_tool.errors import UsageError
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.select import SelectStage

        p = resolve(ctx, "select")
        if not p["inputs"] or not p["output"]:
            raise UsageError("select needs INPUT... and -o OUTPUT (see corpus-tool select --help)")
        stage = SelectStage(p["where"], bool(p["flags"]), p["ignore_flag"])
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))
