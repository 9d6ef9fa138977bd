"""Verification of a band unit's candidate pairs: the estimated Jaccard similarity of every pair from the two
full signatures (rows of the .sig.npy files), reading each signature row O(1) times per unit, in file order.

Reading the two rows of each pair where they lie does not scale: at 10^8 documents the 5 GB of signature
rows of the members (51 GB for a real crawl) no longer stay in the page cache, and rows read in pair order
fault in the same pages again and again (2.1 us per candidate at 10^8 against 1.0 at 10^7, measured). So the
check is an external join in two passes:

1. The pairs are ordered by their second member and cut into chunks of `chunk_pairs` pairs (a chunk is a
   range of second members). Pass A reads the distinct first members in ascending order, a block at a time,
   and gives each chunk the rows of its own distinct first members: once per chunk, not once per pair (the
   first member of a star of 10^5 copies is stored once in each chunk). Those rows stay in memory when they
   all fit in `spill_bytes`, else they are appended to one temporary file per chunk, in ascending order.
2. Pass B takes one chunk at a time: its first members' rows (from memory or its file, read once) and its
   second members' rows, read in ascending order, then compares them.

So every row is read once as a first member (plus once per chunk from the spill) and once as a second
member, with plain reads in file order (work.read_rows: no memory map, so no file pages count in RSS).
Memory: the rows of one chunk's first and second members (2 x chunk_pairs x 512 bytes at 128 values),
the spill when it is held, and about 60 bytes per pair of the unit. Disk: up to 512 bytes per pair for the
spill files, under the work directory's pairs/ folder, removed when the unit ends. The similarities are
those of the same rows compared by the same function, so the kept pairs are exactly those of a plain check.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from corpus_tool.stages.dedup.hashing import estimated_jaccard
from corpus_tool.stages.dedup.work import WorkDir, npy_header, read_rows

CHUNK_PAIRS = 1 << 18  # pairs of one chunk: the rows of its first and of its second members, 128 MB each at most
SPILL_BYTES = 512 << 20  # first-member rows of all chunks held in memory up to this size, else spilled to files
READ_BLOCK = 1 << 16  # distinct first members read at once in pass A (32 MB)
COMPARE = 1 << 12  # pairs compared at once (2 MB per side: buffers that stay in cache)


class SignatureRows:
    """Rows of the signature files by global document index."""

    def __init__(self, wd: WorkDir, shard_list: list[dict]):
        self.paths = [wd.sig_path(m["shard"]) for m in shard_list]
        self.offsets = np.array([int(m["offset"]) for m in shard_list], dtype=np.int64)
        self.total = int(self.offsets[-1] + int(shard_list[-1]["docs"]))

    def read(self, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Rows of the documents `idx` (ascending, distinct global indices), shard by shard in file order, into
        `out` (len(idx) rows) or a new array."""
        bounds = np.searchsorted(idx, self.offsets).tolist() + [len(idx)]
        for s, path in enumerate(self.paths):
            lo, hi = bounds[s], bounds[s + 1]
            if hi == lo:
                continue
            if out is None:
                out = np.empty((len(idx), *npy_header(path)[0][1:]), dtype=npy_header(path)[1])
            read_rows(path, idx[lo:hi] - self.offsets[s], out[lo:hi])
        return out


