"""The MinHash pieces: normalisation, shingles, one-permutation signatures, band keys, union-find."""

from __future__ import annotations

import random

import numpy as np
from dedup_fixtures import ARTICLE, edit_chars, pseudo_text

from corpus_tool.stages.dedup.clusters import choose_keepers, find, union_pairs
from corpus_tool.stages.dedup.hashing import (
    EMPTY_BAND,
    ShingleSettings,
    batch_signatures,
    code_points,
    estimated_jaccard,
    normalize_code_points,
)

S = ShingleSettings()


def _normalized(text: str) -> str:
    cps, lengths = code_points([text])
    norm, _ = normalize_code_points(cps, lengths)
    return norm.tobytes().decode("utf-32-le")


def _jaccard(a: str, b: str, n: int = 5) -> float:
    sa = {a[i: i + n] for i in range(len(a) - n + 1)}
    sb = {b[i: i + n] for i in range(len(b) - n + 1)}
    return len(sa & sb) / len(sa | sb)


def test_normalisation_folds_width_case_punctuation_and_space():
    assert _normalized("Ｈｅｌｌｏ，  World！\n中文　测试。") == "helloworld中文测试"
    a, b = batch_signatures(["Ｈｅｌｌｏ，World！中文", "hello world 中文"], S).exact
    assert a == b
    # Nothing left after normalisation: the raw text decides, so different punctuation is not "equal".
    c, d = batch_signatures(["！！！", "？？？"], S).exact
    assert c != d


def test_estimate_tracks_true_jaccard():
    rng = random.Random(3)
    errors = []
    for rate in (0.0, 0.02, 0.05, 0.1, 0.2):
        for _ in range(6):
            doc = pseudo_text(rng, 1500)
            other = edit_chars(rng, doc, rate)
            bs = batch_signatures([doc, other], S)
            est = estimated_jaccard(bs.sig[:1], bs.sig[1:])[0]
            errors.append(est - _jaccard(_normalized(doc), _normalized(other)))
    errors = np.array(errors)
    assert abs(errors.mean()) < 0.03  # unbiased
    assert np.abs(errors).max() < 0.15  # 128 values: standard error about 0.04
    unrelated = batch_signatures([pseudo_text(rng, 1500), pseudo_text(rng, 1500)], S)
    assert estimated_jaccard(unrelated.sig[:1], unrelated.sig[1:])[0] < 0.05


def test_signatures_do_not_depend_on_the_batch_or_run():
    rng = random.Random(5)
    docs = [pseudo_text(rng, rng.randint(1, 3000)) for _ in range(20)] + ["", "短", "短文本", ARTICLE]
    together = batch_signatures(docs, S)
    for i, d in enumerate(docs):
        alone = batch_signatures([d], S)
        assert np.array_equal(alone.sig[0], together.sig[i])
        assert np.array_equal(alone.bands[:, 0], together.bands[:, i])
        assert alone.exact[0] == together.exact[i]
    other_seed = batch_signatures(docs, ShingleSettings(seed=7))
    assert not np.array_equal(other_seed.sig, together.sig)


def test_signatures_are_pinned():
    """Integer-only hashing seeded by splitmix64: these values must not change between machines or numpy
    versions (a work directory can be filled by array tasks on different nodes)."""
    bs = batch_signatures([ARTICLE, "短"], S)
    assert bs.sig[0, :6].tolist() == [121789121, 2356547500, 970606042, 333648320, 1059595037, 419889072]
    assert bs.sig[1, :3].tolist() == [180543466] * 3  # one shingle, densified into every bin
    assert int(bs.bands[0, 0]) == 3705526987673265771
    assert int(bs.exact[0]) == 14553465813242444455


def test_short_and_empty_documents():
    bs = batch_signatures(["", "。。", "短", "短文", "短文本"], S)
    assert bs.n_shingles.tolist() == [0, 0, 1, 1, 1]
    assert (bs.bands[:, :2] == EMPTY_BAND).all()  # never a candidate
    assert (bs.bands[:, 2:] != EMPTY_BAND).all()
    # A short document's bins are all filled (densified) and equal texts agree everywhere.
    again = batch_signatures(["短文本"], S)
    assert np.array_equal(again.sig[0], bs.sig[4])
    assert (bs.sig[2] != 0xFFFFFFFF).all()


def test_band_keys_collide_for_near_duplicates_only():
    rng = random.Random(9)
    doc = pseudo_text(rng, 2000)
    bs = batch_signatures([doc, edit_chars(rng, doc, 0.01), pseudo_text(rng, 2000)], S)
    shared_near = (bs.bands[:, 0] == bs.bands[:, 1]).sum()
    shared_far = (bs.bands[:, 0] == bs.bands[:, 2]).sum()
    assert shared_near >= 4 and shared_far == 0


def test_jieba_word_shingles():
    settings = ShingleSettings(tokenizer="jieba", ngram=3)
    bs = batch_signatures([ARTICLE, ARTICLE.replace("图书馆", "图书室"), pseudo_text(random.Random(1), 400)],
                          settings)
    assert bs.n_shingles[0] > 50
    assert estimated_jaccard(bs.sig[:1], bs.sig[1:2])[0] > 0.5
    assert estimated_jaccard(bs.sig[:1], bs.sig[2:])[0] < 0.1


def test_union_find_components_do_not_depend_on_pair_order():
    pairs = np.array([[8, 9], [1, 2], [5, 6], [2, 3], [6, 7], [0, 3], [7, 8], [12, 14]], dtype=np.int64)
    for perm in (np.arange(len(pairs)), np.arange(len(pairs))[::-1], np.random.default_rng(0).permutation(8)):
        parent, touched, _ = union_pairs(16, lambda p=pairs[perm]: iter([p[:3], p[3:]]))
        members = np.nonzero(touched)[0]
        roots = find(parent, members)
        assert dict(zip(members.tolist(), roots.tolist(), strict=True)) == {
            0: 0, 1: 0, 2: 0, 3: 0, 5: 5, 6: 5, 7: 5, 8: 5, 9: 5, 12: 12, 14: 12,
        }


def test_keeper_is_longest_then_earliest():
    members = np.array([0, 1, 2, 5, 6, 7])
    roots = np.array([0, 0, 0, 5, 5, 5])
    n_chars = np.array([10, 30, 30, 7, 7, 7])
    assert choose_keepers(members, roots, n_chars).tolist() == [1, 1, 1, 5, 5, 5]


def test_small_buckets_give_every_pair_for_verification():
    from corpus_tool.stages.dedup.pairs import _small_bucket_pairs

    idx = np.array([10, 11, 12, 20, 21, 30, 31, 32, 33, 40, 41, 42, 43, 44])
    starts = np.array([0, 3, 5, 9])  # buckets of 3, 2, 4 and 5 documents
    got = np.concatenate(_small_bucket_pairs(idx, starts, clique_max=4)).tolist()
    assert sorted(map(tuple, got)) == [(11, 12), (31, 32), (31, 33), (32, 33)]  # the 5-bucket stays a star
