"""Step 1: MinHash signatures, LSH band keys and exact-text hashes, one array task per input shard."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool import completion, handoff, schema, shards
from corpus_tool.completion import Summary
from corpus_tool.errors import BadInputError, OutputError, UsageError
from corpus_tool.runner import text_bytes
from corpus_tool.stages.dedup.hashing import ShingleSettings, batch_signatures
from corpus_tool.stages.dedup.reference import check_engine
from corpus_tool.stages.dedup.work import WorkDir, fingerprint

log = logging.getLogger("corpus_tool")

STEP = "dedup-signatures"
MAX_CHARS_PER_CHUNK = 4_000_000  # bounds the numpy temporaries (about 100 bytes per character)
DOCS_SCHEMA = pa.schema(
    [
        pa.field(schema.ID, pa.string(), nullable=False),
        pa.field("n_chars", pa.int32(), nullable=False),
        pa.field("n_shingles", pa.int32(), nullable=False),
        pa.field("exact", pa.uint64(), nullable=False),
    ]
)


class _RowGroupWriter:
    """Writes fixed-size row groups whatever the input batch size, so the file's bytes do not depend on
    --batch-size."""

    def __init__(self, writer: shards.ParquetShardWriter, rows: int = 65536):
        self.writer, self.rows, self.buffer, self.buffered = writer, rows, [], 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.buffer.append(batch)
        self.buffered += batch.num_rows
        while self.buffered >= self.rows:
            self._flush(self.rows)

    def _flush(self, n: int) -> None:
        table = pa.Table.from_batches(self.buffer, schema=DOCS_SCHEMA).combine_chunks()
        self.writer.write(table.slice(0, n).to_batches()[0] if n else table.slice(0, 0).to_batches()[0])
        rest = table.slice(n)
        self.buffer = rest.to_batches() if rest.num_rows else []
        self.buffered = rest.num_rows

    def finish(self) -> Path:
        if self.buffered:
            self._flush(self.buffered)
        return self.writer.finish()


def _chunks(batch: pa.RecordBatch) -> Iterator[list[str]]:
    texts = [t or "" for t in batch.column(schema.TEXT).to_pylist()]
    start, chars = 0, 0
    for i, t in enumerate(texts):
        chars += len(t)
        if chars >= MAX_CHARS_PER_CHUNK:
            yield texts[start: i + 1]
            start, chars = i + 1, 0
    if start < len(texts):
        yield texts[start:]


def compute_signatures(
    inputs: list[str],
    work: str | Path,
    settings: ShingleSettings,
    *,
    shard_index: int | None = None,
    num_shards: int | None = None,
    overwrite: bool = False,
    batch_size: int = 512,
) -> Summary:
    """Write the signature files of this task's shards into WORK/signatures/."""
    wd = WorkDir(work)
    index, count = shards.array_position(shard_index, num_shards)
    mine = shards.chained_shards(inputs)
    if mine is None:
        all_shards = shards.parquet_shards(inputs)
        if any(p == shards.STDIN for s in all_shards for p in s.paths):
            raise UsageError("dedup reads Parquet shards (it needs every shard twice); stdin is not supported")
        if not all_shards:
            raise UsageError(f"no input shards found in {' '.join(inputs)}")
        mine = shards.select_shards(all_shards, index, count)
    check_engine(settings)
    wd.save_settings(settings, overwrite)
    summary = Summary(STEP, filters=False)
    started = time.perf_counter()
    for shard in mine:
        path = shard.paths[0]
        source = handoff.description(path) or shards.describe_file(path)
        fp = fingerprint({"settings": settings.record(), "input": [source["bytes"], source["sha256"]]})
        if not overwrite and completion.is_current(wd.sig_manifest(shard.name), fp):
            summary.skipped += 1
            continue
        docs, nbytes = _one_shard(wd, shard.name, path, source, settings, fp, batch_size)
        summary.done += 1
        summary.docs_in += docs
        summary.bytes_in += nbytes
    summary.seconds = time.perf_counter() - started
    return summary


def _one_shard(
    wd: WorkDir, name: str, path: str, source: dict, settings: ShingleSettings, fp: str, batch_size: int
) -> tuple[int, int]:
    finals = [wd.sig_path(name), wd.bands_path(name)]
    unit = completion.start(wd.sig_manifest(name), STEP, [*finals, wd.docs_path(name)], shard=name)
    try:
        n = pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError) as e:
        raise BadInputError(path, None, f"not a readable Parquet file ({e})") from e
    tmps = [shards.temp_path(f) for f in finals]
    finals[0].parent.mkdir(parents=True, exist_ok=True)
    docs_writer = _RowGroupWriter(shards.ParquetShardWriter(wd.docs_path(name), DOCS_SCHEMA))
    row, nbytes, empty = 0, 0, 0
    try:
        sig = np.lib.format.open_memmap(tmps[0], mode="w+", dtype=np.uint32, shape=(n, settings.num_perm))
        bands = np.lib.format.open_memmap(tmps[1], mode="w+", dtype=np.uint64, shape=(settings.bands, n))
        for tmp in tmps:  # reserve the blocks now: a full disk under a memory map is SIGBUS, not an error
            with open(tmp, "r+b") as fh:
                os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
        for batch in shards.iter_document_batches(path, batch_size):
            ids = batch.column(schema.ID)
            nbytes += text_bytes(batch)
            done = 0
            for texts in _chunks(batch):
                bs = batch_signatures(texts, settings)
                k = len(texts)
                sig[row: row + k] = bs.sig
                bands[:, row: row + k] = bs.bands
                docs_writer.write(pa.RecordBatch.from_arrays(
                    [ids.slice(done, k), pa.array(bs.n_chars), pa.array(bs.n_shingles), pa.array(bs.exact)],
                    schema=DOCS_SCHEMA,
                ))
                empty += int((bs.n_shingles == 0).sum())
                row += k
                done += k
        if row != n:
            raise BadInputError(path, None, f"the file says it has {n} rows but {row} were read")
        sig.flush()
        bands.flush()
        del sig, bands
        for tmp, final in zip(tmps, finals, strict=True):
            shards.commit(tmp, final)
        docs_file = docs_writer.finish()
    except BaseException as e:
        docs_writer.writer.abort()
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):  # a full disk or a quota: the user's output problem, exit 5
            raise OutputError(f"{finals[0].parent}: cannot write the signatures of {name} ({e.strerror or e})") from e
        raise
    unit.write({
        "input": source,
        "docs": n,
        "bytes": nbytes,
        "empty_docs": empty,
        "outputs": {
            "docs": shards.describe_file(docs_file),
            "sig": shards.describe_file(finals[0]),
            "bands": shards.describe_file(finals[1]),
        },
    }, fingerprint=fp)
    return n, nbytes
