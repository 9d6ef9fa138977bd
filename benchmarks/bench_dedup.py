"""Dedup benchmarks: accuracy on the labelled near-duplicate set, and speed on a large synthetic corpus.

    .venv/bin/python benchmarks/bench_dedup.py labelled [--work /tmp/bench-dedup]
        builds the set with make_neardup_set.py, runs `normalize --opencc t2s` (the pipeline's order),
        then our dedup (several settings) and datatrove's MinHash (if /tmp/dt-venv exists); prints recall
        per edit kind and pair precision.
    .venv/bin/python benchmarks/bench_dedup.py unionfind [--docs 100000000] [--pairs 20000000]
        the clusters step's union-find and keeper choice at scale, on random pairs (time, peak RSS).
    .venv/bin/python benchmarks/bench_dedup.py speed [--docs 100000] [--peer-docs 5000]
        synthesises --docs documents from the real paragraphs (3-6 random paragraphs each, 4% of them
        edited copies of others), runs every dedup step in its own process (docs/s, MB/s, peak RSS),
        then ours and datatrove's on the first --peer-docs documents for the side-by-side.

Reads ../shared/devdata/text (never copied into the repo). Run on a quiet machine if you can; the figures
in docs/dedup.md were taken on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import make_neardup_set as nd  # noqa: E402

PY = sys.executable
CODE = HERE.parent  # the checkout whose corpus_tool run_step measures (bench_dedup_scale.py --code changes it)
DT_PY = "/tmp/dt-venv/bin/python"

# One dedup step in its own process (so that its CPU and peak RSS are its own); bench_dedup_scale.py uses it too.
# args: inputs, work, out; settings (ShingleSettings fields, default the defaults); verify (pairs' verification
# threshold; 0 or null: none; default 0.6); partitions (pairs, default 1).
STEP_CODE = """
import json, resource, sys, time
from corpus_tool.stages.dedup.hashing import ShingleSettings
step, args = sys.argv[1], json.loads(sys.argv[2])
try:  # what `corpus-tool` does first (corpus_tool/allocator.py); a checkout from before it has none
    from corpus_tool.allocator import tune_malloc
    tune_malloc()
except ImportError:
    pass
t0 = time.perf_counter()
if step == "signatures":
    from corpus_tool.stages.dedup.signatures import compute_signatures
    s = compute_signatures(args["inputs"], args["work"], ShingleSettings(**args.get("settings", {})),
                           shard_index=0, num_shards=1)
elif step == "pairs":
    import corpus_tool.stages.dedup.pairs as pairs_module
    verify_cpu = [0.0]
    untimed = pairs_module.verified
    def timed(*a, **k):  # CPU time of the verification alone (user + system)
        t = time.process_time()
        try:
            return untimed(*a, **k)
        finally:
            verify_cpu[0] += time.process_time() - t
    pairs_module.verified = timed
    s = pairs_module.compute_pairs(args["work"], shard_index=args.get("shard_index", 0),
                                   num_shards=args.get("num_shards", 1),
                                   verify_threshold=args.get("verify", 0.6) or None,
                                   partitions=args.get("partitions", 1))
    s.extra["verify_cpu"] = round(verify_cpu[0], 2)
elif step == "clusters":
    from corpus_tool.stages.dedup.clusters import compute_clusters
    s = compute_clusters(args["work"])
else:
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.dedup.filter import DedupFilter
    s = run_stage(DedupFilter(args["work"]), args["inputs"], args["out"], shard_index=0, num_shards=1)
ru = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child would report the bench's own peak.
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": ru.ru_utime + ru.ru_stime,
                  "user": ru.ru_utime, "sys": ru.ru_stime,
                  "peak_rss_mb": int(hwm) / 1024, "ru_maxrss_mb": ru.ru_maxrss / 1024, "extra": s.extra}))
