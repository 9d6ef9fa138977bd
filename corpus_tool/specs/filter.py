"""The filter stage's options and pipeline step (the stage: corpus_tool/stages/filter/)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class FilterOptions(Options):
    command = "filter"
    warm = ("corpus_tool.stages.filter", "corpus_tool.stages.jieba_loader:initialize_jieba")
    section = "filter"

    rules: str | None = option(
        None, "A YAML rule file (default: the packaged rules/zh_web.yaml). Word-list paths in it are relative to "
        "the file.", stage_arg="rules_path")
    annotate: bool = option(
        False, "Keep every document; write what each rule measured to `signals` (JSON) and the rules that would "
        "reject it to `flags`. Then `corpus-tool select` applies thresholds.", flags=("--annotate",))


STAGE = StageSpec("filter", (StepSpec(options=FilterOptions, documents=True, per_shard=True),))
