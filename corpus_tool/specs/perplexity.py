"""Options and pipeline steps of `perplexity`, `perplexity-cutoffs` and `train-lm`
(the code: corpus_tool/stages/perplexity.py and train_lm.py)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import ONE, Options, StageSpec, StepSpec, option, split_list


@dataclass(kw_only=True)
class PerplexityOptions(Options):
    command = "perplexity"
    section = "perplexity"
    warm = ("corpus_tool.stages.perplexity", "kenlm")

    model: str = option(help="A model directory from train-lm (model.bin + model.json).")
    max_ppl: float | None = option(None, "Reject documents with a perplexity above this.", min=0.0)
    cutoffs: str | None = option(None, "A cut-off file from perplexity-cutoffs: fills ppl_bucket.")
    drop_buckets: str = option("", "Comma-separated buckets to reject (e.g. tail); needs --cutoffs.",
                               to_stage=split_list)
    annotate: bool = option(False, "Keep every document; record ppl (and the reason) in `signals` and "
                            "`perplexity` in `flags` where it would reject.", flags=("--annotate",))


@dataclass(kw_only=True)
class CutoffOptions(Options):
    command = "perplexity-cutoffs"
    section = "perplexity_cutoffs"
    shared = ()

    model: str = option(help="A model directory from train-lm.")
    sample: int = option(10000, "Documents sampled (uniform reservoir, seeded).", min=1)
    head_pct: float = option(30.0, "head = perplexity below this percentile (cc_net: 30).")
    tail_pct: float = option(60.0, "tail = perplexity at or above this percentile (cc_net: 60).")
    seed: int = option(0, "Sampling seed.")


@dataclass(kw_only=True)
class TrainLmOptions(Options):
    command = "train-lm"
    section = "train_lm"
    shared = ()

    order: int = option(5, "n-gram order (lmplz -o).", min=2, max=9)
    tokenizer: str = option("char", "char (default: faster, separates as well) or jieba.")
    memory: str = option("512M", "lmplz sort memory (-S), e.g. 512M, 4G or 20%.")
    temp_dir: str | None = option(None, "lmplz temporary files (-T); default: beside the output.")
    prune: str | None = option(None, "lmplz --prune counts per order, e.g. '0 1 1'.")
    discount_fallback: bool = option(
        True, "Pass --discount_fallback (needed on small corpora; used only when the estimate fails).")


STAGE = StageSpec("perplexity", (StepSpec(options=PerplexityOptions, documents=True, per_shard=True),))
CUTOFFS = StageSpec("perplexity-cutoffs", (StepSpec(options=CutoffOptions, tasks=ONE),))
TRAIN_LM = StageSpec("train-lm", (StepSpec(options=TrainLmOptions, tasks=ONE),))
