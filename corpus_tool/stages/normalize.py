"""Normalization: one script (Simplified, via OpenCC) and one clean form of the characters.

Each rule is a small function `str -> str`; `normalize_text` applies them in the order of `RULES` and
returns the names of the rules that changed the text (the `normalized` column). The order matters for
idempotence: entities are decoded first, so what they decode to is cleaned by the later rules; OpenCC
sees NFC text; whitespace comes last. The result is a fixed point: normalizing it again changes nothing
(tests/test_normalize.py checks this with hypothesis).

OpenCC is fast on large strings and slow when called per line, so a batch is converted as one string
(documents joined with a separator OpenCC leaves alone) and split back. docs/normalize.md has every rule
with an example.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from html.entities import html5
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import schema
from corpus_tool.errors import MissingDependencyError, UsageError
from corpus_tool.stage import Stage

DEFAULT_OPENCC = "t2s"

# ----------------------------------------------------------------------------------------- the rules


# html_entities: &amp; &lt; &#20013; &#x4E2D; &nbsp; ... Only complete entities (with the semicolon) are
# decoded, so a URL like ?a=1&copy=2 is left alone; double-escaped ones (&amp;lt;) are decoded to the end.
_NAMED = sorted((name[:-1] for name in html5 if name.endswith(";")), key=len, reverse=True)
ENTITY_RE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|(?:" + "|".join(map(re.escape, _NAMED)) + r"));"
)


def _decode_entity(m: re.Match) -> str:
    return html.unescape(m.group(0))


def html_entities(text: str) -> str:
    if "&" not in text:
        return text
    while True:
        decoded = ENTITY_RE.sub(_decode_entity, text)
        if decoded == text:
            return text
        text = decoded


# ansi_escapes: terminal colour and cursor codes (CSI ESC[...m, OSC ESC]...BEL, and two-byte ESC x).
ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?"
)


def ansi_escapes(text: str) -> str:
    if "\x1b" not in text and "\x9b" not in text:
        return text
    return ANSI_RE.sub("", text)


# control_chars: C0 and C1 controls and DEL, except tab and the line breaks the whitespace rule handles.
_LINE_BREAKS = "\n\r\x0b\x0c\x85"
_CONTROL = [c for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\t" + _LINE_BREAKS]
_CONTROL_DELETE = dict.fromkeys(_CONTROL)
_CONTROL_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _CONTROL) + "]")


def control_chars(text: str) -> str:
    return text.translate(_CONTROL_DELETE) if _CONTROL_RE.search(text) else text


# invisible_chars: zero-width space/non-joiner, word joiner, BOM (U+FEFF anywhere), soft hyphen, bidi marks
# and embeddings, invisible operators, Mongolian vowel separator. The zero-width joiner is removed too,
# except inside emoji sequences (👩‍💻), where it is part of the character.
_INVISIBLE = [
    0x00AD,
    0x180E,
    0x200B,
    0x200C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2060, 0x2065),
    *range(0x2066, 0x206A),
    0xFEFF,
]
_INVISIBLE_DELETE = dict.fromkeys(_INVISIBLE)
_INVISIBLE_RE = re.compile("[" + "".join(chr(c) for c in _INVISIBLE) + "\u200d]")
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_LONE_ZWJ_RE = re.compile(f"(?<![{_EMOJI}\ufe0f])\u200d|\u200d(?![{_EMOJI}])")


def invisible_chars(text: str) -> str:
    if not _INVISIBLE_RE.search(text):
        return text
    text = text.translate(_INVISIBLE_DELETE)
    return _LONE_ZWJ_RE.sub("", text) if "\u200d" in text else text


# fullwidth_ascii: Ａ-Ｚ ａ-ｚ ０-９ and full-width symbols (＃＄％＆＠＋＝...) become ASCII; the full-width
# punctuation Chinese writes (，！？：；（）～) stays as it is.
ZH_FULLWIDTH_KEEP = "，！？：；（）～"
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c) not in ZH_FULLWIDTH_KEEP}
_FULLWIDTH_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _FULLWIDTH) + "]")


def fullwidth_ascii(text: str) -> str:
    return text.translate(_FULLWIDTH) if _FULLWIDTH_RE.search(text) else text


# compat_chars: NFKC, but only for the characters where it cannot corrupt Chinese: Kangxi radicals and CJK
# radical look-alikes (⼀ U+2F00 -> 一, common in text extracted from PDFs), half-width kana, hangul and CJK
# punctuation (ｶ -> カ, ｡ -> 。), and Latin ligatures (ﬁ -> fi). Everywhere else NFKC would rewrite content:
# ， -> ,  ① -> 1  ㎡ -> m2  ² -> 2  ½ -> 1⁄2  ㈱ -> (株).
_COMPAT_RANGES = ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0xFB00, 0xFB06), (0xFF61, 0xFFDC))
_COMPAT = {
    c: unicodedata.normalize("NFKC", chr(c))
    for lo, hi in _COMPAT_RANGES
    for c in range(lo, hi + 1)
    if unicodedata.normalize("NFKC", chr(c)) != chr(c)
}
_COMPAT_RE = re.compile("[" + "".join(chr(c) for c in _COMPAT) + "]")


def compat_chars(text: str) -> str:
    return unicodedata.normalize("NFC", text.translate(_COMPAT)) if _COMPAT_RE.search(text) else text


# nfc: canonical composition (e + U+0301 -> é). It also maps CJK compatibility ideographs (U+F900-U+FAFF)
# to their unified forms, which is what Chinese text wants.
def nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


# whitespace: every line break (\r\n, \r, U+2028/2029, NEL, VT, FF) becomes \n; no-break, ideographic and
# other Unicode spaces become a plain space; trailing spaces on each line go; runs of blank lines become one
# blank line (paragraph breaks are kept); the document starts and ends with a non-space character. Spaces
# inside a line are left alone (code and tables keep their alignment).
_NEWLINE_RE = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_SPACES = dict.fromkeys([0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000], " ")
_SPACES_RE = re.compile("[" + "".join(chr(c) for c in _SPACES) + "]")
_TRAILING_RE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def whitespace(text: str) -> str:
    if "\r" in text or _NEWLINE_RE.search(text):
        text = _NEWLINE_RE.sub("\n", text)
    if _SPACES_RE.search(text):
        text = text.translate(_SPACES)
    text = _TRAILING_RE.sub("", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip(" \t\n")


Rule = Callable[[str], str]
# Rules before OpenCC, in order; then "opencc"; then WHITESPACE.
PRE_RULES: tuple[tuple[str, Rule], ...] = (
    ("html_entities", html_entities),
    ("ansi_escapes", ansi_escapes),
    ("control_chars", control_chars),
    ("invisible_chars", invisible_chars),
    ("fullwidth_ascii", fullwidth_ascii),
    ("compat_chars", compat_chars),
    ("nfc", nfc),
)
RULE_NAMES = tuple(name for name, _ in PRE_RULES) + ("opencc", "whitespace")


# ------------------------------------------------------------------------------------------ OpenCC
def opencc_configs() -> list[str]:
    import opencc

    return sorted(c.removesuffix(".json") for c in opencc.CONFIGS)


# Configs that convert to Simplified, and to Traditional. For them, what is converted is chosen by script.
TO_SIMPLIFIED = ("t2s", "tw2s", "tw2sp", "hk2s", "hk2sp")
TO_TRADITIONAL = ("s2t", "s2tw", "s2twp", "s2hk", "s2hkp")

# Flags of ScriptTable.flags.
TRAD_ANY = 1  # t2s changes the character (乾, 陞, 發, 髮...)
TRAD = 2  # canonical Traditional: t2s changes it and s2t, s2tw or s2hk gives it back (發 -> 发 -> 發)
SIMP_ANY = 4  # s2t changes the character
SIMP = 8  # canonical Simplified: s2t, s2tw and s2hk all change it (发; not 群, which Taiwan writes as is)


_HAS_BIT = [np.array([v for v in range(16) if v & bit]) for bit in (TRAD_ANY, TRAD, SIMP_ANY, SIMP)]


# The flags, precomputed for one OpenCC release (building them takes about 0.5 s of CPU, mostly creating and
# freeing four OpenCC converters, in every normalize task): scripts/make_opencc_script_table.py writes it,
# tests/test_normalize.py checks it equals a fresh build. Another OpenCC version builds the table itself.
SCRIPT_TABLE_FILE = "opencc_script_flags.npz"
_FLAG_NAMES = (("trad_any", TRAD_ANY), ("trad", TRAD), ("simp_any", SIMP_ANY), ("simp", SIMP))


def build_script_flags() -> np.ndarray:
    """The flags of every code point (uint8, length 0x110000), from OpenCC's own tables."""
    import opencc

    cps = [*range(0x3400, 0xA000), *range(0xF900, 0xFB00), *range(0x20000, 0x2FA20)]
    chars = [chr(c) for c in cps]
    joined = "\n".join(chars)
    conv = {}
    for name in ("t2s", "s2t", "s2tw", "s2hk"):
        out = opencc.OpenCC(name).convert(joined).split("\n")
        if len(out) != len(chars):  # one call per character if a line ever merged; never seen
            out = [opencc.OpenCC(name).convert(c) for c in chars]
        conv[name] = out
    t2s, s2t, s2tw, s2hk = (conv[n] for n in ("t2s", "s2t", "s2tw", "s2hk"))
    maps = [dict(zip(chars, conv[n], strict=True)) for n in ("s2t", "s2tw", "s2hk")]
    trad_any = [i for i, c in enumerate(chars) if t2s[i] != c]
    trad = [i for i in trad_any if len(t2s[i]) == 1 and chars[i] in {b.get(t2s[i]) for b in maps}]
    simp_any = [i for i, c in enumerate(chars) if s2t[i] != c]
    simp = [i for i in simp_any if s2tw[i] != chars[i] and s2hk[i] != chars[i]]
    codes = np.array(cps, dtype=np.int64)
    flags = np.zeros(0x110000, dtype=np.uint8)
    for idx, bit in ((trad_any, TRAD_ANY), (trad, TRAD), (simp_any, SIMP_ANY), (simp, SIMP)):
        flags[codes[np.array(idx, dtype=np.int64)]] |= bit
    return flags


