"""The one character-class table: every code point (all 17 planes) maps to one class, one byte each.

langid's counts (`stages/textstats.py`), the filter's character features (`stages/filter/docview.py`) and
dedup's shingle normalisation (`stages/dedup/hashing.py`) all read this table, so that "Han", "whitespace"
and "punctuation" mean the same thing in every stage. Each stage projects the classes it needs through a
small per-class array (`project`), never through a table of its own.

Definitions (one each, used everywhere):
- whitespace (SPACE): `str.isspace()`. Zero-width characters (U+200B/C/D, U+2060, U+FEFF) are not
  whitespace: they are format characters (CONTROL), counted as characters; `normalize` removes them.
- Han (HAN): CJK unified ideographs with every extension, compatibility ideographs, 々 (U+3005) and
  〇 (U+3007). `han_frac` (langid) and the filter's `han_ratio` are both HAN / non-whitespace characters.
- punctuation: PUNCT, ZH_PUNCT, CJK_PUNCT are Unicode P* (゠ U+30A0 included: it is a dash, not kana);
  SYMBOL is S* (the filter counts both as symbols; langid counts neither as letters).
"""

from __future__ import annotations

import unicodedata

import numpy as np

OTHER = 0  # unassigned, private use, surrogates, enclosing marks, variation selectors, unclassified astral
SPACE = 1  # whitespace (str.isspace())
HAN = 2  # CJK ideographs: unified (all extensions), compatibility ideographs, 〇 and 々
KANA = 3  # hiragana, katakana (full and half width), kana extensions; not ・ (U+30FB) nor ゠ (U+30A0)
HANGUL = 4  # hangul syllables and jamo (full and half width)
YI = 5  # Yi syllables and radicals (Nuosu)
ZH_PUNCT = 6  # punctuation typical of Chinese and rare in Japanese: ，；：？！“”‘’《》【】（）…
CJK_PUNCT = 7  # punctuation shared by Chinese and Japanese: 。、「」『』〈〉〔〕・ and other CJK marks
DIGIT = 8  # decimal digits of any script (Nd), ASCII and full width included
LATIN = 9  # Latin letters (ASCII, Latin-1, extended, full width)
OTHER_LETTER = 10  # letters of every other script, and combining marks (Mn, Mc) of the BMP
PUNCT = 11  # all other punctuation (P*, ASCII punctuation included)
SYMBOL = 12  # symbols (S*): $ + < = > ^ ` | ~ © ™ box drawing, arrows, emoji
NUMBER = 13  # other numbers (No, Nl): ① ² ½ Ⅻ (〇 is HAN)
CONTROL = 14  # control (Cc, not whitespace) and format (Cf) characters: \x07, soft hyphen, zero-width
N_CLASSES = 15

CLASS_NAMES = ("other", "space", "han", "kana", "hangul", "yi", "zh_punct", "cjk_punct", "digit", "latin",
               "other_letter", "punct", "symbol", "number", "control")
LETTER_CLASSES = (HAN, KANA, HANGUL, YI, LATIN, OTHER_LETTER)
PUNCT_CLASSES = (ZH_PUNCT, CJK_PUNCT, PUNCT)

ZH_PUNCTUATION = "，；：？！“”‘’《》【】（）…—～"
CJK_SHARED_PUNCTUATION = "。、「」『』〈〉〔〕〖〗・〃〜〝〞〟"

HAN_RANGES = (
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # extensions B-F, compatibility supplement
    (0x30000, 0x323AF),  # extensions G, H
)
_KANA_RANGES = (
    (0x3041, 0x3096),
    (0x3099, 0x309F),  # hiragana (with voicing marks, iteration marks, ゟ)
    (0x30A1, 0x30FA),
    (0x30FC, 0x30FF),  # katakana, without ゠ U+30A0 and the middle dot U+30FB
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0xFF66, 0xFF9F),  # half-width katakana
    (0x1AFF0, 0x1B16F),  # kana extended, supplement
)
_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3131, 0x318E), (0xA960, 0xA97F), (0xAC00, 0xD7A3), (0xD7B0, 0xD7FF),
                  (0xFFA0, 0xFFDC))
