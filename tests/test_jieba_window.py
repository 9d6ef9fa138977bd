"""JiebaWindow.token_at (the stop-word rule's question) answers as `jieba.cut(window, HMM=True)` does, and
the compiled route (_jieba_route.c) is jieba's own `get_DAG` + `calc` route."""

from __future__ import annotations

import random

import jieba
import pytest
from filter_fixtures import reference_paragraphs
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tool.stages.filter import jieba_window
from corpus_tool.stages.filter.jieba_window import JiebaWindow
from corpus_tool.stages.jieba_loader import initialize_jieba


@pytest.fixture(scope="module")
def jw() -> JiebaWindow:
    initialize_jieba()
    return JiebaWindow(jieba)


def jieba_says(window: str, start: int, word: str) -> bool:
    """The question asked of jieba.cut itself: is `word` the token that starts at `start`?"""
    pos = 0
    for tok in jieba.cut(window, HMM=True):
        if pos == start:
            return tok == word
        pos += len(tok)
        if pos > start:
            return False
    return False


def jieba_route(block: str) -> list[int]:
    route: dict = {}
    jieba.dt.calc(block, jieba.dt.get_DAG(block), route)
    return [route[i][1] for i in range(len(block))]


# words where a stop character sits inside a dictionary word, runs of single characters the HMM may join,
# Latin, digits, \r\n, the middle dot (outside jieba's Han blocks) and other edges
TRICKY = ["目的", "的确", "有的是", "的士", "在于", "现在", "和平", "了解", "人民", "中国", "是非", "也许", "年月日",
          "我的天", "他说的", "好的", "的的", "在在", "约翰·史密斯", "A的B", "3年", "pk10的", "\r\n的", "的\r\n",
          " 的 ", "\t在", "C++的", "100%的", "x-y的", "的。", "「的」", "𠀀的", "々的", "為了", "與其", "後來"]


def windows(texts: list[str], words: list[str], rng: random.Random, per_text: int = 40):
    for t in texts:
        places = [(i, w) for w in words for i in range(len(t)) if t.startswith(w, i)]
        for i, w in rng.sample(places, min(per_text, len(places))):
            lo, hi = max(0, i - 4), min(len(t), i + len(w) + 4)
            yield t[lo:hi], i - lo, w


STOP = ["的", "年", "在", "是", "和", "了", "於", "·", "為", "有", "人", "中", "为", "他", "與", "也", "后"]


def test_token_at_matches_jieba_cut_on_real_and_tricky_windows(jw):
    rng = random.Random(3)
    paras = reference_paragraphs()
    texts = paras[:400] + ["".join(rng.choice(TRICKY) for _ in range(30)) for _ in range(200)]
    n = found = 0
    for window, start, word in windows(texts, STOP, rng):
        expected = jieba_says(window, start, word)
        assert jw.token_at(window, start, word) == expected, (window, start, word)
        n += 1
        found += expected
    assert n > 5000 and 0.2 * n < found < 0.95 * n  # both answers are common


def test_the_compiled_token_at_answers_as_the_python_one_and_jieba(jw):
    """_jieba_route.token_at decides (not None) nearly every real window, HMM runs included, and gives the
    answer of token_at_python and of jieba.cut; where it returns None the Python code answers."""
    native = jieba_window._jieba_route.token_at
    rng = random.Random(7)
    real = reference_paragraphs()[:400]
    tricky = ["".join(rng.choice(TRICKY) for _ in range(30)) for _ in range(200)]
    for texts, share in ((real, 0.97), (tricky, 0.5)):  # tricky: Latin and digits next to the stop words
        decided = total = 0
        for window, start, word in windows(texts, [*STOP, "目的", "中国", "A"], rng):
            got = native(window, start, word, jw.freq, jw.logtotal, jw.memo, jw.hmm_start, jw.hmm_trans,
                         jw.hmm_emit)
            expected = jieba_says(window, start, word)
            assert jw.token_at_python(window, start, word) == expected, (window, start, word)
            assert got is None or got == expected, (window, start, word, got)
            assert jw.token_at(window, start, word) == expected
            total += 1
            decided += got is not None
        assert total > 3000 and decided > share * total, (decided, total)
    # outside a Han block (the middle dot, a space) and past the end: the Python code's to answer
    assert native("约翰·史密斯", 2, "·", jw.freq, jw.logtotal, jw.memo, jw.hmm_start, jw.hmm_trans,
                  jw.hmm_emit) is None
    assert native("的", 5, "的", jw.freq, jw.logtotal, None, jw.hmm_start, jw.hmm_trans, jw.hmm_emit) is None


def test_the_python_route_gives_the_same_answers(jw, monkeypatch):
    monkeypatch.setattr(jieba_window, "_jieba_route", None)
    rng = random.Random(4)
    texts = ["".join(rng.choice(TRICKY) for _ in range(30)) for _ in range(100)]
    for window, start, word in windows(texts, STOP, rng):
        assert jw.token_at(window, start, word) == jieba_says(window, start, word), (window, start, word)


