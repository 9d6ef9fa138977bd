"""Decide a page's encoding from its bytes, and measure what is left of it when the decision was wrong.

Chinese pages lie about their charset (a GB2312 meta tag on UTF-8 bytes, utf-8 in the HTTP header on GBK
bytes, nothing at all on Big5), so the declared labels are hints only:

1. a byte-order mark wins;
2. bytes that are valid UTF-8 (allowing 1 bad sequence per 100 non-ASCII bytes, e.g. a truncated last
   character) are UTF-8;
3. otherwise resiliparse's detector (Google's compact_enc_det) proposes an encoding, and the HTTP and meta
   labels are tried as alternatives: the candidate that decodes with the fewest errors wins, the
   detector's on a tie;
4. GB2312 and GBK are decoded as GB18030 (their superset), Big5 as Big5-HKSCS, and the WHATWG aliases
   (iso-8859-1 -> windows-1252, shift_jis -> cp932, euc-kr -> cp949) are applied, as browsers do.

`bad_char_fraction` counts U+FFFD and C1 control characters (which never occur in real text): a document
made mostly of them is mojibake and is rejected by the stage, with the counts in the reason detail.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from resiliparse.parse.encoding import detect_encoding

# Bytes that are UTF-8 except for at most 1 invalid sequence per 100 non-ASCII bytes stay UTF-8 (a cut-off
# character at the end of a truncated page, one stray byte from a bad template). A GBK page read as UTF-8
# fails on nearly every non-ASCII byte, a Latin-1 page on every one.
UTF8_BAD_PER_100_NON_ASCII = 1
_ASCII = bytes(range(128))

# Label (lowercase) -> Python codec. Supersets first: what browsers actually do with these labels.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "gb18030": "gb18030",
    "ms936": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "windows-949": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
}

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-.:]{2,40})""", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_BAD_CHARS = re.compile("[\ufffd\x80-\x9f]")
_NON_SPACE = re.compile(r"\S")


@dataclass(frozen=True)
class Decoded:
    """A decoded page and how its encoding was decided (recorded in the document's `meta`)."""

    text: str
    encoding: str  # the Python codec used
    how: str  # "bom", "utf-8", "detected", "declared"
    declared_http: str | None
    declared_meta: str | None
    replacement_chars: int  # U+FFFD produced by the decoding itself

    @property
    def label_overruled(self) -> bool:
        """True when a declared label named a different encoding from the one used (a lying page)."""
        labels = [x for x in (self.declared_http, self.declared_meta) if x]
        return any(normalize_label(x) not in (None, self.encoding) for x in labels)


def normalize_label(label: str | None) -> str | None:
    """A declared or detected charset label as a Python codec name, or None if unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        name = codecs.lookup(key).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL byte in it
        return None
    return _ALIASES.get(name, name)


def meta_charset(data: bytes, scan_bytes: int = 4096) -> str | None:
    """The charset a page's first <meta> tag declares, as written (a hint only)."""
    m = _META_CHARSET.search(data, 0, scan_bytes)
    return m.group(1).decode("ascii", "replace") if m else None


def decode(data: bytes, http_charset: str | None = None, html: bool = True) -> Decoded:
    """Decode `data`, deciding the encoding from the bytes; `http_charset` and the meta tag are hints."""
    declared_meta = meta_charset(data) if html else None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text = data[len(bom) :].decode(enc, "replace")
            return Decoded(text, enc, "bom", http_charset, declared_meta, text.count("\ufffd"))
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8", http_charset, declared_meta, 0)
    except UnicodeDecodeError:
        pass
    as_utf8 = data.decode("utf-8", "replace")
    bad = as_utf8.count("\ufffd")
    non_ascii = len(data.translate(None, _ASCII))
    if bad * 100 <= non_ascii * UTF8_BAD_PER_100_NON_ASCII:
        return Decoded(as_utf8, "utf-8", "utf-8", http_charset, declared_meta, bad)
    detected = normalize_label(detect_encoding(data))
    best: tuple[int, str, str, str] | None = None  # (errors, codec, how, text)
    seen: set[str] = set()
    for codec, how in (
        (detected, "detected"),
        (normalize_label(http_charset), "declared"),
        (normalize_label(declared_meta), "declared"),
        ("gb18030", "detected"),
    ):
        if codec is None or codec in seen or codec == "utf-8":
            continue
        seen.add(codec)
        try:
            text = data.decode(codec, "replace")
        except LookupError:
            continue
        errors = text.count("\ufffd")
        if best is None or errors < best[0]:
            best = (errors, codec, how, text)
        if errors == 0:
            break
    if best is None or best[0] >= bad:
        return Decoded(as_utf8, "utf-8", "utf-8", http_charset, declared_meta, bad)
    errors, codec, how, text = best
    return Decoded(text, codec, how, http_charset, declared_meta, errors)


def bad_char_count(text: str) -> int:
    """U+FFFD plus C1 control characters: what undecodable or mis-decoded bytes leave in text."""
    return len(_BAD_CHARS.findall(text))


def bad_char_fraction(text: str) -> tuple[int, float]:
    """(bad characters, their fraction of the non-space characters)."""
    bad = bad_char_count(text)
    if not bad:
        return 0, 0.0
    visible = len(_NON_SPACE.findall(text))
    return bad, bad / max(visible, 1)


_LATIN1_UPPER = re.compile("[\u00a0-\u00ff]")


def latin1_mojibake_fraction(text: str) -> float:
    """Fraction of non-space characters in U+00A0..U+00FF: near 1 for GBK or UTF-8 bytes read as Latin-1
    ("ÖÐ¹ú"), under 0.1 for real French, German or Portuguese."""
    n = len(_LATIN1_UPPER.findall(text))
    if not n:
        return 0.0
    return n / max(len(_NON_SPACE.findall(text)), 1)


def _gb2312_rows(first: int, last: int) -> str:
    chars = []
    for lead in range(first, last + 1):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


# UTF-8 Chinese read as GBK turns every character's first two bytes (E4-E9 xx) into a GB2312 level-2
# character from rows E4-E9: rare characters. In real text they are about 0.1% of the Han characters
# (zhwiki 0.08%, lingua zh 0.06%, Debian Reference zh-TW 0.003%); in such mojibake 14-19%.
_UTF8_AS_GBK = re.compile("[" + _gb2312_rows(0xE4, 0xE9) + "]")
UTF8_AS_GBK_FRACTION = 0.05


def utf8_as_gbk_fraction(text: str) -> float:
    """Fraction of the characters that betray UTF-8 bytes decoded as GBK ("婊ㄦ睙甯傚湴"); 0 for short
    texts. (Over all characters, not Han ones: counting Han characters would cost 10x more.)"""
    n = len(_UTF8_AS_GBK.findall(text))
    if n < 10:
        return 0.0
    return n / len(text)
