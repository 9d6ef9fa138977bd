"""Files handed from one stage's task to the next in the same process (handoff.py): the next stage gets the
batches reading the file would give, only while the file is the one written, and chained selection."""

from __future__ import annotations

import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tool import handoff, schema, shards
from corpus_tool.runner import run_stage
from corpus_tool.stage import Stage


@pytest.fixture(autouse=True)
def _handoff_off_after():
    yield
    handoff.reset()
    handoff.enable(0)


class KeepEven(Stage):
    """Keeps documents whose text length is even; adds an extra user column's worth of variety via `meta`."""

    name = "keep_even"

    def process(self, batch):
        texts = batch.column(schema.TEXT).to_pylist()
        keep = [len(t) % 2 == 0 for t in texts]
        return self.split(batch, keep, [None if k else "odd" for k in keep])


def _docs(n: int, start: int = 0, rng: random.Random | None = None) -> pa.RecordBatch:
    rng = rng or random.Random(start)
    texts = ["中文" * rng.randint(0, 40) + "x" * rng.randint(0, 3) for _ in range(n)]
    table = pa.table({"id": [f"d{start + i}" for i in range(n)], "text": texts,
                      "source": [f"s#{start + i}" for i in range(n)], "extra": list(range(start, start + n))})
    return schema.conform(table)


def _write(path, sizes, rng) -> tuple[handoff.Kept, list[pa.RecordBatch]]:
    """A shard written in batches of `sizes` rows (each a row group) through the runner's writer, kept as the
    runner keeps it; returns the Kept and the batches written."""
    writer = shards.ParquetShardWriter(path, schema.DOCUMENT_SCHEMA)
    kept = handoff.Kept(handoff.Budget(1 << 40))
    written, start = [], 0
    for n in sizes:
        batch = _docs(n, start, rng)
        writer.write(batch)
        kept.add(batch)
        written.append(batch)
        start += n
    writer.finish()
    return kept, written


def _same_batches(a: list[pa.RecordBatch], b: list[pa.RecordBatch]) -> None:
    assert [x.num_rows for x in a] == [y.num_rows for y in b]
    for x, y in zip(a, b, strict=True):
        assert x.schema.equals(y.schema)
        assert x.equals(y)


