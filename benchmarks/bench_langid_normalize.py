"""Throughput of the langid and normalize stages (docs/s, MB/s per core, peak RSS).

    .venv/bin/python benchmarks/bench_langid_normalize.py [--copies 4] [--work /tmp/bench-ln]

Builds a Chinese corpus from ../shared/devdata/text/zhwiki (articles cut into web-page-sized documents of
300-6,000 characters at paragraph breaks), a quarter of it converted to Traditional with OpenCC s2t (so
normalize has conversion work) and a few Japanese/Korean/English documents made of lingua sentences (so
langid rejects something). It writes one Parquet shard, then runs each stage in this process, single
threaded, through the real runner, and reports wall time, CPU time, docs/s and MB/s of UTF-8 text. All
runs share one process, so the peak RSS printed after each includes everything before it. The second
langid run (no script evidence) asks fastText about every document: the model-bound cost.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from devcorpus import SHARED, zhwiki_documents

from corpus_tool.runner import run_stage


def build_corpus(copies: int, seed: int = 0) -> list[str]:
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    docs = zhwiki_documents(copies, rng)
    docs = [s2t.convert(d) if rng.random() < 0.25 else d for d in docs]
    for lang in ("ja", "ko", "en"):
        sents = (SHARED / f"langid/lingua/sentences/{lang}.txt").read_text(encoding="utf-8").splitlines()
        for i in range(0, len(sents), 20):
            docs.append("\n".join(sents[i : i + 20]))
    rng.shuffle(docs)
    return docs


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--copies", type=int, default=4, help="times the zhwiki articles are used (differently cut)"
    )
    ap.add_argument("--work", default="/tmp/bench-langid-normalize")
    args = ap.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    (work / "in").mkdir(parents=True)
    docs = build_corpus(args.copies)
    table = pa.table(
        {
            "id": [f"b{i}" for i in range(len(docs))],
            "text": docs,
            "source": [f"bench#{i}" for i in range(len(docs))],
        }
    )
    pq.write_table(table, work / "in" / "bench.parquet", compression="zstd")
    mb = sum(len(d.encode()) for d in docs) / 1e6
    print(
        f"corpus: {len(docs):,} docs, {mb:.1f} MB of UTF-8 text, "
        f"mean {sum(map(len, docs)) / len(docs):,.0f} characters/doc"
    )

    from corpus_tool.stages.langid import LangIdStage
    from corpus_tool.stages.normalize import NormalizeStage

    langid = LangIdStage()
    langid.model  # noqa: B018 - load the model outside the timing
    # Without script evidence, fastText is asked about every document: the model-bound cost.
    model_only = LangIdStage(script_evidence=False)
    model_only.model  # noqa: B018
    runs = (
        ("langid", langid, work / "in", work / "langid"),
        ("langid --no-script-evidence", model_only, work / "in", work / "langid-model-only"),
        ("normalize", NormalizeStage(), work / "langid", work / "normalize"),
    )
    for name, stage, inp, out in runs:
        cpu0, t0 = time.process_time(), time.perf_counter()
        summary = run_stage(stage, [str(inp)], str(out), batch_size=512)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        size = summary.bytes_in / 1e6
        print(
            f"{name}: {summary.docs_in:,} docs in, {summary.docs_kept:,} kept; {size:.1f} MB in "
            f"{wall:.2f} s wall, {cpu:.2f} s CPU -> {summary.docs_in / cpu:,.0f} docs/s, "
            f"{size / cpu:.1f} MB/s per core (CPU time), {size / wall:.1f} MB/s wall; "
            f"peak RSS so far {peak_rss_mb():.0f} MB; rejected {dict(summary.reasons)}"
        )


if __name__ == "__main__":
    main()
