"""Character-statistics rules: length, Han ratio, symbol ratio, runs of one character."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from corpus_tool.stages.filter.docview import FILTER_BITS, SPACE, Cleaned, DocView, _charstats
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
    n, han, _ = doc.counts
    return han / n if n else 0.0


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
        n, _, punct = doc.counts
        ratio = punct / n if n else 0.0
        if signals is not None:
            signals["symbol_ratio"] = ratio
        return f"symbol ratio {ratio:.3f} > max {max_ratio}" if ratio > max_ratio else None

    return check


BOX_DRAWING = "".join(chr(c) for c in range(0x2500, 0x2580))  # ─ ━ │ ┌ ┼ ╔ ═ ...


def character_runs(doc: DocView, max_run: int, seps: str) -> tuple[int, list[tuple[int, int]]]:
    """Runs of one repeated non-whitespace character: (the longest whose character is not in `seps`,
    [(code point, length) of every run longer than max_run, in text order])."""
    if _charstats is not None:
        return _charstats.runs(doc.text, FILTER_BITS, max_run, seps)
    c = doc.cps
    if c.size == 0:
        return 0, []
    starts = np.flatnonzero(np.concatenate(([True], c[1:] != c[:-1])))
    lengths = np.diff(np.append(starts, c.size))
    visible = (doc.classes[starts] & SPACE) == 0
    lengths, run_cps = lengths[visible], c[starts[visible]]
    if lengths.size == 0:
        return 0, []
    sep_cps = np.array(sorted(ord(ch) for ch in seps), dtype=np.uint32)
    other = np.where(np.isin(run_cps, sep_cps), 0, lengths) if seps else lengths
    long = np.flatnonzero(lengths > max_run)
    return int(other.max()), list(zip(run_cps[long].tolist(), lengths[long].tolist(), strict=True))


@rule_kind("char_run")
def char_run_rule(max_run: int, separators: str | None = None, max_separator_frac: float = 0.5) -> Checker:
    """The longest run of one repeated non-whitespace character <= max_run.

    With `separators` (characters such as -_=*~ that rule lines; box-drawing characters are always
    included then), a long run of a separator is not garbage but a table border or a ruled line: it is
    cleaned instead. A line made only of separators, box-drawing characters and spaces is dropped, a long
    separator run inside a line is cut to 3 characters, and the document is rejected only when long
    separator runs are more than `max_separator_frac` of its non-whitespace characters."""
    seps = frozenset(separators + BOX_DRAWING) if separators is not None else frozenset()
    sep_chars = "".join(sorted(seps))
    line_chars = seps | frozenset(" \t\u3000")
    if seps:
        run_re = re.compile("(" + "|".join(f"{re.escape(ch)}{{{max_run + 1},}}" for ch in sorted(seps)) + ")")

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | Cleaned | None:
        longest, long = character_runs(doc, max_run, sep_chars)
        if signals is not None:
            signals["longest_run"] = longest
        if doc.n_visible == 0:
            return None
        long_sep = [r for r in long if chr(r[0]) in seps]
        long_other = [r for r in long if chr(r[0]) not in seps]
        sep_frac = sum(n for _, n in long_sep) / doc.n_visible if long_sep else 0.0
        if signals is not None and seps:
            signals["separator_frac"] = sep_frac
        if long_other:
            cp, n = max(long_other, key=lambda r: r[1])
            return f"run of {n} x {chr(cp)!r} > max {max_run}"
        if not long_sep:
            return None
        if sep_frac > max_separator_frac:
            cp, n = max(long_sep, key=lambda r: r[1])
            return (f"separator runs {sep_frac:.3f} of the text > max {max_separator_frac} "
                    f"(longest {n} x {chr(cp)!r})")
        keep: list[str] = []
        removed = 0
        for line in doc.text.split("\n"):
            if run_re.search(line):
                if all(ch in line_chars for ch in line):
                    removed += 1
                    continue
                line = run_re.sub(lambda m: m.group()[:3], line)
            keep.append(line)
        return Cleaned("\n".join(keep).strip("\n"), removed)

    return check