def test_the_compiled_route_is_jiebas(jw):
    assert jieba_window._jieba_route is not None, "pip install builds it"
    rng = random.Random(5)
    blocks = [b for p in reference_paragraphs()[:300] for b in jieba.re_han_default.split(p)
              if b and jieba.re_han_default.match(b)]
    blocks += ["".join(rng.choice(TRICKY) for _ in range(rng.randint(1, 12))) for _ in range(300)]
    for b in blocks:
        assert jw.route_ends(b) == jieba_route(b), b


HAN_OR_ASCII = st.sampled_from(list("的目确在现于是非了解人民中国年月日我他说好也许A1.+-%&#_ 　\r\n·，。𠀀々"))


@settings(max_examples=400, deadline=None)
@given(st.text(HAN_OR_ASCII, min_size=1, max_size=14), st.data())
def test_token_at_matches_jieba_cut_on_random_windows(jw, window, data):
    start = data.draw(st.integers(0, len(window) - 1))
    for word in {window[start], window[start:start + 2], "的", "·", "ab"}:
        assert jw.token_at(window, start, word) == jieba_says(window, start, word)


def test_ties_go_to_the_longer_word_as_in_jieba():
    """With every frequency 1 and a total of 1 every route scores 0: jieba's max over (score, end) tuples
    then takes the largest end, and so must the compiled route."""
    from math import log

    words = ["ab", "abc", "bc", "cd", "a", "b", "c", "d", "bcd"]
    freq = {w[:k]: 0 for w in words for k in range(1, len(w))}
    freq.update({w: 1 for w in words})
    dt = jieba.Tokenizer()
    dt.FREQ, dt.total, dt.initialized = freq, 1, True
    for block in ["abcd", "abc", "dcba", "bcda", "aabbccdd", "x", "abxcd"]:
        route: dict = {}
        dt.calc(block, dt.get_DAG(block), route)
        assert jieba_window._jieba_route.route(block, freq, log(1)) == [route[i][1] for i in range(len(block))]


def test_hmm_tokens_are_finalseg_cut(jw):
    """The compiled Viterbi path gives finalseg.cut's tokens, characters missing from its tables (where
    every score is MIN_FLOAT and ties decide) included."""
    rng = random.Random(6)
    alphabet = list("的目确在现于是非了解人民中国年月日我他说好也许鿐鿑鿒A1.%x ，")
    runs = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    runs += [b for p in reference_paragraphs()[:200] for b in jieba.re_han_default.split(p) if b]
    for r in runs:
        assert jw.hmm_tokens(r) == list(jieba.finalseg.cut(r)), r


def test_the_route_memo_follows_a_changed_dictionary(jw):
    """The compiled route remembers FREQ's answers; jieba.add_word (a new total) must start it afresh."""
    block = "我们去目的地看看"
    before = jw.route_ends(block)
    assert before == jieba_route(block) and jw.memo
    dt, word = jieba.dt, "去目"
    saved_total, had = dt.total, word in dt.FREQ
    saved = dt.FREQ.get(word)
    try:
        jieba.add_word(word, freq=10**9)
        after = jw.route_ends(block)
        assert after == jieba_route(block) != before
    finally:
        dt.total = saved_total
        if had:
            dt.FREQ[word] = saved
        else:
            del dt.FREQ[word]
    assert jw.route_ends(block) == before


def test_the_compiled_memo_gives_the_dict_memos_routes(jw):
    """route() through a Memo (keyed by code points), a dict memo and no memo: the same routes, jieba's, for
    real blocks and generated ones over a small alphabet (so that fragments repeat and are met again in the
    Memo, including ones that share a hash bucket), a second pass answered from the filled Memo included."""
    from corpus_tool.stages.filter import _jieba_route

    assert isinstance(jw.memo, _jieba_route.Memo)
    rng = random.Random(31)
    blocks = [b for p in reference_paragraphs()[:120] for b in jieba.re_han_default.split(p) if b]
    alphabet = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去"
    blocks += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    blocks += ["𠀀𠀁中文", "中文😀", "é中"]
    memo, plain = _jieba_route.Memo(), {}
    logtotal = jw.logtotal
    for _ in range(2):
        for b in blocks:
            want = _jieba_route.route(b, jw.freq, logtotal)
            assert _jieba_route.route(b, jw.freq, logtotal, memo) == want
            assert _jieba_route.route(b, jw.freq, logtotal, plain) == want
    assert len(memo) == len(plain) > 1000
    for b in blocks[:50]:
        assert _jieba_route.route(b, jw.freq, logtotal, memo) == jieba_route(b)
    with pytest.raises(TypeError):
        _jieba_route.route("中文", jw.freq, logtotal, [])
