#!/usr/bin/env python
"""End-to-end throughput of the whole pipeline (`corpus-tool run --executor local`) on the scaled sample
corpus, with 1 and 2 workers: MB/s of raw input per core, docs/s, and peak RSS per worker.

    .venv/bin/python benchmarks/bench_pipeline.py                  # 40 copies of the sample, 1 and 2 workers
    .venv/bin/python benchmarks/bench_pipeline.py --copies 100 --workers 1 2 4 --num-shards 8

The sample corpus (corpus_tool/data/sample: a WARC, HTML, JSONL.zst, Markdown, text, SRT, VTT) is copied
`--copies` times under distinct names. The copies are exact duplicates of each other, so every stage up to
perplexity processes all of them and dedup removes all but one copy of each (tokenize then sees about
1/copies of the data): the figure is representative for ingest..perplexity and dedup, optimistic for
tokenize. The KenLM model and the tokenizer are trained once beforehand (the demo trains them as pipeline
steps; here they are a fixed cost left out of the throughput).

"Raw MB" counts the input as a crawler stores it, decompressed (.gz and .zst payloads at their full size).
"Per core" divides by the CPU time (user + system) of every task process (RUSAGE_CHILDREN of `corpus-tool
run`, which waits for its tasks), which other work on a shared machine disturbs less than wall time does.
Peak RSS per worker is the largest ru_maxrss among the task processes (recorded by the local executor from
wait4 in OUT/.pipeline/tasks/*/*.json).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import zstandard

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus_tool" / "data" / "sample"
CLI = [sys.executable, "-m", "corpus_tool"]


def raw_size(path: Path) -> int:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        # Per-record gzip members: gzip.decompress reads them all.
        return len(gzip.decompress(data))
    if path.name.endswith(".zst"):
        with zstandard.ZstdDecompressor().stream_reader(data) as r:
            return len(r.read())
    return len(data)


def scaled_corpus(dest: Path, copies: int) -> int:
    dest.mkdir(parents=True)
    total = 0
    for i in range(copies):
        for p in sorted(SAMPLE.iterdir()):
            stem, dot, rest = p.name.partition(".")
            (dest / f"{stem}-{i:04d}{dot}{rest}").write_bytes(p.read_bytes())
            total += raw_size(p)
    return total


CONFIG = """input: ["{inputs}"]
output: {output}
num_shards: {num_shards}
stages:
  - ingest
  - langid
  - stage: normalize
    options: {{opencc: t2s}}
  - filter
  - stage: perplexity
    options: {{model: "{models}/lm"}}
  - dedup
  - stage: tokenize
    options: {{tokenizer: "{models}/tokenizer", threads: 1}}
"""


def run_once(tmp: Path, inputs: Path, models: Path, workers: int, num_shards: int) -> dict:
    out = tmp / f"out-{workers}"
    config = tmp / f"pipeline-{workers}.yaml"
    config.write_text(CONFIG.format(inputs=inputs, output=out, num_shards=num_shards, models=models))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, "run", str(config), "--workers", str(workers)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(proc.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak: dict[str, int] = {}
    for record in (out / ".pipeline" / "tasks").rglob("*.json"):
        step = record.parent.name
        peak[step] = max(peak.get(step, 0), json.loads(record.read_text()).get("max_rss_kb") or 0)
    docs_in = sum(json.loads(m.read_text())["docs"]["in"] for m in (out / "01-ingest" / "manifests").glob("*.json"))
    stages = {}
    for d in sorted(out.iterdir()):
        if (d / "manifests").is_dir():
            ms = [json.loads(m.read_text()) for m in (d / "manifests").glob("*.json")]
            stages[d.name] = {
                "mb_in": sum(m["bytes"]["in"] for m in ms) / 1e6,
                "seconds": sum(m["timings"]["seconds"] for m in ms),
                "docs_in": sum(m["docs"]["in"] for m in ms),
            }
    tokens = sum(
        json.loads(m.read_text())["stats"].get("tokens", 0) for m in (out / "07-tokenize" / "manifests").glob("*.json")
    )
    tasks = len(list((out / ".pipeline" / "tasks").rglob("*.json")))
    shutil.rmtree(out)
    return {
        "tasks": tasks,
        "workers": workers,
        "wall": wall,
        "cpu": cpu,
        "peak_kb": peak,
        "docs_in": docs_in,
        "stages": stages,
        "tokens": tokens,
    }


def _stage_peak(peak_kb: dict[str, int], stage_dir: str) -> int:
    return max((v for k, v in peak_kb.items() if k == stage_dir or k.startswith(stage_dir + "-")), default=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--num-shards", type=int, default=4, help="tasks per stage")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inputs = tmp / "in"
        raw = scaled_corpus(inputs, args.copies)
        models = tmp / "models"
        ref = str(REPO / "corpus_tool" / "data" / "reference")
        subprocess.run([*CLI, "train-lm", ref, "-o", str(models / "lm")], check=True, capture_output=True)
        subprocess.run([*CLI, "train-tokenizer", ref, "-o", str(models / "tokenizer")], check=True, capture_output=True)
        print(
            f"input: sample corpus x {args.copies} = {len(list(inputs.iterdir()))} files, "
            f"{raw / 1e6:.1f} raw MB; {args.num_shards} tasks per stage"
        )
        # The fixed cost of a run (starting every task process: Python, libraries, models), measured on one
        # copy of the sample, so that the marginal rate (what a large crawl sees) can be told apart from it.
        one = tmp / "one"
        one_raw = scaled_corpus(one, 1)
        base = run_once(tmp, one, models, 1, args.num_shards)
        print(
            f"fixed cost: {base['cpu']:.1f} s CPU for a run on one copy ({one_raw / 1e6:.2f} raw MB), "
            f"{base['cpu'] / base['tasks']:.2f} s per task process"
        )
        for workers in args.workers:
            r = run_once(tmp, inputs, models, workers, args.num_shards)
            mb = raw / 1e6
            print(
                f"\nworkers={workers}: wall {r['wall']:.1f} s, CPU {r['cpu']:.1f} s (all tasks), "
                f"{r['docs_in']:,} docs in, {r['tokens']:,} tokens out"
            )
            print(
                f"  end to end: {mb / r['cpu']:.2f} MB/s per core (CPU time); marginal "
                f"{(raw - one_raw) / 1e6 / max(r['cpu'] - base['cpu'], 1e-9):.2f} MB/s per core (fixed cost "
                "taken out); "
                f"{mb / r['wall']:.2f} MB/s wall ({mb / r['wall'] / workers:.2f} per worker), "
                f"{r['docs_in'] / r['cpu']:.0f} docs/s per core"
            )
            peak_step = max(r["peak_kb"], key=r["peak_kb"].get)
            print(f"  peak RSS per worker: {r['peak_kb'][peak_step] / 1024:.0f} MB (in {peak_step})")
            for name, s in r["stages"].items():
                rate = s["mb_in"] / s["seconds"] if s["seconds"] else 0.0
                print(
                    f"    {name:<16} {s['docs_in']:>8,} docs {s['mb_in']:>7.1f} MB text in "
                    f"{s['seconds']:>6.1f} s in shards ({rate:.1f} MB/s); peak RSS "
                    f"{_stage_peak(r['peak_kb'], name) / 1024:.0f} MB"
                )
        print(f"\npeak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
