"""The filter's compiled parts against their numpy references: the repetition measure (_repetition.c vs
`repetition_fractions`: the same floats for every n, with and without the punctuation-gram skip and the
early stop, on generated documents and random strings), the character counts and runs (_charstats.c), and
the filter's golden output with none of them (tests/test_jieba_window.py checks _jieba_route.c)."""

from __future__ import annotations

import random

import pytest
from filter_fixtures import EDGE, documents, verdict_digest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_filter_golden import GOLDEN, RULES

from corpus_tool.stages import filter as flt
from corpus_tool.stages.filter import rules_repetition as rr

TOPS, DUPS = [2, 4, 6, 8], [3, 10, 12, 20]
LIMITS = [("top_2", 2, 0.5), ("top_4", 4, 0.2), ("top_6", 6, 0.15), ("top_8", 8, 0.1), ("dup_3", 3, 0.4),
          ("dup_10", 10, 0.1), ("dup_12", 12, 0.08), ("dup_20", 20, 0.05)]


def test_the_extension_is_built():
    """`pip install` compiles it; without it the filter silently runs the slower numpy code."""
    assert rr._repetition is not None


def both(texts: list[str], skip: bool, limits) -> tuple[list[dict], list[dict]]:
    views = [flt.DocView(t) for t in texts]
    ref = [f for k in range(0, len(views), 16)
           for f in rr.repetition_fractions(views[k:k + 16], TOPS, DUPS, skip, limits)]
    return ref, rr.native_repetition_fractions(views, TOPS, DUPS, skip, limits)


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("limits", [None, LIMITS])
def test_native_equals_numpy_on_generated_documents(skip, limits):
    texts = documents(200, seed=11)
    rng = random.Random(5)
    # repeated Latin words, numbers and dashed rules, where units are longer than a character
    words = ["foo", "bar", "2024", "----", "中文", "。", "pk10"]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(0, 300))) for _ in range(60)]
    texts += ["", " ", "\n\n", "a", "中", "中中", "——", "ab ab"]
    ref, got = both(texts, skip, limits)
    assert got == ref
    assert sum(1 for f in got if f["dup_10" if limits is None else "top_2"] > 0) > 20  # they do repeat


ALPHABET = st.sampled_from(["中", "文", "的", "。", "，", "a", "b", "1", " ", "\n", "-", "é", *EDGE, "\ud800"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=120), min_size=1, max_size=20), st.booleans(), st.booleans())
def test_native_equals_numpy_on_random_text(texts, skip, limit):
    ref, got = both(texts, skip, LIMITS if limit else None)
    assert got == ref


def test_golden_output_on_the_numpy_path(monkeypatch):
    """Where the extensions are missing the filter falls back to numpy and jieba: the same golden bytes."""
    from corpus_tool.stages.filter import docview, jieba_window, rules_chars, rules_lines, wordlists

    for module, name in [(rr, "_repetition"), (docview, "_charstats"), (rules_chars, "_charstats"),
                         (rules_lines, "_charstats"), (wordlists, "_wordtrie"), (jieba_window, "_jieba_route")]:
        assert getattr(module, name) is not None
        monkeypatch.setattr(module, name, None)
    rules, _ = flt.load_rules(RULES)
    verdicts = flt.judge_batch(rules, documents())
    groups: dict[str, list] = {"plain": [], "edge": []}
    for i, v in enumerate(verdicts):
        groups["edge" if i % 5 == 3 else "plain"].append(v)
    assert {k: verdict_digest(v) for k, v in groups.items()} == GOLDEN


def test_bad_arguments_are_errors_not_crashes():
    from corpus_tool.stages.filter.docview import _POS_MULT, FILTER_BITS

    with pytest.raises(ValueError, match="ascending"):
        rr._repetition.repetition(["中文"], FILTER_BITS, _POS_MULT, (4, 2), (4,), (), False, ())
    with pytest.raises(ValueError, match="bits"):
        rr._repetition.repetition(["中文"], b"x", _POS_MULT, (4,), (4,), (), False, ())
    with pytest.raises(TypeError, match="str"):
        rr._repetition.repetition([b"x"], FILTER_BITS, _POS_MULT, (4,), (4,), (), False, ())


