"""Train a byte-level BPE tokenizer (GPT-2 style, HF `tokenizers`) on document shards or text files.

Byte-level means every byte has a token, so no text is ever unknown, and the result loads in
`tokenizers`, `transformers` and gigatoken (our fast encode path). The EOD special token is always added
(id 0 unless more special tokens come first), so `corpus-tool tokenize` finds it without --eod.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus_tool import schema, shards
from corpus_tool.errors import BadInputError, OutputError, UsageError
from corpus_tool.stages.tokenize.encoder import TOKENIZER_FILE

DEFAULT_EOD = "<|endoftext|>"
TEXT_SUFFIXES = (".txt", ".md", ".txt.gz", ".jsonl", ".jsonl.gz")
_TEXT_BLOCK = 1 << 20  # characters per training string when reading a large text file


@dataclass
class TrainResult:
    path: Path
    vocab_size: int
    eod_id: int
    documents: int
    characters: int


def iter_texts(inputs: list[str], max_chars: int | None = None) -> Iterator[str]:
    """Texts from Parquet document shards (the `text` column), JSONL (`text` field) or plain text files
    (read in blocks of whole lines), until `max_chars` characters have been given."""
    files = shards.expand_inputs(inputs, suffixes=(shards.PARQUET_SUFFIX, *TEXT_SUFFIXES))
    budget = max_chars if max_chars is not None else float("inf")
    for path in files:
        if path.endswith(shards.PARQUET_SUFFIX):
            source = (
                t for b in shards.iter_document_batches(path, 1024) for t in b.column(schema.TEXT).to_pylist()
            )
        elif path.endswith((".jsonl", ".jsonl.gz")):
            source = _jsonl_texts(path)
        else:
            source = _text_blocks(path)
        for text in source:
            if budget <= 0:
                return
            text = text[: int(budget)] if len(text) > budget else text
            budget -= len(text)
            yield text


def _open_text(path: str) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict")


def _text_blocks(path: str) -> Iterator[str]:
    try:
        with _open_text(path) as fh:
            block: list[str] = []
            size = 0
            for line in fh:
                block.append(line)
                size += len(line)
                if size >= _TEXT_BLOCK:
                    yield "".join(block)
                    block, size = [], 0
            if block:
                yield "".join(block)
    except UnicodeDecodeError as e:
        raise BadInputError(path, f"byte {e.start}", "invalid UTF-8") from e
    except OSError as e:
        raise BadInputError(path, None, f"cannot read ({e.strerror or e})") from e


def _jsonl_texts(path: str) -> Iterator[str]:
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    text = json.loads(line).get(schema.TEXT)
                except (json.JSONDecodeError, AttributeError) as e:
                    raise BadInputError(path, f"line {lineno}", "not a JSON object") from e
                if isinstance(text, str):
                    yield text
    except UnicodeDecodeError as e:
        raise BadInputError(path, f"byte {e.start}", "invalid UTF-8") from e


def train_bpe(
    inputs: list[str],
    out_dir: str | Path,
    *,
    vocab_size: int = 32000,
    min_frequency: int = 2,
    eod_token: str = DEFAULT_EOD,
    special_tokens: list[str] | None = None,
    max_chars: int | None = None,
    overwrite: bool = False,
) -> TrainResult:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    out = Path(out_dir)
    target = out / TOKENIZER_FILE
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists; pass --overwrite to replace it")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    specials = [eod_token] + [t for t in (special_tokens or []) if t != eod_token]
    if vocab_size < len(alphabet) + len(specials):
        raise UsageError(
            f"--vocab-size {vocab_size} is below the {len(alphabet)} byte tokens plus special tokens"
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=alphabet,
        show_progress=False,
    )
    counted = {"docs": 0, "chars": 0}

    def counting() -> Iterator[str]:
        for text in iter_texts(inputs, max_chars):
            counted["docs"] += 1
            counted["chars"] += len(text)
            yield text

    tok.train_from_iterator(counting(), trainer)
    if counted["chars"] == 0:
        raise UsageError(f"no text found in {' '.join(inputs)}")
    # transformers' AutoTokenizer (and so Megatron's HuggingFaceTokenizer, whose eod is eos_token_id)
    # reads the special tokens from tokenizer_config.json, not from tokenizer.json.
    hf_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": eod_token,
        "eos_token": eod_token,
        "unk_token": eod_token,
        "add_prefix_space": False,
        "clean_up_tokenization_spaces": False,
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
        shards.write_json_atomic(out / "tokenizer_config.json", hf_config)
        tmp = shards.temp_path(target)
        try:
            tok.save(str(tmp))
        except Exception as e:  # noqa: BLE001 - tokenizers raises a bare Exception("... (os error 28)")
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{target}: cannot write ({e})") from e
        shards.commit(tmp, target)
    except OSError as e:
        raise OutputError(f"{target}: cannot write ({e.strerror or e})") from e
    return TrainResult(
        target,
        tok.get_vocab_size(with_added_tokens=True),
        tok.token_to_id(eod_token),
        counted["docs"],
        counted["chars"],
    )
