"""Options and pipeline steps of `quality` and `train-quality` (the code: corpus_tool/stages/quality.py,
quality_model.py and train_quality.py; docs/quality.md)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import NONE, ONE, Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class QualityOptions(Options):
    command = "quality"
    section = "quality"
    warm = ("corpus_tool.stages.quality",)

    model: str = option(help="A model directory from train-quality (model.bin + card.json).")
    min_score: float | None = option(None, "Keep documents with quality_score >= this.", min=0.0, max=1.0)
    keep_top: float | None = option(None, "Keep this top fraction (a cut-off computed on a sample of all the "
                                    "inputs, so array tasks agree).", min=0.0, max=1.0)
    sample: int = option(10000, "Documents sampled for the --keep-top cut-off.", min=1)
    seed: int = option(0, "Sampling seed for --keep-top.")
    annotate: bool = option(False, "Keep every document; record the score in `signals` and `quality` in "
                            "`flags` where it would reject.", flags=("--annotate",))


@dataclass(kw_only=True)
class TrainQualityOptions(Options):
    command = "train-quality"
    section = "train_quality"
    shared = ()

    positive: list[str] = option(help="Good documents: shards or anything ingest reads (repeatable).")
    negative: list[str] = option(help="Bad documents: shards or anything ingest reads (repeatable).")
    features: str = option("char", "Text preparation: char (character tokens + bigrams), jieba or both.")
    max_chars: int = option(2000, "Characters of a document seen (lines sampled evenly).", min=1)
    valid_fraction: float = option(0.1, "Documents held back for precision/recall/AUC.", min=0.0, max=0.9)
    balance: str = option("oversample", "oversample (repeat the smaller class), undersample or none.")
    max_docs: int = option(1_000_000, "Training documents per class at most (seeded sample).", min=1)
    epoch: int = option(20, "fastText epochs.", min=1)
    lr: float = option(0.2, "fastText learning rate.", min=0.0)
    dim: int = option(32, "fastText vector size.", min=1)
    word_ngrams: int = option(2, "fastText wordNgrams (2: character bigrams with --features char).", min=1)
    min_count: int = option(1, "fastText minCount.", min=1)
    bucket: int = option(200_000, "Hash buckets for n-grams (model size about bucket x dim x 4 bytes).", min=1)
    threads: int = option(1, "Training threads; only 1 is repeatable.", min=1)
    seed: int = option(0, "Seed for sampling, balancing, shuffling and fastText.")


STAGE = StageSpec("quality", (StepSpec(options=QualityOptions, documents=True),))
# Its inputs are the --positive/--negative options, not positional arguments.
TRAIN = StageSpec("train-quality", (StepSpec(options=TrainQualityOptions, reads=NONE, tasks=ONE),))
