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
