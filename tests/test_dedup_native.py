"""dedup's compiled character path (_minhash.c) gives the numpy reference's signatures to the bit."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tool.stages.dedup import hashing

FIELDS = ("sig", "bands", "exact", "n_chars", "n_shingles")


def both(texts: list[str], s: hashing.ShingleSettings, monkeypatch) -> tuple:
    native = hashing.batch_signatures(texts, s)
    with monkeypatch.context() as m:
        m.setattr(hashing, "_minhash", None)
        reference = hashing.batch_signatures(texts, s)
    return native, reference


def assert_same(a, b) -> None:
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype and x.shape == y.shape, f
        np.testing.assert_array_equal(x, y, err_msg=f)


def documents(n: int, seed: int) -> list[str]:
    """Chinese-looking documents with the characters normalisation folds or drops, of every length from
    empty to a few thousand characters (short ones have fewer tokens than an n-gram)."""
    rng = random.Random(seed)
    alphabet = ("的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去"
                "能對說這樣們為國學ＡＢＣａｂｃ１２３ABCxyz0123 \t\n\u3000。，、！？「」…—·《》!?.,;:()"
                "😀𠀀𠀁ⅫⅣﬁß©®™\u200b\u00ad")
    out = ["", "!!!", "???", "。。。", "a", "中文", "中文字符", "Ａ", "𠀀"]
    for _ in range(n):
        k = rng.choice([1, 2, 3, 4, 5, 6, 9, 40, 300, 3000])
        out.append("".join(rng.choice(alphabet) for _ in range(k)))
    return out


def test_the_extension_is_built():
    assert hashing._minhash is not None, "pip install builds corpus_tool/stages/dedup/_minhash.c"


@pytest.mark.parametrize(("ngram", "bands", "rows", "seed"), [(5, 32, 4, 42), (1, 8, 8, 0), (3, 20, 5, 7),
                                                              (13, 64, 4, 12345), (2, 1, 1, 1)])
def test_native_signatures_equal_numpy(ngram, bands, rows, seed, monkeypatch):
    s = hashing.ShingleSettings(ngram=ngram, bands=bands, rows=rows, seed=seed)
    texts = documents(400, seed)
    native, reference = both(texts, s, monkeypatch)
    assert_same(native, reference)
    assert (native.n_shingles == 0).sum() >= 4  # empty and punctuation-only documents
    assert ((native.n_shingles == 1) & (native.n_chars < ngram)).any() or ngram == 1  # short documents


def test_near_copies_keep_their_estimate(monkeypatch):
    """A document and a copy with a few characters changed: both paths estimate the same Jaccard."""
    s = hashing.ShingleSettings()
    base = max(documents(40, 3), key=len)
    assert len(base) == 3000
    rng = random.Random(5)
    copy = list(base)
    for i in rng.sample(range(len(copy)), len(copy) // 30):
        copy[i] = "爱"
    native, reference = both([base, "".join(copy)], s, monkeypatch)
    assert_same(native, reference)
    est = hashing.estimated_jaccard(native.sig[:1], native.sig[1:])[0]
    assert 0.3 < est < 1.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=8))
def test_native_equals_numpy_on_any_text(texts):
    s = hashing.ShingleSettings(ngram=3, bands=4, rows=2)
    native = hashing.batch_signatures(texts, s)
    saved, hashing._minhash = hashing._minhash, None
    try:
        reference = hashing.batch_signatures(texts, s)
    finally:
        hashing._minhash = saved
    assert_same(native, reference)


def test_bad_arguments_are_refused():
    mapping, keep, _ = hashing._bmp_tables()
    pos = np.ones(5, dtype=np.uint64)
    with pytest.raises(ValueError, match="ngram"):
        hashing._minhash.char_signatures(["中"], mapping, keep.view(np.uint8), 0, pos, 1, 2, 8)
    with pytest.raises(ValueError, match="position"):
        hashing._minhash.char_signatures(["中"], mapping, keep.view(np.uint8), 6, pos, 1, 2, 8)
    with pytest.raises(TypeError, match="str"):
        hashing._minhash.char_signatures([None], mapping, keep.view(np.uint8), 5, pos, 1, 2, 8)
