"""Decide a page's encoding from its bytes, and measure what is left of it when the decision was wrong.

Chinese pages lie about their charset (a GB2312 meta tag on UTF-8 bytes, utf-8 in the HTTP header on GBK
bytes, nothing at all on Big5), so the declared labels are hints only:

1. a byte-order mark wins (UTF-8, UTF-16 and UTF-32, LE and BE);
2. UTF-16 and UTF-32 without a BOM are recognised by where their NUL bytes fall (`sniff_wide`);
3. bytes that are valid UTF-8 (allowing 1 bad sequence per 100 non-ASCII bytes, e.g. a truncated last
   character) are UTF-8;
4. otherwise resiliparse's detector (Google's compact_enc_det) proposes an encoding, and the HTTP and meta
   labels, GB18030 and Big5 (and, for text files, UTF-16 without NULs, only where its text is the most
   plausible reading, since it decodes almost any bytes cleanly) are tried as alternatives: the
   candidate that decodes with the fewest errors wins; among several, the one whose text is most plausible
   under a character-frequency model (plausible.py; GB2312 bytes decode cleanly as Big5 too);
5. a CJK decoding that is nonsense whatever the codec (EUC-TW, which Python cannot decode, read as GB18030)
   is not kept: `Decoded.undecodable` says why and names the suspected encoding;
6. GB2312 and GBK are decoded as GB18030 (their superset), Big5 as Big5-HKSCS, and the WHATWG aliases
   (iso-8859-1 -> windows-1252, shift_jis -> cp932, euc-kr -> cp949) are applied, as browsers do.

`bad_char_fraction` counts U+FFFD and C1 control characters (which never occur in real text): a document
made mostly of them is mojibake and is rejected by the stage, with the counts in the reason detail.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import NamedTuple

from resiliparse.parse.encoding import detect_encoding

from corpus_tool.stages.ingest.plausible import is_nonsense, plausibility

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
# UTF-32LE's BOM starts with UTF-16LE's: the longer ones first.
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
# Codecs whose wrong choice gives Han-looking text: a decoding with one of them is checked for plausibility.
_CJK_CODECS = ("gb18030", "big5hkscs", "cp932", "cp949", "euc_jp", "utf-16-le", "utf-16-be")
_SNIFF_BYTES = 8192
_BAD_CHARS = re.compile("[\ufffd\x80-\x9f]")
_NON_SPACE = re.compile(r"\S")
# The characters below U+0100 are counted on the text's Latin-1 bytes (`_latin1_bytes`): in Chinese text
# they are few, and bytes.translate deletes a set of them at memory speed, where a regex visits every
# character. Per set: (the bytes it deletes, the characters they stand for, as `_BAD_CHARS` spells them).
_C1_BYTES = bytes(range(0x80, 0xA0))
_LATIN1_UPPER_BYTES = bytes(range(0xA0, 0x100))


def _latin1_bytes(text: str) -> bytes:
    """The characters of `text` below U+0100, in order, one byte each."""
    return text.encode("latin-1", "ignore")


def _count_bytes(data: bytes, which: bytes) -> int:
    return len(data) - len(data.translate(None, which))


def non_space_count(text: str) -> int:
    r"""`len(re.findall(r"\S", text))` without a list of every character: str.split() splits on the
    characters re's \s matches (str.isspace())."""
    return sum(map(len, text.split()))


@dataclass(frozen=True)
class Decoded:
    """A decoded page and how its encoding was decided (recorded in the document's `meta`)."""

    text: str
    encoding: str  # the Python codec used
    how: str  # "bom", "utf-8", "detected", "declared"
    declared_http: str | None
    declared_meta: str | None
    replacement_chars: int  # U+FFFD produced by the decoding itself
    undecodable: str | None = None  # why no codec gives plausible text (the suspected encoding), if none does

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


def sniff_wide(data: bytes) -> str | None:
    """UTF-16 or UTF-32 (LE/BE) without a byte-order mark, from where the NUL bytes fall: text in these forms
    has NUL in the high bytes of ASCII characters (UTF-16) or of every character (UTF-32)."""
    head = data[:_SNIFF_BYTES]
    if b"\x00" not in head or len(head) < 8:
        return None
    zeros = [head[i::4].count(0) for i in range(4)]
    units4 = len(head) // 4
    if zeros[2] >= 0.9 * units4 and zeros[3] >= 0.9 * units4 and zeros[0] < 0.5 * units4:
        return "utf-32-le"
    if zeros[0] >= 0.9 * units4 and zeros[1] >= 0.9 * units4 and zeros[3] < 0.5 * units4:
        return "utf-32-be"
    even, odd = zeros[0] + zeros[2], zeros[1] + zeros[3]
    units2 = len(head) // 2
    if odd >= 0.05 * units2 and even <= 0.25 * odd:
        return "utf-16-le"
    if even >= 0.05 * units2 and odd <= 0.25 * even:
        return "utf-16-be"
    return None


