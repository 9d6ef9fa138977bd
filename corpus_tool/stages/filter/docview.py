"""DocView: one document and its features (code points, character classes, lines, unit n-gram hashes),
each computed on first use with numpy and shared by every rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from corpus_tool import charclass as cc

try:  # compiled counts straight from the str (built by `pip install`); the numpy code is the reference
    from corpus_tool.stages.filter import _charstats
except ImportError:  # a source tree that was never built: same values, slower
    _charstats = None

# The filter's view of the shared character classes (corpus_tool/charclass.py), as bits.
SPACE, HAN, PUNCT, ALNUM = 1, 2, 4, 8
_BITS = cc.project({
    cc.SPACE: SPACE,
    cc.HAN: HAN | ALNUM,
    **{k: ALNUM for k in (cc.KANA, cc.HANGUL, cc.YI, cc.DIGIT, cc.LATIN, cc.OTHER_LETTER, cc.NUMBER)},
    **{k: PUNCT for k in (*cc.PUNCT_CLASSES, cc.SYMBOL)},
})
FILTER_BITS: np.ndarray = _BITS[cc.CHAR_CLASS]  # derived from the one table, per code point


def classify(cps: np.ndarray) -> np.ndarray:
    """Filter class bits for an array of code points: SPACE (whitespace), HAN, PUNCT (Unicode P* and S*;
    Han is never a symbol), ALNUM (letters and numbers of any script, combining marks included)."""
    return FILTER_BITS[cps]


_P = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier for the polynomial n-gram hash
_Q = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))  # its inverse modulo 2**64
_POWERS: list[np.ndarray] = [np.ones(1, np.uint64), np.ones(1, np.uint64)]  # [P**i, Q**i] for i < length


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """P**i and Q**i modulo 2**64 for i < length (grown by doubling, shared by every document)."""
    if _POWERS[0].size < length:
        size = max(length, 2 * _POWERS[0].size)
        for k, base in enumerate((_P, _Q)):
            arr = np.full(size, base, dtype=np.uint64)
            arr[0] = 1
            _POWERS[k] = np.cumprod(arr, dtype=np.uint64)
    return _POWERS[0], _POWERS[1]


_POS_MULT = (np.random.default_rng(20261123).integers(1, 2**63, size=64, dtype=np.int64).astype(np.uint64)
             | np.uint64(1))


@dataclass
class Cleaned:
    """A cleaner's verdict: the new text and how many lines it removed."""

    text: str
    lines_removed: int


class DocView:
    """One document and its features, each computed on first use and shared by all rules."""

    def __init__(self, text: str, kind: str | None = None):
        self.text = text
        self.kind = kind  # meta["kind"], e.g. "transcript"; rules may skip or target kinds
        self._hashes: dict[int, np.ndarray] = {}

    @cached_property
    def cps(self) -> np.ndarray:
        return np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @cached_property
    def classes(self) -> np.ndarray:
        return classify(self.cps)

    @cached_property
    def visible(self) -> np.ndarray:
        """Code points with whitespace removed (what ratios and n-grams are measured on)."""
        return self.cps[(self.classes & SPACE) == 0]

    @cached_property
    def visible_classes(self) -> np.ndarray:
        return self.classes[(self.classes & SPACE) == 0]

    @cached_property
    def counts(self) -> tuple[int, int, int]:
        """(non-whitespace characters, Han characters, punctuation and symbols)."""
        if _charstats is not None:
            return _charstats.counts(self.text, FILTER_BITS)
        vc = self.visible_classes
        return int(vc.size), int(np.count_nonzero(vc & HAN)), int(np.count_nonzero(vc & PUNCT))

    @property
    def n_visible(self) -> int:
        return self.counts[0]

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped (in one compiled pass where it is built)."""
        if _charstats is not None:
            return _charstats.stripped_lines(self.text)
        return list(filter(None, map(str.strip, self.text.split("\n"))))

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def units(self) -> tuple[np.ndarray, np.ndarray]:
        """(hash, length in characters) of each unit: a Han character, a punctuation character, or a run of
        other letters and digits (a Latin word or number). Repetition is measured on units, so that code
        and English inside Chinese text are not judged letter by letter."""
        vis = self.visible
        if vis.size == 0:
            return np.zeros(0, np.uint64), np.zeros(0, np.int64)
        start = self._unit_start
        starts = np.flatnonzero(start)
        if starts.size == vis.size:
            return vis.astype(np.uint64), np.ones(vis.size, np.int64)
        unit_of = np.cumsum(start) - 1
        pos = np.arange(vis.size) - starts[unit_of]
        vals = vis.astype(np.uint64) * _POS_MULT[pos & 63]
        return np.add.reduceat(vals, starts), np.diff(np.append(starts, vis.size))

    @cached_property
    def _unit_start(self) -> np.ndarray:
        """For each visible character: does a unit start there (a word of letters/digits goes on)."""
        cls = self.classes  # with whitespace, so that a space ends a word
        word = ((cls & ALNUM) != 0) & ((cls & HAN) == 0)
        start = np.ones(cls.size, dtype=bool)
        start[1:] = ~(word[1:] & word[:-1])
        return start[(cls & SPACE) == 0]

    @cached_property
    def unit_is_punct(self) -> np.ndarray:
        """For each unit: is it a punctuation or symbol character."""
        if self.visible.size == 0:
            return np.zeros(0, bool)
        return (self.visible_classes[self._unit_start] & PUNCT) != 0

    def ngram_hashes(self, n: int) -> np.ndarray:
        """64-bit hashes of every n-unit gram (length units - n + 1)."""
        if n in self._hashes:
            return self._hashes[n]
        base = self.units[0]
        if n == 1:
            h = base
        else:
            prev = self.ngram_hashes(n - 1)
            h = prev[:-1] * _P + base[n - 1:] if prev.size > 1 else np.zeros(0, np.uint64)
        self._hashes[n] = h
        return h

    @cached_property
    def unit_prefix(self) -> np.ndarray:
        """T[k] = sum of unit[j] * Q**j for j < k (length units + 1), modulo 2**64."""
        base = self.units[0]
        out = np.zeros(base.size + 1, np.uint64)
        if base.size:
            np.cumsum(base * _powers(base.size)[1][: base.size], out=out[1:])
        return out

    def ngram_hashes_at(self, n: int, pos: np.ndarray) -> np.ndarray:
        """`ngram_hashes(n)[pos]` without computing the grams elsewhere: (T[i+n] - T[i]) * P**(i+n-1) is the
        same polynomial hash modulo 2**64 (Q is P's inverse), so a candidate set costs its own size."""
        t = self.unit_prefix
        end = pos + n
        return (t[end] - t[pos]) * _powers(t.size)[0][end - 1]

    @cached_property
    def unit_char_offsets(self) -> np.ndarray:
        """Cumulative character length before each unit (length units + 1)."""
        return np.concatenate(([0], np.cumsum(self.units[1])))
