"""CLI for KenLM perplexity: `perplexity`, `perplexity-cutoffs` and `train-lm`."""

from __future__ import annotations

import json
import sys

import typer

from corpus_tool.commands.common import Call, inputs_arg, output_opt, report, stage_command
from corpus_tool.specs.perplexity import CutoffOptions, PerplexityOptions, TrainLmOptions

PPL_EPILOG = """\b
Examples:
  corpus-tool train-lm corpus_tool/data/reference -o models/lm
  corpus-tool perplexity filtered/ -o scored/ --model models/lm
  corpus-tool perplexity filtered/ -o scored/ --model models/lm --max-ppl 3000
  corpus-tool perplexity-cutoffs filtered/ --model models/lm -o cut.json
  corpus-tool perplexity filtered/ -o scored/ --model models/lm \\
      --cutoffs cut.json --drop-buckets tail
\b
Without --max-ppl or --drop-buckets nothing is rejected (ppl is added).
Rejection reasons: ppl_above_max, ppl_tail (ppl_middle, ppl_head), ppl_no_text.
Scoring, cut-offs and measured separation (AUC): docs/perplexity.md."""

CUTOFF_EPILOG = """\b
Examples:
  corpus-tool perplexity-cutoffs filtered/ --model models/lm -o cut.json
  corpus-tool perplexity-cutoffs filtered/ --model models/lm -o cut.json \\
      --sample 50000 --head-pct 30 --tail-pct 70
\b
Writes {"head": ..., "tail": ..., "percentiles": {...}}: cc_net's split at the
30th and 60th percentiles by default. Cut-offs belong to one model: compute
them again when the model changes."""

TRAIN_EPILOG = """\b
Examples:
  corpus-tool train-lm corpus_tool/data/reference -o models/lm
  corpus-tool train-lm zhwiki/ -o models/zhwiki-lm --memory 4G
  corpus-tool train-lm shards/ -o models/lm --tokenizer jieba --prune "0 1 1"
\b
INPUT: .txt/.md files (one document each), Parquet shards (text column) or
directories of them. MODEL becomes a directory: model.bin (KenLM binary) and
model.json (tokenizer, order, data). Needs KenLM's lmplz and build_binary:
`corpus-tool setup kenlm` builds them (cmake, C++ and Boost needed)."""


def perplexity(call: Call) -> None:
    """Score every document with a KenLM model (ppl), bucket it head/middle/tail with --cutoffs, and
    reject documents above --max-ppl or in --drop-buckets."""
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.perplexity import PerplexityStage

    stage = call.options.build(PerplexityStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def perplexity_cutoffs(call: Call) -> None:
    """Compute perplexity cut-offs as percentiles of a sample of documents."""
    from pathlib import Path

    from corpus_tool import shards
    from corpus_tool.stages.perplexity import compute_cutoffs

    o = call.options
    result = compute_cutoffs(call.inputs, o.model, sample=o.sample, head_pct=o.head_pct, tail_pct=o.tail_pct,
                             seed=o.seed)
    if call.output == "-":
        print(json.dumps(result, indent=2))
    else:
        out = Path(call.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        shards.write_json_atomic(out, result)
    print(f"perplexity-cutoffs: {result['documents_scored']} docs scored; head < {result['head']:.1f}, "
          f"tail >= {result['tail']:.1f}", file=sys.stderr)


def train_lm(call: Call) -> None:
    """Train a KenLM n-gram model on reference text and save it with its tokenization."""
    from corpus_tool.stages.train_lm import train_lm

    meta = train_lm(call.inputs, call.output, **call.options.stage_kwargs())
    print(f"train-lm: {call.output}: {meta['order']}-gram {meta['tokenizer']} model from "
          f"{meta['documents']:,} docs, {meta['tokens']:,} tokens in {meta['seconds']} s",
          file=sys.stderr)


def register(app: typer.Typer) -> None:
    stage_command(app, PerplexityOptions, perplexity, epilog=PPL_EPILOG,
                  short_help="KenLM perplexity: ppl, buckets, cut-offs.")
    stage_command(app, CutoffOptions, perplexity_cutoffs, epilog=CUTOFF_EPILOG,
                  io=[inputs_arg(), output_opt("The JSON file to write ('-': stdout).")],
                  short_help="Percentile cut-offs for head/middle/tail buckets.")
    stage_command(app, TrainLmOptions, train_lm, epilog=TRAIN_EPILOG,
                  io=[inputs_arg("Text files, Parquet shards or directories."),
                      output_opt("The model directory to write.")],
                  short_help="Train a KenLM model (lmplz + build_binary).")