def _euc_shaped(data: bytes) -> bool:
    """True when every non-ASCII byte is in an EUC pair (A1-FE A1-FE) or an EUC-TW SS2 sequence (8E A1-B0 ..)."""
    rest = re.sub(rb"\x8e[\xa1-\xb0][\xa1-\xfe]{2}|[\xa1-\xfe]{2}", b"", data[: _SNIFF_BYTES * 4])
    return not rest.translate(None, _ASCII)


def _undecodable(data: bytes, codec: str, score: float) -> str:
    if b"\x8e\xa2" in data or b"\x8e\xa1" in data or _euc_shaped(data):
        suspect = "EUC-TW (CNS 11643), which has no Python codec"
    else:
        suspect = "unknown"
    return f"suspected encoding: {suspect}; best codec {codec} gives implausible text (score {score:.2f})"


def _unicode_form(data: bytes, codec: str, how: str, http_charset: str | None, html: bool) -> Decoded:
    text = data.decode(codec, "replace")
    declared = meta_charset(text[:4096].encode("ascii", "ignore")) if html else None
    return Decoded(text, codec, how, http_charset, declared, text.count("\ufffd"))


def decode(data: bytes, http_charset: str | None = None, html: bool = True) -> Decoded:
    """Decode `data`, deciding the encoding from the bytes; `http_charset` and the meta tag are hints."""
    for bom, enc in BOMS:
        if data.startswith(bom):
            return _unicode_form(data[len(bom) :], enc, "bom", http_charset, html)
    wide = sniff_wide(data)
    if wide:
        return _unicode_form(data, wide, "detected", http_charset, html)
    declared_meta = meta_charset(data) if html else None
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
    candidates = [
        (detected, "detected"),
        (normalize_label(http_charset), "declared"),
        (normalize_label(declared_meta), "declared"),
        ("gb18030", "detected"),
        ("big5hkscs", "detected"),
    ]
    if not html and len(data) % 2 == 0:  # Han-only UTF-16 text has no NUL byte (HTML has: sniffed above)
        candidates += [("utf-16-le", "detected"), ("utf-16-be", "detected")]
    decodings: list[tuple[int, str, str, str]] = []  # (errors, codec, how, text)
    seen: set[str] = set()
    for codec, how in candidates:
        if codec is None or codec in seen or codec == "utf-8":
            continue
        seen.add(codec)
        try:
            text = data.decode(codec, "replace")
        except LookupError:
            continue
        decodings.append((text.count("\ufffd"), codec, how, text))
    decodings = _without_implausible_utf16(decodings, as_utf8)
    if not decodings or min(d[0] for d in decodings) >= bad:
        return Decoded(as_utf8, "utf-8", "utf-8", http_charset, declared_meta, bad)
    # The fewest errors, and among those the most plausible text (GB2312 bytes decode cleanly as Big5 too).
    fewest = min(d[0] for d in decodings)
    tied = [d for d in decodings if d[0] == fewest]
    scores = {}
    if len(tied) > 1:
        scores = {d[1]: plausibility(d[3]) for d in tied}
        best = max(tied, key=lambda d: (scores[d[1]][0], -tied.index(d)))
    else:
        best = tied[0]
    errors, codec, how, text = best
    undecodable = None
    # Checked when the detector did not name the codec (EUC-TW: it says UTF-8) or codecs tied; a page in the
    # codec the detector names is not scored again (a per-page cost on legacy-encoded crawls).
    if codec in _CJK_CODECS and (codec != detected or scores):
        score, han = scores.get(codec) or plausibility(text)
        if is_nonsense(score, han):
            undecodable = _undecodable(data, codec, score)
    return Decoded(text, codec, how, http_charset, declared_meta, errors, undecodable)


def _without_implausible_utf16(decodings: list[tuple[int, str, str, str]], as_utf8: str) -> list:
    """UTF-16 without NUL bytes decodes almost any even-length byte string without an error, so its error
    count says nothing: it stays a candidate only when its text is more plausible than every other reading,
    the UTF-8 one with its bad sequences included (UTF-8 text with one stray byte is not Hangul and
    private-use nonsense)."""
    wide = [d for d in decodings if d[1].startswith("utf-16")]
    if not wide:
        return decodings
    others = [plausibility(as_utf8)[0]] + [plausibility(d[3])[0] for d in decodings if d not in wide]
    best_other = max(others)
    return [d for d in decodings if d not in wide or plausibility(d[3])[0] > best_other]


