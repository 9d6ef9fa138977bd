"""Word rules: density of listed spam words, and stop words found as jieba words."""

from __future__ import annotations

from collections import Counter
from typing import Any

from corpus_tool.errors import UsageError
from corpus_tool.stages.filter.docview import DocView
from corpus_tool.stages.filter.jieba_window import JiebaWindow
from corpus_tool.stages.filter.registry import Checker, rule_kind
from corpus_tool.stages.filter.wordlists import WordMatcher, literal_trie_regex, read_word_list


@rule_kind("word_density")
def word_density_rule(base: Any, wordlist: str, max_density: float, min_distinct: int = 1) -> Checker:
    """Characters covered by listed words / non-whitespace characters <= max_density (when at least
    min_distinct different listed words occur)."""
    words = read_word_list(base / wordlist)
    if not words:
        raise UsageError(f"{base / wordlist}: the word list is empty")
    pattern = WordMatcher(words)

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
        hits = pattern.findall(doc.lower)
        if not hits:
            if signals is not None:
                signals["density"], signals["distinct"] = 0.0, 0
            return None
        covered = sum(len(h) for h in hits)
        n = doc.n_visible
        density = covered / n if n else 1.0
        distinct = len(set(hits))
        if signals is not None:
            signals["density"], signals["distinct"] = density, distinct
        if density > max_density and distinct >= min_distinct:
            top = ", ".join(w for w, _ in Counter(hits).most_common(3))
            return f"density {density:.3f} > max {max_density} ({len(hits)} hits, {distinct} distinct: {top})"
        return None

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
    edges; with 4 characters of context either side it rarely does for the word in the middle. The
    search stops once min_distinct words are found, so the signal is capped at min_distinct.
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
    segmenter = JiebaWindow(jieba)

    def check(doc: DocView, signals: dict[str, Any] | None = None) -> str | None:
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
            if segmenter.token_at(text[lo:hi], m.start() - lo, w):
                found.add(w)
            if len(found) >= min_distinct:
                if signals is not None:
                    signals["distinct"] = len(found)
                return None
        if signals is not None:
            signals["distinct"] = len(found)
        return (f"{len(found)} distinct stop words as jieba words < min {min_distinct} "
                f"({len(candidates)} as characters, {tried} windows)")

    return check