def _opencc_version() -> str:
    import opencc

    return str(getattr(opencc, "__version__", "unknown"))


def save_script_flags(flags: np.ndarray, path: Any) -> None:
    """Store the flags as the code points that carry each flag, with the OpenCC version they came from."""
    arrays = {name: np.flatnonzero(flags & bit).astype(np.int32) for name, bit in _FLAG_NAMES}
    np.savez_compressed(path, opencc_version=np.array(_opencc_version()), **arrays)


def load_script_flags() -> np.ndarray | None:
    """The shipped flags when they were made with the installed OpenCC version, else None."""
    from importlib import resources

    src = resources.files("corpus_tool") / "data" / SCRIPT_TABLE_FILE
    try:
        with src.open("rb") as f, np.load(f) as z:
            if str(z["opencc_version"]) != _opencc_version():
                return None
            flags = np.zeros(0x110000, dtype=np.uint8)
            for name, bit in _FLAG_NAMES:
                flags[z[name]] |= bit
            return flags
    except (OSError, KeyError, ValueError):
        return None


class ScriptTable:
    """Which characters mark a text as Traditional or Simplified, derived from OpenCC's own tables."""

    def __init__(self) -> None:
        flags = load_script_flags()
        self.flags = build_script_flags() if flags is None else flags

    def counts(self, texts: list[str]) -> np.ndarray:
        """(n, 4) array: characters with each flag (TRAD_ANY, TRAD, SIMP_ANY, SIMP) per text."""
        from corpus_tool.stages.textstats import code_points

        cps, starts = code_points(texts)
        n = len(texts)
        out = np.zeros((n, 4), dtype=np.int64)
        if cps.size == 0:
            return out
        flags = self.flags[cps]
        for i in range(n):
            lo, hi = starts[i], starts[i + 1]
            if hi > lo:
                # flags are bit sets of 4 bits: count each of the 16 values, then sum per bit
                values = np.bincount(flags[lo:hi], minlength=16)
                out[i] = [values[_HAS_BIT[j]].sum() for j in range(4)]
        return out