"""


def run_step(step: str, **args) -> dict:
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH") or str(CODE))  # a snapshot to compare
    proc = subprocess.run([PY, "-c", STEP_CODE, step, json.dumps(args)], capture_output=True, text=True,
                          env=env)
    if proc.returncode:
        raise SystemExit(f"{step} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_ours(inputs: list[str], work: Path, out: Path, settings: dict, verify: float | None) -> dict:
    res = {}
    for step in ("signatures", "pairs", "clusters", "filter"):
        res[step] = run_step(step, inputs=inputs, work=str(work), out=str(out), settings=settings,
                             verify=verify)
    return res


def our_clusters(work: Path) -> dict[str, int]:
    t = pq.read_table(work / "clusters" / "clusters.parquet", columns=["id", "cluster"])
    return dict(zip(t.column("id").to_pylist(), t.column("cluster").to_pylist(), strict=True))


def to_jsonl(inputs: list[Path], out: Path, limit: int | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    left = limit
    for i, p in enumerate(inputs):
        t = pq.read_table(p, columns=["id", "text"])
        if left is not None:
            t = t.slice(0, left)
            left -= t.num_rows
        with open(out / f"part-{i:05d}.jsonl", "w", encoding="utf-8") as fh:
            for r in t.to_pylist():
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        if left is not None and left <= 0:
            break


def run_datatrove(jsonl: Path, work: Path) -> dict | None:
    if not Path(DT_PY).exists():
        print("datatrove venv missing (/tmp/dt-venv): skipping the peer", file=sys.stderr)
        return None
    proc = subprocess.run([DT_PY, str(HERE / "dt_minhash.py"), str(jsonl), str(work)], capture_output=True,
                          text=True)
    if proc.returncode:
        raise SystemExit(f"datatrove failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["clusters"] = {k: v for k, v in json.loads((work / "clusters.json").read_text()).items() if v != -1}
    return res


def score(clusters: dict[str, int], labels: dict[str, dict]) -> dict:
    """Recall per edit kind (the copy is in its original's cluster) and precision over all pairs of
    documents that share a cluster (same family = correct)."""
    found = Counter()
    total = Counter()
    for doc, lab in labels.items():
        if lab["kind"] in ("original", "site"):
            continue
        total[lab["kind"]] += 1
        c = clusters.get(doc)
        if c is not None and clusters.get(lab["family"]) == c:
            found[lab["kind"]] += 1
    members = defaultdict(list)
    for doc, c in clusters.items():
        members[c].append(doc)
    good = bad = 0
    bad_examples = []
    for docs in members.values():
        for a, b in itertools.combinations(docs, 2):
            if labels[a]["family"] == labels[b]["family"]:
                good += 1
            else:
                bad += 1
                bad_examples.append((a, b))
    recall = {k: round(found[k] / total[k], 3) for k in nd.KINDS}
    recall["all"] = round(sum(found.values()) / max(1, sum(total.values())), 3)
    return {"recall": recall, "pairs": good + bad, "false_pairs": bad,
            "precision": round(good / (good + bad), 4) if good + bad else 1.0,
            "false_examples": bad_examples[:5]}


def labelled(a) -> None:
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.normalize import NormalizeStage

    root = Path(a.work) / "labelled"
    info = nd.build(root, per_kind=a.per_kind)
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    run_stage(NormalizeStage("t2s"), [str(root / "raw")], str(root / "norm"), shard_index=0, num_shards=1,
              overwrite=True)
    norm = sorted(str(p) for p in (root / "norm").glob("*.parquet"))
    results = {"set": info}
    variants = {
        "char5 32x4 verify0.6 (default)": ({}, 0.6),
        "char5 32x4 no verify": ({}, None),
        "char5 32x4 verify0.5": ({}, 0.5),
        "char5 32x4 verify0.7": ({}, 0.7),
        "char5 16x8 verify0.6": ({"bands": 16, "rows": 8}, 0.6),
        "char5 14x8 no verify (datatrove's bands)": ({"bands": 14, "rows": 8}, None),
        "jieba-word5 32x4 verify0.6": ({"tokenizer": "jieba"}, 0.6),
    }
    for name, (settings, verify) in variants.items():
        work = root / ("work-" + "".join(c if c.isalnum() else "_" for c in name))
        run_ours(norm, work, work / "out", settings, verify)
        results[name] = score(our_clusters(work), labels)
        print(name, json.dumps(results[name], ensure_ascii=False))
    to_jsonl([Path(p) for p in norm], root / "jsonl")
    dt = run_datatrove(root / "jsonl", root / "dt-work")
    if dt:
        results["datatrove 0.10.1 (cmn/jieba word 5-grams, 14x8)"] = score(dt["clusters"], labels)
        print("datatrove", json.dumps(results["datatrove 0.10.1 (cmn/jieba word 5-grams, 14x8)"]))
    (Path(a.work) / "labelled.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))


def synth_corpus(out: Path, n_docs: int, shards: int, seed: int = 7) -> tuple[dict, int]:
    """n_docs documents of 3-6 random real paragraphs; 4% are edited copies of earlier ones."""
    rng = random.Random(seed)
    paras = nd.paragraphs()
    kinds = ["ads", "shuffle", "chars2", "chars5", "truncate"]
    docs: list[tuple[str, str]] = []
    labels: dict[str, str] = {}
    for i in range(n_docs):
        if i > 100 and rng.random() < 0.04:
            j = rng.randrange(i // 2)  # an original from the first half (so it survives any subset cut)
            kind = rng.choice(kinds)
            doc_id = f"d{i:07d}-{kind}-of-d{j:07d}"
            docs.append((doc_id, nd.make_edit(kind, docs[j][1], rng, None)))
            labels[doc_id] = f"d{j:07d}"
        else:
            docs.append((f"d{i:07d}", "\n".join(rng.sample(paras, rng.randint(3, 6)))))
    out.mkdir(parents=True, exist_ok=True)
    nbytes = 0
    per = (n_docs + shards - 1) // shards
    for s in range(shards):
        part = docs[s * per: (s + 1) * per]
        nbytes += sum(len(t.encode()) for _, t in part)
        pq.write_table(pa.table({"id": [d[0] for d in part], "text": [d[1] for d in part],
                                 "source": [f"synth-{s}#{k}" for k in range(len(part))]}),
                       out / f"part-{s:05d}.parquet", compression="zstd")
    return labels, nbytes


def recall_of(
    clusters: dict[str, int], labels: dict[str, str], ids: set[str] | None = None
) -> tuple[int, int]:
    hits = total = 0
    for dup, orig in labels.items():
        if ids is not None and dup not in ids:
            continue
        total += 1
        if dup in clusters and clusters.get(orig) == clusters[dup]:
            hits += 1
    return hits, total


def speed(a) -> None:
    root = Path(a.work) / "speed"
    corpus = root / "corpus"
    t0 = time.perf_counter()
    labels, nbytes = synth_corpus(corpus, a.docs, a.shards)
    print(f"corpus: {a.docs:,} docs, {nbytes / 1e6:.1f} MB of text in {a.shards} shards "
          f"({time.perf_counter() - t0:.0f} s to build)")
    inputs = sorted(str(p) for p in corpus.glob("*.parquet"))
    res = run_ours(inputs, root / "work", root / "out", {}, 0.6)
    total_cpu = sum(r["cpu"] for r in res.values())
    total_wall = sum(r["seconds"] for r in res.values())
    for step, r in res.items():
        print(f"  {step:10s} {r['seconds']:7.1f} s wall  {r['cpu']:7.1f} s cpu  "
              f"{a.docs / r['cpu']:9,.0f} docs/s per core  peak RSS {r['peak_rss_mb']:.0f} MB")
    hits, total = recall_of(our_clusters(root / "work"), labels)
    print(f"  all steps: {nbytes / 1e6 / total_cpu:.2f} MB/s per core (cpu time), "
          f"{nbytes / 1e6 / total_wall:.2f} MB/s wall; recall of injected duplicates {hits}/{total}")
    summary = {"docs": a.docs, "mb": nbytes / 1e6, "steps": res, "mb_per_s_cpu": nbytes / 1e6 / total_cpu,
               "recall": [hits, total]}
    if a.peer_docs <= 0:  # no side-by-side asked for
        (Path(a.work) / "speed.json").write_text(json.dumps(summary, indent=1))
        return
    # Side by side on a subset.
    sub_docs = min(a.peer_docs, a.docs)
    sub = root / "subset"
    sub_inputs = []
    left = sub_docs
    for p in inputs:
        if left <= 0:
            break
        t = pq.read_table(p).slice(0, left)
        left -= t.num_rows
        sub.mkdir(parents=True, exist_ok=True)
        pq.write_table(t, sub / Path(p).name, compression="zstd")
        sub_inputs.append(str(sub / Path(p).name))
    sub_ids = {i for p in sub_inputs for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()}
    sub_bytes = sum(len(t.encode()) for p in sub_inputs for t in pq.read_table(p, columns=["text"])
                    .column("text").to_pylist())
    ours = run_ours(sub_inputs, root / "sub-work", root / "sub-out", {}, 0.6)
    ours_cpu = sum(r["cpu"] for r in ours.values())
    ours_hits = recall_of(our_clusters(root / "sub-work"), labels, sub_ids)
    to_jsonl([Path(p) for p in sub_inputs], root / "sub-jsonl")
    dt = run_datatrove(root / "sub-jsonl", root / "dt-work")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary["subset"] = {"docs": sub_docs, "mb": sub_bytes / 1e6, "ours_cpu_s": ours_cpu,
                         "ours_recall": ours_hits,
                         "ours_peak_rss_mb": max(r["peak_rss_mb"] for r in ours.values())}
    print(f"subset {sub_docs:,} docs, {sub_bytes / 1e6:.1f} MB: ours {ours_cpu:.1f} s cpu "
          f"({sub_bytes / 1e6 / ours_cpu:.2f} MB/s), recall {ours_hits[0]}/{ours_hits[1]}")
    if dt:
        dt_hits = recall_of(dt["clusters"], labels, sub_ids)
        dt_total = sum(dt["cpu"].values())
        summary["subset"] |= {"datatrove_cpu_s": dt["cpu"], "datatrove_wall_s": dt["seconds"],
                              "datatrove_recall": dt_hits, "datatrove_peak_rss_mb": dt["peak_rss_mb"]}
        print(f"  datatrove cpu {dt['cpu']} = {dt_total:.1f} s ({sub_bytes / 1e6 / dt_total:.2f} MB/s), "
              f"recall {dt_hits[0]}/{dt_hits[1]}, peak RSS {dt['peak_rss_mb']} MB; "
              f"time ratio datatrove/ours {dt_total / ours_cpu:.1f}x")
    summary["bench_peak_rss_children_mb"] = children.ru_maxrss / 1024
    (Path(a.work) / "speed.json").write_text(json.dumps(summary, indent=1))


def unionfind(a) -> None:
    """The clusters step's core at scale: union-find over --docs documents and --pairs random pairs (read
    from a memory-mapped .npy in 1 M-pair chunks, as the step does), then keepers for the documents in
    pairs."""
    import numpy as np

    from corpus_tool.stages.dedup.clusters import PAIR_CHUNK, choose_keepers, find, union_pairs

    path = Path(a.work) / "unionfind-pairs.npy"
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.int64, shape=(a.pairs, 2))
    for s in range(0, a.pairs, 10_000_000):
        k = min(10_000_000, a.pairs - s)
        u = rng.integers(0, a.docs, k)
        v = rng.integers(0, a.docs, k)
        mm[s: s + k, 0] = np.minimum(u, v)
        mm[s: s + k, 1] = np.maximum(u, v)
    mm.flush()
    del mm

    def chunks():
        m = np.load(path, mmap_mode="r")
        for s in range(0, len(m), PAIR_CHUNK):
            yield np.asarray(m[s: s + PAIR_CHUNK])

    t0, c0 = time.perf_counter(), time.process_time()
    parent, touched, passes = union_pairs(a.docs, chunks)
    t1 = time.process_time()
    members = np.nonzero(touched)[0].astype(np.int64)
    del touched
    roots = find(parent, members).astype(np.int64)
    del parent
    keeper = choose_keepers(members, roots, rng.integers(100, 5000, len(members)).astype(np.int32))
    status = Path("/proc/self/status").read_text().splitlines()
    hwm = int([x for x in status if x.startswith("VmHWM")][0].split()[1]) / 1024
    print(f"{a.docs:,} docs, {a.pairs:,} pairs: union-find {t1 - c0:.1f} s cpu in {passes} passes; "
          f"keepers for {len(members):,} documents in {len(np.unique(keeper)):,} clusters; total "
          f"{time.process_time() - c0:.1f} s cpu, {time.perf_counter() - t0:.1f} s wall; "
          f"peak RSS {hwm:.0f} MB")
    path.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["labelled", "speed", "unionfind"])
    ap.add_argument("--work", default="/tmp/bench-dedup")
    ap.add_argument("--per-kind", type=int, default=150)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--peer-docs", type=int, default=5000)
    ap.add_argument("--pairs", type=int, default=20_000_000)
    a = ap.parse_args()
    {"labelled": labelled, "speed": speed, "unionfind": unionfind}[a.what](a)


if __name__ == "__main__":
    main()
