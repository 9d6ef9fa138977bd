"""Fast, vectorised character-class counts for batches of documents (Han, kana, hangul, Yi, punctuation...).

Every code point maps to one class through the shared lookup table (`corpus_tool.charclass.CHAR_CLASS`). A batch
is counted in a handful of numpy operations: the texts are joined, decoded once to UTF-32, mapped through
the table and binned per document with `np.bincount`. That is 100+ MB/s per core, so stages can afford to
count the whole document even when they only sample it for a model.

    counts = class_counts(batch.column("text"))   # shape (n_docs, N_CLASSES), int64
    han_frac = fraction(counts, HAN, of=NON_SPACE)

Use the class constants (`HAN`, `KANA`, ...) as column indexes. `LETTER_CLASSES` are the classes that carry
language (letters of any script); `NON_SPACE` is everything but whitespace.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The classes and the table live in corpus_tool/charclass.py (one table for every stage); re-exported here.
from corpus_tool.charclass import (  # noqa: E402, F401
    CHAR_CLASS,
    CJK_PUNCT,
    CLASS_NAMES,
    DIGIT,
    HAN,
    HANGUL,
    KANA,
    LATIN,
    LETTER_CLASSES,
    N_CLASSES,
    OTHER,
    OTHER_LETTER,
    PUNCT,
    SPACE,
    YI,
    ZH_PUNCT,
)

try:  # compiled scan for table_hits (built by `pip install`); the numpy code below is the reference
    from corpus_tool.stages import _textscan
except ImportError:  # a source tree that was never built: same arrays, slower
    _textscan = None


def table_hits(texts: list[str | None], table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, values, starts): the offsets, in the batch's joined code points, of the characters whose
    entry in `table` (uint8 per code point) is not 0, in order, their entries, and each text's start
    offset (n + 1; None counts as empty). That is `np.flatnonzero(table[cps])` for `cps, starts =
    code_points(texts)`, without building the array of every code point when the marked ones are few."""
    if _textscan is not None:
        pos, val, starts = _textscan.table_hits(texts, table)
        return (np.frombuffer(pos, dtype=np.int64), np.frombuffer(val, dtype=np.uint8),
                np.frombuffer(starts, dtype=np.int64))
    cps, starts = code_points(texts)
    marks = table[cps]
    where = np.flatnonzero(marks)
    return where, marks[where], starts


# ---------------------------------------------------------------------------------------------- counting
def _as_string_array(texts: pa.Array | pa.ChunkedArray | list[str]) -> pa.Array:
    if isinstance(texts, list):
        return pa.array(texts, pa.large_string())
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if pa.types.is_string(texts.type):
        return texts.cast(pa.large_string())
    if not pa.types.is_large_string(texts.type):
        raise TypeError(f"expected a string array, got {texts.type}")
    return texts


def code_points(texts: pa.Array | pa.ChunkedArray | list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All code points of the batch as one uint32 array, and each document's start offset in it
    (length n + 1). Nulls count as empty documents."""
    if isinstance(texts, list):  # Python strings: one join, one encode (their lengths are code points)
        lengths = np.fromiter((len(t) if t else 0 for t in texts), dtype=np.int64, count=len(texts))
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        joined = "".join(t for t in texts if t)
        return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32), starts
    arr = _as_string_array(texts)
    n = len(arr)
    lengths = pc.fill_null(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    if n == 0 or starts[-1] == 0:
        return np.zeros(0, dtype=np.uint32), starts
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2]
    raw = memoryview(data)[int(offsets[0]) : int(offsets[-1])]
    # Nulls may still own bytes in the data buffer; they are rare, so handle them by rebuilding.
    if arr.null_count:
        raw = "".join(t or "" for t in arr.to_pylist()).encode("utf-8")
    cps = np.frombuffer(bytes(raw).decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
    return cps, starts


def table_counts(texts: pa.Array | pa.ChunkedArray | list[str], table: np.ndarray, n_values: int) -> np.ndarray:
    """Per text, how many of its characters have each value of `table` (uint8 per code point, every value
    below n_values): an int64 array of shape (n_docs, n_values); None counts as empty. A list of strs is
    counted by the compiled scan where it is built, in one pass over the strings."""
    if _textscan is not None and isinstance(texts, list):
        counts = _textscan.table_counts(texts, table, n_values)
        return np.frombuffer(counts, dtype=np.int64).reshape(len(texts), n_values)
    return table_counts_reference(texts, table, n_values)


def table_counts_reference(texts: pa.Array | pa.ChunkedArray | list[str], table: np.ndarray,
                           n_values: int) -> np.ndarray:
    """`table_counts` with numpy: the table looked up for every code point, then one bincount per text
    (the fallback, and the tests' oracle)."""
    cps, starts = code_points(texts)
    n = len(starts) - 1
    if cps.size == 0:
        return np.zeros((n, n_values), dtype=np.int64)
    values = table[cps]
    out = np.zeros((n, n_values), dtype=np.int64)
    # One bincount per document: no per-character document index, so memory stays at 5 bytes per character.
    for i in range(n):
        lo, hi = starts[i], starts[i + 1]
        if hi > lo:
            out[i] = np.bincount(values[lo:hi], minlength=n_values)
    return out


def class_counts(texts: pa.Array | pa.ChunkedArray | list[str]) -> np.ndarray:
    """Per-document counts of every character class: an int64 array of shape (n_docs, N_CLASSES)."""
    return table_counts(texts, CHAR_CLASS, N_CLASSES)


def class_counts_reference(texts: pa.Array | pa.ChunkedArray | list[str]) -> np.ndarray:
    """`class_counts` with numpy (tests/test_langid.py compares the two)."""
    return table_counts_reference(texts, CHAR_CLASS, N_CLASSES)


def total(counts: np.ndarray, classes: tuple[int, ...] | int) -> np.ndarray:
    """Sum of the given classes per document."""
    if isinstance(classes, int):
        return counts[:, classes]
    return counts[:, list(classes)].sum(axis=1)


def non_space(counts: np.ndarray) -> np.ndarray:
    """Characters that are not whitespace, per document."""
    return counts.sum(axis=1) - counts[:, SPACE]


def letters(counts: np.ndarray) -> np.ndarray:
    """Letters of any script (Han, kana, hangul, Yi, Latin, other scripts), per document."""
    return total(counts, LETTER_CLASSES)


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as float32, 0 where the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out.astype(np.float32)


def han_fraction(counts: np.ndarray) -> np.ndarray:
    """Han characters / non-space characters (the schema's `han_frac`)."""
    return ratio(counts[:, HAN], non_space(counts))
