"""`tidy`, ingest's whitespace normal form, gives what its regex definition gives, on any text; the compiled
`tidy` gives what the Python one (`tidy_python`) gives."""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tool.stages.ingest import extract
from corpus_tool.stages.ingest.extract import tidy, tidy_python

SPACES = re.compile(r"[ \t\u00a0\u3000]+")
BLANK_LINES = re.compile(r"\n{3,}")


def tidy_reference(text: str) -> str:
    """The definition: CR, CRLF, form feed, vertical tab, U+2028 and U+2029 become LF; each run of spaces,
    tabs, no-break and ideographic spaces one space; every line stripped; at most one blank line in a row;
    no blank lines at either end."""
    text = re.sub("\r\n?|[\x0b\x0c\u2028\u2029]", "\n", text)
    lines = [line.strip() for line in SPACES.sub(" ", text).split("\n")]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# whitespace of every kind str.strip knows, the ones tidy folds, line breaks and some text
ALPHABET = st.sampled_from([" ", "  ", "\t", "\u00a0", "\u3000", "\n", "\r", "\r\n", "\n\n\n", "\x0b", "\x0c", "\x1c",
                            "\u2003", "\u2028", "\u2029", "\x85", "中", "文", "a", "。", "\ufeff"])


@settings(max_examples=3000, deadline=None)
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_tidy_matches_its_regex_definition(text):
    assert tidy(text) == tidy_python(text) == tidy_reference(text)


@given(st.text(max_size=200))
def test_tidy_matches_on_any_unicode(text):
    assert tidy(text) == tidy_python(text) == tidy_reference(text)


def test_the_compiled_tidy_is_the_one_in_use():
    from corpus_tool.stages import _textscan

    assert extract.tidy is _textscan.tidy


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["\u00e9", "\u00ff", "\u4e2d", "\U0001f600", "\ud800", " ", "\u3000", "\n", "\r", "x"]),
                max_size=40).map("".join))
def test_compiled_tidy_gives_canonical_strings_of_every_width(text):
    """Its result has the width of its widest character (U+3000 alone in a Latin text goes, the result is
    one byte a character), as every str must: equal strings of different widths would compare unequal."""
    result, expected = tidy(text), tidy_python(text)
    assert result == expected and type(result) is str
    assert (max(map(ord, result)) if result else 0) == (max(map(ord, expected)) if expected else 0)
    assert sys.getsizeof(result) == sys.getsizeof(expected)  # the same width a character


def test_compiled_tidy_on_real_text_with_every_kind_of_break():
    paragraphs = ["城市居民讨论了新的垃圾分类办法，大家普遍认为效果不错。", "Debian 參考手冊 ",
                  "\u3000\u3000第二章　安裝", "  list item\t\t1 ", "", "\x0c", "end.\r\nNext\rline",
                  "\u2028甲\u2029乙", "\x85省略", "\u2003 ",
                  "a" * 3000 + " " * 100 + "b"]
    import random

    rng = random.Random(5)
    for _ in range(2000):
        text = "".join(rng.choice(["\n", "\n\n", "\n\n\n\n", " ", "\r\n"]) + rng.choice(paragraphs)
                       for _ in range(rng.randint(0, 12)))
        assert tidy(text) == tidy_python(text), repr(text)


def test_long_runs_collapse():
    text = "甲" + " " * 1000 + "\u3000\t" * 77 + "乙" + "\n" * 1001 + "丙\n \n\u3000\n丁"
    assert tidy(text) == tidy_reference(text) == "甲 乙\n\n丙\n\n丁"


def test_page_breaks_become_line_breaks():
    """A form feed between pages (text from PDFs) or a vertical tab separates lines; it does not vanish
    and glue them together."""
    assert tidy("第一页结束。\f第二页开始。") == "第一页结束。\n第二页开始。"
    assert tidy("end of page.\x0c\nNext page") == "end of page.\n\nNext page"
    assert tidy("甲\x0b乙\u2028丙\u2029丁") == "甲\n乙\n丙\n丁"
    assert tidy("省略\x85号") == "省略\x85号"  # U+0085: more often mojibake than a line break
