"""Options and pipeline steps of `tokenize`, `train-tokenizer` and `merge` (the code: corpus_tool/stages/tokenize/)."""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import ONE, Options, StageSpec, StepSpec, option


@dataclass(kw_only=True)
class TokenizeOptions(Options):
    command = "tokenize"
    section = "tokenize"
    warm = ("corpus_tool.stages.tokenize", "tokenizers", "gigatoken", "awkward")  # awkward: 0.17 s, 400 modules
    shared_defaults = {"batch_size": 1024}

    tokenizer: str = option(help="A Hugging Face tokenizer.json, or a directory holding one.")
    eod: int | None = option(
        None, "End-of-document token id; default: the tokenizer's <|endoftext|>, </s>, <eos>, ... token.")
    no_eod: bool = option(False, "Do not append an EOD token to documents.", flags=("--no-eod",),
                          stage_arg="append_eod", to_stage=lambda v: not v)
    format: str = option("megatron", "megatron (.bin/.idx) or flat (.tokens + .tokens.index, nanoGPT/datatrove "
                                     "style).", stage_arg="fmt")
    backend: str = option("auto", "auto (gigatoken where it supports the tokenizer, else HF), gigatoken, or hf.")
    threads: int = option(0, "Encoder threads; 0 = every core this process may use, 1 = none.", min=0)
    verify_fraction: float = option(
        0.002, "Share of each batch (at least one document) also encoded with HF tokenizers and compared (fast "
        "path).", min=0.0, max=1.0)


@dataclass(kw_only=True)
class TrainTokenizerOptions(Options):
    command = "train-tokenizer"
    section = "train_tokenizer"
    shared = ("overwrite",)

    vocab_size: int = option(32000, "Vocabulary size, special tokens included.", min=300)
    min_frequency: int = option(2, "Merges seen fewer times are not learned.", min=1)
    eod_token: str = option("<|endoftext|>", "The end-of-document special token.")
    special_token: list[str] | None = option(None, "Another special token (repeatable).", stage_arg="special_tokens")
    max_chars: int | None = option(None, "Stop reading after this many characters.", min=1)


@dataclass(kw_only=True)
class MergeOptions(Options):
    command = "merge"
    section = "merge"
    shared = ("overwrite",)


STAGE = StageSpec("tokenize", (StepSpec(options=TokenizeOptions, documents=True, per_shard=True),))
TRAIN_TOKENIZER = StageSpec("train-tokenizer", (StepSpec(options=TrainTokenizerOptions, tasks=ONE),))
MERGE = StageSpec("merge", (StepSpec(options=MergeOptions, tasks=ONE),))
