"""Megatron's indexed dataset (`.bin` + `.idx`, "MMIDIDX" version 1), spelled out once.

This is the format `megatron.core.datasets.indexed_dataset` reads (`IndexedDataset`) and writes
(`IndexedDatasetBuilder`); a test compares our bytes with megatron-core's. Layout (little-endian):

    .bin   the token ids of every sequence, concatenated, in the dtype the .idx names; no header
    .idx   offset  type          field
           0       9 bytes       magic b"MMIDIDX\\x00\\x00"
           9       uint64        version = 1
           17      uint8         dtype code (`DType`)
           18      uint64        S = number of sequences
           26      uint64        D + 1 = number of entries in document_indices
           34      int32[S]      sequence lengths, in tokens
           34+4S   int64[S]      sequence pointers: byte offset of each sequence in .bin
           34+12S  int64[D+1]    document indices: 0, then the exclusive end sequence of each document

We write one sequence per document (as preprocess_data.py does without --split-sentences), so S = D and
document_indices = 0..D. Writing is streaming: tokens are appended to the .bin as they come and only the
int32 sequence lengths (4 bytes per document) are held until `finish`, which writes the pointers and
document indices in chunks. Neither this module nor its tests need torch.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

from corpus_tool import shards
from corpus_tool.errors import BadInputError, OutputError

INDEX_MAGIC = b"MMIDIDX\x00\x00"
INDEX_VERSION = 1
HEADER_SIZE = 34  # magic 9 + version 8 + dtype 1 + S 8 + (D+1) 8
BIN_SUFFIX = ".bin"
IDX_SUFFIX = ".idx"
# Megatron's DType.optimal_dtype: uint16 for a cardinality (vocabulary size) below this, else int32.
UINT16_VOCAB_LIMIT = 65500
_CHUNK = 1 << 20  # entries per chunk when writing index arrays
_COPY_BUFFER = 16 << 20  # bytes per read when concatenating .bin files

_LE_U64 = np.dtype("<u8")
_LE_I32 = np.dtype("<i4")
_LE_I64 = np.dtype("<i8")


class DType(IntEnum):
    """The dtype codes of the .idx header, as megatron.core's `DType` enum numbers them.

    Code 7 meant float in older fairseq-derived files; we only ever write 4 (int32) and 8 (uint16)."""

    uint8 = 1
    int8 = 2
    int16 = 3
    int32 = 4
    int64 = 5
    float64 = 6
    float32 = 7
    uint16 = 8

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.name).newbyteorder("<")

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize


def optimal_dtype(vocab_size: int) -> DType:
    """uint16 when the vocabulary has fewer than 65,500 ids, else int32 (Megatron's rule, not datatrove's
    65,536: the two disagree for 65,500 <= vocab <= 65,536; we follow the trainer that reads the files)."""
    return DType.uint16 if vocab_size < UINT16_VOCAB_LIMIT else DType.int32


def bin_path(prefix: str | Path) -> Path:
    return Path(f"{prefix}{BIN_SUFFIX}")


def idx_path(prefix: str | Path) -> Path:
    return Path(f"{prefix}{IDX_SUFFIX}")


# ----------------------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class IndexHeader:
    dtype: DType
    sequence_count: int
    document_count: int  # D, the number of documents (the file stores D + 1)

    def to_bytes(self) -> bytes:
        return (
            INDEX_MAGIC
            + np.array([INDEX_VERSION], _LE_U64).tobytes()
            + bytes([int(self.dtype)])
            + np.array([self.sequence_count, self.document_count + 1], _LE_U64).tobytes()
        )

    @classmethod
    def from_bytes(cls, raw: bytes, path: str) -> IndexHeader:
        if len(raw) < HEADER_SIZE:
            raise BadInputError(path, None, f"too short for a Megatron index ({len(raw)} bytes)")
        if raw[:9] != INDEX_MAGIC:
            raise BadInputError(path, "byte 0", f"not a Megatron index (magic {raw[:9]!r})")
        version = int(np.frombuffer(raw, _LE_U64, 1, 9)[0])
        if version != INDEX_VERSION:
            raise BadInputError(path, "byte 9", f"unsupported index version {version}")
        try:
            dtype = DType(raw[17])
        except ValueError:
            raise BadInputError(path, "byte 17", f"unknown dtype code {raw[17]}") from None
        s, d1 = (int(x) for x in np.frombuffer(raw, _LE_U64, 2, 18))
        if d1 < 1:
            raise BadInputError(path, "byte 26", "document index count is 0 (must be at least 1)")
        return cls(dtype, s, d1 - 1)

    def file_size(self) -> int:
        return HEADER_SIZE + 12 * self.sequence_count + 8 * (self.document_count + 1)


class IndexWriter:
    """Writes a .idx file for one sequence per document (S = D, document indices 0..D) from the
    sequence lengths, streaming the pointers and document indices in chunks."""

    def __init__(self, path: Path, dtype: DType):
        self.path = path
        self.dtype = dtype

    def write(self, sequence_lengths: np.ndarray) -> None:
        lengths = np.asarray(sequence_lengths, dtype=_LE_I32)
        s = len(lengths)
        with open(self.path, "wb") as fh:
            fh.write(IndexHeader(self.dtype, s, s).to_bytes())
            fh.write(lengths.tobytes())
            write_pointers(fh, [lengths], self.dtype.itemsize)
            for start in range(0, s + 1, _CHUNK):
                fh.write(np.arange(start, min(start + _CHUNK, s + 1), dtype=_LE_I64).tobytes())


def write_pointers(fh, length_chunks: Iterable[np.ndarray], itemsize: int, start: int = 0) -> int:
    """Write the int64 byte offset of every sequence (running sum of lengths * itemsize); returns the end."""
    offset = start
    for lengths in length_chunks:
        for i in range(0, len(lengths), _CHUNK):
            part = np.asarray(lengths[i : i + _CHUNK], dtype=np.int64) * itemsize
            ends = np.cumsum(part) + offset
            fh.write((ends - part).astype(_LE_I64).tobytes())
            if len(ends):
                offset = int(ends[-1])
    return offset


class IndexReader:
    """A memory-mapped .idx: `sequence_lengths`, `sequence_pointers`, `document_indices` are numpy views."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        try:
            size = os.path.getsize(self.path)
            with open(self.path, "rb") as fh:
                self.header = IndexHeader.from_bytes(fh.read(HEADER_SIZE), self.path)
        except OSError as e:
            raise BadInputError(self.path, None, f"cannot read ({e.strerror or e})") from e
        h = self.header
        expected = h.file_size()
        if size not in (expected, expected + h.sequence_count):  # + int8 modes for multimodal datasets
            raise BadInputError(self.path, None, f"{size} bytes, but its header implies {expected}")
        self._mmap = np.memmap(self.path, dtype=np.uint8, mode="r") if size else np.zeros(0, np.uint8)
        s = h.sequence_count
        self.dtype = h.dtype
        self.sequence_lengths = self._mmap[HEADER_SIZE : HEADER_SIZE + 4 * s].view(_LE_I32)
        self.sequence_pointers = self._mmap[HEADER_SIZE + 4 * s : HEADER_SIZE + 12 * s].view(_LE_I64)
        d_start = HEADER_SIZE + 12 * s
        self.document_indices = self._mmap[d_start : d_start + 8 * (h.document_count + 1)].view(_LE_I64)

    def __len__(self) -> int:
        return self.header.sequence_count


