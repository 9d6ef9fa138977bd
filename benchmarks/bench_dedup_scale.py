"""Dedup at scale: the `pairs` and `clusters` steps on synthesized work directories of 10^6..10^8 documents,
and the real `signatures` and `filter` steps on 10^6 real-sized documents.

    .venv/bin/python benchmarks/bench_dedup_scale.py synth --docs 1000000,10000000 [--work /tmp/dedup-scale]
        For each size: writes a work directory as `dedup signatures` would (config.json, per shard of
        10^6 documents a .docs.parquet, .sig.npy, .bands.npy and manifest), then runs the real
        `compute_pairs` (verification on, --partitions chosen for <= 2 GB) and `compute_clusters`, each in
        its own process, and prints wall and CPU time, docs/s and MB/s per core and peak RSS.
    .venv/bin/python benchmarks/bench_dedup_scale.py real [--docs 1000000] [--work /tmp/dedup-scale]
        synthesizes --docs real-sized documents from ../shared/devdata text (bench_dedup.synth_corpus: 3-6
        real paragraphs each, 4% edited copies), runs all four real steps, each in its own process.

What is synthetic (and why it is faithful for these two steps): signatures are not computed from text.
Documents are laid out at random global positions. 10% of them (--dup-share) are in clusters whose sizes
follow a power law (P(size = s) ~ s^-2, 2 <= s <= 10^5: many pairs and triples, a long tail), plus one
cluster of --giant (10^5) exact copies (one boilerplate page copied 10^5 times). A cluster has one random base
signature (128 uint32 values); a member is an exact copy (30%: same values, same exact hash) or a near copy
whose values are each replaced by a random one with probability 1 - J, J uniform in 0.7..1. Band keys of
members are computed from those values by the real `hashing.band_keys`; singletons get random band keys
(what hashing a random signature gives) and their signature rows are left unwritten (a sparse file: the
pairs step reads signatures only for candidate pairs, and a singleton is never one). Clusters are spread
over all shards, but within a shard the cluster members are its last rows, so that the unwritten rows form
one sparse block (at random rows nearly every 4 KB page would hold a member: 50 GB at 10^8); this makes the
verification's reads a little more local than in a real crawl. The manifests'
`sha256` fields name the generator settings instead of hashing tens of GB (pairs and clusters only compare
them). MB/s per core counts --doc-bytes of text per document (default 1,512: the mean of the real run's
documents), so that it compares with the other stages' figures.

The work directory of one size is deleted before the next (10^8 documents: about 26 GB of band keys,
5 GB of signature rows, 3.4 GB of pairs; 37 GB in all) unless --keep; --reuse runs the steps again on a kept
one. `--units I/N` runs only pairs task I of N (33 band units: `--units 0/33` is band 000) and no clusters,
e.g. one unit with verification at 10^8. `--code DIR` measures another checkout's corpus_tool (a before/after
comparison on the same work directory). The pairs line also gives the CPU time of the verification alone
(`verify_cpu`, per candidate pair) and the user/system split. Figures go to WORK/scale-<docs>[-units-I-N].json;
docs/dedup.md ("Scale") has the table of 2026-12-02: the 10^8 row was run with `--verify 0 --free-disk`
(see there why), the 10^8 rows with verification with `--units`.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import bench_dedup  # noqa: E402
from bench_dedup import run_step, synth_corpus  # noqa: E402  (one dedup step in its own process)

from corpus_tool import completion, shards  # noqa: E402
from corpus_tool.stages.dedup.hashing import ShingleSettings, band_keys, splitmix64  # noqa: E402
from corpus_tool.stages.dedup.signatures import DOCS_SCHEMA, STEP  # noqa: E402
from corpus_tool.stages.dedup.work import WorkDir, fingerprint  # noqa: E402

SHARD_DOCS = 1_000_000
MIN_SHARDS = 4
MAX_CLUSTER = 100_000
EXACT_SHARE = 0.3
PAIRS_DOCS_PER_PARTITION = 25_000_000  # pairs: about 40 bytes per document in flight per partition

# ------------------------------------------------------------------------------------- synthesis


def cluster_sizes(rng: np.random.Generator, n_docs: int, share: float, giant: int) -> np.ndarray:
    """Sizes of the non-singleton clusters: one of `giant`, then power-law sizes (exponent 2, 2..10^5)
    until `share` of the documents are in clusters."""
    target = int(n_docs * share)
    sizes = [np.array([giant], dtype=np.int64)] if giant >= 2 else []
    total = 0
    while total < target:
        # continuous Pareto with exponent 2 above 2, floored: P(s) ~ s^-2 for the discrete sizes
        s = np.floor(2.0 / rng.random(max(1024, (target - total) // 8))).astype(np.int64)
        s = s[s <= MAX_CLUSTER]
        cum = total + np.cumsum(s)
        cut = int(np.searchsorted(cum, target)) + 1
        sizes.append(s[:cut])
        total = int(cum[min(cut, len(cum)) - 1])
    return np.concatenate(sizes)


def synthesize(work: Path, n_docs: int, share: float, giant: int, seed: int = 1) -> dict:
    settings = ShingleSettings()
    wd = WorkDir(work)
    wd.save_settings(settings, overwrite=True)
    rng = np.random.default_rng(seed)
    sizes = cluster_sizes(rng, n_docs, share, min(giant, n_docs // 10))
    n_members = int(sizes.sum())
    cluster_of = np.full(n_docs, -1, dtype=np.int32)
    positions = rng.permutation(n_docs)[:n_members]
    cluster_of[positions] = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    del positions
    P = settings.num_perm
    base = rng.integers(0, 2**32, size=(len(sizes), P), dtype=np.uint32)
    base_exact = rng.integers(1, 2**63, size=len(sizes), dtype=np.uint64)
    base_chars = rng.integers(300, 3000, size=len(sizes), dtype=np.int32)
    all_exact = np.zeros(len(sizes), dtype=bool)
    if giant >= 2:
        all_exact[0] = True  # the boilerplate page: every copy is exact
    n_shards = max(MIN_SHARDS, math.ceil(n_docs / SHARD_DOCS))
    per = math.ceil(n_docs / n_shards)
    for s in range(n_shards):
        a, b = s * per, min(n_docs, (s + 1) * per)
        n = b - a
        name = f"part-{s:05d}"
        srng = np.random.default_rng([seed, s])
        c = cluster_of[a:b]
        c = np.concatenate([c[c < 0], c[c >= 0]])  # this shard's cluster members last (see the docstring)
        mem = np.nonzero(c >= 0)[0]
        cm = c[mem]
        exact_copy = all_exact[cm] | (srng.random(len(mem)) < EXACT_SHARE)
        j = srng.uniform(0.7, 1.0, len(mem))
        sig_m = base[cm]
        repl = (srng.random(sig_m.shape) > j[:, None]) & ~exact_copy[:, None]
        sig_m[repl] = srng.integers(0, 2**32, size=int(repl.sum()), dtype=np.uint32)
        bands = srng.integers(1, 2**64 - 1, size=(settings.bands, n), dtype=np.uint64, endpoint=True)
        bands[:, mem] = band_keys(sig_m, settings.bands, settings.rows, settings.seed, np.zeros(len(mem), bool))
        sig_path, bands_path = wd.sig_path(name), wd.bands_path(name)
        sig_path.parent.mkdir(parents=True, exist_ok=True)
        sig = np.lib.format.open_memmap(sig_path, mode="w+", dtype=np.uint32, shape=(n, P))
        sig[mem] = sig_m  # singleton rows stay unwritten (sparse)
        sig.flush()
        del sig
        np.save(bands_path, bands)
        del bands
        exact = srng.integers(1, 2**63, size=n, dtype=np.uint64)
        exact[mem[exact_copy]] = base_exact[cm[exact_copy]]
        n_chars = srng.integers(300, 3000, size=n, dtype=np.int32)
        n_chars[mem] = base_chars[cm] + np.where(exact_copy, 0, srng.integers(-50, 50, len(mem))).astype(np.int32)
        ids = splitmix64(np.arange(a, b, dtype=np.uint64) + np.uint64(seed << 40))
        writer = shards.ParquetShardWriter(wd.docs_path(name), DOCS_SCHEMA)
        for r in range(0, n, 65536):
            k = min(65536, n - r)
            writer.write(pa.RecordBatch.from_arrays([
                pa.array([f"{x:016x}" for x in ids[r: r + k].tolist()], pa.string()),
                pa.array(n_chars[r: r + k]), pa.array(np.maximum(1, n_chars[r: r + k] - 4)),
                pa.array(exact[r: r + k]),
            ], schema=DOCS_SCHEMA))
        docs_file = writer.finish()

        def synthetic(p: Path) -> dict:
            return {"path": str(p), "bytes": p.stat().st_size,
                    "sha256": f"synthetic:{seed}:{n_docs}:{share}:{giant}:{name}"}  # noqa: B023

        source = {"path": f"synthetic/{name}.parquet", "bytes": 0, "sha256": synthetic(sig_path)["sha256"]}
        fp = fingerprint({"settings": settings.__dict__, "input": [0, source["sha256"]]})
        unit = completion.start(wd.sig_manifest(name), STEP, [sig_path, bands_path, docs_file], shard=name)
        unit.write({"input": source, "docs": n, "bytes": 0, "empty_docs": 0, "outputs": {
            "docs": synthetic(docs_file), "sig": synthetic(sig_path), "bands": synthetic(bands_path)}},
            fingerprint=fp)
    return {"docs": n_docs, "shards": n_shards, "clusters_made": int(len(sizes)), "docs_in_clusters": n_members,
            "largest_made": int(sizes.max())}


def du_gb(path: Path) -> float:
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 1e9


def print_row(step: str, docs: int, mb: float, r: dict) -> None:
    cpu = max(r["cpu"], 1e-9)
    print(f"  {step:10s} {r['seconds']:8.1f} s wall {r['cpu']:8.1f} s cpu  {docs / cpu:11,.0f} docs/s per core  "
          f"{mb / cpu:8.1f} MB/s per core  peak RSS {r['peak_rss_mb']:7.0f} MB  {r.get('extra') or ''}", flush=True)


def synth(a) -> None:
    for n_docs in [int(float(x)) for x in a.docs.split(",")]:
        work = Path(a.work) / f"synth-{n_docs}"
        t0 = time.perf_counter()
        if a.reuse and (work / "synth.json").exists():  # the signatures of an earlier run (same settings)
            info = json.loads((work / "synth.json").read_text())
            for step_dir in ("pairs", "clusters"):  # so that the steps run again instead of being skipped
                shutil.rmtree(work / step_dir, ignore_errors=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
            info = synthesize(work, n_docs, a.dup_share, a.giant)
            info["synth_seconds"] = time.perf_counter() - t0
            info["disk_gb_signatures"] = du_gb(work)
            (work / "synth.json").write_text(json.dumps(info))
        info["text_mb"] = n_docs * a.doc_bytes / 1e6
        partitions = a.partitions or max(1, math.ceil(n_docs / PAIRS_DOCS_PER_PARTITION))
        print(f"{n_docs:,} docs in {info['shards']} shards: {info['docs_in_clusters']:,} in "
              f"{info['clusters_made']:,} clusters (largest {info['largest_made']:,}); synthesized in "
              f"{info['synth_seconds']:.0f} s, {info['disk_gb_signatures']:.1f} GB on disk; "
              f"pairs --partitions {partitions}", flush=True)
        unit, units = (int(x) for x in a.units.split("/")) if a.units else (0, 1)
        res = {"pairs": run_step("pairs", work=str(work), partitions=partitions, verify=a.verify,
                                 shard_index=unit, num_shards=units)}
        info["verify_threshold"] = a.verify
        info["code"] = str(bench_dedup.CODE)
        print_row("pairs", n_docs, info["text_mb"], res["pairs"])
        extra = res["pairs"]["extra"]
        candidates = int(extra["candidate pairs"].replace(",", ""))
        print(f"  verification {extra['verify_cpu']:.1f} s cpu: {extra['verify_cpu'] / max(candidates, 1) * 1e6:.2f} "
              f"us per candidate ({res['pairs']['user']:.1f} s user + {res['pairs']['sys']:.1f} s system in all)",
              flush=True)
        if a.units:  # only some band units: no clusters
            (Path(a.work) / f"scale-{n_docs}-units-{unit}-{units}.json").write_text(
                json.dumps({"info": info, "steps": res}, indent=1))
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
            continue
        info["disk_gb_pairs"] = du_gb(work / "pairs")
        if a.free_disk:  # clusters reads only the docs tables and the pairs
            for p in (work / "signatures").glob("*.npy"):
                p.unlink()
        res["clusters"] = run_step("clusters", work=str(work))
        print_row("clusters", n_docs, info["text_mb"], res["clusters"])
        info["clusters_manifest"] = {k: v for k, v in json.loads((work / "clusters" / "manifest.json").read_text())
                                     .items() if k in ("docs_in_clusters", "clusters", "largest_cluster", "removed",
                                                       "union_find_passes")}
        pair_counts = [json.loads(p.read_text())["pairs"] for p in (work / "pairs" / "manifests").glob("*.json")]
        info["pairs"] = int(sum(pair_counts))
        info["partitions"] = partitions
        print(f"  {info['pairs']:,} pairs ({info['disk_gb_pairs']:.1f} GB); {info['clusters_manifest']}", flush=True)
        (Path(a.work) / f"scale-{n_docs}.json").write_text(json.dumps({"info": info, "steps": res}, indent=1))
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def real(a) -> None:
    import pyarrow.parquet as pq

    root = Path(a.work) / f"real-{a.docs}"
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.perf_counter()
    _, nbytes = synth_corpus(root / "corpus", a.docs, a.shards)
    print(f"real: {a.docs:,} documents, {nbytes / 1e6:.0f} MB of text in {a.shards} shards "
          f"(built in {time.perf_counter() - t0:.0f} s)", flush=True)
    inputs = sorted(str(p) for p in (root / "corpus").glob("*.parquet"))
    res = {}
    for step in ("signatures", "pairs", "clusters", "filter"):
        res[step] = run_step(step, inputs=inputs, work=str(root / "work"), out=str(root / "out"), partitions=1)
        print_row(step, a.docs, nbytes / 1e6, res[step])
    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in (root / "out").glob("*.parquet"))
    total_cpu = sum(r["cpu"] for r in res.values())
    print(f"  all steps {total_cpu:.0f} s cpu: {nbytes / 1e6 / total_cpu:.1f} MB/s per core; kept {kept:,}",
          flush=True)
    (Path(a.work) / f"real-{a.docs}.json").write_text(json.dumps({"docs": a.docs, "mb": nbytes / 1e6,
                                                                  "kept": kept, "steps": res}, indent=1))
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["synth", "real"])
    ap.add_argument("--work", default="/tmp/dedup-scale")
    ap.add_argument("--docs", default="1000000,10000000")
    ap.add_argument("--dup-share", type=float, default=0.1)
    ap.add_argument("--giant", type=int, default=MAX_CLUSTER)
    ap.add_argument("--partitions", type=int, default=0, help="pairs --partitions (0: one per 25 M documents)")
    ap.add_argument("--shards", type=int, default=8, help="real: input shards")
    ap.add_argument("--doc-bytes", type=int, default=1512, help="synth: text bytes per document for MB/s")
    ap.add_argument("--free-disk", action="store_true", help="delete .sig/.bands files before clusters")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--verify", type=float, default=0.6, help="pairs --verify-threshold (0: no verification)")
    ap.add_argument("--reuse", action="store_true", help="reuse the synthesized signatures of a kept run")
    ap.add_argument("--units", default="", metavar="I/N",
                    help="synth: run only pairs task I of N (--shard-index/--num-shards; 33 units) and no clusters")
    ap.add_argument("--code", default=str(ROOT),
                    help="the checkout whose corpus_tool the steps run (default: this one; e.g. a main checkout "
                         "for a before/after comparison)")
    a = ap.parse_args()
    bench_dedup.CODE = Path(a.code).resolve()
    if a.what == "real":
        a.docs = int(float(a.docs)) if "," not in a.docs else 1_000_000
    {"synth": synth, "real": real}[a.what](a)


if __name__ == "__main__":
    main()