_SCRIPT_TABLE: ScriptTable | None = None


def script_table() -> ScriptTable:
    global _SCRIPT_TABLE
    if _SCRIPT_TABLE is None:
        _SCRIPT_TABLE = ScriptTable()
    return _SCRIPT_TABLE


# Chunks of a mixed document: split at whitespace and at the punctuation no OpenCC phrase contains.
_CHUNK_RE = re.compile(r"([\s，。！？；：、「」『』（）《》〈〉“”‘’【】…,.!?;:()\[\]\"']+)")


class OpenCCConverter:
    """Converts the text written in the source script, many documents per OpenCC call.

    For configs that convert to Simplified (t2s, tw2sp, hk2s...):
      * a document with no character t2s would change is not converted at all, so Simplified text passes
        through unchanged (OpenCC alone turns 沈 into 沉 and 乾安县 into 干安县 in Simplified text);
      * a document with more canonical Traditional than canonical Simplified characters is converted whole;
      * in a mostly Simplified document, only the chunks (between whitespace and punctuation) with more
        characters t2s would change than canonical Simplified ones are converted (a Traditional quotation).
    The configs that convert to Traditional mirror this; the others (t2tw, jp2t...) convert everything.
    Then, because OpenCC's tables chain (t2s: 薴 -> 苧 -> 苎), what changed is converted again, by the same
    rules, until nothing changes: the result is a fixed point, so normalizing it again changes nothing.

    OpenCC is fast on large strings and slow per call, so the pieces to convert are joined with a separator
    OpenCC leaves alone, converted in one call and split back."""

    SEP = "\n\U000f0000\U000f0001\n"  # checked to be in no document; line breaks stop phrase matches
    MAX_PASSES = 5

    def __init__(self, config: str):
        try:
            import opencc
        except ImportError as e:
            raise MissingDependencyError("the `opencc` package is not installed (pip install opencc)") from e
        name = config.removesuffix(".json")
        if name not in opencc_configs():
            raise UsageError(
                f"--opencc {config}: unknown OpenCC config; use one of {', '.join(opencc_configs())} or none"
            )
        self.config = name
        self._cc = opencc.OpenCC(name)
        # Columns of ScriptTable.counts: (any source character, canonical source, canonical target).
        if name in TO_SIMPLIFIED:
            self._cols: tuple[int, int, int] | None = (0, 1, 3)
        elif name in TO_TRADITIONAL:
            self._cols = (2, 3, 1)
        else:
            self._cols = None
        self._table = script_table() if self._cols else None

    def convert_many(self, texts: list[str]) -> list[str]:
        """Convert the texts, to a fixed point (see the class docstring)."""
        out = self._convert_source(texts)
        todo = [i for i, (a, b) in enumerate(zip(texts, out, strict=True)) if a != b]
        for _ in range(self.MAX_PASSES):
            if not todo:
                break
            again = self._convert_source([out[i] for i in todo])
            still = []
            for i, new in zip(todo, again, strict=True):
                if new != out[i]:
                    out[i] = new
                    still.append(i)
            todo = still
        return out

    def _convert_source(self, texts: list[str]) -> list[str]:
        """One pass: convert the documents, or the chunks of them, written in the source script."""
        if self._table is None:
            return self.convert_once(texts)
        any_src, src, tgt = self._cols
        counts = self._table.counts(texts)
        out = list(texts)
        whole = [i for i in range(len(texts)) if counts[i, any_src] and counts[i, src] > counts[i, tgt]]
        for i, new in zip(whole, self.convert_once([texts[i] for i in whole]), strict=True):
            out[i] = new
        mixed = [i for i in range(len(texts)) if counts[i, any_src] and counts[i, src] <= counts[i, tgt]]
        if mixed:
            chunks = [_CHUNK_RE.split(texts[i]) for i in mixed]
            flat = [c for doc in chunks for c in doc[0::2]]
            cc = self._table.counts(flat)
            pick = [j for j in range(len(flat)) if cc[j, any_src] > cc[j, tgt]]
            converted = dict(zip(pick, self.convert_once([flat[j] for j in pick]), strict=True))
            j = 0
            for i, parts in zip(mixed, chunks, strict=True):
                for k in range(0, len(parts), 2):
                    parts[k] = converted.get(j, parts[k])
                    j += 1
                out[i] = "".join(parts)
        return out

    def convert_once(self, texts: list[str]) -> list[str]:
        """One plain OpenCC pass over every text, in one call."""
        if not texts:
            return []
        joined = self.SEP.join(texts)
        if joined.count(self.SEP) == len(texts) - 1:
            out = self._cc.convert(joined).split(self.SEP)
            if len(out) == len(texts):
                return out
        return [self._cc.convert(t) for t in texts]  # a document contains the separator: one at a time


