"""Run one stage over its shards: the only place that knows about files.

For each shard this task owns: skip it if its manifest exists (unless --overwrite), stream its batches
through the stage, write kept documents to the stage's sink and rejected ones to `rejected/`, then write
the manifest. Files are renamed into place only when complete and the manifest comes last, so a run killed
at any point leaves either a finished shard or nothing a later stage would read; a rerun gives the same bytes.
"""

from __future__ import annotations

import glob
import logging
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from corpus_tool import __version__, schema, shards
from corpus_tool.errors import BadInputError, CorpusToolError, OutputError, UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stage import Stage

log = logging.getLogger("corpus_tool")


@dataclass
class RunSummary:
    stage: str
    shards_done: int = 0
    shards_skipped: int = 0
    shards_failed: list[str] = field(default_factory=list)
    docs_in: int = 0
    docs_kept: int = 0
    docs_rejected: int = 0
    bytes_in: int = 0
    bytes_kept: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary that ends every run (stderr)."""
        top = ", ".join(f"{r} {n:,}" for r, n in self.reasons.most_common(4))
        rate = self.bytes_in / 1e6 / self.seconds if self.seconds > 0 else 0.0
        parts = [
            f"{self.stage}: {self.shards_done} shard(s) done",
            f"{self.shards_skipped} already finished" if self.shards_skipped else "",
            f"{len(self.shards_failed)} FAILED" if self.shards_failed else "",
        ]
        head = ", ".join(p for p in parts if p)
        body = f"{self.docs_in:,} docs in, {self.docs_kept:,} kept, {self.docs_rejected:,} rejected"
        if top:
            body += f" ({top})"
        extra = "".join(f", {k} {v}" for k, v in self.extra.items())
        return f"{head}; {body}; {self.bytes_in / 1e6:.1f} MB in {self.seconds:.1f} s ({rate:.2f} MB/s){extra}"


def text_bytes(batch: pa.RecordBatch) -> int:
    if batch.num_rows == 0:
        return 0
    total = pc.sum(pc.binary_length(batch.column(schema.TEXT))).as_py()
    return int(total or 0)


class _Terminated(Exception):
    """SIGTERM (Slurm preemption, scancel): unwind so that temporary files are removed."""


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Terminated()


def run_stage(
    stage: Stage,
    inputs: list[str],
    output: str,
    *,
    shard_index: int | None = None,
    num_shards: int | None = None,
    overwrite: bool = False,
    batch_size: int = 512,
    rejected_output: str | None = None,
    keep_going: bool = True,
) -> RunSummary:
    """Run `stage` on the shards of `inputs` that this task owns. Raises CorpusToolError on failure
    (after finishing the other shards when `keep_going` and the failure was a bad input)."""
    index, count = shards.array_position(shard_index, num_shards)
    all_shards = stage.list_shards(inputs)
    if not all_shards:
        raise UsageError(f"no input shards found in {' '.join(inputs)}")
    mine = shards.select_shards(all_shards, index, count)
    summary = RunSummary(stage=stage.name)
    started = time.perf_counter()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if output == shards.STDIN:
            _run_to_stdout(stage, mine, batch_size, rejected_output, summary)
        else:
            _run_to_dir(stage, mine, Path(output), overwrite, batch_size, keep_going, summary)
    finally:
        signal.signal(signal.SIGTERM, previous)
        summary.seconds = time.perf_counter() - started
    return summary


def _run_to_dir(
    stage: Stage, mine: list[InputShard], out_dir: Path, overwrite: bool, batch_size: int,
    keep_going: bool, summary: RunSummary,
) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{out_dir}: cannot create the output directory ({e.strerror or e})") from e
    first_error: CorpusToolError | None = None
    bar = tqdm(mine, desc=stage.name, unit="shard", disable=not sys.stderr.isatty(), file=sys.stderr)
    for shard in bar:
        if shards.is_finished(out_dir, shard.name) and not overwrite:
            summary.shards_skipped += 1
            continue
        try:
            _run_one_shard(stage, shard, out_dir, batch_size, summary)
        except BadInputError as e:
            summary.shards_failed.append(shard.name)
            log.error("shard %s failed: %s", shard.name, e)
            first_error = first_error or e
            if not keep_going:
                break
    if first_error is not None:
        raise first_error


def _run_one_shard(stage: Stage, shard: InputShard, out_dir: Path, batch_size: int, summary: RunSummary) -> None:
    name = shard.name
    # A finished shard being redone (--overwrite): drop its manifest first, so that it never describes
    # files that are half replaced.
    shards.manifest_path(out_dir, name).unlink(missing_ok=True)
    _remove_stale_temporaries(stage, out_dir, name)
    wall = datetime.now(UTC)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    sink = stage.make_sink(out_dir, name)
    rejected = shards.ParquetShardWriter(
        shards.rejected_path(out_dir, name), schema.rejected_schema(schema.DOCUMENT_SCHEMA)
    )
    counts = Counter()
    reasons: Counter[str] = Counter()
    stage.begin_shard(shard)
    try:
        for kept_batch, rejected_batch in stage.process_shard(shard, batch_size):
            sink.write(kept_batch)
            rejected.write(rejected_batch)
            counts["kept"] += kept_batch.num_rows
            counts["rejected"] += rejected_batch.num_rows
            counts["bytes_kept"] += text_bytes(kept_batch)
            counts["bytes_rejected"] += text_bytes(rejected_batch)
            if rejected_batch.num_rows:
                reasons.update(rejected_batch.column(schema.REASON).to_pylist())
        rejected_file = rejected.finish()
        kept_files = sink.finish()
    except BaseException:
        sink.abort()
        rejected.abort()
        raise
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - cpu0
    docs_in = counts["kept"] + counts["rejected"]
    bytes_in = counts["bytes_kept"] + counts["bytes_rejected"]
    manifest = {
        "stage": stage.name,
        "shard": name,
        "tool_version": __version__,
        "config": stage.config(),
        "resolved": stage.resolved(),
        "inputs": [shards.describe_file(p) for p in shard.paths if p != shards.STDIN],
        "outputs": {
            "kept": [shards.describe_file(p) for p in kept_files],
            "rejected": shards.describe_file(rejected_file),
        },
        "docs": {"in": docs_in, "kept": counts["kept"], "rejected": counts["rejected"]},
        "rejected_by_reason": dict(sorted(reasons.items())),
        "bytes": {"in": bytes_in, "kept": counts["bytes_kept"], "rejected": counts["bytes_rejected"]},
        "stats": stage.shard_stats() | sink.stats(),
        "timings": {
            "started": wall.isoformat(timespec="seconds"),
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3),  # CPU of the process (all its threads) inside the shard
        },
    }
    shards.write_json_atomic(shards.manifest_path(out_dir, name), manifest)
    summary.shards_done += 1
    summary.docs_in += docs_in
    summary.docs_kept += counts["kept"]
    summary.docs_rejected += counts["rejected"]
    summary.bytes_in += bytes_in
    summary.bytes_kept += counts["bytes_kept"]
    summary.reasons.update(reasons)


def _remove_stale_temporaries(stage: Stage, out_dir: Path, name: str) -> None:
    """Delete temporary files that a killed run (SIGKILL, OOM kill) left for this shard's outputs.

    They are hidden and never read, but they take disk space. Only this shard's exact file names are matched,
    and a shard belongs to one task, so no other running task's files are touched.
    """
    finals = [
        *stage.output_files(out_dir, name),
        shards.rejected_path(out_dir, name),
        shards.manifest_path(out_dir, name),
    ]
    for final in finals:
        if final.parent.is_dir():
            for stale in final.parent.glob(f".{glob.escape(final.name)}.tmp-*"):
                stale.unlink(missing_ok=True)


def _run_to_stdout(
    stage: Stage, mine: list[InputShard], batch_size: int, rejected_output: str | None, summary: RunSummary
) -> None:
    """Shell-pipeline mode: kept documents as JSONL on stdout; rejected ones to `rejected_output` (JSONL)."""
    try:
        rej_fh = open(rejected_output, "w", encoding="utf-8") if rejected_output else None  # noqa: SIM115
    except OSError as e:
        raise OutputError(f"{rejected_output}: cannot write ({e.strerror or e})") from e
    out = sys.stdout

    def emit(fh, batch: pa.RecordBatch, what: str) -> None:
        # A full disk or a closed pipe is the user's output problem (exit 5), not a bug.
        try:
            fh.write(shards.batch_to_jsonl(batch))
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(f"{what}: cannot write ({e.strerror or e})") from e

    try:
        for shard in mine:
            stage.begin_shard(shard)
            for kept_batch, rejected_batch in stage.process_shard(shard, batch_size):
                emit(out, kept_batch, "stdout")
                if rej_fh is not None:
                    emit(rej_fh, rejected_batch, rejected_output)
                summary.docs_in += kept_batch.num_rows + rejected_batch.num_rows
                summary.docs_kept += kept_batch.num_rows
                summary.docs_rejected += rejected_batch.num_rows
                summary.bytes_in += text_bytes(kept_batch) + text_bytes(rejected_batch)
                summary.bytes_kept += text_bytes(kept_batch)
                if rejected_batch.num_rows:
                    summary.reasons.update(rejected_batch.column(schema.REASON).to_pylist())
            summary.shards_done += 1
        try:
            out.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(f"stdout: cannot write ({e.strerror or e})") from e
    except BrokenPipeError as e:
        raise OutputError("stdout was closed by the next command in the pipeline") from e
    finally:
        if rej_fh is not None:
            try:
                rej_fh.close()
            except OSError as e:
                raise OutputError(f"{rejected_output}: cannot write ({e.strerror or e})") from e
    if summary.docs_rejected and rej_fh is None:
        log.warning(
            "%s: %d rejected document(s) were counted but not saved; pass --rejected FILE to keep them",
            stage.name, summary.docs_rejected,
        )
