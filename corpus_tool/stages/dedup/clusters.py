"""Step 3: connected components over all pairs, and which document of each cluster stays. One task.

Union-find over numpy arrays, streaming the pair files from disk in chunks:

- `parent` holds one int32 per document (int64 from 2**31 documents on) and every root is the smallest
  global index of its component: a hook always points a larger root at a smaller one, so there are no
  cycles and the result does not depend on the order of the pairs.
- a pass over all pairs finds both roots of every pair (vectorised pointer chasing), hooks the larger root
  under the smaller (`np.minimum.at`) and compresses the paths of the nodes it touched; passes repeat until
  one changes nothing (2-4 passes in practice).
- `touched` (one byte per document) marks documents that appear in any pair; only those are looked at
  afterwards.

So memory is 5 bytes per document (9 from 2**31 on) plus one chunk of pairs (16 MB), plus about 60 bytes
per document that is in a cluster (index, root, length, exact hash, id string) for the decisions. 100 million
documents need 0.5 GB for the union-find; with 20 million of them in clusters, about 1.7 GB in all.

Keeper rule: in each cluster the document with the most characters (after normalisation: spaces and
punctuation do not count) stays; ties go to the smallest global
index (the earliest shard in name order, then the earliest row). The others are removed with reason
`exact_duplicate` when their normalised text hashes equal to the keeper's, else `near_duplicate`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool import completion, schema, shards
from corpus_tool.completion import Summary
from corpus_tool.errors import UsageError
from corpus_tool.stages.dedup.work import WorkDir, band_names, fingerprint, npy_header, read_npy_rows, shard_of

STEP = "dedup-clusters"
PAIR_CHUNK = 1 << 20
EXACT = "exact_duplicate"
NEAR = "near_duplicate"

DECISIONS_SCHEMA = pa.schema([
    pa.field("row", pa.int64(), nullable=False),
    pa.field(schema.ID, pa.string(), nullable=False),
    pa.field(schema.REASON, pa.string(), nullable=False),
    pa.field("keeper_id", pa.string(), nullable=False),
])
CLUSTERS_SCHEMA = pa.schema([
    pa.field("cluster", pa.int64(), nullable=False),
    pa.field("size", pa.int64(), nullable=False),
    pa.field("shard", pa.string(), nullable=False),
    pa.field("row", pa.int64(), nullable=False),
    pa.field(schema.ID, pa.string(), nullable=False),
    pa.field("kept", pa.bool_(), nullable=False),
    pa.field(schema.REASON, pa.string()),
    pa.field("keeper_id", pa.string(), nullable=False),
])


# ------------------------------------------------------------------------------------------ union-find


def find(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Roots of the nodes `x` (vectorised pointer chasing)."""
    r = parent[x]
    while True:
        rr = parent[r]
        if np.array_equal(rr, r):
            return r
        r = rr


def union_pairs(n_docs: int, pair_chunks) -> tuple[np.ndarray, np.ndarray, int]:
    """(parent, touched, passes) after uniting every pair; `pair_chunks()` yields (k, 2) arrays anew on
    every call."""
    dtype = np.int32 if n_docs < 2**31 - 1 else np.int64
    parent = np.arange(n_docs, dtype=dtype)
    touched = np.zeros(n_docs, dtype=bool)
    passes = 0
    while True:
        passes += 1
        changed = 0
        for chunk in pair_chunks():
            u = chunk[:, 0].astype(dtype, copy=False)
            v = chunk[:, 1].astype(dtype, copy=False)
            if passes == 1:
                touched[u] = True
                touched[v] = True
            ru, rv = find(parent, u), find(parent, v)
            diff = ru != rv
            if diff.any():
                changed += int(diff.sum())
                np.minimum.at(parent, np.maximum(ru[diff], rv[diff]), np.minimum(ru[diff], rv[diff]))
            parent[u] = find(parent, u)
            parent[v] = find(parent, v)
        if not changed:
            return parent, touched, passes


def choose_keepers(members: np.ndarray, roots: np.ndarray, n_chars: np.ndarray) -> np.ndarray:
    """For each member (sorted global indices), the global index of its cluster's keeper: the longest
    member, ties by the smallest index."""
    order = np.lexsort((members, -n_chars.astype(np.int64), roots))
    sorted_roots = roots[order]
    starts = np.concatenate([[True], sorted_roots[1:] != sorted_roots[:-1]])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    keeper = np.empty(len(members), dtype=np.int64)
    keeper[order] = members[order[first]]
    return keeper


# ------------------------------------------------------------------------------------------ the step


def _pair_files(wd: WorkDir, names: list[str], sig_fp: str) -> list[dict]:
    missing = [b for b in names if not wd.pairs_manifest(b).exists()]
    if missing:
        raise UsageError(
            f"{wd.root}: pairs of band(s) {', '.join(missing[:8])} are not finished; run "
            f"`corpus-tool dedup pairs {wd.root}` (all array tasks) first"
        )
    out = []
    for b in names:
        m = shards.read_manifest(wd.pairs_manifest(b))
        if m.get("signatures_fingerprint") != sig_fp:
            raise UsageError(
                f"{wd.pairs_manifest(b)}: these pairs were made from other signatures; rerun "
                f"`corpus-tool dedup pairs {wd.root}`"
            )
        out.append(m)
    return out


