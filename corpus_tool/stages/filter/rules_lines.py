"""Line rules: line shape (sentence-final punctuation, line length) and the two line cleaners that remove
page furniture (letterless lines, boilerplate lines) before the later rules judge what is left."""

from __future__ import annotations

import re
from typing import Any

from corpus_tool.errors import UsageError
from corpus_tool.stages.filter.docview import Cleaned, DocView, _charstats
from corpus_tool.stages.filter.registry import Checker, first_failure, rule_kind
from corpus_tool.stages.filter.wordlists import WordMatcher, read_word_list

SENTENCE_END = frozenset("。！？!?.…；;”\"’'」』）)》")
# A list item (bullet, number, (1), 一、, a.) or a table row (two cell borders, or a tab): such lines do not
# end in sentence punctuation in clean text either.
LIST_OR_TABLE = re.compile(
    r"^(?:[-*•·+◦▪●○■□◆◇→]|\(?\d+(?:\.\d+)*[.、)）:：]?|[（(]\d+[)）]|[一二三四五六七八九十]+[、.)）]|[a-zA-Z][.)])\s"
    r"|^(?:[-*•·◦▪●○■□◆◇→]|[（(]?[一二三四五六七八九十]+[、)）])"
    r"|[|│┃].*[|│┃]|\t")
LIST_START = re.compile(
    r"(?:[-*•·+◦▪●○■□◆◇→]|\(?\d+(?:\.\d+)*[.、)）:：]?|[（(]\d+[)）]|[一二三四五六七八九十]+[、.)）]|[a-zA-Z][.)])\s"
    r"|(?:[-*•·◦▪●○■□◆◇→]|[（(]?[一二三四五六七八九十]+[、)）])")


def is_list_or_table(line: str) -> bool:
    """`LIST_OR_TABLE.search(line)` for a line without line breaks, without a regex scan of the line: a
    list marker at its start, a tab, or two cell borders."""
    return (LIST_START.match(line) is not None or "\t" in line
            or line.count("|") + line.count("│") + line.count("┃") >= 2)


def _passes_on_all_lines(lines: list[str], total: int, min_frac: float | None, min_char_frac: float | None) -> bool:
    """True when the end-punctuation checks pass even with every line judged. Leaving list items and table
    rows out only removes unpunctuated lines, which can only raise both fractions, so the lines then need
    not be told apart (most prose: the list test was most of this rule's time). Only the verdict is
    decided here; with signals the exact fractions are computed."""
    # the same divisions as the rule's: a float division by a larger total is never larger
    ended = [line for line in lines if line[-1] in SENTENCE_END]
    if min_char_frac is not None and sum(map(len, ended)) / total < min_char_frac:
        return False
    return min_frac is None or len(ended) / len(lines) >= min_frac


@rule_kind("lines")
def lines_rule(
    min_end_punct_frac: float | None = None,
    min_end_punct_char_frac: float | None = None,
    short_line_chars: int = 10,
    max_short_line_frac: float | None = None,
    min_avg_line_chars: float | None = None,
    skip_list_lines: bool = False,
) -> Checker:
    """Line-shape rules: sentence-final punctuation, short lines, average line length.

    min_end_punct_frac is FineWeb's line_punct_thr (a fraction of lines); min_end_punct_char_frac weights
    each line by its length, so that an article with many short list items still counts as prose. With
    skip_list_lines, list items and table rows (`LIST_OR_TABLE`) are left out of every measure: an article
    that holds a table or a list is judged on its prose, and a page that is only a list or a table (a
    table of contents) passes this rule and is left to the others.
    """

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        lines = doc.lines
        if not lines:
            if signals is not None:
                signals["lines"] = 0
            return "no non-empty lines"
        failures: list[str] = []
        n = len(lines)
        total = sum(map(len, lines))
        if signals is not None:
            signals["lines"] = n
        judged = lines  # the lines judged for end punctuation
        if skip_list_lines and (signals is not None or not _passes_on_all_lines(
                lines, total, min_end_punct_frac, min_end_punct_char_frac)):
            # unpunctuated list items and table rows are neutral
            judged = [line for line in lines if line[-1] in SENTENCE_END or not is_list_or_table(line)]
            if signals is not None:
                signals["list_lines"] = n - len(judged)
        if min_end_punct_frac is not None and judged:
            frac = sum(1 for line in judged if line[-1] in SENTENCE_END) / len(judged)
            if signals is not None:
                signals["end_punct_frac"] = frac
            if frac < min_end_punct_frac and first_failure(
                    failures, signals, f"end_punct_frac {frac:.3f} < min {min_end_punct_frac}"):
                return failures[0]
        if min_end_punct_char_frac is not None and judged:
            frac = sum(len(line) for line in judged if line[-1] in SENTENCE_END) / sum(map(len, judged))
            if signals is not None:
                signals["end_punct_char_frac"] = frac
            if frac < min_end_punct_char_frac and first_failure(
                    failures, signals, f"end_punct_char_frac {frac:.3f} < min {min_end_punct_char_frac}"):
                return failures[0]
        if max_short_line_frac is not None:
            frac = sum(1 for line in lines if len(line) < short_line_chars) / n
            if signals is not None:
                signals["short_line_frac"] = frac
            if frac > max_short_line_frac and first_failure(
                    failures, signals,
                    f"short_line_frac (< {short_line_chars} chars) {frac:.3f} > max {max_short_line_frac}"):
                return failures[0]
        if min_avg_line_chars is not None:
            avg = total / n
            if signals is not None:
                signals["avg_line_chars"] = avg
            if avg < min_avg_line_chars and first_failure(
                    failures, signals, f"avg_line_chars {avg:.1f} < min {min_avg_line_chars}"):
                return failures[0]
        return failures[0] if failures else None

    return check