# ------------------------------------------------------------------------------------ dataset builder


class MegatronWriter:
    """Builds one `.bin`/`.idx` pair under temporary names; `finish` renames both into place (bin first,
    then idx, so an .idx never names a .bin that is not complete)."""

    def __init__(self, prefix: str | Path, dtype: DType):
        self.bin_final, self.idx_final = bin_path(prefix), idx_path(prefix)
        self.bin_tmp, self.idx_tmp = shards.temp_path(self.bin_final), shards.temp_path(self.idx_final)
        self.dtype = dtype
        self._lengths: list[np.ndarray] = []
        self.tokens = 0
        self.documents = 0
        self.bin_final.parent.mkdir(parents=True, exist_ok=True)
        self._bin = open(self.bin_tmp, "wb")  # noqa: SIM115 - closed in finish/abort

    def add_documents(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        """Append documents given as one flat token array and the length of each document."""
        if len(tokens) != int(np.sum(lengths, dtype=np.int64)):
            raise ValueError("token count does not match the sum of document lengths")
        data = np.ascontiguousarray(tokens, dtype=self.dtype.numpy)
        try:
            self._bin.write(memoryview(data).cast("B"))
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.bin_final}: cannot write ({e.strerror or e})") from e
        self._lengths.append(np.asarray(lengths, dtype=_LE_I32))
        self.tokens += len(tokens)
        self.documents += len(lengths)

    def sequence_lengths(self) -> np.ndarray:
        return np.concatenate(self._lengths) if self._lengths else np.zeros(0, _LE_I32)

    def finish(self) -> list[Path]:
        """Rename both files into place. A dataset with no documents is not written at all (returns []):
        megatron-core's IndexedDataset cannot memory-map an empty .bin, so one would crash a training run."""
        if self.documents == 0:
            self.abort()
            return []
        try:
            self._bin.close()
            IndexWriter(self.idx_tmp, self.dtype).write(self.sequence_lengths())
            shards.commit(self.bin_tmp, self.bin_final)
            shards.commit(self.idx_tmp, self.idx_final)
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.idx_final}: cannot write ({e.strerror or e})") from e
        return [self.bin_final, self.idx_final]

    def abort(self) -> None:
        if not self._bin.closed:
            self._bin.close()
        self.bin_tmp.unlink(missing_ok=True)
        self.idx_tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------- dataset reader


