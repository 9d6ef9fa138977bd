"""`tidy`, ingest's whitespace normal form, gives what its regex definition gives, on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tool.stages.ingest.extract import tidy

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
    assert tidy(text) == tidy_reference(text)


@given(st.text(max_size=200))
def test_tidy_matches_on_any_unicode(text):
    assert tidy(text) == tidy_reference(text)


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
