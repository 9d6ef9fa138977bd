"""CLI for the learned quality classifier: `train-quality` and `quality` (options: corpus_tool/specs/quality.py)."""

from __future__ import annotations

import sys

import typer

from corpus_tool.commands.common import Call, output_opt, report, stage_command
from corpus_tool.specs.quality import QualityOptions, TrainQualityOptions

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


def quality(call: Call) -> None:
    """Score every document with a trained quality classifier (quality_score) and keep documents by
    --min-score or --keep-top."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.quality import QualityStage

    stage = call.options.build(QualityStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def train_quality(call: Call) -> None:
    """Train a supervised fastText classifier that scores documents from low (0) to high (1) quality."""
    from corpus_tool.stages.train_quality import train_quality as train

    card = train(output=call.output, **call.options.stage_kwargs())
    docs = card["documents"]
    v = card.get("validation")
    figures = (f"; held back {v['documents']['positive']}+{v['documents']['negative']} docs: precision "
               f"{v['precision']}, recall {v['recall']}, AUC {v['auc']}") if v else ""
    print(f"train-quality: {call.output}: {docs['positive']['train']:,} positive and "
          f"{docs['negative']['train']:,} negative training docs in {card['seconds']} s{figures}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    stage_command(app, QualityOptions, quality, epilog=QUALITY_EPILOG,
                  short_help="Learned quality score (fastText); keep the best.")
    stage_command(app, TrainQualityOptions, train_quality, epilog=TRAIN_EPILOG,
                  io=[output_opt("The model directory to write.")],
                  short_help="Train the fastText quality classifier.")
