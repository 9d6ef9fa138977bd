"""Shard mechanics shared by every stage: finding input shards, assigning them to array tasks, streaming
record batches in, writing shards atomically, and the per-shard manifest.

The output directory of a stage looks like this (docs/shard-contract.md):

    OUT/<shard>.parquet            kept documents (zstd Parquet)
    OUT/rejected/<shard>.parquet   rejected documents with `stage`, `reason`, `reason_detail`
    OUT/manifests/<shard>.json     written last: its presence means the shard is finished

Every file is written under a hidden temporary name in its final directory and renamed into place, so a
killed run leaves nothing that a later stage reads. A directory with a `manifests/` folder is read only
through its manifests: a shard without one is an unfinished shard and an error, never silently read.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool import handoff, schema
from corpus_tool.errors import BadInputError, OutputError, UsageError

PARQUET_SUFFIX = ".parquet"
REJECTED_DIR = "rejected"
MANIFEST_DIR = "manifests"
STDIN = "-"
ZSTD_LEVEL = 3
# Plain encoding for every column: a document's text, id or url is unique, so Arrow's dictionary encoder hashed
# up to a megabyte of each text column chunk (one per 512-row batch) before falling back to plain, a few per
# cent of a stage's write time; zstd takes care of the columns that repeat (lang, source), and the files come
# out slightly smaller (11.82 against 11.86 MB for a 29.5 MB shard).
USE_DICTIONARY = False


@dataclass(frozen=True)
class InputShard:
    """One unit of work: the input files that become one output shard named `name`."""

    name: str
    paths: tuple[str, ...]
    # Free-form facts a stage's reader needs (e.g. the input format for ingest).
    info: dict = field(default_factory=dict, compare=False, hash=False)


# ----------------------------------------------------------------------------------------- listing


def expand_inputs(inputs: list[str], suffixes: tuple[str, ...] = (PARQUET_SUFFIX,)) -> list[str]:
    """Files named by `inputs`: files as given, globs expanded, directories listed (not recursively for
    Parquet; hidden files and our `rejected/`, `manifests/` folders are never inputs). Sorted, unique."""
    found: list[str] = []
    for item in expand_globs(inputs):
        found.extend(_list_dir(Path(item), suffixes) if os.path.isdir(item) else [str(Path(item))])
    return _unique(found)


def expand_globs(inputs: list[str]) -> list[str]:
    """Inputs as given, globs expanded (sorted), each checked to exist; directories stay directories.
    The one place a glob is expanded (Parquet inputs above, ingest's raw inputs too)."""
    out: list[str] = []
    for item in inputs:
        if item == STDIN:
            out.append(item)
            continue
        matches = sorted(glob.glob(item)) if glob.has_magic(item) else [item]
        if not matches:
            raise UsageError(f"{item}: no file matches this pattern")
        for m in matches:
            if not os.path.exists(m):
                raise UsageError(f"{m}: no such file or directory")
            out.append(m)
    return _unique(out)


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [f for f in items if not (f in seen or seen.add(f))]


def _list_dir(directory: Path, suffixes: tuple[str, ...]) -> list[str]:
    names = sorted(n for n in os.listdir(directory) if not n.startswith(".") and n.endswith(suffixes))
    files = [str(directory / n) for n in names if (directory / n).is_file()]
    manifests = directory / MANIFEST_DIR
    if manifests.is_dir() and suffixes == (PARQUET_SUFFIX,):
        for f in files:
            if not (manifests / (shard_name(f) + ".json")).exists():
                raise UsageError(
                    f"{f}: this shard has no manifest in {manifests}, so the run that wrote it did not "
                    "finish; rerun that stage before reading its output"
                )
        for m in sorted(manifests.glob("*.json")):
            if not (directory / (m.stem + PARQUET_SUFFIX)).exists():
                raise UsageError(f"{m}: the manifest names a shard that is missing from {directory}")
    return files


def shard_name(path: str) -> str:
    """The shard name of an input file: its file name without the format suffixes."""
    if path == STDIN:
        return "stdin"
    name = os.path.basename(path)
    for suffix in (".gz", ".zst", ".zstd", ".bz2", ".xz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    for suffix in (PARQUET_SUFFIX, ".jsonl", ".json", ".warc", ".wet", ".arc", ".html", ".htm", ".txt", ".md"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name


def parquet_shards(inputs: list[str]) -> list[InputShard]:
    """Input shards for a stage that reads documents: one shard per Parquet file (or stdin JSONL)."""
    shards = [InputShard(shard_name(p), (p,)) for p in expand_inputs(inputs)]
    return unique_names(shards)


def chained_shards(inputs: list[str]) -> list[InputShard] | None:
    """For a chain's later step (a local run, executors/local.py): the shards its task before has just written
    in its one input folder (handoff.py), not the folder's listing, where the chain's other workers are still
    writing theirs. None when the task is not a chain's later step."""
    names = handoff.chained_names(inputs)
    if names is None:
        return None
    return [InputShard(name, (str(kept_path(Path(inputs[0]), name)),)) for name in sorted(names)]


def unique_names(shards: list[InputShard]) -> list[InputShard]:
    seen: dict[str, InputShard] = {}
    for s in shards:
        if s.name in seen:
            raise UsageError(
                f"two inputs map to the same output shard {s.name!r}: {seen[s.name].paths[0]} and "
                f"{s.paths[0]}; run them into separate output directories"
            )
        seen[s.name] = s
    return sorted(shards, key=lambda s: s.name)


# -------------------------------------------------------------------------------------- assignment


def array_position(shard_index: int | None, num_shards: int | None) -> tuple[int, int]:
    """(index, count) of this task. Explicit options win; otherwise Slurm's array variables; otherwise (0, 1).

    With `--array=A-B`, Slurm numbers tasks from A, so the index is SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN.
    """
    env = os.environ
    if num_shards is None and "SLURM_ARRAY_TASK_COUNT" in env:
        num_shards = int(env["SLURM_ARRAY_TASK_COUNT"])
    if shard_index is None and "SLURM_ARRAY_TASK_ID" in env:
        shard_index = int(env["SLURM_ARRAY_TASK_ID"]) - int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
    count = num_shards if num_shards is not None else 1
    index = shard_index if shard_index is not None else 0
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"--shard-index {index} must be in [0, --num-shards {count})")
    return index, count


def select_shards(shards: list[InputShard], index: int, count: int) -> list[InputShard]:
    """The shards task `index` of `count` processes: the i-th shard in name order goes to task i mod count.

    Every shard goes to exactly one task, and a task's share never changes between reruns.
    """
    return [s for i, s in enumerate(sorted(shards, key=lambda s: s.name)) if i % count == index]


# ----------------------------------------------------------------------------------------- reading


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """A Parquet file opened to be read batch by batch (`stream_batches`). pre_buffer=False: with pyarrow's
    default (True), iter_batches keeps every row group's read-ahead buffers until the file is closed, so RSS
    grew with the file (191 MB held after a 300 MB shard; ingest: 397 MB for a 203 MB input file)."""
    return pq.ParquetFile(path, pre_buffer=False)


def stream_batches(pf: pq.ParquetFile, batch_size: int, columns: list[str] | None = None,
                   row_groups: list[int] | None = None) -> Iterator[pa.RecordBatch]:
    """`pf`'s record batches, decoded on this thread. use_threads=False: one column (text) holds nearly all
    the bytes, so decoding the columns on Arrow's thread pool saved no time and cost CPU (thread start-up and
    hand-offs: 0.04 s against 0.025 s of CPU for a 10 MB shard, measured in fresh processes); tasks run in
    parallel per shard."""
    return pf.iter_batches(batch_size=batch_size, row_groups=row_groups, columns=columns, use_threads=False)


def iter_document_batches(
    path: str, batch_size: int, on_reject: RejectSink | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream documents from a Parquet shard (or JSONL on stdin), conformed to the document schema.

    `on_reject` receives the JSONL lines that are not documents (no string `text`) as rows with their
    reasons; without it such a line is a BadInputError. A file that this process has just written in a local
    run's chain of tasks comes from memory instead (handoff.py), in the same batches."""
    if path == STDIN:
        yield from iter_jsonl_documents(sys.stdin.buffer, batch_size, on_reject=on_reject)
        return
    kept = handoff.take(path)
    if kept is not None:
        yield from _handed_over(path, kept, batch_size)
        return
    yield from _read_documents(path, batch_size)


def _open_documents(path: str) -> pq.ParquetFile:
    try:
        return open_parquet(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:  # a corrupt footer can hold bad names
        raise BadInputError(path, None, f"not a readable Parquet file ({e})") from e


def _read_documents(path: str, batch_size: int, first_row_group: int = 0,
                    pf: pq.ParquetFile | None = None) -> Iterator[pa.RecordBatch]:
    """The documents of a Parquet file (from row group `first_row_group` on), checked."""
    pf = pf or _open_documents(path)
    groups = None
    row = 0
    if first_row_group:
        groups = list(range(first_row_group, pf.metadata.num_row_groups))
        if not groups:
            return
        row = sum(pf.metadata.row_group(i).num_rows for i in range(first_row_group))
    try:
        for batch in stream_batches(pf, batch_size, row_groups=groups):
            try:
                docs = schema.conform(batch)
                # Arrow does not check UTF-8 when reading Parquet: bit rot would reach the stages as a crash.
                docs.validate(full=True)
                _check_required(docs)
            except ValueError as e:  # pa.ArrowInvalid is a ValueError
                raise BadInputError(path, f"row {row}", str(e)) from e
            yield docs
            row += batch.num_rows
    except (pa.ArrowException, OSError) as e:
        if isinstance(e, MemoryError) or "Failed to launch worker" in str(e):  # a memory cap, not bad data
            raise MemoryError(f"{path} at row {row}: {e}") from e
        raise BadInputError(path, f"row {row}", f"corrupt Parquet data ({e})") from e


def _handed_over(path: str, kept: handoff.Kept, batch_size: int) -> Iterator[pa.RecordBatch]:
    """`path`'s documents from the batches its writer was given in this process (handoff.py), in the batches
    reading the file gives; past what was kept, from the file. Nothing to check in what was kept: it is what
    the writer got (required columns are checked all the same, as a file's are)."""
    rest: Iterator[pa.RecordBatch] = iter(())
    if not kept.complete:
        pf = _open_documents(path)
        start = _row_group_after(pf.metadata, kept.rows)
        if start is None:  # the kept rows do not end on a row group: read it all
            yield from _read_documents(path, batch_size, pf=pf)
            return
        rest = _read_documents(path, batch_size, start, pf)
    for batch in handoff.rebatch(itertools.chain(map(schema.conform, kept.drain()), rest), batch_size):
        try:
            _check_required(batch)
        except ValueError as e:
            raise BadInputError(path, None, str(e)) from e
        yield batch


def _row_group_after(meta: pq.FileMetaData, rows: int) -> int | None:
    """The index of the row group that starts `rows` rows into the file, or None."""
    total = 0
    for i in range(meta.num_row_groups):
        if total == rows:
            return i
        total += meta.row_group(i).num_rows
    return meta.num_row_groups if total == rows else None


def _check_required(batch: pa.RecordBatch) -> None:
    for f in schema.DOCUMENT_SCHEMA:
        if not f.nullable and batch.column(f.name).null_count:
            raise ValueError(f"column {f.name!r} has {batch.column(f.name).null_count} null value(s)")


# (documents, reasons, details) of JSONL lines that are not documents; the stage adds its name (stage.py).
RejectSink = Callable[[pa.RecordBatch, list[str], list[str]], None]


def iter_jsonl_documents(
    stream: BinaryIO, batch_size: int, name: str = "<stdin>", on_reject: RejectSink | None = None
) -> Iterator[pa.RecordBatch]:
    """Documents from JSONL bytes: our own stream between stages, or anyone's minimal JSONL.

    A line is a document when it has a string `text`; `id` and `source` default to `NAME#LINE`, and fields
    that are not document columns (datatrove/dolma `metadata`, anything else) are merged into `meta`
    (docs/shard-contract.md). A line without a string `text` goes to `on_reject` with its line number.
    A line that is not JSON at all (or not UTF-8, or not an object) is a BadInputError naming the line."""
    rows: list[dict] = []
    bad: list[dict] = []
    bad_reasons: list[str] = []
    bad_details: list[str] = []
    first_line = 1
    offset = 0
    for lineno, raw in enumerate(stream, 1):
        where = f"line {lineno} (byte {offset})"
        offset += len(raw)
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            at = offset - len(raw) + e.start
            raise BadInputError(name, f"line {lineno} (byte {at})", "invalid UTF-8") from e
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as e:
            raise BadInputError(name, where, f"not JSON ({getattr(e, 'msg', e)})") from e
        if not isinstance(row, dict):
            raise BadInputError(name, where, f"expected a JSON object, got {type(row).__name__}")
        text = row.get(schema.TEXT)
        if not isinstance(text, str):
            problem = (f"no field {schema.TEXT!r}" if text is None
                       else f"field {schema.TEXT!r} is a {type(text).__name__}, not a string")
            if on_reject is None:
                raise BadInputError(name, where, problem)
            bad.append({schema.ID: f"{name}#{lineno}", schema.TEXT: "", schema.SOURCE: f"{name}#{lineno}",
                        schema.META: json.dumps({"line": line.rstrip("\r\n")}, ensure_ascii=False)})
            bad_reasons.append("missing_text" if text is None else "text_not_string")
            bad_details.append(f"{name} {where}: {problem}")
            continue
        for key in _LIST_FIELDS:
            if row.get(key) is not None and not isinstance(row[key], list):
                raise BadInputError(name, where, f"field {key!r} must be a list")
        if not rows:
            first_line = lineno
        rows.append(_as_document(row, f"{name}#{lineno}"))
        if len(rows) >= batch_size:
            yield _rows_to_batch(rows, name, first_line)
            rows = []
        if len(bad) >= batch_size:
            on_reject(_rows_to_batch(bad, name, lineno), bad_reasons, bad_details)
            bad, bad_reasons, bad_details = [], [], []
    if rows:
        yield _rows_to_batch(rows, name, first_line)
    if bad:
        on_reject(_rows_to_batch(bad, name, first_line), bad_reasons, bad_details)


def _as_document(row: dict, locator: str) -> dict:
    """A JSON object with a string text as a document row: missing id/source derived from `locator`,
    every field that is not a document column merged into the `meta` JSON object."""
    doc = {k: v for k, v in row.items() if k in _KNOWN_COLUMNS}
    extra = {k: v for k, v in row.items() if k not in _KNOWN_COLUMNS}
    raw_id = row.get(schema.ID)
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        doc[schema.ID] = str(raw_id)
    elif not isinstance(raw_id, str):
        doc[schema.ID] = locator
    if not isinstance(row.get(schema.SOURCE), str):
        doc[schema.SOURCE] = locator
    for key in (schema.ID, schema.SOURCE, schema.URL):  # there but not text (and not an int id): into meta
        value = row.get(key)
        if value is not None and not isinstance(value, str) and not (key == schema.ID and doc[key] != locator):
            extra[key] = value
    if not isinstance(row.get(schema.URL), str):
        doc.pop(schema.URL, None)
    meta = doc.pop(schema.META, None)
    if isinstance(meta, dict):
        extra = meta | extra
    elif isinstance(meta, str) and extra:
        try:
            parsed = json.loads(meta)
        except json.JSONDecodeError:
            parsed = None
        extra = (parsed if isinstance(parsed, dict) else {schema.META: meta}) | extra
    elif isinstance(meta, str):
        doc[schema.META] = meta  # our own stream: the meta JSON string passes through unchanged
    elif meta is not None:
        extra[schema.META] = meta
    if extra:
        doc[schema.META] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
    return doc


_LIST_FIELDS = [f.name for f in schema.DOCUMENT_SCHEMA if pa.types.is_list(f.type)]
_KNOWN_COLUMNS = {f.name for f in schema.DOCUMENT_SCHEMA}


def _rows_to_batch(rows: list[dict], name: str = "<stdin>", first_line: int = 1) -> pa.RecordBatch:
    known = [f for f in schema.DOCUMENT_SCHEMA]
    try:
        arrays = [pa.array([r.get(f.name) for r in rows], type=f.type) for f in known]
    except (pa.ArrowException, TypeError, ValueError) as e:  # UnicodeEncodeError (a lone surrogate) too
        for r in rows:  # only on failure: find the line to name
            try:
                for f in known:
                    pa.array([r.get(f.name)], type=f.type)
            except (pa.ArrowException, TypeError, ValueError) as e2:
                raise BadInputError(name, f"the row with id {r.get(schema.ID)!r}",
                                    f"a field has the wrong type or is not valid text ({e2})") from e2
        raise BadInputError(name, f"lines from {first_line}", f"cannot convert ({e})") from e
    return pa.RecordBatch.from_arrays(arrays, schema=schema.DOCUMENT_SCHEMA)


def batch_to_jsonl(batch: pa.RecordBatch) -> str:
    """Rows as JSON lines, leaving out null columns."""
    lines = []
    for row in batch.to_pylist():
        lines.append(json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


# ----------------------------------------------------------------------------------------- writing


def temp_path(final: Path) -> Path:
    """A hidden name beside `final` (same directory, so the rename is atomic)."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def remove_temporaries(finals: list[Path], *, folder: Path | None = None, pid: int | None = None) -> None:
    """Delete hidden temporaries (temp_path's `.NAME.tmp-PID`) that a killed run (SIGKILL, OOM kill) left:
    those of the files `finals`, whatever their PID; with `folder` and `pid`, every one that process left
    under `folder`. They are never read, but they take disk space. The one place temporaries are cleaned."""
    for final in finals:
        if final.parent.is_dir():
            for stale in final.parent.glob(f".{glob.escape(final.name)}.tmp-*"):
                stale.unlink(missing_ok=True)
    if folder is not None and pid is not None and folder.is_dir():
        for stale in folder.rglob(f".*.tmp-{pid}"):
            stale.unlink(missing_ok=True)


def commit(tmp: Path, final: Path) -> None:
    """fsync `tmp` and rename it to `final`."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def write_json_atomic(final: Path, obj: dict) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(final)
    try:
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        commit(tmp, final)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{final}: cannot write ({e.strerror or e})") from e


def _parquet_writer(path: Path, document_schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, document_schema, compression="zstd", compression_level=ZSTD_LEVEL,
                            use_dictionary=USE_DICTIONARY)


class ParquetShardWriter:
    """Writes one Parquet file under a temporary name; `finish()` renames it into place.

    The schema is taken from the first batch (or `default_schema` for an empty shard), so a shard with no
    rows is still a valid, readable file.
    """

    def __init__(self, final: Path, default_schema: pa.Schema):
        self.final = final
        self.tmp = temp_path(final)
        self.default_schema = default_schema
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        try:
            if self._writer is None:
                self.final.parent.mkdir(parents=True, exist_ok=True)
                self._writer = _parquet_writer(self.tmp, batch.schema)
            self._writer.write_batch(batch)
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.final}: cannot write ({e})") from e
        self.rows += batch.num_rows

    def finish(self) -> Path:
        try:
            if self._writer is None:
                self.final.parent.mkdir(parents=True, exist_ok=True)
                self._writer = _parquet_writer(self.tmp, self.default_schema)
            self._writer.close()
            commit(self.tmp, self.final)
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.final}: cannot write ({e})") from e
        return self.final

    def abort(self) -> None:
        if self._writer is not None:
            # Closing a broken writer may fail; the file is deleted anyway.
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------- manifest


def file_digest(path: str | Path) -> str:
    """sha256 of a file, streamed."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def describe_file(path: str | Path) -> dict:
    p = Path(path)
    return {"path": str(p), "bytes": p.stat().st_size, "sha256": file_digest(p)}


def manifest_path(out_dir: Path, name: str) -> Path:
    return out_dir / MANIFEST_DIR / f"{name}.json"


def kept_path(out_dir: Path, name: str) -> Path:
    return out_dir / f"{name}{PARQUET_SUFFIX}"


def rejected_path(out_dir: Path, name: str) -> Path:
    return out_dir / REJECTED_DIR / f"{name}{PARQUET_SUFFIX}"


def read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise BadInputError(str(path), None, f"unreadable manifest ({e})") from e


def folder_writer(directory: Path) -> str | None:
    """The stage named by the first manifest in `directory` (None when it has none): who wrote the folder."""
    for path in sorted((directory / MANIFEST_DIR).glob("*.json")):
        with contextlib.suppress(BadInputError):
            stage = read_manifest(path).get("stage")
            if isinstance(stage, str):
                return stage
    return None


def is_finished(out_dir: Path, name: str) -> bool:
    return manifest_path(out_dir, name).exists()
