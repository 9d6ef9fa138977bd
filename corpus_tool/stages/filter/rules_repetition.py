"""Gopher repetition (Rae et al. 2021) on lines and on n-grams of units (Han characters, punctuation,
Latin words) of the whitespace-free text, as datatrove computes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from corpus_tool.stages.filter.docview import DocView
from corpus_tool.stages.filter.registry import Checker, first_failure, rule_kind


def top_ngram_fraction(doc: DocView, n: int) -> float:
    """Characters covered by the most frequent n-gram of units (all its occurrences, counted as datatrove's
    find_top_duplicate does) / non-whitespace characters; 0 when no n-gram occurs twice."""
    h = doc.ngram_hashes(n)
    if h.size < 2:
        return 0.0
    order = np.argsort(h)
    s = h[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, s.size))
    g = int(np.argmax(counts))
    if counts[g] < 2:
        return 0.0
    first = int(order[starts[g]])
    off = doc.unit_char_offsets
    chars = int(off[first + n] - off[first])
    return int(counts[g]) * chars / doc.n_visible


def duplicate_ngram_fractions(doc: DocView, ns: list[int]) -> dict[int, float]:
    """For each n (ascending): characters covered by repeated occurrences (every one but the first) of any
    n-gram of units / non-whitespace characters.

    An n-gram can only repeat where its (n-1)-gram prefix repeats, so after the first n only the positions
    still in repeated groups are sorted again: for ordinary text that is a few percent of them.
    """
    out: dict[int, float] = {}
    off = doc.unit_char_offsets
    total = doc.n_visible
    cand: np.ndarray | None = None  # unit positions whose previous-n gram is repeated
    for n in sorted(ns):
        h = doc.ngram_hashes(n)
        if h.size < 2 or total == 0:
            out[n] = 0.0
            cand = np.zeros(0, np.int64)
            continue
        pos = np.arange(h.size) if cand is None else cand[cand < h.size]
        if pos.size < 2:
            out[n] = 0.0
            cand = pos[:0]
            continue
        hv = h[pos]
        order = np.argsort(hv)
        s = hv[order]
        same_next = s[1:] == s[:-1]
        in_group = np.zeros(s.size, dtype=bool)
        in_group[1:] |= same_next
        in_group[:-1] |= same_next
        grouped = pos[order[in_group]]  # positions in repeated groups, grouped by value
        if grouped.size == 0:
            out[n] = 0.0
            cand = grouped
            continue
        gs = s[in_group]
        gstarts = np.flatnonzero(np.concatenate(([True], gs[1:] != gs[:-1])))
        firsts = np.minimum.reduceat(grouped, gstarts)
        repeats = np.setdiff1d(grouped, firsts, assume_unique=True)
        # characters covered by the union of [start, start + n) over repeated occurrences
        units_total = off.size - 1
        delta = np.bincount(repeats, minlength=units_total + 1)[: units_total + 1]
        delta = delta - np.bincount(repeats + n, minlength=units_total + 1)[: units_total + 1]
        covered = np.cumsum(delta[:units_total]) > 0
        out[n] = float(np.diff(off)[covered].sum()) / total
        cand = np.sort(grouped)
    return out


def duplicate_lines(lines: list[str]) -> tuple[int, int, int]:
    """(lines seen before, their characters, characters of all lines)."""
    seen: set[str] = set()
    dup_lines = dup_chars = 0
    for line in lines:
        if line in seen:
            dup_lines += 1
            dup_chars += len(line)
        else:
            seen.add(line)
    return dup_lines, dup_chars, sum(len(line) for line in lines)


@rule_kind("gopher_repetition")
def gopher_repetition_rule(
    dup_line_frac: float | None = None,
    dup_line_char_frac: float | None = None,
    top_ngram_frac: dict[int, float] | None = None,
    dup_ngram_frac: dict[int, float] | None = None,
) -> Checker:
    """Gopher (Rae et al. 2021) repetition: duplicate lines, and n-grams of units (Han characters,
    punctuation, Latin words) of the whitespace-free text."""
    tops = sorted((int(k), float(v)) for k, v in (top_ngram_frac or {}).items())
    dups = sorted((int(k), float(v)) for k, v in (dup_ngram_frac or {}).items())

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        failures: list[str] = []
        lines = doc.lines
        if lines and (dup_line_frac is not None or dup_line_char_frac is not None):
            dup_lines, dup_chars, total = duplicate_lines(lines)
            frac = dup_lines / len(lines)
            char_frac = dup_chars / total if total else 0.0
            if signals is not None:
                signals["dup_line_frac"], signals["dup_line_char_frac"] = frac, char_frac
            if dup_line_frac is not None and frac > dup_line_frac and first_failure(
                    failures, signals, f"dup_line_frac {frac:.3f} > max {dup_line_frac}"):
                return failures[0]
            if dup_line_char_frac is not None and total and char_frac > dup_line_char_frac and first_failure(
                    failures, signals, f"dup_line_char_frac {char_frac:.3f} > max {dup_line_char_frac}"):
                return failures[0]
        for n, limit in tops:
            v = top_ngram_fraction(doc, n)
            if signals is not None:
                signals[f"top_{n}gram_frac"] = v
            if v > limit and first_failure(failures, signals, f"top_{n}gram_frac {v:.3f} > max {limit}"):
                return failures[0]
        fracs = duplicate_ngram_fractions(doc, [n for n, _ in dups]) if dups else {}
        for n, limit in dups:
            v = fracs[n]
            if signals is not None:
                signals[f"dup_{n}gram_frac"] = v
            if v > limit and first_failure(failures, signals, f"dup_{n}gram_frac {v:.3f} > max {limit}"):
                return failures[0]
        return failures[0] if failures else None

    return check