def bad_char_count(text: str) -> int:
    """U+FFFD plus C1 control characters (`_BAD_CHARS`): what undecodable or mis-decoded bytes leave in
    text."""
    return text.count("\ufffd") + _count_bytes(_latin1_bytes(text), _C1_BYTES)


def bad_char_fraction(text: str) -> tuple[int, float]:
    """(bad characters, their fraction of the non-space characters)."""
    bad = bad_char_count(text)
    if not bad:
        return 0, 0.0
    return bad, _of_non_space(bad, non_space_count(text))


def _of_non_space(n: int, non_space: int) -> float:
    """The fraction the mojibake checks take of the non-space characters (0 when `n` is)."""
    return n / max(non_space, 1) if n else 0.0


_LATIN1_UPPER = re.compile("[\u00a0-\u00ff]")


def latin1_mojibake_fraction(text: str) -> float:
    """Fraction of non-space characters in U+00A0..U+00FF: near 1 for GBK or UTF-8 bytes read as Latin-1
    ("ÖÐ¹ú"), under 0.1 for real French, German or Portuguese."""
    n = _count_bytes(_latin1_bytes(text), _LATIN1_UPPER_BYTES)  # len(_LATIN1_UPPER.findall(text))
    return _of_non_space(n, non_space_count(text)) if n else 0.0


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
_UTF8_AS_GBK_CHARS = _gb2312_rows(0xE4, 0xE9)
_UTF8_AS_GBK = re.compile("[" + _UTF8_AS_GBK_CHARS + "]")
UTF8_AS_GBK_FRACTION = 0.05


def utf8_as_gbk_fraction(text: str) -> float:
    """Fraction of the characters that betray UTF-8 bytes decoded as GBK ("婊ㄦ睙甯傚湴"); 0 for short
    texts. (Over all characters, not Han ones: counting Han characters would cost 10x more.)"""
    return _utf8_as_gbk_fraction(len(_UTF8_AS_GBK.findall(text)), len(text))


def _utf8_as_gbk_fraction(n: int, length: int) -> float:
    return n / length if n >= 10 else 0.0


# C0 and C1 control characters other than \t and \n: what ingest removes from every text (NUL from UTF-16
# read as bytes, form feeds, escape codes, C1 from mis-decoded Windows-1252).
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]+")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)])


def control_count(text: str) -> int:
    """`len("".join(CONTROL.findall(text)))`, on the text's characters below U+0100 (all that `CONTROL`
    matches), which bytes.translate scans at memory speed."""
    return _count_bytes(_latin1_bytes(text), _CONTROL_BYTES)


class CharCounts(NamedTuple):
    """What ingest's checks count in a text (`char_counts`)."""

    bad: int  # U+FFFD and C1 characters (`bad_char_count`)
    latin1_upper: int  # U+00A0-U+00FF
    utf8_as_gbk: int  # characters of the GB2312 rows E4-E9 (`_UTF8_AS_GBK`)
    control: int  # `CONTROL`'s characters
    non_space: int  # not str.isspace
    length: int

    def bad_fraction(self) -> float:
        """`bad_char_fraction`'s fraction."""
        return _of_non_space(self.bad, self.non_space)

    def latin1_fraction(self) -> float:
        """`latin1_mojibake_fraction`."""
        return _of_non_space(self.latin1_upper, self.non_space)

    def utf8_as_gbk_fraction(self) -> float:
        """`utf8_as_gbk_fraction`."""
        return _utf8_as_gbk_fraction(self.utf8_as_gbk, self.length)


def char_counts_python(text: str) -> CharCounts:
    """The definition of `char_counts`, check by check."""
    low = _latin1_bytes(text)
    return CharCounts(
        bad_char_count(text),
        _count_bytes(low, _LATIN1_UPPER_BYTES),
        len(_UTF8_AS_GBK.findall(text)),
        control_count(text),
        non_space_count(text),
        len(text),
    )


try:  # one compiled pass over the text instead of five (built by `pip install`)
    from corpus_tool.stages._textscan import char_counts as _char_counts

    _marks = bytearray(0x10000)
    for _ch in _UTF8_AS_GBK_CHARS:
        _marks[ord(_ch)] = 1
    _UTF8_AS_GBK_MARKS = bytes(_marks)

    def char_counts(text: str) -> CharCounts:
        """What ingest's mojibake and control-character checks count, in one pass."""
        return CharCounts(*_char_counts(text, _UTF8_AS_GBK_MARKS), len(text))

except ImportError:  # a source tree that was never built
    char_counts = char_counts_python
