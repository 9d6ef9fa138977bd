"""The select stage's options and pipeline step (the stage: corpus_tool/stages/select.py)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class SelectOptions(Options):
    command = "select"
    warm = ("corpus_tool.stages.select",)
    section = "select"

    where: list[str] | None = option(
        None, "Keep documents where KEY OP NUMBER holds (repeatable; all must hold). KEY: a column "
        "(quality_score, ppl, han_frac) or a dotted path into `signals` (rule.measure); OP: < <= > >= == !=.",
        flags=("--where",))
    flags: bool = option(True, "Reject documents whose `flags` name a rule or stage (the plain run's decision).",
                         stage_arg="use_flags")
    ignore_flag: list[str] | None = option(
        None, "A flag not to reject on (repeatable), e.g. to re-threshold that rule with --where.",
        stage_arg="ignore_flags")


STAGE = StageSpec("select", (StepSpec(options=SelectOptions, documents=True, per_shard=True),))
