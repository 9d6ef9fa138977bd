"""Run one stage over its shards: the only place that knows about files.

For each shard this task owns: skip it if its manifest exists (unless --overwrite), stream its batches
through the stage, write kept documents to the stage's sink and rejected ones to `rejected/`, then write
the manifest. Files are renamed into place only when complete and the manifest comes last, so a run killed
at any point leaves either a finished shard or nothing a later stage would read; a rerun gives the same bytes.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from corpus_tool import completion, handoff, schema, shards
from corpus_tool.completion import Summary
from corpus_tool.errors import BadInputError, CorpusToolError, OutputError, UsageError
from corpus_tool.progress import DEFAULT_INTERVAL, ShardProgress
from corpus_tool.shards import InputShard
from corpus_tool.stage import ParquetSink, Stage

log = logging.getLogger("corpus_tool")


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
    progress_interval: float = DEFAULT_INTERVAL,
) -> Summary:
    """Run `stage` on the shards of `inputs` that this task owns. Raises CorpusToolError on failure
    (after finishing the other shards when `keep_going` and the failure was a bad input)."""
    index, count = shards.array_position(shard_index, num_shards)
    mine = shards.chained_shards(inputs)
    if mine is None:
        all_shards = stage.list_shards(inputs)
        if not all_shards:
            raise UsageError(f"no input shards found in {' '.join(inputs)}")
        mine = shards.select_shards(all_shards, index, count)
    summary = Summary(stage=stage.name)
    started = time.perf_counter()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if output == shards.STDIN:
            _run_to_stdout(stage, mine, batch_size, rejected_output, summary, progress_interval)
        else:
            _run_to_dir(stage, mine, Path(output), overwrite, batch_size, keep_going, summary, progress_interval)
    finally:
        signal.signal(signal.SIGTERM, previous)
        summary.seconds = time.perf_counter() - started
    return summary


def _run_to_dir(
    stage: Stage, mine: list[InputShard], out_dir: Path, overwrite: bool, batch_size: int,
    keep_going: bool, summary: Summary, progress_interval: float = DEFAULT_INTERVAL,
) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{out_dir}: cannot create the output directory ({e.strerror or e})") from e
    _refuse_other_stage_folder(stage, mine, out_dir)
    first_error: CorpusToolError | None = None
    stats: list[dict[str, Any]] = []  # of the shards finished in this run, for the summary line
    bar = tqdm(mine, desc=stage.name, unit="shard", disable=not sys.stderr.isatty(), file=sys.stderr)
    for shard in bar:
        if shards.is_finished(out_dir, shard.name) and not overwrite:
            summary.skipped += 1
            continue
        try:
            stats.append(_run_one_shard(stage, shard, out_dir, batch_size, summary, progress_interval))
        except BadInputError as e:
            summary.failed.append(shard.name)
            log.error("shard %s failed: %s", shard.name, e)
            first_error = first_error or e
            if not keep_going:
                break
    summary.extra.update(stage.summary_extra(stats))
    if first_error is not None:
        raise first_error
    handoff.wrote(out_dir, [s.name for s in mine])


def _refuse_other_stage_folder(stage: Stage, mine: list[InputShard], out_dir: Path) -> None:
    """Exit 2 before any work when OUT is one of the stage's input folders, or holds another stage's
    manifest for one of our shards: taking that manifest as ours would skip the shard and run nothing."""
    target = out_dir.resolve()
    for shard in mine:
        for path in shard.paths:
            if path == shards.STDIN or Path(path).resolve().parent != target:
                continue
            writer = shards.folder_writer(out_dir)
            wrote = f"{writer}'s output" if writer else "its input files"
            raise UsageError(
                f"{out_dir}: is an input folder of {stage.name} (it holds {wrote}, e.g. {Path(path).name}); "
                f"{stage.name} will not write its output into it; pass another -o"
            )
    for shard in mine:
        path = shards.manifest_path(out_dir, shard.name)
        if not path.exists():
            continue
        other = shards.read_manifest(path).get("stage")
        if other != stage.name:
            raise UsageError(
                f"{out_dir}: shard {shard.name!r} there was written by {other or 'an unknown stage'} ({path}); "
                f"{stage.name} will not take another stage's output as its own or write over it; pass another -o"
            )


def _run_one_shard(stage: Stage, shard: InputShard, out_dir: Path, batch_size: int, summary: Summary,
                   progress_interval: float = DEFAULT_INTERVAL) -> dict[str, Any]:
    """Process one shard and write its manifest; returns the manifest's `stats`."""
    name = shard.name
    # A finished shard being redone (--overwrite) loses its manifest first; a killed run's temporaries go.
    unit = completion.start(shards.manifest_path(out_dir, name), stage.name,
                            [*stage.output_files(out_dir, name), shards.rejected_path(out_dir, name)], shard=name)
    sink = stage.make_sink(out_dir, name)
    kept = handoff.keeper() if isinstance(sink, ParquetSink) else None  # for the next task in this process
    rejected = shards.ParquetShardWriter(
        shards.rejected_path(out_dir, name), schema.rejected_schema(schema.DOCUMENT_SCHEMA)
    )
    counts = Counter()
    reasons: Counter[str] = Counter()
    stage.begin_shard(shard)
    progress = ShardProgress(stage.name, shard, progress_interval)
    try:
        for kept_batch, rejected_batch in stage.process_shard(shard, batch_size):
            sink.write(kept_batch)
            rejected.write(rejected_batch)
            if kept is not None:
                kept.add(kept_batch)
            counts["kept"] += kept_batch.num_rows
            counts["rejected"] += rejected_batch.num_rows
            counts["bytes_kept"] += text_bytes(kept_batch)
            counts["bytes_rejected"] += text_bytes(rejected_batch)
            progress.update(kept_batch.num_rows + rejected_batch.num_rows,
                            text_bytes(kept_batch) + text_bytes(rejected_batch))
            if rejected_batch.num_rows:
                reasons.update(rejected_batch.column(schema.REASON).to_pylist())
        rejected_file = rejected.finish()
        kept_files = sink.finish()
    except BaseException:
        sink.abort()
        rejected.abort()
        raise
    finally:
        progress.close()
    docs_in = counts["kept"] + counts["rejected"]
    bytes_in = counts["bytes_kept"] + counts["bytes_rejected"]
    record = unit.write({
        "config": stage.config(),
        "resolved": stage.resolved(),
        "inputs": [handoff.description(p) or shards.describe_file(p) for p in shard.paths if p != shards.STDIN],
        "outputs": {
            "kept": [shards.describe_file(p) for p in kept_files],
            "rejected": shards.describe_file(rejected_file),
        },
        "docs": {"in": docs_in, "kept": counts["kept"], "rejected": counts["rejected"]},
        "rejected_by_reason": dict(sorted(reasons.items())),
        "bytes": {"in": bytes_in, "kept": counts["bytes_kept"], "rejected": counts["bytes_rejected"]},
        "stats": stage.shard_stats() | sink.stats(),
    })
    if kept is not None:
        handoff.offer(kept_files[0], record["outputs"]["kept"][0], kept)
    summary.done += 1
    summary.docs_in += docs_in
    summary.docs_kept += counts["kept"]
    summary.docs_rejected += counts["rejected"]
    summary.bytes_in += bytes_in
    summary.bytes_kept += counts["bytes_kept"]
    summary.reasons.update(reasons)
    return record["stats"]


def _run_to_stdout(
    stage: Stage, mine: list[InputShard], batch_size: int, rejected_output: str | None, summary: Summary,
    progress_interval: float = DEFAULT_INTERVAL,
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
            progress = ShardProgress(stage.name, shard, progress_interval)
            for kept_batch, rejected_batch in stage.process_shard(shard, batch_size):
                progress.update(kept_batch.num_rows + rejected_batch.num_rows,
                                text_bytes(kept_batch) + text_bytes(rejected_batch))
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
            progress.close()
            summary.done += 1
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
