"""Resume: a real `corpus-tool ingest` killed with SIGKILL mid-run, then rerun, matches an undisturbed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.ingest_helpers import page, response_records, write_warc_gz

SHARDS = 6
PAGES_PER_SHARD = 300


def _make_inputs(directory: Path) -> None:
    directory.mkdir()
    for s in range(SHARDS):
        pages = []
        for i in range(PAGES_PER_SHARD):
            body = f"第{s}批第{i}篇文章：城市里的第{i}条新闻，讲述社区、交通和天气的变化。" * 12
            pages.append(
                (f"http://s{s}.example/{i}.html", page(body).encode(), "text/html; charset=utf-8", "200 OK")
            )
        write_warc_gz(directory / f"crawl-{s}.warc.gz", response_records(pages))


def _visible(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.parquet") if not p.name.startswith(".")
    }


def test_resume_after_kill_gives_the_same_bytes(tmp_path, run_cli):
    inp = tmp_path / "in"
    _make_inputs(inp)
    clean = tmp_path / "clean"
    run_cli("ingest", str(inp), "-o", str(clean))

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_tool", "ingest", str(inp), "-o", str(out)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    manifests = out / "manifests"
    while time.monotonic() < deadline and proc.poll() is None:
        if manifests.is_dir() and len(list(manifests.glob("*.json"))) >= 2:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run finished before it could be killed; make the input bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.stem for p in manifests.glob("*.json")}
    assert 2 <= len(finished) < SHARDS
    # Nothing a later stage would read is half-written: every visible kept shard has its manifest.
    visible_kept = {p.stem for p in out.glob("*.parquet") if not p.name.startswith(".")}
    assert visible_kept <= finished

    proc2 = run_cli("ingest", str(inp), "-o", str(out))
    assert f"{len(finished)} already finished" in proc2.stderr.decode()
    clean_files, resumed = _visible(clean), _visible(out)
    assert sorted(resumed) == sorted(clean_files)
    for name, data in clean_files.items():
        assert resumed[name] == data, name
    assert len(clean_files) == 2 * SHARDS
