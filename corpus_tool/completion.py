"""Completion records and run summaries: the one way any unit of work says it is finished, and what it did.

A unit is a stage's shard (runner.py) or a dedup step's shard, band or cluster run (stages/dedup/). Each
one finishes the same way: `start()` drops its old record and the temporaries a killed run left, the work
writes its files under temporary names and renames them, then `write()` writes the record last, atomically:
stage, unit, tool version, what it read (a `fingerprint` where the unit depends on other units' outputs),
what it wrote, timings. A rerun skips a unit whose record `is_current()`. The same JSON files are the
manifests that report, audit and the next step read (docs/shard-contract.md).

`Summary` is what a run of units reports: one line on stderr for every stage and step.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus_tool import __version__, shards


class Unit:
    """One unit of work in progress: its record file, the files it will write, its clock."""

    def __init__(self, record: Path, stage: str, key: dict[str, Any], outputs: list[Path]):
        self.record, self.stage, self.key = record, stage, key
        record.unlink(missing_ok=True)  # never a record describing files that are half replaced
        shards.remove_temporaries([*outputs, record])
        self.started = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self._cpu0 = time.process_time()

    def write(self, body: dict[str, Any], fingerprint: str | None = None) -> dict[str, Any]:
        """Write the record (last): `body` plus stage, unit key, tool version, fingerprint and timings."""
        record = {"stage": self.stage, **self.key, "tool_version": __version__, **body}
        if fingerprint is not None:
            record["fingerprint"] = fingerprint
        record["timings"] = {
            "started": self.started.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - self._t0, 3),
            "cpu_seconds": round(time.process_time() - self._cpu0, 3),  # the process's CPU (all its threads)
        }
        shards.write_json_atomic(self.record, record)
        return record


def start(record: Path, stage: str, outputs: list[Path] | None = None, **key: Any) -> Unit:
    """Begin a unit whose record is `record` (key: e.g. shard=NAME or band=B) and whose files are `outputs`."""
    return Unit(record, stage, key, list(outputs or []))


def is_current(record: Path, fingerprint: str | None = None) -> bool:
    """True when the unit's record exists (and, given a fingerprint, was made from the same inputs)."""
    if not record.exists():
        return False
    return fingerprint is None or shards.read_manifest(record).get("fingerprint") == fingerprint


@dataclass
class Summary:
    """What a run of units did (a stage over its shards, a dedup step over its shards or bands)."""

    stage: str
    unit: str = "shard"
    done: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)
    docs_in: int = 0
    docs_kept: int = 0
    docs_rejected: int = 0
    bytes_in: int = 0
    bytes_kept: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    filters: bool = True  # documents are kept or rejected (a stage); False: the units only read them (dedup)

    def line(self) -> str:
        """The one-line summary that ends every run (stderr)."""
        parts = [
            f"{self.stage}: {self.done} {self.unit}(s) done",
            f"{self.skipped} already finished" if self.skipped else "",
            f"{len(self.failed)} FAILED" if self.failed else "",
        ]
        head = ", ".join(p for p in parts if p)
        body = f"{self.docs_in:,} docs"
        if self.filters:
            body += f" in, {self.docs_kept:,} kept, {self.docs_rejected:,} rejected"
            top = ", ".join(f"{r} {n:,}" for r, n in self.reasons.most_common(4))
            if top:
                body += f" ({top})"
        if self.bytes_in or self.filters:
            rate = self.bytes_in / 1e6 / self.seconds if self.seconds > 0 else 0.0
            body += f"; {self.bytes_in / 1e6:.1f} MB in {self.seconds:.1f} s ({rate:.2f} MB/s)"
        else:
            body += f" in {self.seconds:.1f} s"
        extra = "".join(f", {k} {v}" for k, v in self.extra.items())
        return f"{head}; {body}{extra}"
