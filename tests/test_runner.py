"""The shard contract: assignment, atomic writes, manifests, resume, and in == kept + rejected."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tool import schema, shards
from corpus_tool.errors import BadInputError, UsageError
from corpus_tool.runner import run_stage
from corpus_tool.stage import Stage


class KeepShort(Stage):
    """A test stage: keeps documents of at most `limit` characters."""

    name = "keep_short"

    def __init__(self, limit: int = 5, explode_at: str | None = None):
        super().__init__()
        self.limit = limit
        self.explode_at = explode_at

    def config(self):
        return {"limit": self.limit}

    def process(self, batch):
        texts = batch.column(schema.TEXT).to_pylist()
        if self.explode_at in texts:
            raise RuntimeError("boom")
        keep = [len(t) <= self.limit for t in texts]
        self.counters["seen"] += len(texts)
        return self.split(batch, keep, [None if k else "too_long" for k in keep])


def write_shard(path, texts, start=0):
    rows = {
        "id": [f"d{start + i}" for i in range(len(texts))],
        "text": texts,
        "source": [f"{path}#{i}" for i in range(len(texts))],
    }
    table = pa.Table.from_pydict(rows)
    pq.write_table(table, path, compression="zstd")


def test_manifest_counts_and_rejected_side_output(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["短", "很长很长很长的文本", "中文"])
    out = tmp_path / "out"
    summary = run_stage(KeepShort(), [str(inp)], str(out), batch_size=2)
    assert (summary.docs_in, summary.docs_kept, summary.docs_rejected) == (3, 2, 1)
    kept = pq.read_table(out / "a.parquet")
    assert kept.column("text").to_pylist() == ["短", "中文"]
    assert kept.schema.names[: len(schema.DOCUMENT_SCHEMA)] == schema.DOCUMENT_SCHEMA.names
    rej = pq.read_table(out / "rejected" / "a.parquet").to_pylist()
    assert [(r["id"], r["stage"], r["reason"]) for r in rej] == [("d1", "keep_short", "too_long")]
    m = json.loads((out / "manifests" / "a.json").read_text())
    assert m["docs"] == {"in": 3, "kept": 2, "rejected": 1}
    assert m["rejected_by_reason"] == {"too_long": 1}
    assert m["config"] == {"limit": 5}
    assert m["stats"] == {"seen": 3}
    assert m["inputs"][0]["sha256"] == shards.file_digest(inp / "a.parquet")
    assert m["outputs"]["kept"][0]["sha256"] == shards.file_digest(out / "a.parquet")
    assert m["bytes"]["in"] == m["bytes"]["kept"] + m["bytes"]["rejected"] == len("短很长很长很长的文本中文".encode())
    # No temporary files are left behind.
    assert not [p for p in out.rglob(".*")]


def test_rerun_skips_finished_and_gives_same_bytes(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["一", "二二二二二二二"])
    out = tmp_path / "out"
    run_stage(KeepShort(), [str(inp)], str(out))
    first = (out / "a.parquet").read_bytes()
    again = run_stage(KeepShort(), [str(inp)], str(out))
    assert again.skipped == 1 and again.done == 0
    redo = run_stage(KeepShort(), [str(inp)], str(out), overwrite=True)
    assert redo.done == 1
    assert (out / "a.parquet").read_bytes() == first


def test_failed_shard_leaves_nothing_visible(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["ok", "boom"])
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        run_stage(KeepShort(explode_at="boom"), [str(inp)], str(out), batch_size=1)
    assert not (out / "a.parquet").exists()
    assert not (out / "manifests" / "a.json").exists()
    assert list(out.rglob("*.tmp-*")) == []


def test_incomplete_output_is_refused_downstream(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["一"])
    write_shard(inp / "b.parquet", ["二"])
    out = tmp_path / "out"
    run_stage(KeepShort(), [str(inp)], str(out))
    (out / "manifests" / "b.json").unlink()  # as if killed between the rename and the manifest
    with pytest.raises(UsageError, match="no manifest"):
        shards.parquet_shards([str(out)])


def test_shard_assignment_covers_every_shard_once(monkeypatch):
    all_shards = [shards.InputShard(f"s{i:03d}", (f"s{i}",)) for i in range(17)]
    seen = []
    for i in range(5):
        seen += [s.name for s in shards.select_shards(all_shards, i, 5)]
    assert sorted(seen) == sorted(s.name for s in all_shards)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "4")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "8")
    assert shards.array_position(None, None) == (3, 8)
    assert shards.array_position(0, 2) == (0, 2)
    with pytest.raises(UsageError):
        shards.array_position(2, 2)


def test_array_tasks_split_the_work(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    for i in range(4):
        write_shard(inp / f"p{i}.parquet", ["一"], start=i)
    out = tmp_path / "out"
    run_stage(KeepShort(), [str(inp)], str(out), shard_index=1, num_shards=2)
    assert sorted(p.name for p in out.glob("*.parquet")) == ["p1.parquet", "p3.parquet"]


def test_corrupt_parquet_names_the_file(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["一"] * 10)
    data = (inp / "a.parquet").read_bytes()
    (inp / "a.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="a.parquet"):
        run_stage(KeepShort(), [str(inp)], str(tmp_path / "out"))
    assert not (tmp_path / "out" / "a.parquet").exists()


def test_conform_keeps_unknown_columns():
    batch = pa.RecordBatch.from_pydict({"id": ["x"], "text": ["t"], "source": ["s"], "extra": [1]})
    out = schema.conform(batch)
    assert out.schema.names[-1] == "extra"
    assert out.column("lang").null_count == 1


def test_rerun_removes_temporaries_of_a_killed_run(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    write_shard(inp / "a.parquet", ["一"])
    write_shard(inp / "ab.parquet", ["二"])
    out = tmp_path / "out"
    (out / "rejected").mkdir(parents=True)
    stale = [out / ".a.parquet.tmp-99999", out / "rejected" / ".a.parquet.tmp-99999"]
    other = out / ".ab.parquet.tmp-99999"  # another shard's file: not ours to delete while it is not redone
    for p in [*stale, other]:
        p.write_bytes(b"partial")
    run_stage(KeepShort(), [str(inp / "a.parquet")], str(out))
    assert not any(p.exists() for p in stale)
    assert other.exists()