@pytest.mark.parametrize("seed", range(12))
def test_handed_over_batches_are_the_files_batches(tmp_path, seed):
    """Whatever the row groups (empty batches, short ones, exact multiples, larger than a batch), what the next
    stage is handed is batch for batch what reading the file gives; also when only the first row groups fit
    in the limit and the rest comes from the file, wherever the limit falls."""
    rng = random.Random(seed)
    sizes = [rng.choice([0, 1, 7, 100, 511, 512, 513, 1500]) for _ in range(rng.randint(0, 9))]
    batch_size = rng.choice([1, 64, 512, 1000])
    path = tmp_path / "a.parquet"
    kept, written = _write(path, sizes, rng)
    from_file = list(shards.iter_document_batches(str(path), batch_size))
    assert sum(b.num_rows for b in from_file) == sum(sizes)
    whole = handoff.Kept(handoff.Budget(1 << 40))
    for b in written:
        whole.add(b)
    _same_batches(list(shards._handed_over(str(path), whole, batch_size)), from_file)
    for limit in {0, 1, kept.nbytes // 3, kept.nbytes // 2, kept.nbytes - 1}:
        part = handoff.Kept(handoff.Budget(limit))
        for b in written:
            part.add(b)
        assert part.complete == (part.nbytes == kept.nbytes)
        _same_batches(list(shards._handed_over(str(path), part, batch_size)), from_file)


def test_the_files_a_process_keeps_share_one_budget(tmp_path):
    """What is kept of all files together stays within the budget: a task that writes many shards before the
    next step takes them keeps the first ones; what is handed on is given back."""
    budget = handoff.Budget(1 << 40)
    rng = random.Random(3)
    batches = [_docs(300, 300 * k, rng) for k in range(4)]
    budget.limit = sum(b.nbytes for b in batches[:3])
    first, second = handoff.Kept(budget), handoff.Kept(budget)
    for b in batches[:2]:
        first.add(b)
    for b in batches[2:]:
        second.add(b)
    assert first.complete and not second.complete and second.rows == 300
    assert budget.used == budget.limit
    assert sum(b.num_rows for b in first.drain()) == 600 and budget.used == batches[2].nbytes
    third = handoff.Kept(budget)
    third.add(batches[3])
    assert third.complete and budget.used <= budget.limit


def test_a_file_is_taken_from_memory_only_while_it_is_the_one_written(tmp_path):
    handoff.enable(1 << 30)
    path = tmp_path / "a.parquet"
    kept, _ = _write(path, [5, 3], random.Random(0))
    description = shards.describe_file(path)
    handoff.offer(path, description, kept)
    assert handoff.description(str(path)) == description
    assert handoff.take(str(path)) is kept
    assert handoff.take(str(path)) is None  # handed over once
    handoff.offer(path, description, kept)
    os.utime(path, ns=(1, 1))  # touched: it may not be what was written any more
    assert handoff.take(str(path)) is None and handoff.description(str(path)) is None
    handoff.begin_task(chained=True, feeds_next=False)  # a chain's last task: no one reads what it writes
    assert handoff.keeper() is None
    handoff.begin_task(chained=True)
    assert handoff.keeper() is not None
    handoff.enable(0)
    assert handoff.keeper() is None
    handoff.offer(path, shards.describe_file(path), kept)  # turned off: nothing is kept
    assert handoff.take(str(path)) is None


def _run(tmp_path, name: str, *, chained: bool) -> dict[str, bytes]:
    """keep_even on three input shards, then keep_even again on its output (the chain's later step), in this
    process; the second step's output files and manifests (timings left out)."""
    inp = tmp_path / "in"
    if not inp.exists():
        inp.mkdir()
        rng = random.Random(1)
        for k, n in enumerate((700, 0, 1300)):
            writer = shards.ParquetShardWriter(inp / f"s{k}.parquet", schema.DOCUMENT_SCHEMA)
            for start in range(0, n, 300):
                writer.write(_docs(min(300, n - start), 10_000 * k + start, rng))
            writer.finish()
    first, second = tmp_path / name / "a", tmp_path / name / "b"
    handoff.enable(1 << 30 if chained else 0)
    handoff.reset()
    run_stage(KeepEven(), [str(inp)], str(first), shard_index=0, num_shards=2, batch_size=128)
    handoff.begin_task(chained=chained)
    run_stage(KeepEven(), [str(first)], str(second), shard_index=0, num_shards=2, batch_size=128)
    handoff.reset()
    out = {}
    for p in sorted(second.rglob("*")):
        if p.suffix == ".parquet":
            out[str(p.relative_to(second))] = p.read_bytes()
        elif p.suffix == ".json":
            manifest = json.loads(p.read_text())
            manifest.pop("timings", None)
            text = json.dumps(manifest, sort_keys=True).replace(str(tmp_path / name), "RUN")
            out[str(p.relative_to(second))] = text.encode()
    return out


def test_a_chained_step_takes_the_shards_the_step_before_wrote(tmp_path):
    """Task 0 of 2 gets shards s0 and s2; the chained second step processes those (the folder's own listing
    would give task 0 only s0 of the first step's two outputs), from memory, with the same bytes and
    manifests (the input's sha256 included) as reading them back; unchained, it follows the runner's rule."""
    chained = _run(tmp_path, "chained", chained=True)
    assert sorted(k for k in chained if k.endswith(".parquet") and "/" not in k) == ["s0.parquet", "s2.parquet"]
    plain = _run(tmp_path, "plain", chained=False)
    assert sorted(k for k in plain if "/" not in k) == ["s0.parquet"]
    assert {k: v for k, v in chained.items() if "s0" in k} == plain
    manifest = json.loads(chained["manifests/s2.json"])
    assert manifest["inputs"][0]["sha256"] == shards.file_digest(tmp_path / "chained" / "a" / "s2.parquet")
    assert pq.read_table(tmp_path / "chained" / "b" / "s2.parquet").num_rows == manifest["docs"]["kept"]
