"""Step 2: LSH bands -> candidate pairs, one array task per band or set of bands.

For one band, every document has one 64-bit key (a hash of its `rows` signature values). Documents with
equal keys are candidates. Keys are sorted (numpy argsort), and every document in a run of equal keys is
paired with the run's first document (the smallest global index): a star, not all pairs, so a bucket of
k documents gives k - 1 pairs and connected components are unchanged. The exact-duplicate "band" does the
same with the hash of the normalised text.

Memory: about 40 bytes per document per band (key, index, sort order, sorted copies), divided by
`partitions`: with partitions=K each band is done in K passes, each keeping only the keys whose hash falls
in that partition (the signature files are read K times). Pairs themselves are 16 bytes each.

Optional verification (`verify_threshold`): a candidate pair is kept only when the share of equal values in
the two full signatures (the estimated Jaccard similarity) reaches the threshold. This removes the
false positives of the S-curve's tail at the cost of one random read of two signatures per pair.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow.parquet as pq

from corpus_tool import completion, shards
from corpus_tool.completion import Summary
from corpus_tool.stages.dedup.hashing import EMPTY_BAND, estimated_jaccard
from corpus_tool.stages.dedup.work import (
    EXACT_BAND,
    RowReader,
    WorkDir,
    band_names,
    fingerprint,
    npy_header,
    read_npy_rows,
    save_npy,
)

STEP = "dedup-pairs"
# Pairs verified at once. Small: each signature row read maps up to 64 KB of cached file pages around it
# (the kernel's fault-around), counted in RSS until released after each side of a chunk.
VERIFY_CHUNK = 1 << 12
VERIFY_FIRSTS = 1 << 17  # distinct first members whose signatures are held at once (64 MB)
VERIFY_CLIQUE_MAX = 8  # with verification, buckets of up to this many documents are checked pair by pair


def my_bands(names: list[str], index: int, count: int) -> list[str]:
    """Task i of n takes the band units whose position is i modulo n (as shards are assigned), so any
    array size from 1 to the number of units works and every unit goes to exactly one task."""
    return [b for i, b in enumerate(names) if i % count == index]


def compute_pairs(
    work: str,
    *,
    shard_index: int | None = None,
    num_shards: int | None = None,
    overwrite: bool = False,
    partitions: int = 1,
    verify_threshold: float | None = None,
) -> Summary:
    wd = WorkDir(work)
    settings = wd.settings()
    shard_list = wd.signature_shards()
    sig_fp = wd.signatures_fingerprint(shard_list)
    index, count = shards.array_position(shard_index, num_shards)
    summary = Summary(STEP, unit="band", filters=False)
    started = time.perf_counter()
    total_docs = sum(int(m["docs"]) for m in shard_list)
    candidates = kept = 0
    for band in my_bands(band_names(settings), index, count):
        verify = None if band == EXACT_BAND else verify_threshold
        fp = fingerprint({"signatures": sig_fp, "band": band, "verify_threshold": verify})
        if not overwrite and completion.is_current(wd.pairs_manifest(band), fp):
            summary.skipped += 1
            continue
        unit = completion.start(wd.pairs_manifest(band), STEP, [wd.pairs_path(band)], band=band)
        clique = VERIFY_CLIQUE_MAX if verify is not None else 0
        pairs = band_pairs(wd, shard_list, band, settings.bands, partitions, clique)
        n_candidates = len(pairs)
        if verify is not None and len(pairs):
            pairs = pairs[verified(wd, shard_list, pairs) >= verify]
        save_npy(wd.pairs_path(band), pairs)
        unit.write({
            "docs": total_docs,
            "candidate_pairs": n_candidates,
            "pairs": int(len(pairs)),
            "verify_threshold": verify,
            "signatures_fingerprint": sig_fp,
            "outputs": {"pairs": shards.describe_file(wd.pairs_path(band))},
        }, fingerprint=fp)
        candidates += n_candidates
        kept += len(pairs)
        summary.done += 1
    summary.docs_in = total_docs
    summary.seconds = time.perf_counter() - started
    summary.extra = {"candidate pairs": f"{candidates:,}", "pairs kept": f"{kept:,}"}
    return summary


def _band_keys(wd: WorkDir, m: dict, band: str, n_bands: int) -> np.ndarray:
    if band == EXACT_BAND:
        col = pq.read_table(wd.docs_path(m["shard"]), columns=["exact"]).column("exact")
        return col.to_numpy().astype(np.uint64, copy=False)
    path = wd.bands_path(m["shard"])
    shape = npy_header(path)[0]
    if shape[0] != n_bands:
        raise ValueError(f"{path}: {shape[0]} bands, config says {n_bands}")
    return read_npy_rows(path, int(band), int(band) + 1)[0]


def band_pairs(
    wd: WorkDir, shard_list: list[dict], band: str, n_bands: int, partitions: int = 1, clique_max: int = 0
) -> np.ndarray:
    """(pairs, 2) int64 global indices (lo < hi), sorted, unique. Every bucket gives its star (each member
    with the first); buckets of 3..`clique_max` documents also give every other pair, so that verification
    can keep an edge between two members even when one of them is not similar enough to the first."""
    out: list[np.ndarray] = []
    total = sum(int(m["docs"]) for m in shard_list)
    itype = np.int32 if total < 2**31 else np.int64  # global indices in flight: 4 bytes each up to 2^31 docs
    for part in range(partitions):
        keys_list, idx_list = [], []
        for m in shard_list:
            keys = _band_keys(wd, m, band, n_bands)
            sel = keys != EMPTY_BAND if band != EXACT_BAND else np.ones(len(keys), bool)
            if partitions > 1:
                sel &= (keys >> np.uint64(32)) % np.uint64(partitions) == np.uint64(part)
            rows = np.nonzero(sel)[0]
            keys_list.append(keys[rows])
            idx_list.append((rows + int(m["offset"])).astype(itype))
        keys = np.concatenate(keys_list)
        idx = np.concatenate(idx_list)
        del keys_list, idx_list
        order = np.argsort(keys, kind="stable")  # equal keys keep ascending global index
        keys = keys[order]
        idx = idx[order]
        del order
        same = keys[1:] == keys[:-1]
        if not same.any():
            continue
        # Only documents in a bucket of two or more go on (most documents are alone in every band).
        in_bucket = np.zeros(len(keys), dtype=bool)
        in_bucket[1:] |= same
        in_bucket[:-1] |= same
        del same
        keys, idx = keys[in_bucket], idx[in_bucket]
        del in_bucket
        starts = np.ones(len(keys), dtype=bool)
        starts[1:] = keys[1:] != keys[:-1]
        del keys
        anchor_pos = np.maximum.accumulate(np.where(starts, np.arange(len(idx), dtype=itype), 0))
        member = ~starts
        out.append(np.stack([idx[anchor_pos[member]], idx[member]], axis=1).astype(np.int64))
        del anchor_pos, member
        if clique_max >= 3:
            out.extend(p.astype(np.int64) for p in _small_bucket_pairs(idx, np.nonzero(starts)[0], clique_max))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(out)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _small_bucket_pairs(idx: np.ndarray, run_starts: np.ndarray, clique_max: int) -> list[np.ndarray]:
    """The pairs of members (not the first) of every bucket of 3..clique_max documents."""
    sizes = np.diff(np.append(run_starts, len(idx)))
    out = []
    for size in range(3, clique_max + 1):
        firsts = run_starts[sizes == size]
        if len(firsts) == 0:
            continue
        a, b = np.triu_indices(size, k=1)
        keep = a > 0  # pairs with the first member are in the star already
        a, b = a[keep], b[keep]
        out.append(np.stack([idx[firsts[:, None] + a].ravel(), idx[firsts[:, None] + b].ravel()], axis=1))
    return out


def gather_signatures(wd: WorkDir, shard_list: list[dict], idx: np.ndarray, reader: RowReader) -> np.ndarray:
    """Full signatures of the documents with global indices `idx` (reads from the .sig.npy files). Each
    distinct document is read once, in index order (a star's first member recurs in every pair of its
    bucket), and each shard's rows are found by a binary search, not a scan per shard."""
    uniq, inverse = np.unique(idx, return_inverse=True)
    offsets = np.array([int(m["offset"]) for m in shard_list], dtype=np.int64)
    bounds = np.searchsorted(uniq, offsets)
    rows = None
    for s in range(len(shard_list)):
        lo, hi = int(bounds[s]), int(bounds[s + 1]) if s + 1 < len(shard_list) else len(uniq)
        if lo == hi:
            continue
        got = reader.rows(wd.sig_path(shard_list[s]["shard"]), uniq[lo:hi] - offsets[s])
        if rows is None:
            rows = np.empty((len(uniq), got.shape[1]), dtype=np.uint32)
        rows[lo:hi] = got
    return rows[inverse] if rows is not None else np.zeros((0, 0), np.uint32)


