"""The flat token format: one headerless token file plus a document-offset index (nanoGPT / datatrove style).

For trainers that memory-map a plain array of token ids (nanoGPT's `np.memmap("train.bin", np.uint16)`,
datatrove-style loaders) rather than Megatron's .bin/.idx. Three files per shard, all little-endian:

    <shard>.tokens        every document's token ids (EOD included), concatenated; no header.
                          uint16 when every id fits (vocabulary <= 65,536 ids), else uint32.
    <shard>.tokens.index  uint64[D]: the exclusive end of each document, in tokens (datatrove's layout).
                          Document i is tokens[index[i-1] : index[i]] (with index[-1] taken as 0).
    <shard>.tokens.json   {"format": "corpus-tool-flat", "version": 1, "dtype": "uint16"|"uint32",
                           "documents": D, "tokens": T, "eod": id or null, "vocab_size": V}

With uint16 the .tokens file is exactly what nanoGPT's training loop reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from corpus_tool import shards
from corpus_tool.errors import BadInputError, OutputError

FORMAT_NAME = "corpus-tool-flat"
FORMAT_VERSION = 1
TOKENS_SUFFIX = ".tokens"
INDEX_SUFFIX = ".tokens.index"
META_SUFFIX = ".tokens.json"
UINT16_MAX_VOCAB = 65536


def flat_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= UINT16_MAX_VOCAB else np.dtype("<u4")


def paths(prefix: str | Path) -> tuple[Path, Path, Path]:
    return Path(f"{prefix}{TOKENS_SUFFIX}"), Path(f"{prefix}{INDEX_SUFFIX}"), Path(f"{prefix}{META_SUFFIX}")


class FlatWriter:
    """Streams tokens and document ends to temporary files; `finish` renames them into place
    (tokens, then index, then the metadata file last)."""

    def __init__(self, prefix: str | Path, vocab_size: int, eod: int | None):
        self.finals = paths(prefix)
        self.tmps = tuple(shards.temp_path(p) for p in self.finals)
        self.dtype = flat_dtype(vocab_size)
        self.vocab_size = vocab_size
        self.eod = eod
        self.tokens = 0
        self.documents = 0
        self._lengths: list[np.ndarray] = []
        self.finals[0].parent.mkdir(parents=True, exist_ok=True)
        self._tok = open(self.tmps[0], "wb")  # noqa: SIM115 - closed in finish/abort
        self._idx = open(self.tmps[1], "wb")  # noqa: SIM115

    def add_documents(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        lengths = np.asarray(lengths, dtype=np.int64)
        ends = np.cumsum(lengths) + self.tokens
        try:
            self._tok.write(memoryview(np.ascontiguousarray(tokens, dtype=self.dtype)).cast("B"))
            self._idx.write(ends.astype("<u8").tobytes())
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.finals[0]}: cannot write ({e.strerror or e})") from e
        self._lengths.append(lengths.astype(np.int32))
        self.tokens += len(tokens)
        self.documents += len(lengths)

    def sequence_lengths(self) -> np.ndarray:
        return np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int32)

    def finish(self) -> list[Path]:
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "dtype": self.dtype.name,
            "documents": self.documents,
            "tokens": self.tokens,
            "eod": self.eod,
            "vocab_size": self.vocab_size,
        }
        if self.documents == 0:  # as for Megatron datasets: no files rather than empty ones
            self.abort()
            return []
        try:
            self._tok.close()
            self._idx.close()
            self.tmps[2].write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            for tmp, final in zip(self.tmps, self.finals, strict=True):
                shards.commit(tmp, final)
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.finals[0]}: cannot write ({e.strerror or e})") from e
        return list(self.finals)

    def abort(self) -> None:
        for fh in (self._tok, self._idx):
            if not fh.closed:
                fh.close()
        for tmp in self.tmps:
            tmp.unlink(missing_ok=True)


class FlatDataset:
    """Memory-mapped reader: `len(ds)` documents, `ds[i]` the tokens of document i,
    `ds.tokens` all of them."""

    def __init__(self, prefix: str | Path):
        tok_path, index_path, meta_path = paths(prefix)
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise BadInputError(str(meta_path), None, f"unreadable metadata ({e})") from e
        if self.meta.get("format") != FORMAT_NAME or self.meta.get("version") != FORMAT_VERSION:
            raise BadInputError(str(meta_path), None, "not a corpus-tool flat token dataset (version 1)")
        self.dtype = np.dtype(self.meta["dtype"]).newbyteorder("<")
        self.tokens = _memmap(tok_path, self.dtype)
        self.ends = _memmap(index_path, np.dtype("<u8"))
        if len(self.tokens) != self.meta["tokens"] or len(self.ends) != self.meta["documents"]:
            raise BadInputError(str(tok_path), None, "file sizes disagree with the metadata file")
        if len(self.ends) and int(self.ends[-1]) != len(self.tokens):
            raise BadInputError(str(index_path), None, "the last document end is not the token count")

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.ends[i - 1]) if i > 0 else 0
        return self.tokens[start : int(self.ends[i])]


def _memmap(path: Path, dtype: np.dtype) -> np.ndarray:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise BadInputError(str(path), None, f"cannot read ({e.strerror or e})") from e
    if size % dtype.itemsize:
        raise BadInputError(str(path), None, f"size {size} is not a multiple of {dtype.itemsize}")
    return np.memmap(path, dtype=dtype, mode="r") if size else np.zeros(0, dtype)
