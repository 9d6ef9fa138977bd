"""How plausible a decoded text is as real writing: the mean log10 probability of its characters under a
character-frequency model (Han characters from corpus_tool/data/han_freq.tsv, made by
scripts/make_han_freq.py; fixed scores for other classes). Used to choose between codecs that all decode a
file without an error (GB2312 bytes also decode as Big5; EUC-TW bytes decode as GB18030 into fluent-looking
nonsense Han), and to refuse a decoding that is nonsense whatever the codec.

Only non-ASCII characters are scored (markup and Latin text decode alike under every codec). Real Chinese
scores about -3 (Simplified or Traditional, punctuated or not); the same bytes read with the wrong CJK codec
about -4.5 or lower (docs/ingest.md has the figures).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from importlib import resources

SAMPLE_SCAN = 200_000  # characters of the text looked at
SAMPLE_CHARS = 4_000  # non-ASCII characters scored (markup and Latin text decode alike under every codec)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
UNKNOWN_HAN = -7.0
# A decoding whose Han characters are most of its letters and that scores under this is nonsense.
NONSENSE_BELOW = -4.3
_FIXED = {
    "ascii": -2.6,
    "cjk_punct": -2.2,
    "kana": -3.2,
    "hangul": -3.4,
    "letter": -4.0,
    "other": -5.5,
    "bad": -9.0,
}


@lru_cache(maxsize=1)
def _han_table() -> dict[str, float]:
    text = resources.files("corpus_tool").joinpath("data/han_freq.tsv").read_text(encoding="utf-8")
    counts = {}
    for line in text.splitlines():
        ch, _, n = line.partition("\t")
        counts[ch] = int(n)
    total = sum(counts.values())
    return {ch: math.log10(n / total) for ch, n in counts.items()}


def _is_han(cp: int) -> bool:
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3FFFF


def char_score(ch: str) -> float:
    """log10-like plausibility of one character (no whitespace)."""
    table = _han_table()
    if ch in table:
        return table[ch]
    cp = ord(ch)
    if _is_han(cp):
        return UNKNOWN_HAN
    if cp < 0x80:
        return _FIXED["ascii"] if cp >= 0x20 else _FIXED["bad"]
    if 0x3000 <= cp <= 0x303F or 0xFF01 <= cp <= 0xFF5E or 0x2010 <= cp <= 0x2027:
        return _FIXED["cjk_punct"]
    if 0x3040 <= cp <= 0x30FF:
        return _FIXED["kana"]
    if 0xAC00 <= cp <= 0xD7A3:
        return _FIXED["hangul"]
    if cp == 0xFFFD or 0xE000 <= cp <= 0xF8FF or 0x80 <= cp <= 0x9F or cp >= 0xF0000:
        return _FIXED["bad"]
    return _FIXED["letter"] if unicodedata.category(ch).startswith("L") else _FIXED["other"]


_CACHE: dict[str, tuple[float, int] | None] = {}  # character -> (score, 1 if Han); None for whitespace


def _entry(ch: str) -> tuple[float, int] | None:
    e = None if ch.isspace() else (char_score(ch), int(_is_han(ord(ch))))
    if len(_CACHE) < 200_000:
        _CACHE[ch] = e
    return e


def plausibility(text: str) -> tuple[float, float]:
    """(mean character score, fraction of Han) of the first SAMPLE_CHARS non-ASCII characters; (0, 0) for
    ASCII-only text."""
    counts = Counter("".join(_NON_ASCII.findall(text, 0, SAMPLE_SCAN))[:SAMPLE_CHARS])
    total = han = 0
    score = 0.0
    get = _CACHE.get
    for ch, n in counts.items():
        e = get(ch, False)
        if e is False:
            e = _entry(ch)
        if e is None:
            continue
        total += n
        score += e[0] * n
        han += e[1] * n
    if not total:
        return 0.0, 0.0
    return score / total, han / total


def is_nonsense(score: float, han: float) -> bool:
    """True for a Han-heavy, implausible `plausibility` result."""
    return han >= 0.5 and score < NONSENSE_BELOW
