"""Character-statistics rules: length, Han ratio, symbol ratio, runs of one character."""

from __future__ import annotations

from typing import Any

import numpy as np

from corpus_tool.stages.filter.docview import HAN, PUNCT, SPACE, DocView
from corpus_tool.stages.filter.registry import Checker, rule_kind


@rule_kind("length")
def length_rule(min_chars: int = 0, max_chars: int | None = None) -> Checker:
    """Non-whitespace characters between min_chars and max_chars."""

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        n = doc.n_visible
        if signals is not None:
            signals["chars"] = n
        if n < min_chars:
            return f"{n} chars < min {min_chars}"
        if max_chars is not None and n > max_chars:
            return f"{n} chars > max {max_chars}"
        return None

    return check


def han_ratio(doc: DocView) -> float:
    """Han characters / non-whitespace characters: the definition of langid's `han_frac`
    (corpus_tool/charclass.py: 々 and 〇 are Han, zero-width characters are characters)."""
    n = doc.n_visible
    return int(np.count_nonzero(doc.visible_classes & HAN)) / n if n else 0.0


@rule_kind("han_ratio")
def han_ratio_rule(min_ratio: float) -> Checker:
    """Han characters / non-whitespace characters >= min_ratio (the same measure as langid's han_frac)."""

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        ratio = han_ratio(doc)
        if signals is not None:
            signals["han_ratio"] = ratio
        return f"han ratio {ratio:.3f} < min {min_ratio}" if ratio < min_ratio else None

    return check


@rule_kind("symbol_ratio")
def symbol_ratio_rule(max_ratio: float) -> Checker:
    """Unicode punctuation and symbols (P*, S*; never Han) / non-whitespace characters <= max_ratio."""

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        n = doc.n_visible
        ratio = int(np.count_nonzero(doc.visible_classes & PUNCT)) / n if n else 0.0
        if signals is not None:
            signals["symbol_ratio"] = ratio
        return f"symbol ratio {ratio:.3f} > max {max_ratio}" if ratio > max_ratio else None

    return check


@rule_kind("char_run")
def char_run_rule(max_run: int) -> Checker:
    """The longest run of one repeated non-whitespace character <= max_run."""

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        c = doc.cps
        if c.size == 0:
            if signals is not None:
                signals["longest_run"] = 0
            return None
        starts = np.flatnonzero(np.concatenate(([True], c[1:] != c[:-1])))
        lengths = np.diff(np.append(starts, c.size))
        visible = (doc.classes[starts] & SPACE) == 0
        lengths = lengths[visible]
        if lengths.size == 0:
            if signals is not None:
                signals["longest_run"] = 0
            return None
        i = int(np.argmax(lengths))
        longest = int(lengths[i])
        if signals is not None:
            signals["longest_run"] = longest
        if longest > max_run:
            ch = chr(int(c[starts[visible][i]]))
            return f"run of {longest} x {ch!r} > max {max_run}"
        return None

    return check