# ------------------------------------------------------------------------------------------ the text
def apply_pre_rules(text: str, changed: list[str]) -> str:
    for name, rule in PRE_RULES:
        new = rule(text)
        if new != text:
            changed.append(name)
            text = new
    return text


def normalize_texts(texts: list[str], converter: OpenCCConverter | None) -> tuple[list[str], list[list[str]]]:
    """Normalize many documents; returns the texts and, for each, the names of the rules that changed it."""
    changed: list[list[str]] = [[] for _ in texts]
    pre = [apply_pre_rules(t, changed[i]) for i, t in enumerate(texts)]
    if converter is not None:
        converted = converter.convert_many(pre)
        for i, (a, b) in enumerate(zip(pre, converted, strict=True)):
            if a != b:
                changed[i].append("opencc")
        pre = converted
    out = []
    for i, t in enumerate(pre):
        new = whitespace(t)
        if new != t:
            changed[i].append("whitespace")
        # A later rule can uncover work for an earlier one (＆amp; -> &amp;): repeat until nothing changes.
        while _needs_another_pass(new):
            again = _normalize_one(new, converter, changed[i])
            if again == new:
                break
            new = again
        out.append(new)
    return out, changed


def _normalize_one(text: str, converter: OpenCCConverter | None, changed: list[str]) -> str:
    more: list[str] = []
    text = apply_pre_rules(text, more)
    if converter is not None:
        new = converter.convert_many([text])[0]
        if new != text:
            more.append("opencc")
        text = new
    new = whitespace(text)
    if new != text:
        more.append("whitespace")
    changed.extend(name for name in more if name not in changed)
    return new


