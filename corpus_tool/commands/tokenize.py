"""CLI for the tokenize stage, `merge` and `train-tokenizer` (docs/tokenize.md)."""

from __future__ import annotations

import os
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
    ProgressInterval,
    Rejected,
    ShardIndex,
    report,
    resolve,
    run_kwargs,
)

TOKENIZE_EPILOG = (
    "Examples:\n\n"
    "  corpus-tool tokenize deduped/ -o tokens/ --tokenizer tok/tokenizer.json\n\n"
    "  corpus-tool tokenize deduped/ -o tokens/ --tokenizer tok/ --eod 0 --batch-size 4096\n\n"
    "  corpus-tool tokenize deduped/ -o flat/ --tokenizer tok/ --format flat\n\n"
    "  sbatch --array=0-63 --wrap 'corpus-tool tokenize deduped/ -o tokens/ --tokenizer tok/ --threads 1'\n\n"
    "Writes tokens/<shard>.bin and .idx (Megatron MMIDIDX v1: uint16 below 65,500 ids, else int32), "
    "tokens/rejected/<shard>.parquet (documents with no tokens) and tokens/manifests/<shard>.json "
    "(token statistics). Train with --data-path tokens/<shard>, or merge first."
)

MERGE_EPILOG = (
    "Examples:\n\n"
    "  corpus-tool merge tokens/ -o merged/corpus\n\n"
    "  corpus-tool merge tokens/a tokens/b.idx -o merged/ab\n\n"
    "Writes merged/corpus.bin and merged/corpus.idx; a directory's datasets are taken in sorted order."
)

TRAIN_EPILOG = (
    "Examples:\n\n"
    "  corpus-tool train-tokenizer deduped/ -o tok/ --vocab-size 32000\n\n"
    "  corpus-tool train-tokenizer corpus.txt wiki/ -o tok/ --vocab-size 16000 --max-chars 200000000\n\n"
    "Writes tok/tokenizer.json: byte-level BPE whose EOD token is <|endoftext|>."
)


def _set_threads(threads: int) -> None:
    """Size the Rust thread pools (HF tokenizers, gigatoken) before either library starts them."""
    if threads > 0:
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        os.environ["RAYON_RS_NUM_CPUS"] = str(threads)


