"""Word lists and the literal-trie regex they compile to (bounded cost per position on any input)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from corpus_tool.errors import UsageError


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
