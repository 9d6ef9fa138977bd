"""CLI for the tokenize stage, `merge` and `train-tokenizer` (docs/tokenize.md)."""

from __future__ import annotations

import os
import sys

import typer

from corpus_tool.commands.common import Call, inputs_arg, output_opt, stage_command
from corpus_tool.specs.tokenize import MergeOptions, TokenizeOptions, TrainTokenizerOptions

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


def tokenize(call: Call) -> None:
    """Encode document shards into token datasets (Megatron .bin/.idx by default)."""
    _set_threads(call.options.threads)
    from corpus_tool.commands.common import report
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.tokenize import TokenizeStage

    stage = call.options.build(TokenizeStage)
    report(run_stage(stage, call.inputs, call.output, **call.run.runner_kwargs()))


def merge(call: Call) -> None:
    """Concatenate Megatron .bin/.idx datasets into one, document indices shifted."""
    from corpus_tool.errors import OutputError
    from corpus_tool.stages.tokenize import megatron
    from corpus_tool.stages.tokenize.merge import find_prefixes

    output = call.output
    prefixes = find_prefixes(call.inputs)
    out_files = (megatron.bin_path(output), megatron.idx_path(output))
    if any(f.exists() for f in out_files) and not call.run.overwrite:
        raise OutputError(f"{out_files[0]} or {out_files[1]} exists; pass --overwrite to replace it")
    if any(str(megatron.bin_path(p).resolve()) == str(out_files[0].resolve()) for p in prefixes):
        raise OutputError(f"{output}: the output is one of the inputs")
    result = megatron.merge(prefixes, output)
    print(
        f"merge: {len(prefixes)} dataset(s) -> {result.prefix}.bin/.idx; {result.documents:,} documents, "
        f"{result.tokens:,} tokens, dtype {result.dtype.name}",
        file=sys.stderr,
    )


def train_tokenizer(call: Call) -> None:
    """Train a byte-level BPE tokenizer (with an EOD token) on shards or text files."""
    from corpus_tool.stages.tokenize.train_tokenizer import train_bpe

    result = train_bpe(call.inputs, call.output, **call.options.stage_kwargs(), overwrite=call.run.overwrite)
    print(
        f"train-tokenizer: {result.path}; vocabulary {result.vocab_size:,}, EOD {call.options.eod_token} = "
        f"{result.eod_id}; trained on {result.documents:,} texts, {result.characters:,} characters",
        file=sys.stderr,
    )


def register(app: typer.Typer) -> None:
    stage_command(app, TokenizeOptions, tokenize, epilog=TOKENIZE_EPILOG,
                  help="Encode document shards into token datasets (Megatron .bin/.idx by default).")
    stage_command(app, MergeOptions, merge, epilog=MERGE_EPILOG,
                  io=[inputs_arg("Dataset prefixes, .bin/.idx files, or directories."),
                      output_opt("Output prefix: writes PREFIX.bin and PREFIX.idx.")],
                  help="Concatenate Megatron .bin/.idx datasets into one, document indices shifted.")
    stage_command(app, TrainTokenizerOptions, train_tokenizer, epilog=TRAIN_EPILOG,
                  io=[inputs_arg("Parquet shards, directories, .txt/.md/.jsonl(.gz) files."),
                      output_opt("Directory for tokenizer.json.")],
                  help="Train a byte-level BPE tokenizer (with an EOD token) on shards or text files.")
