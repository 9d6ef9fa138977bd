"""The reference engine, `--engine datasketch`: datasketch's classic MinHash (one hash function per value,
`num_perm = bands x rows` of them, sha1 of each shingle) over the same shingles as ours, one document at a
time. Slow (about 1.4 MB/s here, against about 29 for the default engine), so it is meant for checking the
default engine on a sample, not for a crawl: everything after the signatures (band keys, pairs,
verification, clusters) is the same code for both engines.

datasketch pulls scipy, so it is an optional (test) dependency: the engine says how to install it.
Only character shingles (`--tokenizer char`) are supported.
"""

from __future__ import annotations

import numpy as np

from corpus_tool.errors import UsageError
from corpus_tool.stages.dedup.hashing import ShingleSettings

ENGINES = ("numpy", "datasketch")
INSTALL_HINT = "--engine datasketch needs the datasketch package, which is not installed: pip install datasketch"


def check_engine(settings: ShingleSettings) -> None:
    """Refuse an unknown engine, or the datasketch engine where it cannot run, before anything is written."""
    if settings.engine not in ENGINES:
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {settings.engine!r}")
    if settings.engine == "datasketch":
        if settings.tokenizer != "char":
            raise UsageError("--engine datasketch supports --tokenizer char only")
        _datasketch()


def _datasketch():
    try:
        import datasketch  # noqa: PLC0415 - optional
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return datasketch


def char_shingles(text: str, n: int) -> set[bytes]:
    """The character n-grams of a normalised text as UTF-8 bytes: the same shingles the default engine
    hashes (a text shorter than n gives one shingle of all it has; an empty one none)."""
    if not text:
        return set()
    if len(text) < n:
        return {text.encode("utf-8", "surrogatepass")}
    return {text[i: i + n].encode("utf-8", "surrogatepass") for i in range(len(text) - n + 1)}


def datasketch_signatures(
    norm: np.ndarray, norm_lengths: np.ndarray, settings: ShingleSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(signatures (n, num_perm) uint32, shingle positions per document (n,) int32) from datasketch.MinHash
    seeded with `settings.seed`. A document without shingles keeps datasketch's empty value 0xFFFFFFFF in
    every position, as the default engine does."""
    ds = _datasketch()
    n, p = len(norm_lengths), settings.num_perm
    text = norm.tobytes().decode("utf-32-le", errors="surrogatepass")
    template = ds.MinHash(num_perm=p, seed=settings.seed)
    sig = np.full((n, p), 0xFFFFFFFF, dtype=np.uint32)
    start = 0
    for i, length in enumerate(norm_lengths.tolist()):
        shingles = char_shingles(text[start: start + length], settings.ngram)
        start += length
        if shingles:
            m = template.copy()
            m.update_batch(shingles)
            sig[i] = np.asarray(m.hashvalues, dtype=np.uint64).astype(np.uint32)
    k = settings.ngram
    positions = np.where(norm_lengths >= k, norm_lengths - k + 1, (norm_lengths > 0).astype(np.int64))
    return sig, positions.astype(np.int32)
