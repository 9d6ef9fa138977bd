"""Progress inside one shard: a 1 GB WARC is minutes of work, and the shard-level bar moves only at its end.

On a terminal: a status line (tqdm) with documents, MB read, MB/s and the ETA where the input size is known,
redrawn twice a second. Elsewhere (Slurm logs, the pipeline's per-task logs): the same line logged every
`interval` seconds (--progress-interval; 0 turns it off). The input's size is known
for files: a Parquet shard's row count (from its footer), or a raw file's bytes, whose read position the
kernel reports in /proc/self/fdinfo (so no reader has to count bytes). On stdin only counts are shown.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from corpus_tool import shards

log = logging.getLogger("corpus_tool")

DEFAULT_INTERVAL = 30.0


class ShardProgress:
    """Call `update(docs, text_bytes)` after every batch and `close()` at the end."""

    def __init__(self, stage: str, shard: shards.InputShard, interval: float = DEFAULT_INTERVAL,
                 tty: bool | None = None):
        self.label = f"{stage}: shard {shard.name}"
        self.interval = interval
        self.started = self.last = time.monotonic()
        self.docs = 0
        self.text_bytes = 0
        files = [p for p in shard.paths if p != shards.STDIN and os.path.isfile(p)]
        self._files = {os.path.realpath(p) for p in files}
        self.total_bytes = sum(os.path.getsize(p) for p in files) if files else None
        self.total_docs = _parquet_rows(files) if files and all(p.endswith(shards.PARQUET_SUFFIX)
                                                               for p in files) else None
        self._bar: tqdm | None = None
        if (sys.stderr.isatty() if tty is None else tty) and interval > 0:
            # A one-line status (the same text as the log line), redrawn at most twice a second.
            self._bar = tqdm(desc=self.label, bar_format="{desc}", leave=False, position=1, file=sys.stderr)

    def update(self, docs: int, text_bytes: int) -> None:
        self.docs += docs
        self.text_bytes += text_bytes
        now = time.monotonic()
        if self._bar is not None:
            if now - self.last >= 0.5:
                self.last = now
                self._bar.set_description_str(self.line())
        elif self.interval > 0 and now - self.last >= self.interval:
            self.last = now
            log.info("%s", self.line())

    def line(self) -> str:
        """e.g. `langid: shard crawl-00: 120,512 docs, 812.0 MB read of 1,024.0 MB, 4.1 MB/s, ETA 52 s`."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        read = self.bytes_read()
        parts = [f"{self.docs:,} docs"]
        if read is not None and self.total_bytes:
            parts.append(f"{read / 1e6:,.1f} MB read of {self.total_bytes / 1e6:,.1f} MB")
            parts.append(f"{read / 1e6 / elapsed:.2f} MB/s")
        else:
            parts.append(f"{self.text_bytes / 1e6:,.1f} MB of text")
            parts.append(f"{self.text_bytes / 1e6 / elapsed:.2f} MB/s")
        eta = self.eta(elapsed, read)
        if eta is not None:
            parts.append(f"ETA {_duration(eta)}")
        return f"{self.label}: " + ", ".join(parts)

    def eta(self, elapsed: float, read: int | None) -> float | None:
        if self.total_docs and self.docs:
            return elapsed * max(self.total_docs - self.docs, 0) / self.docs
        if read and self.total_bytes:
            return elapsed * max(self.total_bytes - read, 0) / read
        return None

    def bytes_read(self) -> int | None:
        """How far the shard's input files have been read: their open file offsets, from /proc (Linux).
        None where that is not known (stdin, Parquet read with pread, no /proc)."""
        if self.total_docs is not None or not self._files:
            return None
        best = None
        try:
            for fd in os.listdir("/proc/self/fd"):
                try:
                    if os.readlink(f"/proc/self/fd/{fd}") not in self._files:
                        continue
                    info = Path(f"/proc/self/fdinfo/{fd}").read_text()
                except OSError:
                    continue
                pos = int(info.split("pos:", 1)[1].split()[0])
                best = pos if best is None else max(best, pos)
        except (OSError, ValueError, IndexError):
            return None
        return best

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _parquet_rows(files: list[str]) -> int | None:
    import pyarrow.parquet as pq

    try:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    except Exception:  # noqa: BLE001 - an unreadable file is the reader's error to report, not ours
        return None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
