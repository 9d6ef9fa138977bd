"""CLI for the filter stage: Chinese-aware heuristic rules declared in YAML."""

from __future__ import annotations

from typing import Annotated

import typer

from corpus_tool.commands.common import Call, inputs_arg, output_opt, param, report, stage_command
from corpus_tool.specs.filter import FilterOptions

EPILOG = """\b
Examples:
  corpus-tool filter normalized/ -o filtered/
  corpus-tool filter --show-rules > my_rules.yaml     # copy the defaults
  corpus-tool filter normalized/ -o filtered/ --rules my_rules.yaml
  corpus-tool filter normalized/ -o filtered/ --shard-index 3 --num-shards 16
  corpus-tool filter - -o - --rejected rej.jsonl < docs.jsonl > kept.jsonl
\b
reason = the failing rule's name; reason_detail = the measured value against
the threshold. Lines removed by cleaning rules are named in the `cleaned`
column; per-rule counts are in OUT/manifests/*.json under stats.
Rules, defaults and their sources: docs/filter.md."""


SHOW_RULES = Annotated[bool, typer.Option("--show-rules", help="Print the rule file in use (the default rules "
                                                               "unless --rules) and exit.")]


def run(call: Call) -> None:
    """Judge every document with the rules in order: the first failing rule rejects it; cleaning rules
    remove boilerplate lines first and say so in `cleaned`."""
    from pathlib import Path

    from corpus_tool.errors import UsageError
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.filter import FilterStage, default_rules_path

    if call.params["show_rules"]:
        src = Path(call.options.rules) if call.options.rules else default_rules_path()
        typer.echo(src.read_text(encoding="utf-8"), nl=False)
        return
    if not call.inputs or not call.output:
        raise UsageError("filter needs INPUT... and -o OUTPUT (see corpus-tool filter --help)")
    stage = call.options.build(FilterStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def register(app: typer.Typer) -> None:
    stage_command(app, FilterOptions, run, io=[inputs_arg(required=False), output_opt(required=False)],
                  extra=[param("show_rules", SHOW_RULES, False)], epilog=EPILOG,
                  short_help="Heuristic quality rules (rules/*.yaml).")
