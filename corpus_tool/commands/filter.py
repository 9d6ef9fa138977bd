"""CLI for the filter stage: Chinese-aware heuristic rules declared in YAML."""

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
  corpus-tool filter normalized/ -o filtered/
  corpus-tool filter --show-rules > my_rules.yaml     # copy the defaults
  corpus-tool filter normalized/ -o filtered/ --rules my_rules.yaml
  corpus-tool filter normalized/ -o filtered/ --shard-index 3 --num-shards 16
  corpus-tool filter - -o - --rejected rej.jsonl < docs.jsonl > kept.jsonl
  corpus-tool filter normalized/ -o annotated/ --annotate   # then: corpus-tool select
\b
reason = the failing rule's name; reason_detail = the measured value against
the threshold. Lines removed by cleaning rules are named in the `cleaned`
column; per-rule counts are in OUT/manifests/*.json under stats.
Rules, defaults and their sources: docs/filter.md."""


def register(app: typer.Typer) -> None:
    @app.command("filter", epilog=EPILOG, short_help="Heuristic quality rules (rules/*.yaml).")
    def filter_(
        ctx: typer.Context,
        inputs: Annotated[
            list[str] | None,
            typer.Argument(help="Input shards: Parquet files, globs or directories; '-' reads JSONL from "
                                "stdin.", show_default=False),
        ] = None,
        output: Annotated[
            str | None, typer.Option("-o", "--output", help="Output directory ('-' writes kept documents as "
                                                            "JSONL to stdout).")
        ] = None,
        rules: Annotated[
            str | None,
            typer.Option(help="A YAML rule file (default: the packaged rules/zh_web.yaml). Word-list paths "
                              "in it are relative to the file."),
        ] = None,
        annotate: Annotated[
            bool, typer.Option("--annotate", help="Keep every document; write what each rule measured to "
                                                  "`signals` (JSON) and the rules that would reject it to "
                                                  "`flags`. Then `corpus-tool select` applies thresholds.")
        ] = False,
        show_rules: Annotated[
            bool, typer.Option("--show-rules", help="Print the rule file in use (the default rules unless "
                                                    "--rules) and exit.")
        ] = False,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        config: Config = None,
    ) -> None:
        """Judge every document with the rules in order: the first failing rule rejects it; cleaning rules
        remove boilerplate lines first and say so in `cleaned`."""
        from pathlib import Path

        from corpus_tool.errors import UsageError
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.filter import FilterStage, default_rules_path

        p = resolve(ctx, "filter")
        if p["show_rules"]:
            src = Path(p["rules"]) if p["rules"] else default_rules_path()
            typer.echo(src.read_text(encoding="utf-8"), nl=False)
            return
        if not p["inputs"] or not p["output"]:
            raise UsageError("filter needs INPUT... and -o OUTPUT (see corpus-tool filter --help)")
        stage = FilterStage(p["rules"], annotate=bool(p["annotate"]))
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))