def _cleaned(raw_lines: list[str], keep: list[str], removed: int,
             signals: dict[str, Any] | None) -> Cleaned | None:
    if signals is not None:
        signals["lines_removed"] = removed
    if not removed:
        return None
    return Cleaned("\n".join(keep).strip("\n"), removed)


@rule_kind("boilerplate_lines")
def boilerplate_lines_rule(
    base: Any, patterns: list[str] | None = None, wordlist: str | None = None,
    weak_wordlist: str | None = None, weak_min_coverage: float = 0.5, max_line_chars: int = 40,
    max_removed_frac: float = 0.5, spare_sentences: bool = True, edge_lines: int = 0,
) -> Checker:
    """Cleaner: remove short lines that are page furniture; reject when more than max_removed_frac of the
    non-empty lines would go (a navigation-only page).

    A short line (<= max_line_chars) goes when it contains a strong marker (`wordlist`, `patterns`: 上一篇,
    版权所有, 返回顶部 ...) or when weak markers (`weak_wordlist`: 登录, 分享, 评论 ...) cover at least
    weak_min_coverage of its non-space characters. With spare_sentences, a line ending in a Chinese full
    stop (。！？) is prose, not a menu, and stays. With edge_lines = K, a short line that occurs both among
    the first K and among the last K non-empty lines, and nowhere in between, is navigation repeated at
    the top and the bottom of the page, and goes too (so that the repetition rule judges the article, not
    its menus); such lines do not count towards max_removed_frac.
    """
    markers = list(patterns or [])
    if wordlist:
        markers += read_word_list(base / wordlist)
    weak = read_word_list(base / weak_wordlist) if weak_wordlist else []
    if not markers and not weak:
        raise UsageError("boilerplate_lines needs `patterns`, `wordlist` or `weak_wordlist`")
    strong_re = WordMatcher(markers) if markers else None
    weak_re = WordMatcher(weak) if weak else None

    def is_furniture(s: str) -> bool:
        low = s.lower()
        if strong_re is not None and strong_re.search(low):
            return True
        if weak_re is not None:
            hits = weak_re.findall(low)
            if hits:
                visible = len(s) - s.count(" ") - s.count("\t")
                return sum(len(h) for h in hits) >= weak_min_coverage * max(visible, 1)
        return False

    def edge_repeats(stripped: list[str]) -> frozenset[str]:
        k = min(edge_lines, len(stripped) // 2)  # head and tail never overlap, even on a short page
        if k <= 0:
            return frozenset()
        both = set(stripped[:k]) & set(stripped[-k:])
        if not both:  # most pages: no line at both edges, and no need to hash the ones in between
            return frozenset()
        # only at the edges: a line that also repeats in between (a chorus, a loop) is content
        return frozenset(s for s in both - set(stripped[k:-k]) if len(s) <= max_line_chars)

    def may_hold_markers(doc: DocView) -> bool:
        """False when no line can hold a marker: none occurs in the lowercased document. (A line's
        lowercase is a piece of the document's, except around a capital sigma, whose lowercase depends
        on its neighbours.)"""
        if "Σ" in doc.text:
            return True
        low = doc.lower
        return any(m is not None and m.search(low) for m in (strong_re, weak_re))

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | Cleaned | None:
        nav = edge_repeats(doc.lines)
        if not nav and not may_hold_markers(doc):  # nothing to remove: skip the line by line pass
            if signals is not None:
                signals["removed_frac"], signals["lines_removed"] = 0.0, 0
            return None
        raw = doc.text.split("\n")
        keep: list[str] = []
        removed = nonempty = 0
        repeated = 0  # menus repeated at the top and the bottom: cleaned, not counted as a navigation page
        for line in raw:
            s = line.strip()
            if s:
                nonempty += 1
                if len(s) <= max_line_chars and not (spare_sentences and s[-1] in "。！？") and is_furniture(s):
                    removed += 1
                    continue
                if s in nav:
                    repeated += 1
                    continue
            keep.append(line)
        if signals is not None:
            signals["removed_frac"] = removed / nonempty if nonempty else 0.0
        if removed and removed / nonempty > max_removed_frac:
            if signals is not None:
                signals["lines_removed"] = removed
            frac = removed / nonempty
            return f"boilerplate lines {removed}/{nonempty} = {frac:.3f} > max {max_removed_frac}"
        return _cleaned(raw, keep, removed + repeated, signals)

    return check


_LETTER = re.compile(r"[^\W\d_]")


def letterless_line_numbers(text: str, max_line_chars: int) -> list[int]:
    """The numbers of the lines of text.split("\\n") that are not blank, at most max_line_chars long once
    stripped, and hold no letter; compiled in _charstats.c where it is built."""
    if _charstats is not None:
        return _charstats.letterless_lines(text, max_line_chars)
    return [k for k, line in enumerate(text.split("\n"))
            if (s := line.strip()) and len(s) <= max_line_chars and not _LETTER.search(line)]


@rule_kind("letterless_lines")
def letterless_lines_rule(max_line_chars: int = 40) -> Checker:
    """Cleaner: remove short lines without a single letter (any script): separators such as '|', counters,
    bare dates and times. They carry no language and make real articles look repetitive."""

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> Cleaned | None:
        gone = letterless_line_numbers(doc.text, max_line_chars)
        if not gone:
            return _cleaned([], [], 0, signals)
        raw = doc.text.split("\n")
        drop = set(gone)
        return _cleaned(raw, [line for k, line in enumerate(raw) if k not in drop], len(gone), signals)

    return check