class _Spill:
    """The first-member rows of every chunk, appended in ascending order: in memory or one file per chunk."""

    def __init__(self, chunks: int, in_memory: bool, folder: Path | None):
        self.parts: list[list[np.ndarray]] = [[] for _ in range(chunks)]
        self.tmp = None
        if not in_memory:
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            self.tmp = tempfile.TemporaryDirectory(prefix=".verify-", dir=folder)

    def _file(self, k: int) -> Path:
        return Path(self.tmp.name) / f"chunk-{k:05d}.bin"

    def append(self, k: int, rows: np.ndarray) -> None:
        if self.tmp is None:
            self.parts[k].append(rows)
            return
        with open(self._file(k), "ab") as fh:
            fh.write(memoryview(np.ascontiguousarray(rows)).cast("B"))

    def take(self, k: int, width: int, dtype: np.dtype) -> np.ndarray:
        if self.tmp is None:
            parts, self.parts[k] = self.parts[k], []
            return np.concatenate(parts) if parts else np.zeros((0, width), dtype)
        path = self._file(k)
        rows = np.fromfile(path, dtype=dtype).reshape(-1, width)
        path.unlink()
        return rows

    def close(self) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def verified(
    wd: WorkDir,
    shard_list: list[dict],
    pairs: np.ndarray,
    *,
    chunk_pairs: int | None = None,
    spill_bytes: int | None = None,
    spill_dir: Path | None = None,
) -> np.ndarray:
    """Estimated Jaccard similarity of each pair ((n, 2) global indices, any order), as float64. chunk_pairs
    and spill_bytes default to CHUNK_PAIRS and SPILL_BYTES; spill files go to a temporary folder in
    `spill_dir` (the system's temporary folder if None)."""
    chunk_pairs = chunk_pairs or CHUNK_PAIRS
    spill_bytes = SPILL_BYTES if spill_bytes is None else spill_bytes
    n = len(pairs)
    est = np.empty(n, dtype=np.float64)
    if not n:
        return est
    sigs = SignatureRows(wd, shard_list)
    by_second = np.argsort(pairs[:, 1], kind="stable")
    chunks = -(-n // chunk_pairs)
    chunk_of = np.empty(n, dtype=np.int64)
    chunk_of[by_second] = np.arange(n, dtype=np.int64) // chunk_pairs
    # The distinct (chunk, first member) entries, by chunk, then by first member.
    entries = np.unique(chunk_of * sigs.total + pairs[:, 0])
    del chunk_of
    entry_first = entries % sigs.total
    bounds = np.searchsorted(entries, np.arange(chunks + 1, dtype=np.int64) * sigs.total)
    del entries
    firsts = np.unique(entry_first)
    block = sigs.read(firsts[:READ_BLOCK])  # rows of the first block; its buffer serves every block
    width, dtype, row_bytes = block.shape[1], block.dtype, block.strides[0]
    spill = _Spill(chunks, len(entry_first) * row_bytes <= spill_bytes, spill_dir)
    try:
        for b in range(0, len(firsts), READ_BLOCK):  # pass A
            ids = firsts[b: b + READ_BLOCK]
            rows = block[: len(ids)] if b == 0 else sigs.read(ids, block[: len(ids)])
            for k in range(chunks):
                seg = entry_first[bounds[k]: bounds[k + 1]]
                lo, hi = np.searchsorted(seg, ids[0]), np.searchsorted(seg, ids[-1], side="right")
                if hi > lo:
                    spill.append(k, rows[np.searchsorted(ids, seg[lo:hi])])
        del block, rows
        second_buf = np.empty((COMPARE, width), dtype=dtype)
        first_buf = np.empty((COMPARE, width), dtype=dtype)
        pair_buf = np.empty((COMPARE, width), dtype=dtype)
        for k in range(chunks):  # pass B
            first_ids = entry_first[bounds[k]: bounds[k + 1]]
            first_rows = spill.take(k, width, dtype)
            sel = by_second[k * chunk_pairs: (k + 1) * chunk_pairs]
            seconds, first_of_second = np.unique(pairs[sel, 1], return_index=True)
            # pieces of COMPARE distinct second members, in order: each row is read once, into one buffer
            for c in range(0, len(seconds), COMPARE):
                ids = seconds[c: c + COMPARE]
                lo = first_of_second[c]
                hi = first_of_second[c + COMPARE] if c + COMPARE < len(seconds) else len(sel)
                s = sel[lo:hi]
                got = sigs.read(ids, second_buf[: len(ids)])
                for p in range(0, len(s), COMPARE):  # more pairs than seconds where a second has several firsts
                    q = s[p: p + COMPARE]
                    fr = np.take(first_rows, np.searchsorted(first_ids, pairs[q, 0]), axis=0, out=first_buf[: len(q)], mode="clip")
                    sr = np.take(got, np.searchsorted(ids, pairs[q, 1]), axis=0, out=pair_buf[: len(q)], mode="clip")
                    est[q] = estimated_jaccard(fr, sr)
            del first_rows
    finally:
        spill.close()
    return est
