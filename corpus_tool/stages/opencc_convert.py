"""OpenCC conversion for normalize: which characters mark a text as Traditional or Simplified (`ScriptTable`),
and the converter that converts the documents, or the chunks of them, written in the source script
(`OpenCCConverter`). docs/normalize.md says what is converted and why.

The script counts and the chunks are computed on the batch's code points with numpy (one lookup per
character, then per-document and per-chunk counts from the few characters that carry a flag), so only the
chunks that are converted become Python strings.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from corpus_tool.errors import MissingDependencyError, UsageError


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
        return flag_counts(self.flags[cps], starts)


def flag_positions(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the code points that carry a flag (sorted) and their flags: the few characters
    `flag_counts` and `chunks_to_convert` look at, found once."""
    where = np.flatnonzero(flags)
    return where, flags[where]


def flag_counts(flags: np.ndarray | None, starts: np.ndarray,
                positions: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """(n, 4) counts of each flag bit per segment [starts[i], starts[i + 1]) of `flags` (the flags of a
    batch's code points, segments may be empty). Only the characters that carry a flag are visited: per bit,
    their sorted positions, and each segment's count is the difference of two binary searches of its
    bounds in them. `positions`: `flag_positions(flags)` when the caller has it."""
    n = len(starts) - 1
    out = np.zeros((n, 4), dtype=np.int64)
    where, values = flag_positions(flags) if positions is None else positions
    if where.size == 0:
        return out
    for j in range(4):
        at = np.searchsorted(where[(values & (1 << j)) != 0], starts)
        out[:, j] = at[1:] - at[:-1]
    return out


_SCRIPT_TABLE: ScriptTable | None = None


def script_table() -> ScriptTable:
    global _SCRIPT_TABLE
    if _SCRIPT_TABLE is None:
        _SCRIPT_TABLE = ScriptTable()
    return _SCRIPT_TABLE


# Chunks of a mixed document: the runs of characters between whitespace and the punctuation no OpenCC phrase
# contains. CHUNK_BREAKS is that set of characters (the old code split with CHUNK_RE; a test checks that
# the table and the regex agree on every code point). str.isspace() is re's \s; every such character is
# below U+3001.
CHUNK_PUNCTUATION = "，。！？；：、「」『』（）《》〈〉“”‘’【】…,.!?;:()[]\"'"
CHUNK_RE = re.compile("([\\s" + re.escape(CHUNK_PUNCTUATION) + "]+)")
CHUNK_BREAKS = np.zeros(0x110000, dtype=bool)
CHUNK_BREAKS[[c for c in range(0x3001) if chr(c).isspace()] + [ord(c) for c in CHUNK_PUNCTUATION]] = True


def chunks_to_convert(
    flags: np.ndarray | None, breaks: np.ndarray, starts: np.ndarray, docs: np.ndarray, any_bit: int, tgt_bit: int,
    positions: tuple[np.ndarray, np.ndarray] | None = None, break_positions: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chunks of documents `docs` with more characters carrying `any_bit` than `tgt_bit`, as (document,
    start, end) arrays of code-point offsets inside the document, in document and then text order.

    `flags` and `breaks` are per code point of the whole batch, `starts` the documents' offsets in it,
    `positions` `flag_positions(flags)` and `break_positions` `np.flatnonzero(breaks)` when the caller has
    them (`breaks` is not read then). Only chunks holding a source character can
    qualify, so only those are found: the chunk around each such character runs from the break before it
    to the break after it, clipped to its document."""
    n = len(starts) - 1
    in_docs = np.zeros(n, dtype=bool)
    in_docs[docs] = True
    where, values = flag_positions(flags) if positions is None else positions
    src = where[(values & any_bit) != 0]
    brk = np.flatnonzero(breaks) if break_positions is None else break_positions
    k = np.searchsorted(brk, src)  # the first break at or after each source character
    not_break = brk[np.minimum(k, brk.size - 1)] != src if brk.size else np.ones(src.size, dtype=bool)
    src, k = src[not_break], k[not_break]  # (no break character carries a flag today; a test checks it)
    doc = np.searchsorted(starts, src, side="right") - 1
    keep = in_docs[doc]
    src, doc, k = src[keep], doc[keep], k[keep]
    empty = np.zeros(0, dtype=np.int64)
    if src.size == 0:
        return empty, empty, empty
    after = np.append(brk, int(starts[-1]))[k]
    before = np.concatenate(([-1], brk))[k]
    lo = np.maximum(before + 1, starts[doc])
    hi = np.minimum(after, starts[doc + 1])
    lo, first, n_src = np.unique(lo, return_index=True, return_counts=True)
    hi, doc = hi[first], doc[first]
    # the chunks are disjoint and sorted: the target characters in each are two binary searches apart
    tgt = where[(values & tgt_bit) != 0]
    n_tgt = np.searchsorted(tgt, hi) - np.searchsorted(tgt, lo)
    pick = n_src > n_tgt
    return doc[pick], (lo - starts[doc])[pick], (hi - starts[doc])[pick]


# The converter's mark table holds the four script flags (bits 0-3) and the chunk-break bit (4): values
# below 32, and per value which of the four flags it carries.
_MARK_VALUES = 32
_MARK_BITS = np.array([[(v >> j) & 1 for j in range(4)] for v in range(_MARK_VALUES)], dtype=np.int64)


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
        if self._table is not None:
            self._marks = self._table.flags | (CHUNK_BREAKS.astype(np.uint8) << 4)

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
        from corpus_tool.stages.textstats import table_counts, table_hits

        any_src, src, tgt = self._cols
        # per document, the characters with each script flag: a count of the mark values, by bit
        counts = table_counts(texts, self._marks, _MARK_VALUES) @ _MARK_BITS
        has_src = counts[:, any_src] > 0
        majority = counts[:, src] > counts[:, tgt]
        out = list(texts)
        whole = np.flatnonzero(has_src & majority).tolist()
        for i, new in zip(whole, self.convert_once([texts[i] for i in whole]), strict=True):
            out[i] = new
        mixed = np.flatnonzero(has_src & ~majority)
        if mixed.size:
            # only the mixed documents' marked characters are needed, with their positions: one scan for
            # the script flags and the chunk breaks (bit 4). (Chunks never cross a document's bounds, so
            # finding them in this subset gives what the whole batch would.)
            sub = [texts[i] for i in mixed.tolist()]
            marked, values, starts = table_hits(sub, self._marks)
            flagged = (values & 15) != 0
            positions = marked[flagged], values[flagged]
            breaks = marked[(values & 16) != 0]
            doc, lo, hi = chunks_to_convert(None, None, starts, np.arange(len(sub)), 1 << any_src, 1 << tgt,
                                            positions, breaks)
            if doc.size:
                for d, new in zip(*_replace_chunks(texts, mixed[doc], lo, hi, self.convert_once), strict=True):
                    out[d] = new
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




def _replace_chunks(texts: list[str], doc: np.ndarray, lo: np.ndarray, hi: np.ndarray, convert) -> tuple[list, list]:
    """(documents, their new texts): documents `doc` with the chunks [lo, hi) (code-point offsets in the
    document, in document and then text order) replaced by `convert(chunks)`.

    The documents are joined into one string, so that the pieces between converted chunks (a document's
    tail and the next one's head being one piece) are plain slices of it, the result is one join, and each
    document's new text is a slice of that, its length known from the converted chunks' lengths."""
    docs, first = np.unique(doc, return_index=True)
    lengths = np.fromiter((len(texts[d]) for d in docs.tolist()), dtype=np.int64, count=docs.size)
    offset = np.zeros(docs.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offset[1:])
    slot = np.repeat(np.arange(docs.size), np.diff(np.append(first, doc.size)))  # chunk -> index in docs
    glo, ghi = lo + offset[slot], hi + offset[slot]
    joined = "".join(texts[d] for d in docs.tolist())
    chunks = [joined[a:b] for a, b in zip(glo.tolist(), ghi.tolist(), strict=True)]
    converted = convert(chunks)
    gap_lo = np.concatenate(([0], ghi)).tolist()
    gap_hi = np.append(glo, offset[-1]).tolist()
    parts = [""] * (2 * len(chunks) + 1)
    parts[0::2] = [joined[a:b] for a, b in zip(gap_lo, gap_hi, strict=True)]
    parts[1::2] = converted
    result = "".join(parts)
    grow = np.fromiter(map(len, converted), dtype=np.int64, count=len(converted)) - (hi - lo)
    new_len = lengths + np.bincount(slot, weights=grow, minlength=docs.size).astype(np.int64)
    bounds = np.zeros(docs.size + 1, dtype=np.int64)
    np.cumsum(new_len, out=bounds[1:])
    b = bounds.tolist()
    return docs.tolist(), [result[b[i]:b[i + 1]] for i in range(docs.size)]
