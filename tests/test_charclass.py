"""One character-class table for every stage: langid's counts, the filter's features and dedup's shingle
normalisation agree on whitespace, Han and punctuation, including the edge characters that used to split
them (々 〇, zero-width characters, ゠, emoji, supplementary Han)."""

from __future__ import annotations

import numpy as np

from corpus_tool import charclass as cc
from corpus_tool.stages import filter as flt
from corpus_tool.stages import textstats as ts
from corpus_tool.stages.dedup import hashing

EDGE_TEXTS = [
    "人々は〇年に集まった。中文句子。",
    "零\u200b宽\u200d字\ufeff符\u2060测试，还有软\u00ad连字符。",
    "表情😀😀和扩展𠀀𠀁字，以及゠和・。",
    "English only, with ① and Ⅻ and $^|~ symbols",
    "",
    "\t \u3000\n",
]


def test_shipped_table_equals_a_fresh_build():
    # The shipped table (scripts/make_charclass_table.py) saves every task process the build; it must be
    # exactly what the definitions give with this Unicode database, or be regenerated.
    shipped = cc.load_table()
    assert shipped is not None, "definitions or Unicode version changed: run scripts/make_charclass_table.py"
    assert np.array_equal(shipped, cc._build_table())
    assert cc.CHAR_CLASS is shipped or np.array_equal(cc.CHAR_CLASS, shipped)


def test_filter_han_ratio_is_langid_han_frac():
    fracs = ts.han_fraction(ts.class_counts(EDGE_TEXTS))
    for text, frac in zip(EDGE_TEXTS, fracs, strict=True):
        assert np.float32(flt.han_ratio(flt.DocView(text))) == frac, text


def test_definitions_at_the_edges():
    cls = cc.CHAR_CLASS
    assert cls[0x3005] == cls[0x3007] == cls[ord("中")] == cls[0x20000] == cc.HAN  # 々 〇 are Han
    for zw in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD):
        assert cls[zw] == cc.CONTROL  # characters, not whitespace
    assert cls[0x30A0] == cc.PUNCT  # ゠ is a dash, not kana
    assert cls[ord("😀")] == cls[ord("$")] == cls[ord("─")] == cc.SYMBOL
    assert cls[ord("①")] == cls[ord("Ⅻ")] == cc.NUMBER
    assert cls[ord(" ")] == cls[0x3000] == cls[ord("\t")] == cc.SPACE


def test_every_stage_projects_the_one_table():
    cps = np.arange(0x110000, dtype=np.uint32)
    bits = flt.classify(cps)
    cls = cc.CHAR_CLASS[cps]
    assert np.array_equal((bits & flt.SPACE) != 0, cls == cc.SPACE)
    assert np.array_equal((bits & flt.HAN) != 0, cls == cc.HAN)
    assert np.array_equal((bits & flt.PUNCT) != 0, np.isin(cls, [*cc.PUNCT_CLASSES, cc.SYMBOL]))
    mapping, keep, space = hashing._bmp_tables()
    folded = cc.CHAR_CLASS[mapping]
    dropped = np.isin(folded, [cc.SPACE, cc.CONTROL, *cc.PUNCT_CLASSES])
    dropped[0xD800:0xE000] = True
    assert np.array_equal(keep, ~dropped)
    assert np.array_equal(space, cls[:0x10000] == cc.SPACE)
