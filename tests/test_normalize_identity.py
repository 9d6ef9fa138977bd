"""normalize gives the same bytes as before its speed work (issue 15).

`GOLDEN` holds sha256 digests of `normalize_texts` output (texts and the rules that changed them) on 1,200
generated mixed-script documents, per OpenCC config, taken with the code before the vectorized script
counts and chunking (commit 3ca72c2). The documents mix Simplified and Traditional sentences inside
paragraphs and lines, and the edge cases of every rule: control and zero-width characters, BOMs, ANSI
escapes, entities (double-escaped too), full-width forms, compatibility characters, emoji with joiners,
astral Han, the private-use separator the converter joins with, every kind of line break and space.
The old per-text loops of `ScriptTable.counts` and the old chunking are also kept here, frozen, and
compared with the new code directly, so a difference names the function.

Regenerate (only when output changes on purpose, and say so in the commit):
    PYTHONPATH=. python tests/test_normalize_identity.py --regenerate
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys

import numpy as np
import opencc
import pytest

from corpus_tool.stages import normalize as nz

SIMPLIFIED = [
    "中华人民共和国成立于一九四九年，首都是北京。",
    "这个软件的开发者们说，发展需要时间和耐心。",
    "乾隆皇帝在位六十年，乾安县位于吉林省。",
    "沈阳是辽宁省的省会，於是他们去了那里。",
    "头发很长的女孩子在图书馆里看书学习。",
    "经济增长带来了许多变化，也带来了新的问题。",
    "计算机网络的数据传输速度越来越快了。",
    "他说：“我们明天一起去公园散步吧！”",
    "台湾的软体开发者们说鼠标和程序都很重要。",
    "苎麻是一种植物，历史上用来织布。",
    "鄩和纕都是很少见的汉字。",
    "这台电脑的内存只有八GB，硬盘是一TB。",
]
TRADITIONAL_EXTRA = [
    "臺灣的軟體開發者們說滑鼠和程式都很重要。",
    "薴麻是一種植物，歷史上用來織布。",
    "擡頭看見了乾隆年間的髮型。",
    "於是他們去了瀋陽，看了頭髮。",
    "發展經濟，推動社會進步。",
]
EDGE = [
    "&amp;lt;p&amp;gt;", "&#20013;&#x6587;", "价格&nbsp;100元", "?a=1&copy=2", "＆amp;", "&lt;",
    "\x1b[31m错误\x1b[0m", "\x1b]0;title\x07", "\x9b2K", "\x1bX",
    "\x00", "\x07", "\x7f", "\x85", "\x0b", "\x0c", "\t", "\r\n", "\r", "\u2028", "\u2029",
    "\ufeff", "\u200b", "\u200c", "\u200d", "\u00ad", "\u200e", "\u202a", "\u2066", "\u2063", "\u180e",
    "👩\u200d💻", "👍🏽", "❤\ufe0f", "\U0001f600",
    "ＧＰＴ－４", "２０２３", "，！？：；（）～", "＃＄％＠＋＝",
    "⼀⼆", "⺟", "ｶﾀｶﾅ｡", "ﬁ", "ﾞ", "ﾟ",
    "cafe\u0301", "\uf900", "\ufa10", "面积100㎡，第①条，x²",
    "𠀀𠀁", "𬩽", "\U0002a6a5", "\U00030000",
    "\U000f0000\U000f0001", "\n\U000f0000\U000f0001\n",
    "\u3000", "\u00a0", "\u2003", "  ", "\n\n\n\n", "。", "「", "」", "《", "》", "…", "、", '"', "'", "(", ")",
    "[", "]", ".", ",", "!", "?", ";", ":",
    "한국어", "カタカナ", "English words here", "1234567890",
]


def _traditional_pool() -> list[str]:
    s2t, s2tw = opencc.OpenCC("s2t"), opencc.OpenCC("s2tw")
    return [s2t.convert(s) for s in SIMPLIFIED] + [s2tw.convert(s) for s in SIMPLIFIED] + TRADITIONAL_EXTRA


def make_documents(n: int = 1200, seed: int = 15) -> list[str]:
    """Documents of 0-30 pieces: Simplified and Traditional sentences (whole, cut, or interleaved word by
    word), edge cases, and separators, in random mixtures; some documents are mostly one script."""
    rng = random.Random(seed)
    trad = _traditional_pool()
    docs = []
    for _ in range(n):
        major = rng.random()
        pieces = []
        for _ in range(rng.randint(0, 30)):
            r = rng.random()
            if r < 0.55:
                pool = trad if rng.random() < major else SIMPLIFIED
                s = rng.choice(pool)
                if rng.random() < 0.3:
                    a, b = sorted(rng.randint(0, len(s)) for _ in range(2))
                    s = s[a:b]
                pieces.append(s)
            elif r < 0.65:  # a Traditional and a Simplified sentence interleaved character by character
                a, b = rng.choice(trad), rng.choice(SIMPLIFIED)
                pieces.append("".join(x + y for x, y in zip(a, b, strict=False)))
            elif r < 0.9:
                pieces.append(rng.choice(EDGE))
            else:
                pieces.append(rng.choice(["\n", "\n\n", " ", "，", "。", "\r\n", "\u3000"]))
        docs.append(rng.choice(["", " ", "\n"]).join(pieces))
    return docs


CONFIGS = ("t2s", "tw2sp", "hk2s", "s2t", "t2tw", None)


def digest(config: str | None, docs: list[str], batch: int) -> str:
    conv = nz.OpenCCConverter(config) if config else None
    h = hashlib.sha256()
    for i in range(0, len(docs), batch):
        out, changed = nz.normalize_texts(docs[i : i + batch], conv)
        for text, names in zip(out, changed, strict=True):  # per document: the digest is the batching's too
            h.update(json.dumps([text, names], ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n")
    return h.hexdigest()


# sha256 per config (batches of 97 documents), made with commit 3ca72c2 and opencc 1.4.2.
GOLDEN: dict[str, str] = {
    "t2s": "8c54aae5793120b7783552a1a5abb2acb6350b5926995fb9917a6dcb021c94e6",
    "tw2sp": "27950084970cdf82bf6de6c1d425c265b7f98f84f40d03f0d1b813583aa81ae5",
    "hk2s": "8c54aae5793120b7783552a1a5abb2acb6350b5926995fb9917a6dcb021c94e6",
    "s2t": "dc960f7a13d9877852d73a15b1f4bbd062a6c5a57a1a4ff71c3a17fa78903f79",
    "t2tw": "9d7c837466eb00abde6b116c65e05d4af2f97d6d46fac6b8fc29f632a412e417",
    "None": "a969d264568098a7e798e5d19c0a9c9fe72f77c24a495b537ac1a9103ede67d3",
}
GOLDEN_OPENCC = "1.4.2"


@pytest.mark.skipif(str(getattr(opencc, "__version__", "")) != GOLDEN_OPENCC,
                    reason="the digests were taken with another OpenCC release")
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: str(c))
def test_normalize_bytes_unchanged(config):
    docs = make_documents()
    assert digest(config, docs, batch=97) == GOLDEN[str(config)]


def test_batch_size_does_not_change_output():
    docs = make_documents(300, seed=3)
    assert digest("t2s", docs, batch=1) == digest("t2s", docs, batch=300) == digest("t2s", docs, batch=17)


# ------------------------------------------------------------------ frozen copies of the old loops
def old_counts(table: nz.ScriptTable, texts: list[str]) -> np.ndarray:
    from corpus_tool.stages.textstats import code_points

    has_bit = [np.array([v for v in range(16) if v & bit]) for bit in (nz.TRAD_ANY, nz.TRAD, nz.SIMP_ANY, nz.SIMP)]
    cps, starts = code_points(texts)
    out = np.zeros((len(texts), 4), dtype=np.int64)
    if cps.size == 0:
        return out
    flags = table.flags[cps]
    for i in range(len(texts)):
        lo, hi = starts[i], starts[i + 1]
        if hi > lo:
            values = np.bincount(flags[lo:hi], minlength=16)
            out[i] = [values[has_bit[j]].sum() for j in range(4)]
    return out


OLD_CHUNK_RE = re.compile(r"([\s，。！？；：、「」『』（）《》〈〉“”‘’【】…,.!?;:()\[\]\"']+)")


def test_counts_equal_the_old_loop():
    table = nz.script_table()
    docs = make_documents(400, seed=7) + ["", "乾", "發髮", "𬩽", "\U000f0000"]
    np.testing.assert_array_equal(table.counts(docs), old_counts(table, docs))
    np.testing.assert_array_equal(table.counts([]), old_counts(table, []))
    np.testing.assert_array_equal(table.counts(["", ""]), old_counts(table, ["", ""]))


def test_chunk_breaks_are_the_old_split_regex():
    # Every code point: a break exactly when the old regex splits there; and no break carries a flag.
    from corpus_tool.stages.opencc_convert import CHUNK_BREAKS

    one = re.compile(OLD_CHUNK_RE.pattern[1:-2])  # the character class alone
    breaks = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and one.fullmatch(chr(c))]
    assert np.flatnonzero(CHUNK_BREAKS).tolist() == breaks
    assert not nz.script_table().flags[CHUNK_BREAKS].any()


def old_chunks(texts: list[str], docs: list[int], any_src: int, tgt: int) -> list[tuple[int, str]]:
    """The old chunk choice: split each mixed document with the regex, count every chunk."""
    table = nz.script_table()
    chunks = [(i, c) for i in docs for c in OLD_CHUNK_RE.split(texts[i])[0::2]]
    cc = old_counts(table, [c for _, c in chunks])
    return [chunks[j] for j in range(len(chunks)) if cc[j, any_src] > cc[j, tgt]]


@pytest.mark.parametrize("cols", [(0, 3), (2, 1)], ids=["to-simplified", "to-traditional"])
def test_chunks_equal_the_old_split(cols):
    from corpus_tool.stages.opencc_convert import CHUNK_BREAKS, chunks_to_convert
    from corpus_tool.stages.textstats import code_points

    any_src, tgt = cols
    texts = make_documents(400, seed=11) + ["", "乾。", "。乾", "乾", "\n發\n", "發 发 發發 发发"]
    docs = list(range(0, len(texts), 2)) + list(range(len(texts) - 5, len(texts)))
    docs = sorted(set(docs))
    cps, starts = code_points(texts)
    flags = nz.script_table().flags[cps]
    d, lo, hi = chunks_to_convert(flags, CHUNK_BREAKS[cps], starts, np.array(docs), 1 << any_src, 1 << tgt)
    new = [(int(i), texts[i][a:b]) for i, a, b in zip(d, lo, hi, strict=True)]
    old = old_chunks(texts, docs, any_src, tgt)
    assert len(old) > 100
    assert new == old


if __name__ == "__main__" and "--regenerate" in sys.argv:
    docs = make_documents()
    print(json.dumps({str(c): digest(c, docs, batch=97) for c in CONFIGS}, indent=4))


def test_compiled_table_hits_equal_numpy(monkeypatch):
    """textstats.table_hits (the marked characters of a batch, _textscan.c) against its numpy reference, for
    normalize's trigger table and OpenCC's marks, on every string kind, empty and null documents."""
    from corpus_tool.stages import textstats

    assert textstats._textscan is not None, "pip install builds it"
    texts = [*make_documents(200, seed=5), "", None, "abc\x00", "é\u200b", "𠀀乾發", "&amp;\r\n", "　ｆｕｌｌ"]
    tables = [nz._TRIGGERS, nz.OpenCCConverter("t2s")._marks]
    native = [textstats.table_hits(texts, t) for t in tables]
    monkeypatch.setattr(textstats, "_textscan", None)
    for t, got in zip(tables, native, strict=True):
        ref = textstats.table_hits(texts, t)
        for a, b in zip(got, ref, strict=True):
            np.testing.assert_array_equal(a, b)
        assert got[0].size > 100


@pytest.mark.parametrize("config", ["t2s", "s2t"])
def test_normalize_bytes_unchanged_without_the_compiled_scan(config, monkeypatch):
    from corpus_tool.stages import textstats

    monkeypatch.setattr(textstats, "_textscan", None)
    assert digest(config, make_documents(), batch=97) == GOLDEN[config]


def test_compiled_table_counts_equal_numpy():
    """textstats.table_counts (OpenCC's per-document script-flag counts, _textscan.c) against its numpy
    reference on the converter's mark table, and the flag counts it gives against flag_counts over the
    marked positions (what the converter used before)."""
    from corpus_tool.stages import textstats
    from corpus_tool.stages.opencc_convert import _MARK_BITS, _MARK_VALUES, flag_counts

    assert textstats._textscan is not None, "pip install builds it"
    texts = [*make_documents(200, seed=8), "", None, "乾隆發財", "𠀀乾發", "　ｆｕｌｌ", "abc"]
    marks = nz.OpenCCConverter("t2s")._marks
    got = textstats.table_counts(texts, marks, _MARK_VALUES)
    np.testing.assert_array_equal(got, textstats.table_counts_reference(texts, marks, _MARK_VALUES))
    marked, values, starts = textstats.table_hits(texts, marks)
    flagged = (values & 15) != 0
    np.testing.assert_array_equal(got @ _MARK_BITS, flag_counts(None, starts, (marked[flagged], values[flagged])))
    assert (got @ _MARK_BITS).sum() > 1000
