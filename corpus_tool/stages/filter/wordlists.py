"""Word lists and the literal-trie regex they compile to (bounded cost per position on any input)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

from corpus_tool.errors import UsageError

try:  # the compiled trie (built by `pip install`); the regex below is the reference
    from corpus_tool.stages.filter import _wordtrie
except ImportError:  # a source tree that was never built: the regex, same hits, slower
    _wordtrie = None


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


class WordMatcher:
    """A word list matched as `literal_trie_regex` matches it (leftmost-longest, no overlaps), by the
    compiled trie where it is built: one pass over the text with no regex machinery."""

    def __init__(self, words: list[str], lowercase: bool = True):
        self.words, self.lowercase = words, lowercase
        self.trie = _wordtrie.Trie([w.lower() if lowercase else w for w in words]) if _wordtrie else None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The reference: compiled only where it is used (no trie built, or a test comparing them)."""
        return literal_trie_regex(self.words, self.lowercase)

    def findall(self, text: str) -> list[str]:
        return self.trie.findall(text) if self.trie is not None else self.regex.findall(text)

    def search(self, text: str) -> bool:
        return self.trie.search(text) if self.trie is not None else self.regex.search(text) is not None


def read_word_list(path: Path | Any) -> list[str]:
    """Words from a list file: one a line, '#' comments and blank lines ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read the word list ({e.strerror or e})") from e
    return [w.strip() for w in text.splitlines() if w.strip() and not w.lstrip().startswith("#")]