def verified(wd: WorkDir, shard_list: list[dict], pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of each pair (sorted by first member, as band_pairs gives them), from the
    full signatures, read in index order: the distinct first members (a star's first member recurs in every
    pair of its bucket) in groups of VERIFY_FIRSTS, held in memory, then each group's second members in
    ascending order. Random reads of both rows of every pair cost 5x more per pair at 10^8 documents than at
    10^7 (page faults all over the signature files)."""
    est = np.empty(len(pairs), dtype=np.float64)
    if not len(pairs):
        return est
    if np.any(pairs[1:, 0] < pairs[:-1, 0]):
        raise ValueError("verified() needs pairs sorted by their first member")
    firsts, starts = np.unique(pairs[:, 0], return_index=True)
    reader = RowReader()
    try:
        for g in range(0, len(firsts), VERIFY_FIRSTS):
            group = firsts[g: g + VERIFY_FIRSTS]
            a = int(starts[g])
            b = int(starts[g + VERIFY_FIRSTS]) if g + VERIFY_FIRSTS < len(firsts) else len(pairs)
            group_sig = np.concatenate([_read_released(wd, shard_list, group[c: c + VERIFY_CHUNK], reader)
                                        for c in range(0, len(group), VERIFY_CHUNK)])
            sub = pairs[a:b]
            order = np.argsort(sub[:, 1], kind="stable")
            for c in range(0, len(order), VERIFY_CHUNK):
                sel = order[c: c + VERIFY_CHUNK]
                second = _read_released(wd, shard_list, sub[sel, 1], reader)
                first = group_sig[np.searchsorted(group, sub[sel, 0])]
                est[a + sel] = estimated_jaccard(first, second)
    finally:
        reader.close()
    return est


def _read_released(wd: WorkDir, shard_list: list[dict], idx: np.ndarray, reader: RowReader) -> np.ndarray:
    rows = gather_signatures(wd, shard_list, idx, reader)
    reader.release()
    return rows
