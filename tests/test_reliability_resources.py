"""Bounded memory: stages run under an address-space cap (what `ulimit -v` does) on a shard of a few hundred
MB, and their peak RSS does not grow with the shard (it is the same on 40 MB and on 300 MB).

Why the cap is 2 GB and MALLOC_ARENA_MAX=2: the RSS of these runs is ~200-300 MB, but the address space is
~1.5 GB before any document is read (thread stacks, glibc's per-thread malloc arenas, Arrow's and
OpenMP's pools, the fastText model mapping). Under a tighter cap the result depends on which reservation
fails first, not on the data (docs/reliability.md)."""

from __future__ import annotations

import os
import subprocess

import badinput as bad
import pytest
from badinput import faults

CAP = 2 << 30
BIG_MB, SMALL_MB = 300, 40


@pytest.fixture(scope="module")
def shards_and_tokenizer(tmp_path_factory):
    root = tmp_path_factory.mktemp("big")
    (root / "big").mkdir()
    (root / "small").mkdir()
    big = bad.large_prose_shard(root / "big" / "part-0.parquet", BIG_MB)
    small = bad.large_prose_shard(root / "small" / "part-0.parquet", SMALL_MB)
    tok = root / "tok"
    proc = faults.run(faults.cli_argv("train-tokenizer", str(bad.REFERENCE_DIR), "-o", str(tok)))
    assert proc.returncode == 0, proc.stderr.decode()
    return big, small, tok


def run_capped(argv: list[str]) -> tuple[int, int, str]:
    """(exit code, peak RSS in bytes, stderr) of `argv` under the address-space cap."""
    env = dict(os.environ, MALLOC_ARENA_MAX="2")
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=faults.REPO,
                            preexec_fn=faults.limit_memory(CAP))
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss * 1024, err


@pytest.mark.parametrize("stage", ["langid", "tokenize"])
def test_stage_memory_is_bounded_whatever_the_shard_size(stage, shards_and_tokenizer, tmp_path):
    big, small, tok = shards_and_tokenizer
    extra = ["--tokenizer", str(tok)] if stage == "tokenize" else []
    rss = {}
    for name, shard in (("small", small), ("big", big)):
        code, peak, err = run_capped(faults.cli_argv(stage, str(shard), "-o", str(tmp_path / name), *extra))
        assert code == 0, f"{stage} on {name} under a {CAP >> 30} GB cap: exit {code}\n{err}"
        assert "Traceback" not in err
        rss[name] = peak
    print(f"{stage}: peak RSS {rss['small'] >> 20} MiB on {SMALL_MB} MB, {rss['big'] >> 20} MiB on {BIG_MB} MB")
    assert rss["big"] < 2 << 30  # the per-worker budget
    # 7.5x the text, (almost) the same memory: a stage that held the shard would grow by 260 MB or more.
    assert rss["big"] - rss["small"] < 100 << 20, rss


def han_noise_parquet(path, megabytes: int, seed: int = 0) -> int:
    """A Parquet file of about `megabytes` MB on disk (random common Han characters, which zstd can hardly
    compress, so the file is as large as the text it holds), written row group by row group; returns its size."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    groups = max(1, round(megabytes / 2.2))  # a group of 1,000 texts of 1,500 characters: about 2.2 MB on disk
    with pq.ParquetWriter(path, pa.schema([("id", pa.string()), ("text", pa.string())]), compression="zstd") as w:
        for k in range(groups):
            codes = rng.integers(0x4E00, 0x4E00 + 3000, size=(1000, 1500), dtype=np.uint32)
            texts = [row.tobytes().decode("utf-32-le") for row in codes]
            w.write_table(pa.table({"id": [f"n{k}-{i}" for i in range(len(texts))], "text": texts}))
    return os.path.getsize(path)


def test_ingest_of_a_parquet_file_holds_no_more_than_a_row_group(tmp_path):
    """Ingest reads a Parquet input (a dataset's files) without Arrow's read-ahead buffers, which stayed
    until the file was closed: RSS grew with the file's compressed size (397 MB for a 203 MB file, 193 MB
    without them)."""
    sizes, rss = {}, {}
    for name, mb in (("small", 8), ("big", 80)):
        src = tmp_path / f"{name}.parquet"
        sizes[name] = han_noise_parquet(src, mb)
        code, peak, err = run_capped(faults.cli_argv("ingest", str(src), "-o", str(tmp_path / f"out-{name}")))
        assert code == 0 and "Traceback" not in err, err
        rss[name] = peak
    print(f"ingest: peak RSS {rss['small'] >> 20} MiB on a {sizes['small'] >> 20} MiB file, "
          f"{rss['big'] >> 20} MiB on {sizes['big'] >> 20} MiB")
    assert sizes["big"] - sizes["small"] > 60 << 20
    assert rss["big"] - rss["small"] < 30 << 20, rss
