"""Heuristic quality filter: Chinese-aware rules declared in YAML (rules/zh_web.yaml is the default).

A rule file holds a list of rules; each has a `name` (the stable `reason` key a rejection carries), a `kind`
(a registered function), `params` and a one-line `why`. Rules run in file order on one document at a time
and stop at the first failure. A *cleaner* kind (`boilerplate_lines`) may instead rewrite the text (remove
lines) and record its rule name in the `cleaned` column; later rules judge what is left.

Adding a kind means adding one function decorated with `@rule_kind("name")`: it takes the rule's params as
keyword arguments (checked when the file is loaded) and returns a checker `DocView -> None | str | Cleaned`
(None: pass; a string: reject, the string says the measured value against the threshold).

Speed: per-document features (code points, character classes, lines, n-gram hashes) are computed once,
lazily, with numpy, and shared by every rule (`DocView`). jieba runs only in the stop-word rule, on a few
short windows around candidate stop characters, never on the whole document. Every regex is an alternation
of literals shaped as a trie (bounded by the longest word), so no input makes it backtrack catastrophically.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import schema
from corpus_tool.errors import UsageError
from corpus_tool.stage import Stage

# ------------------------------------------------------------------------------------ character classes

SPACE, HAN, PUNCT, ALNUM = 1, 2, 4, 8
_TABLE: np.ndarray | None = None


def char_classes() -> np.ndarray:
    """A uint8 class table for the Basic Multilingual Plane (built once, about 40 ms).

    PUNCT is Unicode punctuation or symbol (P*, S*) and nothing else: Han characters such as 一 上 士 are
    letters (data-juicer's special-character list wrongly contains them).
    """
    global _TABLE
    if _TABLE is None:
        table = np.zeros(0x10000, dtype=np.uint8)
        for cp in range(0x10000):
            ch = chr(cp)
            cat = unicodedata.category(ch)
            if ch.isspace() or cp in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF):
                table[cp] = SPACE
            elif cat[0] in "PS":
                table[cp] = PUNCT
            elif cat[0] in "LN":
                table[cp] = ALNUM
        table[0x3400:0x4DC0] |= HAN
        table[0x4E00:0xA000] |= HAN
        table[0xF900:0xFB00] |= HAN
        _TABLE = table
    return _TABLE


def classify(cps: np.ndarray) -> np.ndarray:
    """Class bits for an array of code points (supplementary planes: Han ideographs, emoji as symbols)."""
    table = char_classes()
    cls = table[np.minimum(cps, 0xFFFF)]
    high = cps > 0xFFFF
    if high.any():
        hc = cps[high]
        cls[high] = np.where((hc >= 0x20000) & (hc < 0x40000), HAN | ALNUM,
                             np.where((hc >= 0x1F000) & (hc < 0x1FB00), PUNCT, ALNUM))
    return cls


# ------------------------------------------------------------------------------------------ document view

_P = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier for the polynomial n-gram hash


@dataclass
class Cleaned:
    """A cleaner's verdict: the new text and how many lines it removed."""

    text: str
    lines_removed: int


class DocView:
    """One document and its features, each computed on first use and shared by all rules."""

    def __init__(self, text: str):
        self.text = text
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

    @property
    def n_visible(self) -> int:
        return int(self.visible.size)

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped."""
        return [s for s in (line.strip() for line in self.text.split("\n")) if s]

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
        cls = self.classes  # with whitespace, so that a space ends a word
        word = ((cls & ALNUM) != 0) & ((cls & HAN) == 0)
        start = np.ones(cls.size, dtype=bool)
        start[1:] = ~(word[1:] & word[:-1])
        start = start[(cls & SPACE) == 0]
        starts = np.flatnonzero(start)
        if starts.size == vis.size:
            return vis.astype(np.uint64), np.ones(vis.size, np.int64)
        unit_of = np.cumsum(start) - 1
        pos = np.arange(vis.size) - starts[unit_of]
        vals = vis.astype(np.uint64) * _POS_MULT[pos & 63]
        return np.add.reduceat(vals, starts), np.diff(np.append(starts, vis.size))

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
    def unit_char_offsets(self) -> np.ndarray:
        """Cumulative character length before each unit (length units + 1)."""
        return np.concatenate(([0], np.cumsum(self.units[1])))


_POS_MULT = (np.random.default_rng(20261123).integers(1, 2**63, size=64, dtype=np.int64).astype(np.uint64)
             | np.uint64(1))


# ---------------------------------------------------------------------------------------------- registry

Checker = Callable[[DocView], "None | str | Cleaned"]
RULE_KINDS: dict[str, Callable[..., Checker]] = {}


def rule_kind(name: str) -> Callable[[Callable[..., Checker]], Callable[..., Checker]]:
    """Register a rule kind: a function of the rule's params that returns a checker."""

    def register(factory: Callable[..., Checker]) -> Callable[..., Checker]:
        RULE_KINDS[name] = factory
        return factory

    return register


@dataclass
class Rule:
    name: str
    kind: str
    params: dict[str, Any]
    why: str
    check: Checker


# ------------------------------------------------------------------------------------------- rule kinds


@rule_kind("length")
def length_rule(min_chars: int = 0, max_chars: int | None = None) -> Checker:
    """Non-whitespace characters between min_chars and max_chars."""

    def check(doc: DocView) -> str | None:
        n = doc.n_visible
        if n < min_chars:
            return f"{n} chars < min {min_chars}"
        if max_chars is not None and n > max_chars:
            return f"{n} chars > max {max_chars}"
        return None

    return check


@rule_kind("han_ratio")
def han_ratio_rule(min_ratio: float) -> Checker:
    """Han characters / non-whitespace characters >= min_ratio."""

    def check(doc: DocView) -> str | None:
        n = doc.n_visible
        ratio = int(np.count_nonzero(doc.visible_classes & HAN)) / n if n else 0.0
        return f"han ratio {ratio:.3f} < min {min_ratio}" if ratio < min_ratio else None

    return check


@rule_kind("symbol_ratio")
def symbol_ratio_rule(max_ratio: float) -> Checker:
    """Unicode punctuation and symbols (P*, S*; never Han) / non-whitespace characters <= max_ratio."""

    def check(doc: DocView) -> str | None:
        n = doc.n_visible
        ratio = int(np.count_nonzero(doc.visible_classes & PUNCT)) / n if n else 0.0
        return f"symbol ratio {ratio:.3f} > max {max_ratio}" if ratio > max_ratio else None

    return check


@rule_kind("char_run")
def char_run_rule(max_run: int) -> Checker:
    """The longest run of one repeated non-whitespace character <= max_run."""

    def check(doc: DocView) -> str | None:
        c = doc.cps
        if c.size == 0:
            return None
        starts = np.flatnonzero(np.concatenate(([True], c[1:] != c[:-1])))
        lengths = np.diff(np.append(starts, c.size))
        lengths = lengths[(doc.classes[starts] & SPACE) == 0]
        if lengths.size == 0:
            return None
        i = int(np.argmax(lengths))
        longest = int(lengths[i])
        if longest > max_run:
            ch = chr(int(c[starts[(doc.classes[starts] & SPACE) == 0][i]]))
            return f"run of {longest} x {ch!r} > max {max_run}"
        return None

    return check


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

    def check(doc: DocView) -> str | None:
        lines = doc.lines
        if lines and (dup_line_frac is not None or dup_line_char_frac is not None):
            seen: set[str] = set()
            dup_lines = dup_chars = 0
            for line in lines:
                if line in seen:
                    dup_lines += 1
                    dup_chars += len(line)
                else:
                    seen.add(line)
            if dup_line_frac is not None and dup_lines / len(lines) > dup_line_frac:
                return f"dup_line_frac {dup_lines / len(lines):.3f} > max {dup_line_frac}"
            total = sum(len(line) for line in lines)
            if dup_line_char_frac is not None and total and dup_chars / total > dup_line_char_frac:
                return f"dup_line_char_frac {dup_chars / total:.3f} > max {dup_line_char_frac}"
        for n, limit in tops:
            v = top_ngram_fraction(doc, n)
            if v > limit:
                return f"top_{n}gram_frac {v:.3f} > max {limit}"
        fracs = duplicate_ngram_fractions(doc, [n for n, _ in dups]) if dups else {}
        for n, limit in dups:
            v = fracs[n]
            if v > limit:
                return f"dup_{n}gram_frac {v:.3f} > max {limit}"
        return None

    return check


SENTENCE_END = frozenset("。！？!?.…；;”\"’'」』）)》")


@rule_kind("lines")
def lines_rule(
    min_end_punct_frac: float | None = None,
    min_end_punct_char_frac: float | None = None,
    short_line_chars: int = 10,
    max_short_line_frac: float | None = None,
    min_avg_line_chars: float | None = None,
) -> Checker:
    """Line-shape rules: sentence-final punctuation, short lines, average line length.

    min_end_punct_frac is FineWeb's line_punct_thr (a fraction of lines); min_end_punct_char_frac weights
    each line by its length, so that an article with many short list items still counts as prose.
    """

    def check(doc: DocView) -> str | None:
        lines = doc.lines
        if not lines:
            return "no non-empty lines"
        n = len(lines)
        if min_end_punct_frac is not None:
            frac = sum(1 for line in lines if line[-1] in SENTENCE_END) / n
            if frac < min_end_punct_frac:
                return f"end_punct_frac {frac:.3f} < min {min_end_punct_frac}"
        if min_end_punct_char_frac is not None:
            total = sum(len(line) for line in lines)
            frac = sum(len(line) for line in lines if line[-1] in SENTENCE_END) / total
            if frac < min_end_punct_char_frac:
                return f"end_punct_char_frac {frac:.3f} < min {min_end_punct_char_frac}"
        if max_short_line_frac is not None:
            frac = sum(1 for line in lines if len(line) < short_line_chars) / n
            if frac > max_short_line_frac:
                return f"short_line_frac (< {short_line_chars} chars) {frac:.3f} > max {max_short_line_frac}"
        if min_avg_line_chars is not None:
            avg = sum(len(line) for line in lines) / n
            if avg < min_avg_line_chars:
                return f"avg_line_chars {avg:.1f} < min {min_avg_line_chars}"
        return None

    return check


def literal_trie_regex(words: list[str], lowercase: bool = True) -> re.Pattern[str]:
    """One compiled regex matching any of `words`, longest first, shaped as a trie of literals.

    With `lowercase` the words are lowercased and the pattern must be run on lowercased text: that is 7x
    faster than re.IGNORECASE, which defeats the regex engine's first-character skip.

    It has no repetition operators (only `(?:...)?` for a word that is a prefix of another), so matching
    costs at most the longest word per position whatever the input.
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w.lower() if lowercase else w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    if not trie:
        return re.compile(r"(?!x)x")
    return re.compile(build(trie))


def read_word_list(path: Path | Any) -> list[str]:
    """Words from a list file: one a line, '#' comments and blank lines ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read the word list ({e.strerror or e})") from e
    return [w.strip() for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#")]


@rule_kind("word_density")
def word_density_rule(base: Any, wordlist: str, max_density: float, min_distinct: int = 1) -> Checker:
    """Characters covered by listed words / non-whitespace characters <= max_density (when at least
    min_distinct different listed words occur)."""
    words = read_word_list(base / wordlist)
    if not words:
        raise UsageError(f"{base / wordlist}: the word list is empty")
    pattern = literal_trie_regex(words)

    def check(doc: DocView) -> str | None:
        hits = pattern.findall(doc.lower)
        if not hits:
            return None
        covered = sum(len(h) for h in hits)
        n = doc.n_visible
        density = covered / n if n else 1.0
        distinct = len(set(hits))
        if density > max_density and distinct >= min_distinct:
            top = ", ".join(w for w, _ in Counter(hits).most_common(3))
            return f"density {density:.3f} > max {max_density} ({len(hits)} hits, {distinct} distinct: {top})"
        return None

    return check


@rule_kind("boilerplate_lines")
def boilerplate_lines_rule(
    base: Any, patterns: list[str] | None = None, wordlist: str | None = None,
    weak_wordlist: str | None = None, weak_min_coverage: float = 0.5, max_line_chars: int = 40,
    max_removed_frac: float = 0.5, spare_sentences: bool = True,
) -> Checker:
    """Cleaner: remove short lines that are page furniture; reject when more than max_removed_frac of the
    non-empty lines would go (a navigation-only page).

    A short line (<= max_line_chars) goes when it contains a strong marker (`wordlist`, `patterns`: 上一篇,
    版权所有, 返回顶部 ...) or when weak markers (`weak_wordlist`: 登录, 分享, 评论 ...) cover at least
    weak_min_coverage of its non-space characters. With spare_sentences, a line ending in a Chinese full
    stop (。！？) is prose, not a menu, and stays.
    """
    markers = list(patterns or [])
    if wordlist:
        markers += read_word_list(base / wordlist)
    weak = read_word_list(base / weak_wordlist) if weak_wordlist else []
    if not markers and not weak:
        raise UsageError("boilerplate_lines needs `patterns`, `wordlist` or `weak_wordlist`")
    strong_re = literal_trie_regex(markers) if markers else None
    weak_re = literal_trie_regex(weak) if weak else None

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

    def check(doc: DocView) -> str | Cleaned | None:
        raw = doc.text.split("\n")
        keep: list[str] = []
        removed = nonempty = 0
        for line in raw:
            s = line.strip()
            if s:
                nonempty += 1
                if (len(s) <= max_line_chars and not (spare_sentences and s[-1] in "。！？")
                        and is_furniture(s)):
                    removed += 1
                    continue
            keep.append(line)
        if not removed:
            return None
        if removed / nonempty > max_removed_frac:
            frac = removed / nonempty
            return f"boilerplate lines {removed}/{nonempty} = {frac:.3f} > max {max_removed_frac}"
        return Cleaned("\n".join(keep).strip("\n"), removed)

    return check


_LETTER = re.compile(r"[^\W\d_]")


@rule_kind("letterless_lines")
def letterless_lines_rule(max_line_chars: int = 40) -> Checker:
    """Cleaner: remove short lines without a single letter (any script): separators such as '|', counters,
    bare dates and times. They carry no language and make real articles look repetitive."""

    def check(doc: DocView) -> Cleaned | None:
        raw = doc.text.split("\n")
        keep = [line for line in raw
                if not (line.strip() and len(line.strip()) <= max_line_chars and not _LETTER.search(line))]
        removed = len(raw) - len(keep)
        if not removed:
            return None
        return Cleaned("\n".join(keep).strip("\n"), removed)

    return check


@rule_kind("stop_words")
def stop_words_rule(
    base: Any = None, words: list[str] | None = None, wordlist: str | None = None, min_distinct: int = 2,
    max_windows: int = 24, window: int = 4,
) -> Checker:
    """At least min_distinct different stop words occur as jieba words.

    jieba runs on windows of +-`window` characters around occurrences of each stop word (at most
    `max_windows` windows per document), not on the document: a character such as 的 inside 目的 does not
    count. The segmentation of a short window can differ from that of the whole text at the window's
    edges; with 4 characters of context either side it rarely does for the word in the middle.
    """
    words = list(words or [])
    if wordlist:
        words += read_word_list(base / wordlist)
    if not words:
        raise UsageError("stop_words needs `words` or `wordlist`")
    targets = sorted(set(words), key=len, reverse=True)
    pattern = literal_trie_regex(targets, lowercase=False)
    import jieba  # noqa: PLC0415 - heavy import, only when the rule is used

    from corpus_tool.stages.jieba_loader import initialize_jieba  # noqa: PLC0415

    initialize_jieba()
    jieba.lcut("预热分词模型", HMM=True)  # load the HMM tables now, not inside the first document

    def check(doc: DocView) -> str | None:
        text = doc.text
        found: set[str] = set()
        candidates: set[str] = set()
        tried = 0
        for scanned, m in enumerate(pattern.finditer(text)):
            w = m.group()
            candidates.add(w)
            if w in found:
                if scanned >= 50 * max_windows:  # bounded even for a document of one repeated stop word
                    break
                continue
            if tried >= max_windows:
                break
            tried += 1
            lo, hi = max(0, m.start() - window), min(len(text), m.end() + window)
            pos = lo
            for tok in jieba.cut(text[lo:hi], HMM=True):
                if pos == m.start() and tok == w:
                    found.add(w)
                    break
                pos += len(tok)
                if pos > m.start():
                    break
            if len(found) >= min_distinct:
                return None
        return (f"{len(found)} distinct stop words as jieba words < min {min_distinct} "
                f"({len(candidates)} as characters, {tried} windows)")

    return check


# ------------------------------------------------------------------------------------------------ loading


def default_rules_path() -> Any:
    return resources.files("corpus_tool") / "rules" / "zh_web.yaml"


def load_rules(path: str | Path | None = None) -> tuple[list[Rule], str]:
    """Parse and validate a rule file (yaml.safe_load); returns the rules and the file's display name."""
    import yaml  # noqa: PLC0415

    src: Any = default_rules_path() if path is None else Path(path)
    where = str(src)
    try:
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{where}: cannot read the rule file ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{where}: the rule file is not UTF-8 text (byte {e.start})") from e
    except yaml.YAMLError as e:
        raise UsageError(f"{where}: not valid YAML ({e})") from e
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: expected a list of rules (or a mapping with a `rules:` list)")
    base = src.parent
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        at = f"{where}: rule {i + 1}"
        if not isinstance(item, dict):
            raise UsageError(f"{at}: expected a mapping with name, kind, params, why")
        unknown = set(item) - {"name", "kind", "params", "why", "enabled"}
        if unknown:
            raise UsageError(f"{at}: unknown key(s) {sorted(unknown)}")
        name, kind = item.get("name"), item.get("kind")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{at}: every rule needs a `name`")
        at = f"{where}: rule {name!r}"
        if name in seen:
            raise UsageError(f"{at}: the name is used twice")
        seen.add(name)
        if kind not in RULE_KINDS:
            raise UsageError(f"{at}: unknown kind {kind!r}; known kinds: {', '.join(sorted(RULE_KINDS))}")
        if item.get("enabled", True) is False:
            continue
        params = dict(item.get("params") or {})
        factory = RULE_KINDS[kind]
        call = dict(params)
        if "base" in inspect.signature(factory).parameters:
            call["base"] = base
        try:
            inspect.signature(factory).bind(**call)
            check = factory(**call)
        except TypeError as e:
            raise UsageError(f"{at}: bad params for kind {kind!r} ({e})") from e
        except (ValueError, re.error) as e:
            raise UsageError(f"{at}: {e}") from e
        rules.append(Rule(name, kind, params, str(item.get("why", "")), check))
    return rules, where


# -------------------------------------------------------------------------------------------------- stage


@dataclass
class Verdict:
    reason: str | None  # the failing rule's name, None when kept
    detail: str | None
    text: str
    cleaned: list[str]


def judge(rules: list[Rule], text: str, counters: Counter | None = None) -> Verdict:
    """Run `rules` in order on one document: the first failing rule rejects it."""
    doc = DocView(text)
    cleaned: list[str] = []
    for rule in rules:
        out = rule.check(doc)
        if out is None:
            continue
        if isinstance(out, Cleaned):
            cleaned.append(rule.name)
            if counters is not None:
                counters[f"lines_removed.{rule.name}"] += out.lines_removed
                counters[f"docs_cleaned.{rule.name}"] += 1
            doc = DocView(out.text)
            continue
        return Verdict(rule.name, out, doc.text, cleaned)
    return Verdict(None, None, doc.text, cleaned)


class FilterStage(Stage):
    """Keep documents that pass every rule; cleaners may rewrite `text` and fill `cleaned`."""

    name = "filter"

    def __init__(self, rules_path: str | Path | None = None):
        super().__init__()
        self.rules, self.rules_source = load_rules(rules_path)

    def resolved(self) -> dict[str, Any]:
        return {
            "rules_file": self.rules_source,
            "rules": [{"name": r.name, "kind": r.kind, "params": r.params} for r in self.rules],
        }

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        previous = batch.column(schema.CLEANED).to_pylist()
        keep = np.ones(len(texts), dtype=bool)
        reasons: list[str | None] = [None] * len(texts)
        details: list[str | None] = [None] * len(texts)
        new_texts: list[str] = []
        new_cleaned: list[list[str] | None] = []
        changed = False
        for i, text in enumerate(texts):
            v = judge(self.rules, text or "", self.counters)
            new_texts.append(v.text if v.reason is None else text)
            if v.cleaned:
                changed = True
                new_cleaned.append(list(previous[i] or []) + v.cleaned)
            else:
                new_cleaned.append(previous[i])
            if v.reason is not None:
                keep[i] = False
                reasons[i], details[i] = v.reason, v.detail
                self.counters[f"rejected.{v.reason}"] += 1
        self.counters["docs"] += len(texts)
        if changed:
            batch = schema.replace_column(batch, schema.TEXT, new_texts)
            batch = schema.replace_column(batch, schema.CLEANED, new_cleaned)
        return self.split(batch, keep, reasons, details)
