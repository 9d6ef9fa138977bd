"""CLI for the learned quality classifier: `train-quality` and `quality`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from corpus_tool.commands.common import (
    BatchSize,
    Config,
    Inputs,
    NumShards,
    Output,
    Overwrite,
    Rejected,
    ShardIndex,
    report,
    resolve,
    run_kwargs,
)

QUALITY_EPILOG = """\b
Examples:
  corpus-tool quality deduped/ -o scored/ --model models/quality
  corpus-tool quality deduped/ -o kept/ --model models/quality --min-score 0.5
  corpus-tool quality deduped/ -o kept/ --model models/quality --keep-top 0.3
  corpus-tool quality deduped/ -o marked/ --model models/quality --min-score 0.5 --annotate
\b
Without --min-score or --keep-top nothing is rejected (quality_score is added).
--keep-top turns the fraction into a score cut-off on a seeded sample of all
the inputs, so array tasks agree. Rejection reason: low_quality.
Training, text preparation and measured AUC: docs/quality.md."""

TRAIN_EPILOG = """\b
Examples:
  corpus-tool train-quality --positive zhwiki/ --negative spam/ -o models/quality
  corpus-tool train-quality --positive good.jsonl --negative 04-filter/rejected \\
      -o models/quality --valid-fraction 0.1 --features char --epoch 20
\b
INPUTS: document shards or anything ingest reads (WARC, JSONL, HTML, text),
files or directories. MODEL_DIR gets model.bin (fastText) and card.json
(inputs with sha256, counts, text preparation, hyper-parameters, validation
precision/recall/AUC). With --threads 1 (default) training is repeatable."""


def register(app: typer.Typer) -> None:
    @app.command("quality", epilog=QUALITY_EPILOG, short_help="Learned quality score; keep the best.")
    def quality(
        ctx: typer.Context,
        inputs: Inputs,
        output: Output,
        model: Annotated[str, typer.Option(help="A model directory from train-quality.")],
        min_score: Annotated[float | None, typer.Option(help="Keep documents with quality_score >= this.",
                                                         min=0.0, max=1.0)] = None,
        keep_top: Annotated[float | None, typer.Option(help="Keep this top fraction (cut-off from a sample of "
                                                            "all inputs).", min=0.0, max=1.0)] = None,
        sample: Annotated[int, typer.Option(help="Documents sampled for the --keep-top cut-off.", min=1)]
        = 10000,
        seed: Annotated[int, typer.Option(help="Sampling seed for --keep-top.")] = 0,
        annotate: Annotated[bool, typer.Option("--annotate", help="Keep every document; record the score in "
                                                "`signals` and `quality` in `flags` where it would reject.")]
        = False,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        config: Config = None,
    ) -> None:
        """Score every document with a trained quality classifier (quality_score) and keep documents by
        --min-score or --keep-top."""
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.quality import QualityStage

        p = resolve(ctx, "quality")
        stage = QualityStage(p["model"], min_score=p["min_score"], keep_top=p["keep_top"],
                             sample=int(p["sample"]), seed=int(p["seed"]), annotate=bool(p["annotate"]))
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))

    @app.command("train-quality", epilog=TRAIN_EPILOG, short_help="Train the fastText quality classifier.")
    def train_quality_cmd(
        ctx: typer.Context,
        output: Annotated[str, typer.Option("-o", "--output", help="The model directory to write.")],
        positive: Annotated[list[str], typer.Option(help="Good documents (repeatable).")],
        negative: Annotated[list[str], typer.Option(help="Bad documents (repeatable).")],
        features: Annotated[str, typer.Option(help="Text preparation: char, jieba or both.")] = "char",
        max_chars: Annotated[int, typer.Option(help="Characters per document seen (lines sampled evenly).",
                                               min=1)] = 2000,
        valid_fraction: Annotated[float, typer.Option(help="Documents held back for precision/recall/AUC.",
                                                      min=0.0, max=0.9)] = 0.1,
        balance: Annotated[str, typer.Option(help="oversample (repeat the smaller class), undersample or "
                                                  "none.")] = "oversample",
        max_docs: Annotated[int, typer.Option(help="Training documents per class at most (seeded sample).",
                                              min=1)] = 1_000_000,
        epoch: Annotated[int, typer.Option(min=1)] = 20,
        lr: Annotated[float, typer.Option(min=0.0)] = 0.2,
        dim: Annotated[int, typer.Option(min=1)] = 32,
        word_ngrams: Annotated[int, typer.Option(help="fastText wordNgrams (2: character bigrams with "
                                                      "--features char).", min=1)] = 2,
        min_count: Annotated[int, typer.Option(min=1)] = 1,
        bucket: Annotated[int, typer.Option(help="Hash buckets for n-grams (model size: bucket x dim x 4 "
                                                 "bytes).", min=1)] = 200_000,
        threads: Annotated[int, typer.Option(help="Training threads; only 1 is repeatable.", min=1)] = 1,
        seed: Annotated[int, typer.Option(help="Seed for sampling, balancing, shuffling and fastText.")] = 0,
        config: Config = None,
    ) -> None:
        """Train a supervised fastText classifier that scores documents from low (0) to high (1) quality."""
        from corpus_tool.stages.train_quality import train_quality

        p = resolve(ctx, "train-quality")
        card = train_quality(
            p["positive"], p["negative"], p["output"], features=str(p["features"]), max_chars=int(p["max_chars"]),
            valid_fraction=float(p["valid_fraction"]), balance=str(p["balance"]), max_docs=int(p["max_docs"]),
            seed=int(p["seed"]), epoch=p["epoch"], lr=p["lr"], dim=p["dim"], word_ngrams=p["word_ngrams"],
            min_count=p["min_count"], bucket=p["bucket"], threads=p["threads"],
        )
        docs = card["documents"]
        v = card.get("validation")
        figures = (f"; held back {v['documents']['positive']}+{v['documents']['negative']} docs: precision "
                   f"{v['precision']}, recall {v['recall']}, AUC {v['auc']}") if v else ""
        print(f"train-quality: {p['output']}: {docs['positive']['train']:,} positive and "
              f"{docs['negative']['train']:,} negative training docs in {card['seconds']} s{figures}",
              file=sys.stderr)
