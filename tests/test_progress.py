"""Progress inside a shard: without a terminal, a line every --progress-interval seconds; the ETA where the
input's size is known (Parquet rows from the footer, raw bytes from the kernel's file offset)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool.progress import ShardProgress
from corpus_tool.shards import InputShard

DOC = {"text": "今天天气很好，我们一起去公园散步，看到了很多花。"}


def test_non_tty_stage_logs_progress_lines_while_a_slow_shard_runs(tmp_path):
    """The shard's stdin arrives over 5 s (more than the process needs to start) and the interval is 0.3 s."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_tool", "normalize", "-", "-o", str(tmp_path / "out"),
         "--batch-size", "1", "--progress-interval", "0.3"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
    )
    for _ in range(25):
        proc.stdin.write((json.dumps(DOC, ensure_ascii=False) + "\n").encode())
        proc.stdin.flush()
        time.sleep(0.2)
    proc.stdin.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    lines = re.findall(r"normalize: shard stdin: ([\d,]+) docs, [\d.]+ MB of text, [\d.]+ MB/s", err)
    assert len(lines) >= 3, err
    counts = [int(n.replace(",", "")) for n in lines]
    assert counts == sorted(counts) and 0 < counts[0] < 25
    assert "\r" not in err  # no terminal bar in a log


def test_interval_zero_is_silent(tmp_path, run_cli):
    proc = run_cli("normalize", "-", "-o", str(tmp_path / "out"), "--progress-interval", "0",
                   input=json.dumps(DOC, ensure_ascii=False) + "\n")
    assert b"shard stdin:" not in proc.stderr


def test_eta_from_parquet_row_count(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(100)], "text": ["好"] * 100, "source": ["s"] * 100}),
                   path)
    p = ShardProgress("filter", InputShard("a", (str(path),)), interval=3600, tty=False)
    p.started -= 10  # 25 of 100 docs in 10 s: 30 s to go
    p.update(25, 75)
    line = p.line()
    assert line.startswith("filter: shard a: 25 docs") and "ETA 30 s" in line


def test_mb_read_and_eta_from_the_file_offset(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(os.urandom(2_000_000))
    p = ShardProgress("ingest", InputShard("crawl", (str(path),)), interval=3600, tty=False)
    with open(path, "rb", buffering=0) as fh:  # unbuffered: the offset is what was read
        fh.read(500_000)
        assert p.bytes_read() == 500_000
        p.started -= 10
        p.update(7, 1000)
        line = p.line()
    assert "0.5 MB read of 2.0 MB" in line and "ETA 30 s" in line


def test_on_a_terminal_a_status_line_is_redrawn(tmp_path):
    """A real pseudo-terminal (160 columns): the status line shows docs, MB read and the ETA."""
    import fcntl
    import struct
    import termios

    data = tmp_path / "a.warc.gz"
    data.write_bytes(os.urandom(400_000))
    script = (
        "import sys, time\n"
        "from corpus_tool.progress import ShardProgress\n"
        "from corpus_tool.shards import InputShard\n"
        f"p = ShardProgress('ingest', InputShard('a', ({str(data)!r},)))\n"
        f"f = open({str(data)!r}, 'rb', buffering=0); f.read(100_000)\n"
        "for _ in range(3):\n"
        "    time.sleep(0.6); p.update(10, 1000)\n"
        "p.close()\n"
    )
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=60) == 0, out
    text = out.decode(errors="replace")
    assert re.search(r"ingest: shard a: 30 docs, 0\.1 MB read of 0\.4 MB, [\d.]+ MB/s, ETA \d+ s", text), text
