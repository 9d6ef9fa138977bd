#!/usr/bin/env python
"""Throughput of `quality` (MB/s of document text per core) and of `train-quality`, on zhwiki documents.

    .venv/bin/python benchmarks/bench_quality.py                  # char features (the default), jieba too
    .venv/bin/python benchmarks/bench_quality.py --copies 20 --features char

Documents: the devdata zhwiki articles cut at paragraph breaks into 300-6000-character documents
(benchmarks/devcorpus.py), `--copies` times over, in one Parquet shard. A classifier is trained on half of
them against generated junk (scripts/make_quality_data.py), then the `quality` stage runs over the shard
in this process (one core; the runner's reading and writing included). CPU seconds are this process's
(training: its child's); MB is UTF-8 text. The target for `quality` is 10 MB/s per core.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "benchmarks"))

import devcorpus  # noqa: E402

from corpus_tool.runner import run_stage  # noqa: E402
from corpus_tool.stages.quality import QualityStage  # noqa: E402
from corpus_tool.stages.train_quality import train_quality  # noqa: E402

devcorpus.SHARED = next((p / "shared/devdata" for p in REPO.parents if (p / "shared/devdata").is_dir()),
                        devcorpus.SHARED)


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--features", nargs="*", default=["char", "jieba"])
    args = ap.parse_args()
    import make_quality_data as mq

    docs = devcorpus.zhwiki_documents(args.copies, random.Random(0))
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    shard = work / "in" / "zhwiki.parquet"
    shard.parent.mkdir()
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(docs))], "text": docs,
                             "source": [f"x#{i}" for i in range(len(docs))]}), shard, compression="zstd")
    mb = sum(len(d.encode()) for d in docs) / 1e6
    print(f"{len(docs):,} documents, {mb:.1f} MB of text (mean {1e6 * mb / len(docs):,.0f} bytes)")
    rng = random.Random(1)
    half = docs[: len(docs) // 2]
    junk = [make(rng) for make in mq.KINDS.values() for _ in range(200)]
    for name, texts in (("pos", half), ("neg", junk)):
        (work / name).mkdir()
        pq.write_table(pa.table({"id": [f"{name}{i}" for i in range(len(texts))], "text": texts,
                                 "source": [f"x#{i}" for i in range(len(texts))]}), work / name / "t.parquet")
    train_mb = sum(len(t.encode()) for t in half + junk) / 1e6
    for features in args.features:
        c0, w0 = time.process_time() + children_cpu(), time.perf_counter()
        train_quality([str(work / "pos")], [str(work / "neg")], work / f"m-{features}", features=features,
                      valid_fraction=0.1)
        cpu, wall = time.process_time() + children_cpu() - c0, time.perf_counter() - w0
        print(f"train-quality {features}: {len(half) + len(junk):,} docs, {train_mb:.1f} MB in {wall:.1f} s "
              f"wall, {cpu:.1f} s CPU: {train_mb / cpu:.2f} MB/s per core")
        stage = QualityStage(work / f"m-{features}", min_score=0.5)
        c0, w0 = time.process_time(), time.perf_counter()
        summary = run_stage(stage, [str(shard)], str(work / f"out-{features}"), batch_size=512)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        print(f"quality {features}: {summary.docs_in:,} docs in {wall:.2f} s wall, {cpu:.2f} s CPU: "
              f"{mb / cpu:.1f} MB/s per core, {summary.docs_in / cpu:,.0f} docs/s "
              f"({summary.docs_kept:,} kept)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
