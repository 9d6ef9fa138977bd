"""CLI for select: thresholds on annotated shards (`signals`, `flags`, numeric columns), nothing recomputed."""

from __future__ import annotations

import typer

from corpus_tool.commands.common import Call, report, stage_command
from corpus_tool.specs.select import SelectOptions

EPILOG = """\b
Examples:
  corpus-tool filter normalized/ -o annotated/ --annotate
  corpus-tool select annotated/ -o filtered/                 # = the plain filter run
  corpus-tool select annotated/ -o filtered/ --ignore-flag repetition \\
      --where 'repetition.dup_line_char_frac <= 0.15'
  corpus-tool select scored/ -o best/ --no-flags --where 'quality_score >= 0.6'
\b
A document without the value passes. reason = the flag, or KEY's first part
(the rule or column); reason_detail = the value against the threshold.
Details: docs/select.md."""


def run(call: Call) -> None:
    """Keep or reject annotated documents by their flags and by thresholds on their signals."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.select import SelectStage

    stage = call.options.build(SelectStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def register(app: typer.Typer) -> None:
    stage_command(app, SelectOptions, run, epilog=EPILOG,
                  short_help="Apply thresholds to annotated shards (filter --annotate).")
