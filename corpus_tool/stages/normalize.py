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
from corpus_tool.stage import Stage

# The converter and its script table live in opencc_convert.py; re-exported here, where callers find them.
from corpus_tool.stages.opencc_convert import (  # noqa: F401
    SCRIPT_TABLE_FILE,
    SIMP,
    SIMP_ANY,
    TO_SIMPLIFIED,
    TO_TRADITIONAL,
    TRAD,
    TRAD_ANY,
    OpenCCConverter,
    ScriptTable,
    build_script_flags,
    load_script_flags,
    opencc_configs,
    save_script_flags,
    script_table,
)

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


_FULLWIDTH_RUN_RE = re.compile(_FULLWIDTH_RE.pattern + "+")


def _fullwidth_run(m: re.Match) -> str:
    return m.group(0).translate(_FULLWIDTH)


def fullwidth_ascii(text: str) -> str:
    # Only the runs of full-width characters are translated (str.translate looks up every character of a
    # text; here a few ％ in a long article cost a few lookups): the same output.
    return _FULLWIDTH_RUN_RE.sub(_fullwidth_run, text) if _FULLWIDTH_RE.search(text) else text


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


def whitespace(text: str, present: int | None = None) -> str:
    """`present`: the text's trigger bits (`trigger_bits`), which stand in for the two searches."""
    if ("\r" in text or _NEWLINE_RE.search(text)) if present is None else present & NEWLINE_BIT:
        text = _NEWLINE_RE.sub("\n", text)
    if _SPACES_RE.search(text) if present is None else present & SPACES_BIT:
        text = text.translate(_SPACES)
    # [ \t]+$ (multi-line) matches only before a \n or at the end: the sub is skipped when neither is there
    if " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
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

# Trigger bits: the characters each rule's first check searches for (a rule whose text holds none of them
# returns the text unchanged). They are looked up for a whole batch in one numpy pass (`trigger_bits`), so
# the per-document regex searches run only where such a character is. A rule that changes a text voids its
# bits for the rules after it, which then search for themselves.
NEWLINE_BIT, SPACES_BIT = 16, 32
_RULE_BITS = {"control_chars": 1, "invisible_chars": 2, "fullwidth_ascii": 4, "compat_chars": 8}
_TRIGGERS = np.zeros(0x110000, dtype=np.uint8)
for _bit, _chars in (
    (1, _CONTROL),
    (2, [*_INVISIBLE, 0x200D]),
    (4, list(_FULLWIDTH)),
    (8, list(_COMPAT)),
    (NEWLINE_BIT, [ord(c) for c in "\r\x0b\x0c\x85\u2028\u2029"]),
    (SPACES_BIT, list(_SPACES)),
):
    _TRIGGERS[_chars] |= _bit
_PRE_RULE_BITS = tuple(_RULE_BITS.get(name) for name, _ in PRE_RULES)
_ALL_BITS = (1, 2, 4, 8, NEWLINE_BIT, SPACES_BIT)


def trigger_bits(texts: list[str]) -> list[int]:
    """Per text, the OR of its characters' trigger bits. Trigger characters are rare: per bit, their sorted
    positions (`table_hits`), and a text has the bit when two binary searches of its bounds in them differ."""
    from corpus_tool.stages.textstats import table_hits

    out = np.zeros(len(texts), dtype=np.uint8)
    where, values, starts = table_hits(texts, _TRIGGERS)
    if where.size:
        for bit in _ALL_BITS:
            at = np.searchsorted(where[(values & bit) != 0], starts)
            out[at[1:] > at[:-1]] |= bit
    return out.tolist()


# ------------------------------------------------------------------------------------------ the text
def apply_pre_rules(text: str, changed: list[str], present: int | None = None) -> str:
    """`present`: the text's trigger bits; a rule whose trigger characters are absent is skipped."""
    for (name, rule), bit in zip(PRE_RULES, _PRE_RULE_BITS, strict=True):
        if present is not None and bit is not None and not present & bit:
            continue
        new = rule(text)
        if new != text:
            changed.append(name)
            text = new
            present = None
    return text


def normalize_texts(texts: list[str], converter: OpenCCConverter | None) -> tuple[list[str], list[list[str]]]:
    """Normalize many documents; returns the texts and, for each, the names of the rules that changed it."""
    changed: list[list[str]] = [[] for _ in texts]
    bits = trigger_bits(texts)
    pre = [apply_pre_rules(t, changed[i], bits[i]) for i, t in enumerate(texts)]
    if converter is not None:
        converted = converter.convert_many(pre)
        for i, (a, b) in enumerate(zip(pre, converted, strict=True)):
            if a != b:
                changed[i].append("opencc")
        pre = converted
    # the trigger bits again, for the texts a rule or OpenCC replaced; the others keep theirs
    redo = [i for i, (a, b) in enumerate(zip(texts, pre, strict=True)) if a is not b]
    for i, present in zip(redo, trigger_bits([pre[i] for i in redo]), strict=True):
        bits[i] = present
    out = []
    for i, (t, present) in enumerate(zip(pre, bits, strict=True)):
        new = whitespace(t, present)
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
        new = schema.replace_strings(batch, schema.TEXT, out, texts)
        new = schema.replace_column(new, schema.NORMALIZED, pa.array(changed, pa.list_(pa.string())))
        keep = np.fromiter((bool(t) for t in out), dtype=bool, count=len(out))
        reasons = [None if k else "empty" for k in keep]
        details = [None if k else "nothing left after normalization" for k in keep]
        return self.split(new, keep, reasons, details)