def register(app: typer.Typer) -> None:
    @app.command(
        "tokenize",
        epilog=TOKENIZE_EPILOG,
        help="Encode document shards into token datasets (Megatron .bin/.idx by default).",
    )
    def tokenize(
        ctx: typer.Context,
        inputs: Inputs,
        output: Output,
        tokenizer: Annotated[
            str, typer.Option(help="A Hugging Face tokenizer.json, or a directory holding one.")
        ],
        eod: Annotated[
            int | None,
            typer.Option(
                help="End-of-document token id; default: the tokenizer's "
                "<|endoftext|>, </s>, <eos>, ... token."
            ),
        ] = None,
        no_eod: Annotated[
            bool, typer.Option("--no-eod", help="Do not append an EOD token to documents.")
        ] = False,
        format: Annotated[
            str,
            typer.Option(
                "--format",
                help="megatron (.bin/.idx) or flat (.tokens + .tokens.index, nanoGPT/datatrove style).",
            ),
        ] = "megatron",
        backend: Annotated[
            str,
            typer.Option(help="auto (gigatoken where it supports the tokenizer, else HF), gigatoken, or hf."),
        ] = "auto",
        threads: Annotated[
            int, typer.Option(min=0, help="Encoder threads; 0 = every core this process may use, 1 = none.")
        ] = 0,
        verify_fraction: Annotated[
            float,
            typer.Option(
                min=0.0,
                max=1.0,
                help="Share of each batch also encoded with HF tokenizers and compared (fast path).",
            ),
        ] = 0.01,
        shard_index: ShardIndex = None,
        num_shards: NumShards = None,
        overwrite: Overwrite = False,
        batch_size: BatchSize = 1024,
        rejected: Rejected = None,
        progress_interval: ProgressInterval = 30.0,
        config: Config = None,
    ) -> None:
        params = resolve(ctx, "tokenize")
        _set_threads(int(params["threads"]))
        from corpus_tool.runner import run_stage
        from corpus_tool.stages.tokenize import TokenizeStage

        stage = TokenizeStage(
            params["tokenizer"],
            eod=params["eod"],
            append_eod=not params["no_eod"],
            fmt=params["format"],
            backend=params["backend"],
            threads=int(params["threads"]),
            verify_fraction=float(params["verify_fraction"]),
        )
        summary = run_stage(stage, params["inputs"], params["output"], **run_kwargs(params))
        t = stage.totals
        if t["tokens"]:
            summary.extra["tokens"] = f"{t['tokens']:,}"
            summary.extra["chars/token"] = f"{t['chars'] / max(t['text_tokens'], 1):.3f}"
            summary.extra["tokens/doc"] = f"{t['tokens'] / max(t['documents'], 1):.1f}"
            summary.extra["encoder"] = stage.encoder.backend
        report(summary)

    @app.command(
        "merge",
        epilog=MERGE_EPILOG,
        help="Concatenate Megatron .bin/.idx datasets into one, document indices shifted.",
    )
    def merge_cmd(
        inputs: Annotated[
            list[str],
            typer.Argument(help="Dataset prefixes, .bin/.idx files, or directories.", show_default=False),
        ],
        output: Annotated[
            str, typer.Option("-o", "--output", help="Output prefix: writes PREFIX.bin and PREFIX.idx.")
        ],
        overwrite: Overwrite = False,
    ) -> None:
        from corpus_tool.errors import OutputError
        from corpus_tool.stages.tokenize import megatron
        from corpus_tool.stages.tokenize.merge import find_prefixes

        prefixes = find_prefixes(inputs)
        out_files = (megatron.bin_path(output), megatron.idx_path(output))
        if any(f.exists() for f in out_files) and not overwrite:
            raise OutputError(f"{out_files[0]} or {out_files[1]} exists; pass --overwrite to replace it")
        if any(str(megatron.bin_path(p).resolve()) == str(out_files[0].resolve()) for p in prefixes):
            raise OutputError(f"{output}: the output is one of the inputs")
        result = megatron.merge(prefixes, output)
        print(
            f"merge: {len(prefixes)} dataset(s) -> {result.prefix}.bin/.idx; {result.documents:,} documents, "
            f"{result.tokens:,} tokens, dtype {result.dtype.name}",
            file=sys.stderr,
        )

    @app.command(
        "train-tokenizer",
        epilog=TRAIN_EPILOG,
        help="Train a byte-level BPE tokenizer (with an EOD token) on shards or text files.",
    )
    def train_tokenizer(
        ctx: typer.Context,
        inputs: Annotated[
            list[str],
            typer.Argument(
                help="Parquet shards, directories, .txt/.md/.jsonl(.gz) files.", show_default=False
            ),
        ],
        output: Annotated[str, typer.Option("-o", "--output", help="Directory for tokenizer.json.")],
        vocab_size: Annotated[
            int, typer.Option(min=300, help="Vocabulary size, special tokens included.")
        ] = 32000,
        min_frequency: Annotated[
            int, typer.Option(min=1, help="Merges seen fewer times are not learned.")
        ] = 2,
        eod_token: Annotated[str, typer.Option(help="The end-of-document special token.")] = "<|endoftext|>",
        special_token: Annotated[
            list[str] | None, typer.Option(help="Another special token (repeatable).")
        ] = None,
        max_chars: Annotated[
            int | None, typer.Option(min=1, help="Stop reading after this many characters.")
        ] = None,
        overwrite: Overwrite = False,
        config: Config = None,
    ) -> None:
        params = resolve(ctx, "train_tokenizer")
        from corpus_tool.stages.tokenize.train_tokenizer import train_bpe

        result = train_bpe(
            params["inputs"],
            params["output"],
            vocab_size=int(params["vocab_size"]),
            min_frequency=int(params["min_frequency"]),
            eod_token=params["eod_token"],
            special_tokens=params["special_token"],
            max_chars=params["max_chars"],
            overwrite=bool(params["overwrite"]),
        )
        print(
            f"train-tokenizer: {result.path}; vocabulary {result.vocab_size:,}, EOD {params['eod_token']} = "
            f"{result.eod_id}; trained on {result.documents:,} texts, {result.characters:,} characters",
            file=sys.stderr,
        )
