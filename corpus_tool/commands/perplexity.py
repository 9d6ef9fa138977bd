"""CLI for KenLM perplexity: `perplexity`, `perplexity-cutoffs` and `train-lm`."""

from __future__ import annotations

import json
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
`make install` or `bash scripts/build_kenlm.sh .venv` builds them."""


def register(app: typer.Typer) -> None:
    @app.command("perplexity", epilog=PPL_EPILOG, short_help="KenLM perplexity: ppl, buckets, cut-offs.")
    def perplexity(
        ctx: typer.Context,
        inputs: Inputs,
        output: Output,
        model: Annotated[str, typer.Option(help="A model directory from train-lm (model.bin + model.json).")],
        max_ppl: Annotated[
            float | None, typer.Option(help="Reject documents with a perplexity above this.", min=0.0)
        ] = None,
        cutoffs: Annotated[
            str | None, typer.Option(help="A cut-off file from perplexity-cutoffs: fills ppl_bucket.")
        ] = None,
        drop_buckets: Annotated[
            str, typer.Option(help="Comma-separated buckets to reject (e.g. tail); needs --cutoffs.")
        ] = "",
        annotate: Annotated[bool, typer.Option("--annotate", help="Keep every document; record ppl in `signals` "
                                                "and `perplexity` in `flags` where it would reject.")] = False,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 512,
        rejected: Rejected = None,
        config: Config = None,
    ) -> None:
        """Score every document with a KenLM model (ppl), bucket it head/middle/tail with --cutoffs, and
        reject documents above --max-ppl or in --drop-buckets."""
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.perplexity import PerplexityStage

        p = resolve(ctx, "perplexity")
        drop = p["drop_buckets"]
        drop_list = drop if isinstance(drop, list) else [b.strip() for b in str(drop or "").split(",")]
        stage = PerplexityStage(p["model"], max_ppl=p["max_ppl"], cutoffs=p["cutoffs"],
                                drop_buckets=[b for b in drop_list if b], annotate=bool(p["annotate"]))
        report(run_stage(stage, p["inputs"], p["output"], **run_kwargs(p)))

    @app.command("perplexity-cutoffs", epilog=CUTOFF_EPILOG,
                 short_help="Percentile cut-offs for head/middle/tail buckets.")
    def perplexity_cutoffs(
        ctx: typer.Context,
        inputs: Inputs,
        model: Annotated[str, typer.Option(help="A model directory from train-lm.")],
        output: Annotated[str, typer.Option("-o", "--output", help="The JSON file to write ('-': stdout).")],
        sample: Annotated[int, typer.Option(help="Documents sampled (uniform reservoir, seeded).",
                                            min=1)] = 10000,
        head_pct: Annotated[float, typer.Option(help="head = perplexity below this percentile (cc_net: "
                                                     "30).")] = 30.0,
        tail_pct: Annotated[float, typer.Option(help="tail = perplexity at or above this percentile "
                                                     "(cc_net: 60).")] = 60.0,
        seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
        config: Config = None,
    ) -> None:
        """Compute perplexity cut-offs as percentiles of a sample of documents."""
        from pathlib import Path

        from corpus_tool import shards
        from corpus_tool.stages.perplexity import compute_cutoffs

        p = resolve(ctx, "perplexity-cutoffs")
        result = compute_cutoffs(p["inputs"], p["model"], sample=int(p["sample"]),
                                 head_pct=float(p["head_pct"]), tail_pct=float(p["tail_pct"]),
                                 seed=int(p["seed"]))
        if p["output"] == "-":
            print(json.dumps(result, indent=2))
        else:
            out = Path(p["output"])
            out.parent.mkdir(parents=True, exist_ok=True)
            shards.write_json_atomic(out, result)
        print(f"perplexity-cutoffs: {result['documents_scored']} docs scored; head < {result['head']:.1f}, "
              f"tail >= {result['tail']:.1f}", file=sys.stderr)

    @app.command("train-lm", epilog=TRAIN_EPILOG, short_help="Train a KenLM model (lmplz + build_binary).")
    def train_lm_cmd(
        ctx: typer.Context,
        inputs: Annotated[list[str], typer.Argument(help="Text files, Parquet shards or directories.",
                                                    show_default=False)],
        output: Annotated[str, typer.Option("-o", "--output", help="The model directory to write.")],
        order: Annotated[int, typer.Option(help="n-gram order (lmplz -o).", min=2, max=9)] = 5,
        tokenizer: Annotated[str, typer.Option(help="char (default: faster, separates as well) or jieba.")]
        = "char",
        memory: Annotated[str, typer.Option(help="lmplz sort memory (-S), e.g. 512M, 4G or 20%.")] = "512M",
        temp_dir: Annotated[str | None, typer.Option(help="lmplz temporary files (-T); default: beside the "
                                                          "output.")] = None,
        prune: Annotated[str | None, typer.Option(help="lmplz --prune counts per order, e.g. '0 1 1'.")] \
            = None,
        discount_fallback: Annotated[bool, typer.Option(
            help="Pass --discount_fallback (needed on small corpora; used only when the estimate fails).")] \
            = True,
        config: Config = None,
    ) -> None:
        """Train a KenLM n-gram model on reference text and save it with its tokenization."""
        from corpus_tool.stages.train_lm import train_lm

        p = resolve(ctx, "train-lm")
        meta = train_lm(p["inputs"], p["output"], order=int(p["order"]), tokenizer=str(p["tokenizer"]),
                        memory=str(p["memory"]), temp_dir=p["temp_dir"], prune=p["prune"],
                        discount_fallback=bool(p["discount_fallback"]))
        print(f"train-lm: {p['output']}: {meta['order']}-gram {meta['tokenizer']} model from "
              f"{meta['documents']:,} docs, {meta['tokens']:,} tokens in {meta['seconds']} s",
              file=sys.stderr)