def _column_for(wd: WorkDir, shard_list: list[dict], members: np.ndarray, column: str) -> pa.ChunkedArray:
    """Column values of the documents `members` (sorted global indices), read shard by shard."""
    offsets = np.array([int(m["offset"]) for m in shard_list], dtype=np.int64)
    where = shard_of(members, offsets)
    parts = []
    for s in np.unique(where):
        rows = members[where == s] - offsets[s]
        col = pq.read_table(wd.docs_path(shard_list[s]["shard"]), columns=[column]).column(column)
        parts.append(col.take(pa.array(rows)))
    if not parts:
        return pa.chunked_array([], type=pa.string() if column == schema.ID else pa.int64())
    return pa.chunked_array([c for p in parts for c in p.chunks])


def compute_clusters(work: str, *, overwrite: bool = False) -> Summary:
    wd = WorkDir(work)
    settings = wd.settings()
    shard_list = wd.signature_shards()
    sig_fp = wd.signatures_fingerprint(shard_list)
    bands = band_names(settings)
    pair_manifests = _pair_files(wd, bands, sig_fp)
    fp = fingerprint({"signatures": sig_fp, "pairs": [m["outputs"] for m in pair_manifests]})
    summary = Summary(STEP, unit="step", filters=False)
    if not overwrite and completion.is_current(wd.clusters_manifest, fp):
        summary.skipped = 1
        return summary
    started = time.perf_counter()
    decisions = [wd.decisions_path(m["shard"]) for m in shard_list]
    unit = completion.start(wd.clusters_manifest, STEP, [wd.clusters_path, *decisions])
    n_docs = sum(int(m["docs"]) for m in shard_list)

    def chunks() -> Iterator[np.ndarray]:  # plain reads, not a memory map: RSS stays one chunk
        for b in bands:
            n = npy_header(wd.pairs_path(b))[0][0]
            for s in range(0, n, PAIR_CHUNK):
                yield read_npy_rows(wd.pairs_path(b), s, s + PAIR_CHUNK)

    parent, touched, passes = union_pairs(n_docs, chunks)
    members = np.nonzero(touched)[0].astype(np.int64)
    del touched
    roots = find(parent, members).astype(np.int64)
    del parent
    n_chars = _column_for(wd, shard_list, members, "n_chars").to_numpy()
    keeper = choose_keepers(members, roots, n_chars)
    exact = _column_for(wd, shard_list, members, "exact").to_numpy()
    ids = _column_for(wd, shard_list, members, schema.ID).combine_chunks()
    keeper_pos = np.searchsorted(members, keeper)
    keeper_ids = ids.take(pa.array(keeper_pos))
    kept = keeper == members
    reason = np.where(kept, None, np.where(exact == exact[keeper_pos], EXACT, NEAR))
    unique_roots, cluster, size = np.unique(roots, return_inverse=True, return_counts=True)
    offsets = np.array([int(m["offset"]) for m in shard_list], dtype=np.int64)
    where = shard_of(members, offsets)
    shard_names = np.array([m["shard"] for m in shard_list], dtype=object)

    # The cluster table: by cluster, the keeper first, then by global index.
    order = np.lexsort((members, ~kept, cluster))
    table = pa.Table.from_arrays([
        pa.array(cluster[order], pa.int64()),
        pa.array(size[cluster][order], pa.int64()),
        pa.array(shard_names[where][order].tolist(), pa.string()),
        pa.array((members - offsets[where])[order], pa.int64()),
        ids.take(pa.array(order)),
        pa.array(kept[order]),
        pa.array(reason[order].tolist(), pa.string()),
        keeper_ids.take(pa.array(order)),
    ], schema=CLUSTERS_SCHEMA)
    _write_table(wd.clusters_path, table)

    # One decisions file per shard (empty where nothing goes), in row order.
    removed = ~kept
    for s, m in enumerate(shard_list):
        sel = np.nonzero(removed & (where == s))[0]
        _write_table(wd.decisions_path(m["shard"]), pa.Table.from_arrays([
            pa.array(members[sel] - offsets[s], pa.int64()),
            ids.take(pa.array(sel, pa.int64())),
            pa.array(reason[sel].tolist(), pa.string()),
            keeper_ids.take(pa.array(sel, pa.int64())),
        ], schema=DECISIONS_SCHEMA))
    n_exact = int((reason == EXACT).sum())
    n_near = int((reason == NEAR).sum())
    unit.write({
        "docs": n_docs,
        "docs_in_clusters": int(len(members)),
        "clusters": int(len(unique_roots)),
        "largest_cluster": int(size.max()) if len(size) else 0,
        "removed": {EXACT: n_exact, NEAR: n_near},
        "union_find_passes": passes,
        "outputs": {"clusters": shards.describe_file(wd.clusters_path)},
    }, fingerprint=fp)
    summary.done = 1
    summary.docs_in = n_docs
    summary.seconds = time.perf_counter() - started
    summary.extra = {"clusters": f"{len(unique_roots):,}", EXACT: f"{n_exact:,}", NEAR: f"{n_near:,}"}
    return summary


def _write_table(final, table: pa.Table) -> None:
    w = shards.ParquetShardWriter(final, table.schema)
    for batch in table.to_batches(max_chunksize=65536):
        w.write(batch)
    w.finish()