def test_native_character_counts_and_runs_equal_numpy(monkeypatch):
    from corpus_tool.stages.filter import docview, rules_chars

    rng = random.Random(9)
    texts = documents(150, seed=13) + ["", "   ", "\n", "——" * 30, "-" * 40 + "\n" + "啊" * 30, "a  a", "\ud800" * 25]
    texts += ["".join(rng.choice(["-", "=", "啊", " ", "\n", "😀", "\u200b", "a"]) * rng.randint(1, 30)
                      for _ in range(20)) for _ in range(100)]
    seps = "".join(sorted(set("-_=*~#.·•－＿＝～" + rules_chars.BOX_DRAWING)))
    assert docview._charstats is not None and rules_chars._charstats is not None

    def features():
        out = []
        for t in texts:
            d = flt.DocView(t)
            out.append((d.counts, *[rules_chars.character_runs(d, m, s) for m in (3, 20) for s in ("", seps)]))
        return out

    native = features()
    monkeypatch.setattr(docview, "_charstats", None)
    monkeypatch.setattr(rules_chars, "_charstats", None)
    assert features() == native
    assert sum(1 for f in native if f[2][1]) > 50  # runs longer than 3 do occur


def test_the_compiled_trie_finds_what_the_regex_finds():
    """Leftmost-longest without overlaps, words that are prefixes of others included, on the shipped
    lists and on random ones."""
    from pathlib import Path

    from corpus_tool.stages.filter import wordlists

    rng = random.Random(21)
    alphabet = list("澳门赌场彩票下载注册送金abcAB .-\n的")
    lists = [wordlists.read_word_list(p) for p in sorted((Path(flt.__file__).parent.parent.parent / "rules"
                                                          / "wordlists").glob("*.txt"))]
    lists += [["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 30))]
              for _ in range(40)]
    texts = documents(60, seed=17) + ["".join(rng.choice(alphabet) for _ in range(300)) for _ in range(60)]
    n_hits = 0
    for words in lists:
        m = wordlists.WordMatcher(words)
        assert m.trie is not None
        for t in texts:
            low = t.lower()
            hits = m.findall(low)
            assert hits == m.regex.findall(low)
            assert m.search(low) == (m.regex.search(low) is not None)
            n_hits += len(hits)
    assert n_hits > 1000


def test_native_letterless_lines_equal_the_regex(monkeypatch):
    """Blank, short and letterless lines as the regex [^\\W\\d_] and str.strip define them: digits of
    other scripts, ①, _, Unicode spaces and a long letterless line included."""
    from corpus_tool.stages.filter import rules_lines

    rng = random.Random(12)
    pieces = ["2024-01-01", "|", " ", "\u3000", "\u2003", "①", "_", "٣", "ⅷ", "a", "中", "。", "\t", "410", "\r",
              "😀", "\u200b", "—", "x1"]
    texts = documents(100, seed=19)
    texts += ["\n".join("".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))) for _ in range(30))
              for _ in range(300)]
    texts += ["", "\n", "1" * 41, "1" * 40, "  12  \n\n", "\n\n12"]
    rule = rules_lines.letterless_lines_rule(max_line_chars=40)

    def verdicts():
        out = []
        for t in texts:
            sig: dict = {}
            v = rule(flt.DocView(t), sig)
            out.append((None if v is None else (v.text, v.lines_removed), sig))
        return out

    native = verdicts()
    monkeypatch.setattr(rules_lines, "_charstats", None)
    assert verdicts() == native
    assert sum(1 for v, _ in native if v) > 200


def test_native_stripped_lines_equal_split_and_strip():
    """DocView.lines compiled: the same strings as split("\\n") + str.strip + dropping empty ones, for every
    kind of whitespace str.strip removes (\\r, \\x1c-\\x1f, \\x85, U+2028, U+3000 ...) and all string kinds."""
    from corpus_tool.stages.filter import _charstats

    rng = random.Random(23)
    pieces = ["a", "中", "😀", " ", "\t", "\r", "\n", "\n\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0",
              "\u2028", "\u2029", "\u3000", "\u200b", "\ufeff", "é", "。"]
    texts = documents(100, seed=29) + ["", "\n", "  ", "\n \n", "x", " x ", "\nx\n"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    for t in texts:
        assert _charstats.stripped_lines(t) == list(filter(None, map(str.strip, t.split("\n")))), repr(t)
    assert sum(len(_charstats.stripped_lines(t)) > 1 for t in texts) > 500
    with pytest.raises(TypeError):
        _charstats.stripped_lines(b"bytes")
