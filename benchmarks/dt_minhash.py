"""datatrove's MinHash dedup (all four stages, one task, one worker) on a folder of JSONL files.

Runs in its own venv (never a dependency of corpus-tool):
    python3 -m venv /tmp/dt-venv && /tmp/dt-venv/bin/pip install datatrove jieba regex tokenizers
    /tmp/dt-venv/bin/python benchmarks/dt_minhash.py IN_JSONL_DIR WORK_DIR [--language cmn]

`language="cmn"` makes datatrove split words with jieba; "zh" silently gets spaCy's `xx` tokenizer in
datatrove 0.10.1 (see ../shared/notes/thresholds.md). Prints one JSON line: seconds per stage, peak RSS,
CPU seconds per stage,
peak RSS, and {doc id: cluster id} (cluster -1 = no duplicate) in WORK_DIR/clusters.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("work")
    ap.add_argument("--language", default="cmn")
    a = ap.parse_args()
    work = Path(a.work)
    cfg = MinhashConfig()  # 5-grams, 14 buckets x 8 hashes (datatrove's defaults)
    times, cpu = {}, {}

    def cpu_now() -> float:
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def run(name, pipeline, tasks=1):
        t0, c0 = time.perf_counter(), cpu_now()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                              logging_dir=str(work / "logs" / name)).run()
        times[name] = round(time.perf_counter() - t0, 2)
        cpu[name] = round(cpu_now() - c0, 2)

    run("signatures", [JsonlReader(a.input), MinhashDedupSignature(str(work / "sigs"), config=cfg,
                                                                   language=a.language)])
    run("buckets", [MinhashDedupBuckets(str(work / "sigs"), str(work / "buckets"), config=cfg)],
        tasks=cfg.num_buckets)
    run("clusters", [MinhashDedupCluster(str(work / "buckets"), str(work / "remove"), config=cfg,
                                         save_cluster_id=True)])
    run("filter", [JsonlReader(a.input),
                   MinhashDedupFilter(str(work / "remove"), load_cluster_ids=True,
                                      exclusion_writer=JsonlWriter(str(work / "removed"), compression=None)),
                   JsonlWriter(str(work / "kept"), compression=None)])
    clusters = {}
    for sub in ("kept", "removed"):
        for p in sorted((work / sub).glob("*.jsonl")):
            for line in p.open(encoding="utf-8"):
                d = json.loads(line)
                clusters[d["id"]] = d["metadata"].get("minhash_cluster_id", -1)
    (work / "clusters.json").write_text(json.dumps(clusters))
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec (it would report the parent's peak).
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = [x for x in status if x.startswith("VmHWM")][0].split()[1]
    print(json.dumps({"seconds": times, "cpu": cpu, "peak_rss_mb": round(int(hwm) / 1024, 1),
                      "docs": len(clusters)}))


if __name__ == "__main__":
    main()
