"""Every command's options and every pipeline stage's steps, declared once (base.py says how).

To add a stage: a module here with its Options class(es) and StageSpec, listed in STAGES below; a command
module in corpus_tool/commands/ that builds its command from the Options class (docs/architecture.md).
"""

from __future__ import annotations

from corpus_tool.specs import dedup, filter, ingest, langid, normalize, perplexity, quality, select, tokenize
from corpus_tool.specs.base import Options, RunOptions, StageSpec, StepSpec, option

# Pipeline `stage:` names -> their declarations.
STAGES: dict[str, StageSpec] = {
    s.name: s
    for s in (
        ingest.STAGE,
        langid.STAGE,
        normalize.STAGE,
        quality.STAGE,
        filter.STAGE,
        select.STAGE,
        perplexity.STAGE,
        dedup.STAGE,
        tokenize.STAGE,
        perplexity.TRAIN_LM,
        perplexity.CUTOFFS,
        quality.TRAIN,
        tokenize.TRAIN_TOKENIZER,
        tokenize.MERGE,
    )
}


def all_options() -> list[type[Options]]:
    """Every command's options class (the commands' tests check each against its --help)."""
    seen = [step.options for spec in STAGES.values() for step in spec.steps]
    return list(dict.fromkeys([*seen, dedup.DedupOptions]))


def section_names(section: str) -> set[str]:
    """Every option name a `-c config.yaml` section may hold: commands sharing a section each take theirs."""
    return {n for cls in all_options() if cls.section == section for n in (*cls.names(), *cls.shared)}


__all__ = ["STAGES", "Options", "RunOptions", "StageSpec", "StepSpec", "option", "all_options", "section_names"]
