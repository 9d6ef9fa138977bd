#!/usr/bin/env python
"""Ingest throughput: pages/s and MB/s of HTML per core, and peak RSS, for `corpus-tool ingest` on a WARC.

    .venv/bin/python benchmarks/bench_ingest.py                    # GNE pages from ../shared/devdata
    .venv/bin/python benchmarks/bench_ingest.py --repeat 4         # more pages
    .venv/bin/python benchmarks/bench_ingest.py --source sample    # the embedded sample's pages (no devdata)

The pages (real Chinese news pages, heavy navigation and scripts, 11 MB for 64 pages) are written `--repeat`
times into a per-record gzipped WARC with HTTP headers; then the real CLI runs on it in a subprocess (one
process, one core). MB/s counts uncompressed HTML bytes; "per core" divides by the child's CPU time (user +
system), which is less disturbed than wall time when other work shares the machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pages_from_devdata(devdata: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((devdata / "html" / "gne").rglob("*.html"))]


def pages_from_sample() -> list[bytes]:
    from fastwarc.warc import ArchiveIterator

    out = [p.read_bytes() for p in sorted((REPO / "corpus_tool" / "data" / "sample").glob("*.html"))]
    for rec in ArchiveIterator(
        str(REPO / "corpus_tool" / "data" / "sample" / "crawl.warc.gz"), parse_http=True
    ):
        if (
            rec.http_headers is not None
            and rec.http_headers.status_code == 200
            and "html" in (rec.http_content_type or "")
        ):
            out.append(rec.reader.read())
    return out


def write_warc(path: Path, pages: list[bytes], repeat: int) -> int:
    html_bytes = 0
    with open(path, "wb") as fh:
        n = 0
        for r in range(repeat):
            for i, payload in enumerate(pages):
                n += 1
                http = (
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                head = (
                    f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{n:032x}>\r\n"
                    f"WARC-Date: 2026-11-23T00:00:00Z\r\nWARC-Target-URI: http://bench.example/{r}/{i}\r\n"
                    f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http)}\r\n\r\n"
                ).encode()
                fh.write(gzip.compress(head + http + b"\r\n\r\n", compresslevel=6, mtime=0))
                html_bytes += len(payload)
    return html_bytes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", choices=["devdata", "sample"], default="devdata")
    ap.add_argument("--devdata", type=Path, default=REPO.parent / "shared" / "devdata")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--extra", nargs="*", default=[], help="extra ingest options, e.g. --extractor trafilatura"
    )
    args = ap.parse_args()
    pages = pages_from_devdata(args.devdata) if args.source == "devdata" else pages_from_sample()
    with tempfile.TemporaryDirectory() as tmp:
        warc = Path(tmp) / "bench.warc.gz"
        html_bytes = write_warc(warc, pages, args.repeat)
        n_pages = len(pages) * args.repeat
        out = Path(tmp) / "out"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "corpus_tool", "ingest", str(warc), "-o", str(out), *args.extra],
            capture_output=True,
            cwd=REPO,
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(proc.stderr.decode())
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        manifest = json.loads((out / "manifests" / "bench.json").read_text())
        shard_s = manifest["timings"]["seconds"]
    print(f"input: {n_pages} pages, {html_bytes / 1e6:.1f} MB of HTML, WARC {warc.name} ({args.source})")
    print(f"docs: {manifest['docs']}")
    print(f"wall {wall:.2f} s (shard processing {shard_s:.2f} s), child CPU {cpu:.2f} s")
    print(f"throughput per core (CPU time): {html_bytes / 1e6 / cpu:.1f} MB/s, {n_pages / cpu:.0f} pages/s")
    rate, page_rate = html_bytes / 1e6 / shard_s, n_pages / shard_s
    print(f"throughput (shard processing, wall): {rate:.1f} MB/s, {page_rate:.0f} pages/s")
    print(f"peak RSS of the ingest process: {after.ru_maxrss / 1024:.0f} MB")
    print(f"peak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
