"""The one interface every document stage implements.

A stage turns a batch of documents into (kept, rejected): `process(batch)`. That is all most stages write;
the runner (corpus_tool/runner.py) gives every stage the same reading, atomic writing, resume, manifests and
accounting. Stages that read something other than Parquet (ingest) override `list_shards` and `read`;
stages that write something other than Parquet (tokenize) override `make_sink`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
import pyarrow as pa

from corpus_tool import schema, shards
from corpus_tool.shards import InputShard

if TYPE_CHECKING:
    from corpus_tool.specs.base import Options


class Sink(Protocol):
    """Where kept documents go. `finish` makes the output visible and returns the files it wrote."""

    def write(self, batch: pa.RecordBatch) -> None: ...

    def finish(self) -> list[Path]: ...

    def abort(self) -> None: ...

    def stats(self) -> dict[str, Any]: ...


class ParquetSink:
    def __init__(self, out_dir: Path, name: str):
        self._writer = shards.ParquetShardWriter(shards.kept_path(out_dir, name), schema.DOCUMENT_SCHEMA)

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write(batch)

    def finish(self) -> list[Path]:
        return [self._writer.finish()]

    def abort(self) -> None:
        self._writer.abort()

    def stats(self) -> dict[str, Any]:
        return {}


class Stage:
    """Base class. Subclasses set `name` and implement `process` (or override `process_shard`)."""

    name: ClassVar[str] = "stage"

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()  # stage-specific statistics, reset per shard
        self.options: Options | None = None  # set by Options.build: the declared options it was made from
        self._unreadable: list[pa.RecordBatch] = []  # rejected JSONL lines waiting to be yielded

    # -- configuration ----------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The manifest's `config`: the declared options (corpus_tool/specs), by name."""
        return self.options.to_config() if self.options is not None else {}

    def resolved(self) -> dict[str, Any]:
        """The manifest's `resolved`: what the options came to, where that decides the output too (the
        model file a default names, a rule list, a tokenizer's digest)."""
        return {}

    # -- inputs -------------------------------------------------------------------------------------
    def list_shards(self, inputs: list[str]) -> list[InputShard]:
        return shards.parquet_shards(inputs)

    def read(self, shard: InputShard, batch_size: int) -> Iterator[pa.RecordBatch]:
        for path in shard.paths:
            yield from shards.iter_document_batches(path, batch_size, on_reject=self._reject_unreadable)

    def _reject_unreadable(self, docs: pa.RecordBatch, reasons: list[str], details: list[str]) -> None:
        """JSONL lines on stdin that are not documents (no string text): rejected by this stage, not fatal."""
        self._unreadable.append(schema.with_reasons(docs, self.name, reasons, details))

    def _drain_unreadable(self) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
        while self._unreadable:
            rejected = self._unreadable.pop(0)
            yield schema.conform(rejected.slice(0, 0)), rejected

    # -- work ---------------------------------------------------------------------------------------
    def begin_shard(self, shard: InputShard) -> None:
        """Called before a shard's first batch."""
        self.counters = Counter()

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        raise NotImplementedError

    def process_shard(self, shard: InputShard, batch_size: int) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
        """(kept, rejected) pairs for the whole shard; `docs in` is counted as kept + rejected."""
        for batch in self.read(shard, batch_size):
            yield self.process(batch)
            yield from self._drain_unreadable()
        yield from self._drain_unreadable()

    def shard_stats(self) -> dict[str, Any]:
        """Stage-specific statistics for the manifest of the shard just processed."""
        return dict(sorted(self.counters.items()))

    def summary_extra(self, stats: list[dict[str, Any]]) -> dict[str, Any]:
        """More for the run's summary line, from the manifests' `stats` of the shards this run finished."""
        return {}

    # -- outputs ------------------------------------------------------------------------------------
    def make_sink(self, out_dir: Path, name: str) -> Sink:
        return ParquetSink(out_dir, name)

    def output_files(self, out_dir: Path, name: str) -> list[Path]:
        """The files a finished shard has besides its manifest (used by audit and --overwrite)."""
        return [shards.kept_path(out_dir, name)]

    # -- helpers for subclasses ----------------------------------------------------------------------
    def split(
        self,
        batch: pa.RecordBatch,
        keep: np.ndarray | list[bool],
        reasons: list[str | None],
        details: list[str | None] | None = None,
    ) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        """Split `batch` by the boolean mask `keep`; rejected rows get `reasons[i]` (and `details[i]`)."""
        keep = np.asarray(keep, dtype=bool)
        # every row kept (the common case): the batch itself, not a copy of it
        kept = batch if keep.all() else batch.filter(pa.array(keep))
        rej_idx = np.flatnonzero(~keep).tolist()
        rejected_rows = batch.take(pa.array(rej_idx, pa.int64())) if rej_idx else batch.slice(0, 0)
        rej_reasons = [reasons[i] or "rejected" for i in rej_idx]
        rej_details = [details[i] for i in rej_idx] if details is not None else [None] * len(rej_idx)
        return kept, schema.with_reasons(rejected_rows, self.name, rej_reasons, rej_details)
