"""Throughput of the filter and perplexity stages (docs/s, MB/s per core, peak RSS).

    .venv/bin/python benchmarks/bench_filter.py [--copies 3] [--work /tmp/bench-filter] [--stage both]

Builds a corpus from ../shared/devdata/text/zhwiki (articles cut into web-page-sized documents of
300-6,000 characters at line breaks) plus about 15% junk documents made from our own templates (gambling
ads, keyword stuffing, navigation pages, repeated characters), writes one Parquet shard, then runs each
stage in this process, single threaded, through the real runner. The perplexity model is trained with
train-lm on the packaged reference text (character 5-grams), as the demo does; its build time is not
counted. Timings exclude imports but include jieba's dictionary load (about 1 s, once per process) in the
first stage that uses it, which is reported separately.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from devcorpus import zhwiki_documents

from corpus_tool.runner import run_stage

REPO = Path(__file__).resolve().parents[1]

JUNK_TEMPLATES = [
    "澳门新葡京娱乐城，真人百家乐，注册送彩金，首存送百分之百，北京赛车pk10计划群，稳赚不赔，提现秒到账。",
    "深圳SEO优化_网站优化_关键词排名_百度快照_整站优化_快速排名_网站推广_网络推广_外链_蜘蛛池",
    "首页\n新闻中心\n登录\n注册\n联系我们\n版权所有 © 2024\n返回顶部\n上一篇\n下一篇\n网站地图",
    "哈" * 200 + "太好笑了",
    "/" * 3000,
]


def build_corpus(copies: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    docs = zhwiki_documents(copies, rng)
    n_junk = len(docs) * 15 // 85
    for _ in range(n_junk):
        t = rng.choice(JUNK_TEMPLATES)
        docs.append("\n".join([t] * rng.randint(1, 8)))
    rng.shuffle(docs)
    return docs


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, summary, wall: float, cpu: float) -> None:
    mb = summary.bytes_in / 1e6
    print(f"{name:11s} {summary.docs_in:7,d} docs {mb:7.1f} MB  wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
          f"{summary.docs_in / cpu:8.0f} docs/s  {mb / cpu:6.2f} MB/s per core (cpu)  "
          f"kept {summary.docs_kept:,}  peak RSS {peak_rss_mb():.0f} MB")
    print(f"{'':11s} top reasons: {dict(summary.reasons.most_common(6))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=3, help="times the zhwiki articles are used (cut "
                                                          "differently)")
    ap.add_argument("--work", default="/tmp/bench-filter")
    ap.add_argument("--stage", choices=["filter", "perplexity", "both"], default="both")
    ap.add_argument("--tokenizer", choices=["char", "jieba"], default="char", help="perplexity model tokens")
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    docs = build_corpus(args.copies)
    table = pa.table({"id": [f"b{i}" for i in range(len(docs))], "text": docs,
                      "source": [f"bench#{i}" for i in range(len(docs))]})
    pq.write_table(table, work / "in" / "bench.parquet", compression="zstd")
    print(f"corpus: {len(docs):,} docs, {sum(len(d.encode()) for d in docs) / 1e6:.1f} MB UTF-8; "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, python {sys.version.split()[0]}")

    if args.stage in ("filter", "both"):
        import jieba

        from corpus_tool.stages.filter import FilterStage
        t0 = time.perf_counter()
        jieba.initialize()
        print(f"jieba dictionary load: {time.perf_counter() - t0:.2f} s (once per process, not counted "
              "below)")
        stage = FilterStage()
        c0, t0 = time.process_time(), time.perf_counter()
        summary = run_stage(stage, [str(work / "in")], str(work / "filter"), overwrite=True)
        report("filter", summary, time.perf_counter() - t0, time.process_time() - c0)

    if args.stage in ("perplexity", "both"):
        from corpus_tool.stages.perplexity import PerplexityStage
        from corpus_tool.stages.train_lm import train_lm

        model = work / "lm"
        train_lm([str(REPO / "corpus_tool/data/reference")], model, order=5, tokenizer=args.tokenizer)
        stage = PerplexityStage(model)
        c0, t0 = time.process_time(), time.perf_counter()
        summary = run_stage(stage, [str(work / "in")], str(work / "ppl"), overwrite=True)
        report("perplexity", summary, time.perf_counter() - t0, time.process_time() - c0)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of children (lmplz, build_binary): {child:.0f} MB")


if __name__ == "__main__":
    main()
