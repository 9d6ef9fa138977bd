#!/usr/bin/env python
"""Every stage on a mixed-script corpus (Simplified and Traditional paragraphs inside documents): MB/s of
text per core, docs/s and peak RSS, each stage run as its own `corpus-tool` process, as a pipeline task is.

    .venv/bin/python benchmarks/bench_stages.py [--mb 30] [--stages ingest langid normalize ...]

The corpus (`devcorpus.mixed_script_jsonl`: real paragraphs of zhwiki, the Debian Reference zh-cn and zh-tw,
左传, the news pages' text and OpenCC's Traditional test inputs, mixed inside documents) is written once to
/tmp/corpus-tool-bench and reused. The stages run in a chain, each reading the previous one's output:
ingest (the JSONL) -> langid -> normalize -> filter -> perplexity -> dedup -> tokenize, plus quality on
normalize's output. Each stage is one process over all shards (`--shards` splits the JSONL round robin
into several files; default one).

Per stage, "in shards" is the CPU the runner records in the shard manifests (timings.cpu_seconds: reading,
the stage's work, writing; dedup: all four steps' units), the figure issue 15 asks to reach 20 MB/s per
core; "process" is the CPU of the whole process (os.wait4: start-up, imports, models included) and its peak
RSS. MB are the stage's input text (the manifests' bytes.in; ingest: the JSONL file). Per-core figures come
from CPU time, so other jobs on a shared machine disturb them less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "corpus_tool"]
ALL = ("ingest", "langid", "normalize", "quality", "filter", "perplexity", "dedup", "tokenize")


def run_process(args: list[str]) -> tuple[float, float, float]:
    """Run a corpus-tool command; (wall s, CPU s of the process, peak RSS MB)."""
    t0 = time.perf_counter()
    # cwd outside the checkout: `python -m` puts the cwd first on sys.path, ahead of PYTHONPATH (which the
    # before/after comparisons set to the code to measure)
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd="/")
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"corpus-tool {' '.join(args)} failed:\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def manifests(folder: Path) -> list[dict]:
    return [json.loads(m.read_text()) for m in sorted((folder / "manifests").glob("*.json"))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=30, help="MB of text in the corpus (built once, in /tmp)")
    ap.add_argument("--shards", type=int, default=1, help="JSONL files the corpus is split into")
    ap.add_argument("--stages", nargs="+", choices=ALL, default=list(ALL))
    ap.add_argument("--work", default="/tmp/bench-stages")
    args = ap.parse_args()
    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    # The corpus is built, and split, in a child process: this process stays small, so that the peak RSS
    # of each stage process (ru_maxrss counts the parent's pages a forked child starts with) is its own.
    here = Path(__file__).resolve().parent
    split = (f"import sys; sys.path.insert(0, {str(here)!r}); from devcorpus import mixed_script_jsonl\n"
             f"src = mixed_script_jsonl({args.mb}); n = 0\n"
             f"outs = [open({str(work / 'in')!r} + f'/mixed-{{k:03d}}.jsonl', 'w', encoding='utf-8') "
             f"for k in range({args.shards})]\n"
             "for n, line in enumerate(open(src, encoding='utf-8')):\n"
             f"    outs[n % {args.shards}].write(line)\n"
             "for o in outs:\n    o.close()\n"
             "print(src, n + 1)\n")
    src, n_docs = subprocess.run([sys.executable, "-c", split], check=True, capture_output=True,
                                 text=True).stdout.split()
    print(f"corpus: {src} ({Path(src).stat().st_size / 1e6:.1f} MB JSONL, {int(n_docs):,} docs) in {args.shards} "
          f"file(s); {time.strftime('%Y-%m-%d %H:%M')} UTC; load {os.getloadavg()[0]:.1f}")
    models = work / "models"
    ref = str(REPO / "corpus_tool" / "data" / "reference")
    if "perplexity" in args.stages:
        run_process(["train-lm", ref, "-o", str(models / "lm")])
    if "tokenize" in args.stages:
        run_process(["train-tokenizer", ref, "-o", str(models / "tokenizer")])
    if "quality" in args.stages:
        neg = str(REPO / "corpus_tool" / "data" / "quality" / "negative")
        run_process(["train-quality", "--positive", ref, "--negative", neg, "-o", str(models / "quality"),
                     "--bucket", "50000"])
    chain = {
        "ingest": (work / "in", []),
        "langid": ("ingest", []),
        "normalize": ("langid", ["--opencc", "t2s"]),
        "quality": ("normalize", ["--model", str(models / "quality")]),
        "filter": ("normalize", []),
        "perplexity": ("filter", ["--model", str(models / "lm")]),
        "dedup": ("perplexity", ["--work", str(work / "dedup-work")]),
        "tokenize": ("dedup", ["--tokenizer", str(models / "tokenizer"), "--threads", "1"]),
    }
    print(f"{'stage':<11} {'docs in':>8} {'MB in':>6}  {'in shards: CPU s':>16} {'MB/s/core':>9} {'docs/s':>7}  "
          f"{'process: CPU s':>14} {'MB/s/core':>9} {'wall s':>7} {'peak RSS':>9}")
    for stage in ALL:
        if stage not in args.stages:
            continue
        inp, extra = chain[stage]
        inp_path = inp if isinstance(inp, Path) else work / inp
        if not inp_path.exists():
            sys.exit(f"{stage} reads {inp_path}: run the stage before it too")
        wall, cpu, rss = run_process([stage, str(inp_path), "-o", str(work / stage), *extra])
        ms = manifests(work / stage)
        if stage == "dedup":  # the three steps before filter keep their manifests in the work folder
            ms += [m for d in sorted((work / "dedup-work").rglob("manifests")) for m in manifests(d.parent)]
        docs = sum(m["docs"]["in"] for m in manifests(work / stage))
        mb = (sum(p.stat().st_size for p in (work / "in").iterdir()) if stage == "ingest"
              else sum(m["bytes"]["in"] for m in manifests(work / stage))) / 1e6
        shard_cpu = sum(m["timings"].get("cpu_seconds", 0.0) for m in ms)
        print(f"{stage:<11} {docs:>8,} {mb:>6.1f}  {shard_cpu:>16.2f} {mb / shard_cpu:>9.1f} "
              f"{docs / shard_cpu:>7,.0f}  {cpu:>14.2f} {mb / cpu:>9.1f} {wall:>7.1f} {rss:>7.0f} MB")


if __name__ == "__main__":
    main()
