"""The normalize stage's options and pipeline step (the stage: corpus_tool/stages/normalize.py)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class NormalizeOptions(Options):
    command = "normalize"
    warm = ("corpus_tool.stages.normalize", "opencc")
    section = "normalize"

    opencc: str = option(
        "t2s", "OpenCC config for script conversion, or 'none'. t2s keeps Simplified text as it is; tw2sp also "
        "converts Taiwan phrasing (軟體 -> 软件).", stage_arg="opencc_config")


STAGE = StageSpec("normalize", (StepSpec(options=NormalizeOptions, documents=True, per_shard=True),))
