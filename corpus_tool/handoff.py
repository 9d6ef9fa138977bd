"""Documents handed from one stage's task to the next one's in the same process, instead of read back.

A local run's worker pool runs a chain of per-shard steps (ingest, langid, normalize, ...) task by task in
one worker: the next step's task reads exactly the shards the one before has just written (executors/local.py).
Reading them back would decompress the Parquet, check its UTF-8 and hash the file again; the batches the
writer was given are still in memory, so the runner keeps them (up to a byte limit) and the next task's reader
takes them from here. What it gets is what reading the file would give, batch for batch:

- the same rows in the same order, cut into `batch_size` batches across the writer's row groups, as Arrow's
  reader does (`rebatch`);
- only while the file is the one that was written (same size, inode, mtime and ctime); otherwise, or for any
  file not kept here, the reader reads the file;
- past the limit (what one worker holds of all the files it has written and the next step has not taken yet),
  the first row groups come from memory and the rest from the file.

Nothing is kept unless an executor turns it on (`enable`), so a stage run by hand holds no extra memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa


@dataclass
class Budget:
    """Bytes of kept batches a process holds at once, all files together: a task that writes many shards
    before the next step takes the first keeps only the first ones."""

    limit: int
    used: int = 0


@dataclass
class Kept:
    """The batches written to one output file, in order, as long as they fit in the budget."""

    budget: Budget
    batches: list[pa.RecordBatch] = field(default_factory=list)
    nbytes: int = 0
    complete: bool = True  # False once a batch did not fit: the rest is read from the file
    _rows: int = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if not self.complete or batch.num_rows == 0:
            return
        size = batch.nbytes
        if self.budget.used + size > self.budget.limit:
            self.complete = False
            return
        self.batches.append(batch)
        self.nbytes += size
        self.budget.used += size
        self._rows += batch.num_rows

    @property
    def rows(self) -> int:
        return self._rows

    def drain(self) -> Iterator[pa.RecordBatch]:
        """The batches, each let go as it is handed on: the next stage's allocations reuse their memory."""
        self.batches.reverse()
        while self.batches:
            batch = self.batches.pop()
            self.budget.used -= batch.nbytes
            yield batch


@dataclass
class _Entry:
    stat: tuple[int, ...]
    description: dict
    kept: Kept | None


_limit = 0  # bytes of the files it writes a process keeps for the next task, all together; 0: nothing is kept
_budget = Budget(0)
_chained = False  # the running task reads only the shards the task before it wrote (a chain's later step)
_feeds_next = True  # a task after the running one reads what it writes
_entries: dict[str, _Entry] = {}
_written: dict[str, list[str]] = {}  # output folder -> the shard names the last task there wrote or skipped


def enable(limit_bytes: int) -> None:
    """Keep up to `limit_bytes` of the batches of the files written from now on (all together); 0: none."""
    global _limit, _budget
    _limit = max(0, int(limit_bytes))
    _budget = Budget(_limit)


def reset(*, chained: bool = False) -> None:
    """Forget everything kept (a new chain of tasks starts) and say whether the next task is a chain's later
    step, which processes only the shards the task before it wrote."""
    global _chained, _budget, _feeds_next
    _entries.clear()
    _written.clear()
    _budget = Budget(_limit)
    _chained, _feeds_next = chained, True


def begin_task(*, chained: bool, feeds_next: bool = True) -> None:
    """A task of a chain starts: whether it takes the shards the task before it wrote (a later step), and
    whether a task after it will read what it writes (else nothing of it is kept)."""
    global _chained, _feeds_next
    _chained, _feeds_next = chained, feeds_next


def keeper() -> Kept | None:
    """A Kept for a stage's output file, or None when nothing is to be kept."""
    return Kept(_budget) if _limit and _feeds_next else None


def _key(path: str | Path) -> str:
    return os.path.realpath(path)


def _stat(path: str | Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def offer(path: Path, description: dict, kept: Kept | None) -> None:
    """Record a finished output file (renamed into place), its manifest description and its batches."""
    if not _limit:
        return
    stat = _stat(path)
    if stat is not None:
        _entries[_key(path)] = _Entry(stat, description, kept)


def wrote(out_dir: Path, names: list[str]) -> None:
    """The shards a task has finished in `out_dir` (written now or before): the next step of a chain takes these."""
    if _limit:
        _written[_key(out_dir)] = list(names)


def chained_names(inputs: list[str]) -> set[str] | None:
    """For a chain's later step reading one folder: the shard names the task before wrote there; else None."""
    if not _chained or len(inputs) != 1:
        return None
    names = _written.get(_key(inputs[0]))
    return None if names is None else set(names)


def description(path: str | Path) -> dict | None:
    """The manifest description (path, bytes, sha256) recorded when the file was written, while it is unchanged."""
    entry = _entries.get(_key(path))
    if entry is None or entry.stat != _stat(path):
        return None
    return {**entry.description, "path": str(Path(path))}


def take(path: str | Path) -> Kept | None:
    """The batches kept for `path` (once: they are handed over and forgotten), while the file is unchanged."""
    entry = _entries.get(_key(path))
    if entry is None or entry.kept is None or entry.stat != _stat(path):
        return None
    kept, entry.kept = entry.kept, None
    return kept


def rebatch(batches: Iterable[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The rows of `batches` in batches of exactly `size` rows (the last one shorter), none empty: how Arrow's
    Parquet reader cuts a file's row groups into record batches."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        while batch.num_rows:
            n = min(size - rows, batch.num_rows)
            pending.append(batch.slice(0, n) if n < batch.num_rows else batch)
            batch = batch.slice(n)
            rows += n
            if rows == size:
                yield _concat(pending)
                pending, rows = [], 0
    if rows:
        yield _concat(pending)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    first = parts[0].schema  # kept batches and the file's may name a user's extra column's type differently
    return pa.concat_batches([p if p.schema.equals(first) else p.cast(first) for p in parts])
