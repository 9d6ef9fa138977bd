"""Gopher repetition (Rae et al. 2021) on lines and on n-grams of units (Han characters, punctuation,
Latin words) of the whitespace-free text, as datatrove computes it."""

from __future__ import annotations

from typing import Any

import numpy as np

from corpus_tool.stages.filter.docview import _POS_MULT, ALNUM, FILTER_BITS, HAN, PUNCT, SPACE, DocView, _powers
from corpus_tool.stages.filter.registry import Checker, first_failure, rule_kind

try:  # the compiled twin of repetition_fractions (built by `pip install`); the numpy code is the reference
    from corpus_tool.stages.filter import _repetition
except ImportError:  # a source tree that was never built: same values, slower
    _repetition = None


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


_MIX = np.uint64(0x9E3779B97F4A7C15)
BATCH_DOCS = 16  # documents hashed and sorted together: amortizes numpy's per-call cost, stays in cache
_DOC_MIX = np.uint64(0xD6E8FEB86659FD93)


def _repeated(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indexes into `key` of the values that occur at least twice, grouped by value (in value order), and
    the start of each group. A bucket count first drops every value alone in its bucket (it cannot
    repeat), so the sort sees only a fraction of ordinary text."""
    idx = np.arange(key.size)
    if key.size > 32:
        bits = int(key.size * 4).bit_length()
        b = ((key * _MIX) >> np.uint64(64 - bits)).astype(np.intp)
        maybe = np.bincount(b, minlength=1 << bits)[b] >= 2
        idx = idx[maybe]
    order = idx[np.argsort(key[idx])]
    s = key[order]
    same_next = s[1:] == s[:-1]
    in_group = np.zeros(s.size, dtype=bool)
    in_group[1:] |= same_next
    in_group[:-1] |= same_next
    gs = s[in_group]
    gstarts = np.flatnonzero(np.concatenate(([True], gs[1:] != gs[:-1]))) if gs.size else np.zeros(0, np.int64)
    return order[in_group], gstarts


def batch_units(docs: list[DocView]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`DocView.units` of every document at once: (unit hashes, unit lengths, units per document, unit is
    punctuation), concatenated. A unit never runs across two documents; a document whose units are all
    single characters keeps its raw code points as hashes, as `DocView.units` does."""
    cps = np.concatenate([v.cps for v in docs])
    cls = np.concatenate([v.classes for v in docs])
    first = np.zeros(len(docs) + 1, np.int64)
    np.cumsum([v.cps.size for v in docs], out=first[1:])
    word = ((cls & ALNUM) != 0) & ((cls & HAN) == 0)
    start = np.ones(cls.size, dtype=bool)
    start[1:] = ~(word[1:] & word[:-1])
    start[first[:-1][first[:-1] < cls.size]] = True
    visible = (cls & SPACE) == 0
    vis = cps[visible]
    vstart = start[visible]
    nvis = np.fromiter((v.n_visible for v in docs), np.int64, len(docs))
    if vis.size == 0:
        empty = np.zeros(0, np.int64)
        return empty.astype(np.uint64), empty, np.zeros(len(docs), np.int64), empty.astype(bool)
    starts = np.flatnonzero(vstart)
    doc_of_unit = np.repeat(np.arange(len(docs)), nvis)[starts]
    counts = np.bincount(doc_of_unit, minlength=len(docs))
    unit_of = np.cumsum(vstart) - 1
    pos = np.arange(vis.size) - starts[unit_of]
    base = np.add.reduceat(vis.astype(np.uint64) * _POS_MULT[pos & 63], starts)
    single = (counts == nvis)[doc_of_unit]
    base[single] = vis[starts[single]]
    lens = np.diff(np.append(starts, vis.size))
    is_punct = (cls[visible][starts] & PUNCT) != 0
    return base, lens, counts, is_punct


def repetition_fractions(docs: list[DocView], tops: list[int], dups: list[int],
                         skip_punct_grams: bool = False,
                         limits: list[tuple[str, int, float]] | None = None) -> list[dict[str, float]]:
    """`top_{n}` and `dup_{n}` fractions (as `top_ngram_fraction` and `duplicate_ngram_fractions` define
    them) of every document of a batch, in a few numpy passes over all of them together.

    Grams are hashed from one prefix sum over the batch's units ((T[i+n] - T[i]) * P**(i+n-1) is the same
    polynomial hash as `DocView.ngram_hashes`, wherever the gram sits), keyed by hash and document. An
    n-gram can only repeat where every shorter gram at the same unit repeats, so each n after the smallest
    looks only at the positions whose previous gram repeated. The groups that occur twice or more, and so
    every value, are exactly those of the per-document definitions (tests/test_filter.py checks it); ties
    for the top gram go, as there, to the smallest hash. With `skip_punct_grams`, grams made only of
    punctuation and symbols (a dashed table rule, `----	----`) are not counted as repeated content.

    With `limits` (the rule's checks in order: key, n, maximum), a document is dropped from the larger n
    as soon as its first failing check is known: its later values stay 0 and are never looked at, as a
    checker that stops at the first failure would not compute them.
    """
    out: list[dict[str, float]] = [{} for _ in docs]
    ns = sorted(set(tops) | set(dups))
    for d in out:
        for n in tops:
            d[f"top_{n}"] = 0.0
        for n in dups:
            d[f"dup_{n}"] = 0.0
    if not docs or not ns:
        return out
    base, lens, counts, is_punct = batch_units(docs)
    total = int(counts.sum())
    if total == 0:
        return out
    ustart = np.zeros(len(docs) + 1, np.int64)
    np.cumsum(counts, out=ustart[1:])
    nvis = [v.n_visible for v in docs]
    doc_of = np.repeat(np.arange(len(docs)), counts)
    uend = ustart[1:][doc_of]  # end of each unit's document
    ppow, qpow = _powers(total + 1)
    t = np.zeros(total + 1, np.uint64)
    np.cumsum(base * qpow[:total], out=t[1:])
    offg = np.zeros(total + 1, np.int64)
    np.cumsum(lens, out=offg[1:])
    if skip_punct_grams:
        npunct = np.zeros(total + 1, np.int64)
        np.cumsum(is_punct, out=npunct[1:])
    dup_set, top_set = set(dups), set(tops)
    cand = np.arange(total)
    decided = np.zeros(len(docs), bool)
    for n in ns:
        if limits is not None and n > ns[0]:
            _decide(out, limits, n, decided)
            if decided.all():
                break
            if decided.any():
                cand = cand[~decided[doc_of[cand]]]
        pos = cand[cand + n <= uend[cand]]
        if pos.size < 2:
            break
        h = (t[pos + n] - t[pos]) * ppow[pos + n - 1]
        pdoc = doc_of[pos]
        gi, gstarts = _repeated(h ^ (pdoc.astype(np.uint64) * _DOC_MIX))
        if gi.size == 0:
            break
        gp = pos[gi]
        first = gp[gstarts]
        gdoc = pdoc[gi][gstarts]
        counted = np.ones(gstarts.size, bool)  # groups that count as repeated content
        if skip_punct_grams:
            counted = (npunct[first + n] - npunct[first]) < n
        if n in top_set:
            gcount = np.diff(np.append(gstarts, gi.size))
            gh = h[gi][gstarts]
            order = np.lexsort((gh, -gcount, gdoc))
            order = order[counted[order]]  # per document: most frequent, then smallest hash
            lead = order[np.concatenate(([True], gdoc[order][1:] != gdoc[order][:-1]))] if order.size else order
            for g in lead.tolist():
                d = int(gdoc[g])
                f = int(first[g])
                out[d][f"top_{n}"] = int(gcount[g]) * int(offg[f + n] - offg[f]) / nvis[d]
        if n in dup_set:
            firsts = np.minimum.reduceat(gp, gstarts)
            sizes = np.diff(np.append(gstarts, gp.size))
            later = (gp != np.repeat(firsts, sizes)) & np.repeat(counted, sizes)
            repeats = np.sort(gp[later])  # every occurrence but the first
            # characters covered by the union of [r, r + n): the starts are sorted and every interval has
            # length n, so each adds the part after the previous one's end (never across documents)
            ends = repeats + n
            lo = np.maximum(repeats, np.concatenate(([0], ends[:-1])))
            added = np.maximum(offg[ends] - offg[lo], 0)
            per_doc = np.bincount(doc_of[repeats], weights=added, minlength=len(docs))
            for d in np.unique(gdoc[counted]).tolist():
                out[d][f"dup_{n}"] = float(int(per_doc[d])) / nvis[d]
        cand = np.sort(gp)
    return out


def native_repetition_fractions(docs: list[DocView], tops: list[int], dups: list[int],
                                skip_punct_grams: bool = False,
                                limits: list[tuple[str, int, float]] | None = None) -> list[dict[str, float]]:
    """`repetition_fractions`, computed by the compiled `_repetition` module straight from each text: the
    same floats (tests/test_filter_native.py), one hash-table pass per n instead of numpy sorts."""
    keys = [f"top_{n}" for n in tops] + [f"dup_{n}" for n in dups]
    column = {k: i for i, k in enumerate(keys)}
    native_limits = tuple((column[key], n, float(limit)) for key, n, limit in limits or ())
    rows = _repetition.repetition([d.text for d in docs], FILTER_BITS, _POS_MULT,
                                  tuple(sorted(set(tops) | set(dups))), tuple(tops), tuple(dups),
                                  skip_punct_grams, native_limits)
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _decide(out: list[dict[str, float]], limits: list[tuple[str, int, float]], n: int,
            decided: np.ndarray) -> None:
    """Mark the documents whose first failing check is known once every n below `n` is computed."""
    for d in np.flatnonzero(~decided).tolist():
        for key, m, limit in limits:
            if m >= n:
                break  # not computed yet: the verdict may still depend on it
            if out[d][key] > limit:
                decided[d] = True
                break


def duplicate_lines(lines: list[str]) -> tuple[int, int, int]:
    """(lines seen before, their characters, characters of all lines): every occurrence of a line but the
    first is a duplicate, so both counts are those of all lines less those of the distinct ones."""
    distinct = set(lines)
    total = sum(map(len, lines))
    return len(lines) - len(distinct), total - sum(map(len, distinct)), total


@rule_kind("gopher_repetition")
def gopher_repetition_rule(
    dup_line_frac: float | None = None,
    dup_line_char_frac: float | None = None,
    top_ngram_frac: dict[int, float] | None = None,
    dup_ngram_frac: dict[int, float] | None = None,
    skip_punct_grams: bool = False,
) -> Checker:
    """Gopher (Rae et al. 2021) repetition: duplicate lines, and n-grams of units (Han characters,
    punctuation, Latin words) of the whitespace-free text."""
    tops = sorted((int(k), float(v)) for k, v in (top_ngram_frac or {}).items())
    dups = sorted((int(k), float(v)) for k, v in (dup_ngram_frac or {}).items())

    def line_failures(doc: DocView, signals: dict[str, Any] | None) -> list[str]:
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
                return failures
            if dup_line_char_frac is not None and total and char_frac > dup_line_char_frac and first_failure(
                    failures, signals, f"dup_line_char_frac {char_frac:.3f} > max {dup_line_char_frac}"):
                return failures
        return failures

    limits = [(f"top_{n}", n, v) for n, v in tops] + [(f"dup_{n}", n, v) for n, v in dups]

    def gram_failure(fr: dict[str, float], signals: dict[str, Any] | None, failures: list[str]) -> str | None:
        for key, _, limit in limits:  # top_4 -> signal top_4gram_frac, dup_10 -> dup_10gram_frac
            v = fr[key]
            if signals is not None:
                signals[f"{key}gram_frac"] = v
            if v > limit and first_failure(failures, signals, f"{key}gram_frac {v:.3f} > max {limit}"):
                return failures[0]
        return failures[0] if failures else None

    def batch(docs: list[DocView], signals: list[dict[str, Any]] | None = None) -> list[str | None]:
        sigs = signals if signals is not None else [None] * len(docs)
        out: list[str | None] = [None] * len(docs)
        line_fail = [line_failures(d, s) for d, s in zip(docs, sigs, strict=True)]
        todo = [i for i, f in enumerate(line_fail) if signals is not None or not f]  # plain: stop at a failure
        for i, f in enumerate(line_fail):
            if f and signals is None:
                out[i] = f[0]
        if _repetition is not None:  # compiled: every document in one call
            fractions, step = native_repetition_fractions, max(len(todo), 1)
        else:
            fractions, step = repetition_fractions, BATCH_DOCS
        for k in range(0, len(todo), step):
            chunk = todo[k:k + step]
            fracs = fractions([docs[i] for i in chunk], [n for n, _ in tops], [n for n, _ in dups],
                              skip_punct_grams, None if signals is not None else limits)
            for i, fr in zip(chunk, fracs, strict=True):
                out[i] = gram_failure(fr, sigs[i], line_fail[i])
        return out

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        return batch([doc], None if signals is None else [signals])[0]

    check.batch = batch  # type: ignore[attr-defined]
    return check
