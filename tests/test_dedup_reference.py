"""datasketch as the reference MinHash: our one-permutation signatures against its classic MinHash on the same
shingles with the same number of hash values, and `--engine datasketch` end to end."""

from __future__ import annotations

import random
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from dedup_fixtures import PARAGRAPHS, edit_chars, pseudo_text, write_shard

from corpus_tool.stages.dedup.hashing import (
    ShingleSettings,
    batch_signatures,
    code_points,
    estimated_jaccard,
    normalize_code_points,
)
from corpus_tool.stages.dedup.reference import INSTALL_HINT, char_shingles

S = ShingleSettings()
BINS = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0001])
PER_BIN = 24


def _normalized(text: str) -> str:
    cps, lengths = code_points([text])
    norm, _ = normalize_code_points(cps, lengths)
    return norm.tobytes().decode("utf-32-le")


def _text_pairs(rng: random.Random) -> list[tuple[str, str]]:
    """Pairs of real-text documents (2-5 paragraphs), sharing 0 to all of their paragraphs in another order,
    with 0-10% of the characters edited: true Jaccard similarities from 0 to 1."""
    pairs = []
    for _ in range(500):
        perm = rng.sample(range(len(PARAGRAPHS)), len(PARAGRAPHS))
        ka = rng.randint(2, 5)
        shared = rng.randint(0, ka)
        extra = rng.randint(0 if shared else 1, min(2, len(PARAGRAPHS) - ka))
        b = perm[:shared] + perm[ka: ka + extra]
        rng.shuffle(b)
        text_b = edit_chars(rng, "\n".join(PARAGRAPHS[i] for i in b), rng.choice([0, 0.005, 0.01, 0.03, 0.1]))
        pairs.append(("\n".join(PARAGRAPHS[i] for i in perm[:ka]), text_b))
    return pairs


def test_one_permutation_estimates_are_within_datasketch_error():
    """For the same shingles and 128 hash values, our estimate of Jaccard similarity is unbiased and no worse
    than datasketch's classic MinHash, and within the k-permutation standard error sqrt(J(1-J)/k), in every
    fifth of the similarity range."""
    datasketch = pytest.importorskip("datasketch")  # the `test` extra installs it
    k = S.num_perm
    rows, count = [], np.zeros(len(BINS) - 1, int)
    for a, b in _text_pairs(random.Random(0)):
        sa, sb = char_shingles(_normalized(a), S.ngram), char_shingles(_normalized(b), S.ngram)
        true = len(sa & sb) / len(sa | sb)
        where = int(np.searchsorted(BINS, true, side="right")) - 1
        if count[where] == PER_BIN:
            continue
        count[where] += 1
        bs = batch_signatures([a, b], S)
        ours = estimated_jaccard(bs.sig[:1], bs.sig[1:])[0]
        ma, mb = datasketch.MinHash(num_perm=k, seed=S.seed), datasketch.MinHash(num_perm=k, seed=S.seed)
        ma.update_batch(sa)
        mb.update_batch(sb)
        rows.append((true, ours, ma.jaccard(mb)))
    assert count.tolist() == [PER_BIN] * (len(BINS) - 1)  # the whole range is covered
    true, ours, ref = (np.array(c) for c in zip(*rows, strict=True))
    err, ref_err = ours - true, ref - true
    sigma = np.sqrt(true * (1 - true) / k)
    rmse, ref_rmse = np.sqrt((err**2).mean()), np.sqrt((ref_err**2).mean())
    report = f"ours: bias {err.mean():+.4f} rmse {rmse:.4f}; datasketch: bias {ref_err.mean():+.4f} rmse {ref_rmse:.4f}"
    assert abs(err.mean()) < 0.01, report
    assert rmse <= 1.1 * ref_rmse, report
    inner = sigma > 0
    assert ((err[inner] / sigma[inner]) ** 2).mean() < 1.5, report  # the binomial error of k permutations
    assert np.all(np.abs(err[inner]) <= 4 * sigma[inner]), report
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        sel = (true >= lo) & (true < hi)
        assert np.sqrt((err[sel] ** 2).mean()) <= 1.5 * np.sqrt((sigma[sel] ** 2).mean()) + 0.01, (lo, report)
    assert np.all(ours[true == 1] == 1) and np.all(ref[true == 1] == 1)


def _clusters(work) -> set[frozenset[str]]:
    t = pq.read_table(work / "clusters" / "clusters.parquet", columns=["id", "cluster"]).to_pylist()
    by: dict[int, set[str]] = {}
    for r in t:
        by.setdefault(r["cluster"], set()).add(r["id"])
    return {frozenset(v) for v in by.values()}


def test_datasketch_engine_finds_the_same_clusters(tmp_path, run_cli):
    pytest.importorskip("datasketch")
    rng = random.Random(11)
    docs = {f"a{i}": pseudo_text(rng, rng.randint(400, 1500)) for i in range(40)}
    real = "\n".join(PARAGRAPHS)
    rows = list(docs.items())
    inp = tmp_path / "in"
    write_shard(inp / "a.parquet", rows[:20] + [("real", real)])
    write_shard(inp / "b.parquet", rows[20:] + [
        ("near-of-a3", edit_chars(rng, docs["a3"], 0.03)),
        ("near-of-a30", docs["a30"][:-40] + "。本文来源：网络，如有侵权请联系删除。"),
        ("exact-of-a7", "  " + docs["a7"].replace("，", ", ") + "\n"),
        ("real-cut", real[: int(len(real) * 0.8)]),
        ("real-edited", edit_chars(rng, real, 0.02)),
    ])
    found = {}
    for engine in ("numpy", "datasketch"):
        out = tmp_path / engine
        run_cli("dedup", str(inp), "-o", str(out), "--engine", engine)
        found[engine] = _clusters(out / "dedup-work")
    assert found["numpy"] == {frozenset({"a3", "near-of-a3"}), frozenset({"a30", "near-of-a30"}),
                              frozenset({"a7", "exact-of-a7"}), frozenset({"real", "real-cut", "real-edited"})}
    assert found["datasketch"] == found["numpy"]
    # The engine is recorded with the settings, so a work directory never mixes the two.
    assert '"engine": "datasketch"' in (tmp_path / "datasketch" / "dedup-work" / "config.json").read_text()
    assert "engine" not in (tmp_path / "numpy" / "dedup-work" / "config.json").read_text()


def test_datasketch_engine_without_datasketch_says_how_to_install(tmp_path):
    import subprocess

    write_shard(tmp_path / "in" / "a.parquet", [("a", "这是一个测试文档。")])
    code = ("import sys; sys.modules['datasketch'] = None; from corpus_tool.cli import main; "
            f"main(['dedup', {str(tmp_path / 'in')!r}, '-o', {str(tmp_path / 'out')!r}, '--engine', 'datasketch'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"corpus-tool: error: {INSTALL_HINT}"]
    assert "pip install datasketch" in INSTALL_HINT
    assert not (tmp_path / "out").exists()  # refused before anything was written