def _needs_another_pass(text: str) -> bool:
    return "&" in text and ENTITY_RE.search(text) is not None


def normalize_text(text: str, opencc_config: str | None = DEFAULT_OPENCC) -> tuple[str, list[str]]:
    """Normalize one document (convenience for tests and library users)."""
    conv = OpenCCConverter(opencc_config) if opencc_config else None
    out, changed = normalize_texts([text], conv)
    return out[0], changed[0]


# ------------------------------------------------------------------------------------------ the stage
class NormalizeStage(Stage):
    """Normalize every document's text; record the rules that changed it in `normalized`. Documents left
    empty (nothing but control characters or whitespace) are rejected as `empty`."""

    name = "normalize"

    def __init__(self, opencc_config: str | None = DEFAULT_OPENCC):
        super().__init__()
        if opencc_config and opencc_config.lower() == "none":
            opencc_config = None
        self.opencc_config = opencc_config
        self.converter = OpenCCConverter(opencc_config) if opencc_config else None

    def resolved(self) -> dict[str, Any]:
        return {"opencc": self.converter.config if self.converter else "none", "rules": list(RULE_NAMES)}

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        out, changed = normalize_texts([t or "" for t in texts], self.converter)
        for names in changed:
            for name in names:
                self.counters[f"changed_{name}"] += 1
            if names:
                self.counters["changed_docs"] += 1
        self.counters["chars_in"] += sum(len(t or "") for t in texts)
        self.counters["chars_out"] += sum(len(t) for t in out)
        new = schema.replace_column(batch, schema.TEXT, pa.array(out, pa.string()))
        new = schema.replace_column(new, schema.NORMALIZED, pa.array(changed, pa.list_(pa.string())))
        keep = np.fromiter((bool(t) for t in out), dtype=bool, count=len(out))
        reasons = [None if k else "empty" for k in keep]
        details = [None if k else "nothing left after normalization" for k in keep]
        return self.split(new, keep, reasons, details)