_YI_RANGES = ((0xA000, 0xA48F), (0xA490, 0xA4CF))


def _category_class(ch: str, cat: str) -> int:
    if ch.isspace():
        return SPACE
    if cat == "Nd":
        return DIGIT
    if cat[0] == "L":
        return LATIN if "LATIN" in unicodedata.name(ch, "") else OTHER_LETTER
    if cat[0] == "P":
        return PUNCT
    if cat[0] == "S":
        return SYMBOL
    if cat in ("No", "Nl"):
        return NUMBER
    if cat in ("Cc", "Cf"):
        return CONTROL
    if cat in ("Mn", "Mc"):
        return OTHER_LETTER  # combining marks belong with the letters they attach to
    return OTHER


def _build_table() -> np.ndarray:
    """The BMP is classified from unicodedata; plane 1 only for symbols, numbers and format characters
    (emoji, 𝄞) and the ranges named above; planes 2 and 3 are Han where assigned; the rest is OTHER."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        table[cp] = _category_class(ch, unicodedata.category(ch))
    table[0xFE00:0xFE10] = OTHER  # variation selectors are no letters' marks
    for cp in range(0x10000, 0x20000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] == "S" or cat in ("No", "Nl", "Cc", "Cf"):
            table[cp] = _category_class(ch, cat)
    for ranges, cls in ((HAN_RANGES, HAN), (_KANA_RANGES, KANA), (_HANGUL_RANGES, HANGUL), (_YI_RANGES, YI)):
        for lo, hi in ranges:
            table[lo: hi + 1] = cls
    table[[0x3005, 0x3007]] = HAN  # 々 (iteration mark), 〇 (ideographic zero)
    for ch in CJK_SHARED_PUNCTUATION:
        table[ord(ch)] = CJK_PUNCT
    for ch in ZH_PUNCTUATION:
        table[ord(ch)] = ZH_PUNCT
    return table


# The table, precomputed for one Unicode version (building it walks 131,072 code points in Python: about
# 0.09 s of CPU in every task process that reads it): scripts/make_charclass_table.py writes it,
# tests/test_charclass.py checks it equals a fresh build. Another Python's Unicode version builds it itself.
TABLE_FILE = "charclass_table.npz"


def load_table() -> np.ndarray | None:
    """The shipped table when it was made with this Python's Unicode database, else None."""
    from importlib import resources

    src = resources.files("corpus_tool") / "data" / TABLE_FILE
    try:
        with src.open("rb") as f, np.load(f) as z:
            if str(z["unidata_version"]) != unicodedata.unidata_version:
                return None
            table = z["table"]
    except (OSError, KeyError, ValueError):
        return None
    return table if table.shape == (0x110000,) and table.dtype == np.uint8 else None


def save_table(table: np.ndarray, path) -> None:
    np.savez_compressed(path, unidata_version=np.array(unicodedata.unidata_version), table=table)


_SHIPPED = load_table()
CHAR_CLASS: np.ndarray = _build_table() if _SHIPPED is None else _SHIPPED


def project(mapping: dict[int, int], dtype: type = np.uint8) -> np.ndarray:
    """A per-class lookup array (length N_CLASSES) from {class: value}; unnamed classes get 0. A stage
    derives its own view of a code point as `project(...)[CHAR_CLASS[cp]]`."""
    out = np.zeros(N_CLASSES, dtype=dtype)
    for cls, value in mapping.items():
        out[cls] = value
    return out


def classes_of(cps: np.ndarray) -> np.ndarray:
    """The class of every code point of a uint32 array (surrogates from 'surrogatepass' are OTHER)."""
    return CHAR_CLASS[cps]
