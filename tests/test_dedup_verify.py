"""Verification of candidate pairs (pairs.verified): grouped, index-ordered reads of the signature rows give
exactly the similarities of a plain row-by-row check, on many shards with a giant bucket, and the pairs step
keeps exactly the candidates that pass it."""

from __future__ import annotations

import random

import numpy as np
import pytest
from dedup_fixtures import edit_chars, pseudo_text, write_shard

from corpus_tool.stages.dedup import pairs as pairs_module
from corpus_tool.stages.dedup.hashing import ShingleSettings, estimated_jaccard
from corpus_tool.stages.dedup.pairs import band_pairs, compute_pairs
from corpus_tool.stages.dedup.signatures import compute_signatures
from corpus_tool.stages.dedup.work import WorkDir, band_names

ONE = {"shard_index": 0, "num_shards": 1}


def plain_estimates(wd: WorkDir, shard_list: list[dict], pairs: np.ndarray) -> np.ndarray:
    sig = np.concatenate([np.load(wd.sig_path(m["shard"])) for m in shard_list])
    return estimated_jaccard(sig[pairs[:, 0]], sig[pairs[:, 1]])


def synthetic_work(tmp_path, sizes: list[int], seed: int = 3) -> tuple[WorkDir, list[dict], np.ndarray]:
    """Signature files of len(sizes) shards, and candidate pairs like band_pairs gives: a giant star (one
    document with 1,500 others in every shard), small buckets with all their pairs, random pairs. Half of
    the second members are edited copies of their first, so the similarities spread over 0..1."""
    rng = np.random.default_rng(seed)
    total = sum(sizes)
    sig = rng.integers(0, 2**32, size=(total, 128), dtype=np.uint32)
    star = np.stack([np.full(1500, 5), rng.choice(np.arange(6, total), 1500, replace=False)], axis=1)
    small = []
    for _ in range(300):
        members = np.sort(rng.choice(total, rng.integers(2, 6), replace=False))
        a, b = np.triu_indices(len(members), k=1)
        small.append(np.stack([members[a], members[b]], axis=1))
    rand = np.sort(rng.choice(total, size=(2000, 2)), axis=1)
    pairs = np.unique(np.concatenate([star, *small, rand]), axis=0)
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]  # np.unique(axis=0): sorted by first member, as band_pairs gives
    copies = pairs[rng.random(len(pairs)) < 0.5]
    for a, b in copies[np.unique(copies[:, 1], return_index=True)[1]]:
        keep = rng.random(128) < rng.uniform(0.3, 1.0)
        sig[b, keep] = sig[a, keep]
    wd = WorkDir(tmp_path / "work")
    shard_list, offset = [], 0
    for s, n in enumerate(sizes):
        name = f"part-{s:05d}"
        wd.sig_path(name).parent.mkdir(parents=True, exist_ok=True)
        np.save(wd.sig_path(name), sig[offset: offset + n])
        shard_list.append({"shard": name, "docs": n, "offset": offset})
        offset += n
    return wd, shard_list, pairs


@pytest.mark.parametrize("firsts, chunk", [(None, None), (50, 97), (7, 1), (1, 4096)])
def test_verification_equals_a_plain_check(tmp_path, monkeypatch, firsts, chunk):
    """pairs.verified reads the rows in groups of VERIFY_FIRSTS distinct first members and chunks of
    VERIFY_CHUNK pairs, across shards of very different sizes (one of a single document): whatever the
    grouping, every pair's estimate is that of its two rows."""
    if firsts:
        monkeypatch.setattr(pairs_module, "VERIFY_FIRSTS", firsts)
        monkeypatch.setattr(pairs_module, "VERIFY_CHUNK", chunk)
    wd, shard_list, cand = synthetic_work(tmp_path, [700, 1, 450, 900, 333, 1200, 64])
    want = plain_estimates(wd, shard_list, cand)
    assert 0.2 < (want >= 0.6).mean() < 0.8  # both sides of the threshold are there
    assert np.array_equal(pairs_module.verified(wd, shard_list, cand), want)
    with pytest.raises(ValueError, match="sorted by their first member"):
        pairs_module.verified(wd, shard_list, cand[::-1])


def test_pairs_step_with_tiny_groups_keeps_exactly_the_plainly_verified_pairs(tmp_path, monkeypatch):
    """The whole pairs step on real signatures of six shards with a page copied 400 times and edited copies
    (5-30% of characters changed: some above, some below the threshold), verified in groups of 16 first
    members and chunks of 50 pairs: every band's pairs are the candidates whose plain similarity reaches 0.6."""
    rng = random.Random(5)
    page = pseudo_text(rng, 700)
    originals = [pseudo_text(rng, rng.randint(400, 900)) for _ in range(120)]
    docs = [(f"copy{i}", page) for i in range(400)]
    docs += [(f"o{i}", t) for i, t in enumerate(originals)]
    docs += [(f"e{i}", edit_chars(rng, originals[i % 120], rate=0.05 * (1 + i % 6))) for i in range(360)]
    rng.shuffle(docs)
    inp = tmp_path / "in"
    for s in range(6):
        write_shard(inp / f"s{s}.parquet", docs[s::6])
    work_dir = tmp_path / "work"
    compute_signatures([str(inp)], str(work_dir), ShingleSettings(), **ONE)
    monkeypatch.setattr(pairs_module, "VERIFY_CHUNK", 50)
    monkeypatch.setattr(pairs_module, "VERIFY_FIRSTS", 16)
    compute_pairs(str(work_dir), verify_threshold=0.6, **ONE)
    wd = WorkDir(work_dir)
    shard_list = wd.signature_shards()
    dropped = 0
    for band in band_names(wd.settings())[:-1]:
        candidates = band_pairs(wd, shard_list, band, 32, 1, 8)
        keep = plain_estimates(wd, shard_list, candidates) >= 0.6
        assert len(candidates) > 400
        assert np.array_equal(np.load(wd.pairs_path(band)), candidates[keep])
        dropped += int((~keep).sum())
    assert dropped > 0  # the check removed something
