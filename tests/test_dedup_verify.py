"""Verification of candidate pairs at scale (verify.py): the external join gives exactly the similarities of
a plain row-by-row check, whatever the chunking, with the spill in memory or in files; read_rows returns the
rows np.load would."""

from __future__ import annotations

import random

import numpy as np
import pytest
from dedup_fixtures import edit_chars, pseudo_text, write_shard

from corpus_tool.stages.dedup import verify, work
from corpus_tool.stages.dedup.hashing import ShingleSettings, estimated_jaccard
from corpus_tool.stages.dedup.pairs import band_pairs, compute_pairs
from corpus_tool.stages.dedup.signatures import compute_signatures
from corpus_tool.stages.dedup.work import WorkDir, band_names, read_rows

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
    pairs = pairs[pairs[:, 0] < pairs[:, 1]]
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


@pytest.mark.parametrize("chunk_pairs, spill_bytes", [(None, None), (97, None), (97, 0), (1000, 0), (1, 0)])
def test_external_join_equals_a_plain_check(tmp_path, chunk_pairs, spill_bytes):
    wd, shard_list, pairs = synthetic_work(tmp_path, [700, 1, 450, 900, 333, 1200, 64])
    if chunk_pairs == 1:
        pairs = pairs[:300]  # one pair per chunk: 300 spill files
    want = plain_estimates(wd, shard_list, pairs)
    assert 0.2 < (want >= 0.6).mean() < 0.8  # both sides of the threshold are there
    spill = tmp_path / "spill"
    got = verify.verified(wd, shard_list, pairs, chunk_pairs=chunk_pairs, spill_bytes=spill_bytes,
                          spill_dir=spill)
    assert np.array_equal(got, want)
    # any order of the pairs gives the same estimates, pair by pair
    perm = np.random.default_rng(1).permutation(len(pairs))
    assert np.array_equal(verify.verified(wd, shard_list, pairs[perm], chunk_pairs=chunk_pairs,
                                          spill_bytes=spill_bytes, spill_dir=spill), want[perm])
    assert not spill.exists() or not any(spill.iterdir())  # the spill files are gone


def test_spill_files_are_used_and_removed(tmp_path, monkeypatch):
    """With spill_bytes 0 the first members' rows go through files, one per chunk, removed afterwards."""
    wd, shard_list, pairs = synthetic_work(tmp_path, [800, 800, 800])
    seen: list[int] = []
    real_take = verify._Spill.take

    def take(self, k, width, dtype):
        seen.append(len(list(self._file(k).parent.iterdir())))
        return real_take(self, k, width, dtype)

    monkeypatch.setattr(verify._Spill, "take", take)
    verify.verified(wd, shard_list, pairs, chunk_pairs=500, spill_bytes=0, spill_dir=tmp_path / "spill")
    chunks = -(-len(pairs) // 500)
    assert seen == list(range(chunks, 0, -1))  # every chunk's file exists until its turn
    assert list((tmp_path / "spill").iterdir()) == []


def test_read_rows_gaps_runs_and_spans(tmp_path, monkeypatch):
    rng = np.random.default_rng(7)
    data = rng.integers(0, 2**32, size=(5000, 128), dtype=np.uint32)
    path = tmp_path / "x.npy"
    np.save(path, data)
    for span_bytes in (work.READ_SPAN_BYTES, 512 * 40, 512):
        monkeypatch.setattr(work, "READ_SPAN_BYTES", span_bytes)
        for rows in (
            np.arange(5000),  # all: consecutive rows, read straight into the result
            np.arange(0, 5000, work.ROW_GAP + 1),  # gaps of exactly ROW_GAP rows: read through
            np.arange(3, 5000, work.ROW_GAP + 2),  # gaps just over: one read per row
            np.unique(rng.integers(0, 5000, 700)),
            np.array([4999]),
            np.array([], dtype=np.int64),
        ):
            assert np.array_equal(read_rows(path, rows), data[rows])
    with pytest.raises(ValueError, match="ascending"):
        read_rows(path, np.array([3, 2]))
    with pytest.raises(ValueError, match="below 5000"):
        read_rows(path, np.array([5000]))


def test_pairs_step_with_tiny_chunks_keeps_exactly_the_plainly_verified_pairs(tmp_path, monkeypatch):
    """The whole pairs step on real signatures of six shards with a page copied 400 times and edited copies
    (5-30% of characters changed: some above, some below the threshold), verified with chunks of 50 pairs and
    the spill in files: every band's pairs are the candidates whose plain similarity reaches 0.6."""
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
    monkeypatch.setattr(verify, "CHUNK_PAIRS", 50)
    monkeypatch.setattr(verify, "SPILL_BYTES", 0)
    monkeypatch.setattr(verify, "READ_BLOCK", 16)
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
    assert [p.name for p in (work_dir / "pairs").iterdir() if p.name.startswith(".verify")] == []