class MegatronDataset:
    """Read-only view of a `.bin`/`.idx` pair: `ds[i]` is sequence i as a numpy array, `ds.document(j)`
    the tokens of document j. Memory-mapped, like megatron-core's IndexedDataset."""

    def __init__(self, prefix: str | Path):
        self.prefix = str(prefix)
        self.index = IndexReader(idx_path(prefix))
        bpath = str(bin_path(prefix))
        try:
            size = os.path.getsize(bpath)
        except OSError as e:
            raise BadInputError(bpath, None, f"cannot read ({e.strerror or e})") from e
        expected = int(np.sum(self.index.sequence_lengths, dtype=np.int64)) * self.index.dtype.itemsize
        if size != expected:
            raise BadInputError(bpath, None, f"{size} bytes, but {self.index.path} describes {expected}")
        self.dtype = self.index.dtype
        self._data = (
            np.memmap(bpath, dtype=self.dtype.numpy, mode="r") if size else np.zeros(0, self.dtype.numpy)
        )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def num_documents(self) -> int:
        return len(self.index.document_indices) - 1

    @property
    def num_tokens(self) -> int:
        return len(self._data)

    def __getitem__(self, i: int) -> np.ndarray:
        start = int(self.index.sequence_pointers[i]) // self.dtype.itemsize
        return self._data[start : start + int(self.index.sequence_lengths[i])]

    def document(self, j: int) -> np.ndarray:
        first, end = int(self.index.document_indices[j]), int(self.index.document_indices[j + 1])
        if end == first:
            return self._data[:0]
        start = int(self.index.sequence_pointers[first]) // self.dtype.itemsize
        last = end - 1
        stop = int(self.index.sequence_pointers[last]) // self.dtype.itemsize + int(
            self.index.sequence_lengths[last]
        )
        return self._data[start:stop]


# ------------------------------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    prefix: Path
    inputs: list[str]
    dtype: DType
    sequences: int
    documents: int
    tokens: int


def merge(prefixes: list[str], out_prefix: str | Path) -> MergeResult:
    """Concatenate datasets into one, as Megatron's tools/merge_datasets.py does: sequences in input
    order, document indices shifted by the sequences before them, .bin data copied in 16 MiB chunks.

    Memory stays bounded: the index arrays are streamed from the inputs' memory maps."""
    if not prefixes:
        raise ValueError("nothing to merge")
    readers = [IndexReader(idx_path(p)) for p in prefixes]
    dtype = readers[0].dtype
    for p, r in zip(prefixes, readers, strict=True):
        if r.dtype != dtype:
            raise BadInputError(
                str(idx_path(p)),
                "byte 17",
                f"dtype {r.dtype.name} differs from {dtype.name} in {idx_path(prefixes[0])}",
            )
        MegatronDataset(p)  # validates the .bin size against the index
    out_bin, out_idx = bin_path(out_prefix), idx_path(out_prefix)
    tmp_bin, tmp_idx = shards.temp_path(out_bin), shards.temp_path(out_idx)
    s_total = sum(r.header.sequence_count for r in readers)
    d_total = sum(r.header.document_count for r in readers)
    try:
        out_bin.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp_bin, "wb") as dst:
            for p in prefixes:
                with open(bin_path(p), "rb") as src:
                    shutil.copyfileobj(src, dst, _COPY_BUFFER)
        with open(tmp_idx, "wb") as fh:
            fh.write(IndexHeader(dtype, s_total, d_total).to_bytes())
            for r in readers:
                for i in range(0, len(r.sequence_lengths), _CHUNK):
                    fh.write(np.asarray(r.sequence_lengths[i : i + _CHUNK]).tobytes())
            write_pointers(fh, (r.sequence_lengths for r in readers), dtype.itemsize)
            fh.write(np.zeros(1, _LE_I64).tobytes())
            shift = 0
            for r in readers:
                for i in range(1, len(r.document_indices), _CHUNK):
                    fh.write((r.document_indices[i : i + _CHUNK] + shift).astype(_LE_I64).tobytes())
                shift += r.header.sequence_count
        shards.commit(tmp_bin, out_bin)
        shards.commit(tmp_idx, out_idx)
    except OSError as e:
        tmp_bin.unlink(missing_ok=True)
        tmp_idx.unlink(missing_ok=True)
        raise OutputError(f"{out_prefix}: cannot write the merged dataset ({e.strerror or e})") from e
    except BaseException:
        tmp_bin.unlink(missing_ok=True)
        tmp_idx.unlink(missing_ok=True)
        raise
    tokens = sum(int(np.sum(r.sequence_lengths, dtype=np.int64)) for r in readers)
    return MergeResult(Path(out_prefix), list(prefixes), dtype, s_total, d_total, tokens)
