"""Text normalisation, shingling and MinHash signatures, vectorised over a whole batch with numpy.

Why not datasketch: it hashes every shingle in Python (sha1) and then applies every permutation to every
shingle: about 1.5 ms per 2,000-character document with `MinHash.bulk` (about 1.4 MB/s). Even the same
k-permutation scheme as one numpy matrix product runs at about 2 MB/s here, because its cost is
shingles x permutations. We use one-permutation hashing with optimal densification instead
(Li, Owen & Zhang 2012; Shrivastava 2017): every shingle is hashed once, its hash picks one of the P
bins and the bin keeps the minimum. Each bin is a MinHash of the shingles that fall into it, the
probability that two documents agree in a bin is their Jaccard similarity, and the cost is O(shingles),
not O(shingles x P). Empty bins (short documents) borrow the value of another bin, chosen by a seeded
sequence that is the same for every document, so that equal sets still give equal signatures.

datasketch stays the reference: `--engine datasketch` (reference.py) computes its classic MinHash over the
same shingles, and tests/test_dedup_reference.py checks our estimates against it.

Everything is seeded and integer-exact: the same text and settings give the same signature on every
machine.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import xxhash

from corpus_tool import charclass as cc

try:  # the character path compiled (built by `pip install`); the numpy code below is the reference
    from corpus_tool.stages.dedup import _minhash
except ImportError:  # a source tree that was never built: same signatures, slower
    _minhash = None

U64 = np.uint64
MASK32 = U64(0xFFFFFFFF)
EMPTY_BAND = U64(0)  # band key of a document without shingles: never a candidate
DENSIFY_ATTEMPTS = 32
DEFAULT_ENGINE = "numpy"
# Character classes (corpus_tool/charclass.py) removed before shingling and exact hashing: punctuation,
# whitespace, control and format characters (Unicode P*, Z*, Cc, Cf). Letters, digits and symbols stay.
_DROPPED = (cc.SPACE, cc.CONTROL, *cc.PUNCT_CLASSES)


@dataclass(frozen=True)
class ShingleSettings:
    """What a signature depends on. Recorded in WORK/config.json and checked by every later step."""

    ngram: int = 5
    tokenizer: str = "char"  # "char" or "jieba"
    bands: int = 32
    rows: int = 4
    seed: int = 42
    engine: str = DEFAULT_ENGINE  # "numpy" (one-permutation MinHash) or "datasketch" (reference.py)

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def record(self) -> dict:
        """The settings as WORK/config.json and the fingerprints hold them. The engine appears only when it
        is not the default, so work directories made before the engine existed stay valid (same bytes)."""
        d = asdict(self)
        if d["engine"] == DEFAULT_ENGINE:
            del d["engine"]
        return d


# ------------------------------------------------------------------------------------ normalisation


@lru_cache(maxsize=1)
def _bmp_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(map, keep, space) over the Basic Multilingual Plane.

    map: NFKC + lower case where that gives one character (full-width Ａ -> a, Ⅻ stays), else the
    character itself. keep: the mapped character is not punctuation, space, control or format.
    space: the character is white space (the jieba path keeps word boundaries there).
    Astral-plane characters (emoji, rare CJK extension B+) are kept as they are.
    """
    size = 0x10000
    mapping = np.arange(size, dtype=np.uint32)
    for c in range(size):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        folded = unicodedata.normalize("NFKC", ch).lower()
        if len(folded) != 1:
            folded = ch.lower() if len(ch.lower()) == 1 else ch
        mapping[c] = ord(folded)
    keep_class = cc.project({k: 1 for k in range(cc.N_CLASSES) if k not in _DROPPED}).astype(bool)
    keep = keep_class[cc.CHAR_CLASS[mapping]]  # judged on the folded character
    keep[0xD800:0xE000] = False
    space = cc.CHAR_CLASS[:size] == cc.SPACE
    return mapping, keep, space


def code_points(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All texts as one uint32 array of code points, and the number of code points of each text."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts).encode("utf-32-le", errors="surrogatepass")
    return np.frombuffer(joined, dtype=np.uint32), lengths


def normalize_code_points(
    cps: np.ndarray, lengths: np.ndarray, keep_spaces: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Light normalisation of a batch: NFKC-style width folding, lower case, punctuation and white space
    removed (with `keep_spaces`, runs of white space become one space instead). Returns the normalised
    code points and the new length of each text."""
    mapping, keep_table, space_table = _bmp_tables()
    bmp = cps < 0x10000
    low = np.where(bmp, cps, 0).astype(np.intp)
    mapped = np.where(bmp, mapping[low], cps)
    keep = np.where(bmp, keep_table[low], True)
    if keep_spaces:
        is_space = np.where(bmp, space_table[low], False)
        mapped = np.where(is_space, np.uint32(0x20), mapped)
        keep |= is_space
    doc = np.repeat(np.arange(len(lengths)), lengths)
    new_lengths = np.bincount(doc[keep], minlength=len(lengths)).astype(np.int64)
    return mapped[keep], new_lengths


# --------------------------------------------------------------------------------------------- hashing


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a fast bijective mixer of uint64 values (full avalanche)."""
    with np.errstate(over="ignore"):
        z = x ^ (x >> U64(30))
        z = z * U64(0xBF58476D1CE4E5B9)
        z ^= z >> U64(27)
        z *= U64(0x94D049BB133111EB)
        z ^= z >> U64(31)
    return z


def seeded_stream(seed: int, purpose: int, k: int) -> np.ndarray:
    """k uint64 values from splitmix64 over (seed, purpose): plain integer arithmetic, so the constants (and
    every signature) are the same on every machine and numpy version (numpy's Generator streams are not
    promised to stay the same across versions)."""
    start = splitmix64(np.array([(seed * 0x100000001B3 + purpose) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        states = start + np.arange(1, k + 1, dtype=np.uint64) * U64(0x9E3779B97F4A7C15)
    return splitmix64(states)


@lru_cache(maxsize=16)
def _constants(seed: int, ngram: int, num_perm: int, rows: int) -> dict[str, np.ndarray]:
    dens = (seeded_stream(seed, 5, DENSIFY_ATTEMPTS * num_perm) % U64(num_perm)).astype(np.int64)
    return {
        "position": seeded_stream(seed, 1, ngram) | U64(1),  # odd multipliers of the n-gram positions
        "salt": seeded_stream(seed, 2, 1),
        "band": seeded_stream(seed, 3, rows) | U64(1),  # odd multipliers of the rows within a band
        "band_salt": seeded_stream(seed, 4, 1),
        "bin_salt": seeded_stream(seed, 6, 1),
        "densify": dens.reshape(DENSIFY_ATTEMPTS, num_perm),
    }


def shingle_hashes(
    tokens: np.ndarray, counts: np.ndarray, ngram: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded 64-bit hashes of every n-gram of tokens (uint64 token values, documents concatenated,
    `counts[d]` tokens in document d). A document shorter than `ngram` tokens (but not empty) gives one
    shingle of all its tokens. Returns (hashes, document index of each hash)."""
    k = _constants(seed, ngram, 1, 1)
    pos_mult, salt = k["position"], k["salt"][0]
    n_docs = len(counts)
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    doc_of = np.repeat(np.arange(n_docs), counts)
    hashes: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        if total >= ngram:
            width = total - ngram + 1
            h = tokens[:width] * pos_mult[0]
            for j in range(1, ngram):
                h += tokens[j: width + j] * pos_mult[j]
            pos = np.arange(width) - starts[doc_of[:width]]
            valid = pos <= (counts[doc_of[:width]] - ngram)
            hashes.append(h[valid])
            docs.append(doc_of[:width][valid])
        short = np.nonzero((counts > 0) & (counts < ngram))[0]
        if len(short):
            h = np.zeros(len(short), dtype=np.uint64)
            for j in range(ngram - 1):
                has = counts[short] > j
                h[has] += tokens[starts[short[has]] + j] * pos_mult[j]
            hashes.append(h)
            docs.append(short)
        all_h = np.concatenate(hashes) if hashes else np.zeros(0, np.uint64)
        all_d = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        return splitmix64(all_h + salt), all_d


def signatures(shingles: np.ndarray, doc_of: np.ndarray, n_docs: int, num_perm: int, seed: int) -> np.ndarray:
    """One-permutation MinHash with optimal densification: (n_docs, num_perm) uint32.

    The high 32 bits of a shingle's (already mixed) hash choose its bin, the low 32 bits are its value.
    A document without shingles gets all 0xFFFFFFFF (and an EMPTY_BAND key, so it never matches).
    """
    k = _constants(seed, 1, num_perm, 1)
    h = splitmix64(shingles ^ k["bin_salt"][0])  # re-mix with the seed: independent of the n-gram hash
    bins = (((h >> U64(32)) * U64(num_perm)) >> U64(32)).astype(np.int64)
    values = (h & MASK32).astype(np.uint32)
    flat = np.full(n_docs * num_perm, 0xFFFFFFFF, dtype=np.uint32)
    slot = doc_of * num_perm + bins
    np.minimum.at(flat, slot, values)
    sig = flat.reshape(n_docs, num_perm)
    filled = np.bincount(slot, minlength=n_docs * num_perm).reshape(n_docs, num_perm) > 0
    _densify(sig, filled, k["densify"])
    return sig


def _densify(sig: np.ndarray, filled: np.ndarray, table: np.ndarray) -> None:
    """Fill empty bins in place: bin j takes the value of bin table[t, j] for the first attempt t that
    lands on a filled bin; after DENSIFY_ATTEMPTS, the nearest filled bin to the right (circularly)."""
    has_any = filled.any(axis=1)
    todo = np.nonzero(has_any & ~filled.all(axis=1))[0]
    if len(todo) == 0:
        return
    sub, ok = sig[todo], filled[todo].copy()
    original = filled[todo]
    for t in range(table.shape[0]):
        cand = table[t]
        take = ~ok & original[:, cand]
        if take.any():
            src = np.broadcast_to(cand, sub.shape)
            sub[take] = np.take_along_axis(sub, src, axis=1)[take]
            ok |= take
        if ok.all():
            break
    else:
        p = sig.shape[1]
        for r in np.nonzero(~ok.all(axis=1))[0]:
            filled_bins = np.nonzero(original[r])[0]
            for j in np.nonzero(~ok[r])[0]:
                right = filled_bins[np.searchsorted(filled_bins, j) % len(filled_bins)]
                sub[r, j] = sub[r, right % p]
    sig[todo] = sub


def band_keys(sig: np.ndarray, bands: int, rows: int, seed: int, empty: np.ndarray) -> np.ndarray:
    """(bands, n_docs) uint64 keys: a seeded hash of each band's `rows` values; EMPTY_BAND where `empty`."""
    k = _constants(seed, 1, 1, rows)
    mult = k["band"]
    n = sig.shape[0]
    grouped = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        keys = splitmix64((grouped * mult).sum(axis=2, dtype=np.uint64) + k["band_salt"][0])
    keys[keys == EMPTY_BAND] = U64(1)
    keys[empty] = EMPTY_BAND
    return np.ascontiguousarray(keys.T)


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise share of equal signature values: the MinHash estimate of Jaccard similarity."""
    return (a == b).mean(axis=1)


# ------------------------------------------------------------------------------------------- batch


@dataclass
class BatchSignatures:
    sig: np.ndarray  # (n, num_perm) uint32
    bands: np.ndarray  # (bands, n) uint64
    exact: np.ndarray  # (n,) uint64: hash of the normalised text
    n_chars: np.ndarray  # (n,) int32: characters after normalisation (the keeper rule uses it)
    n_shingles: np.ndarray  # (n,) int32


def exact_hashes(norm: np.ndarray, norm_lengths: np.ndarray, texts: list[str]) -> np.ndarray:
    """xxh3-64 of each normalised text (UTF-32 bytes); of the raw text where normalisation left nothing,
    so that '!!!' and '???' are not exact duplicates of each other."""
    buf = memoryview(norm.tobytes())
    ends = np.cumsum(norm_lengths) * 4
    out = np.empty(len(texts), dtype=np.uint64)
    start = 0
    for i, end in enumerate(ends.tolist()):
        if end > start:
            out[i] = xxhash.xxh3_64_intdigest(buf[start:end])
        else:
            out[i] = xxhash.xxh3_64_intdigest(texts[i].encode("utf-8", "surrogatepass"), seed=1)
        start = end
    return out


def _jieba_tokens(norm: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import jieba  # noqa: PLC0415 - optional and slow to load

    text = norm.tobytes().decode("utf-32-le", errors="surrogatepass")
    out: list[int] = []
    counts = np.zeros(len(lengths), dtype=np.int64)
    start = 0
    for i, n in enumerate(lengths.tolist()):
        words = [w for w in jieba.lcut(text[start: start + n]) if not w.isspace()]
        out.extend(xxhash.xxh3_64_intdigest(w.encode("utf-8", "surrogatepass")) for w in words)
        counts[i] = len(words)
        start += n
    return np.array(out, dtype=np.uint64), counts


def _char_signatures_native(texts: list[str], settings: ShingleSettings) -> tuple[np.ndarray, ...]:
    """(norm, norm_lengths, sig, n_shingles) of the character path, by `_minhash.char_signatures`: the
    same values as normalize_code_points, shingle_hashes and signatures (tests/test_dedup_native.py)."""
    mapping, keep, _ = _bmp_tables()
    k = _constants(settings.seed, settings.ngram, 1, 1)  # the n-gram hash's, as shingle_hashes takes them
    kb = _constants(settings.seed, 1, settings.num_perm, 1)  # the bins', as signatures takes them
    norm, lengths, sig, filled, n_shingles = _minhash.char_signatures(
        texts, mapping, keep.view(np.uint8), settings.ngram, np.ascontiguousarray(k["position"]),
        int(k["salt"][0]), int(kb["bin_salt"][0]), settings.num_perm)
    n, p = len(texts), settings.num_perm
    sig = np.frombuffer(sig, dtype=np.uint32).reshape(n, p).copy()
    filled = np.frombuffer(filled, dtype=np.uint8).reshape(n, p).astype(bool)
    _densify(sig, filled, kb["densify"])
    return (np.frombuffer(norm, dtype=np.uint32), np.frombuffer(lengths, dtype=np.int64), sig,
            np.frombuffer(n_shingles, dtype=np.int32).copy())


def batch_signatures(texts: list[str], settings: ShingleSettings) -> BatchSignatures:
    """Everything the dedup steps need to know about a batch of documents."""
    if _minhash is not None and settings.tokenizer == "char" and settings.engine == DEFAULT_ENGINE:
        norm, norm_lengths, sig, n_shingles = _char_signatures_native(texts, settings)
        exact = exact_hashes(norm, norm_lengths, texts)
        keys = band_keys(sig, settings.bands, settings.rows, settings.seed, n_shingles == 0)
        return BatchSignatures(sig, keys, exact, norm_lengths.astype(np.int32), n_shingles)
    cps, lengths = code_points(texts)
    norm, norm_lengths = normalize_code_points(cps, lengths)
    exact = exact_hashes(norm, norm_lengths, texts)
    if settings.tokenizer == "jieba":
        spaced, spaced_lengths = normalize_code_points(cps, lengths, keep_spaces=True)
        tokens, counts = _jieba_tokens(spaced, spaced_lengths)
    else:
        tokens, counts = norm.astype(np.uint64), norm_lengths
    n = len(texts)
    if settings.engine == "datasketch":
        from corpus_tool.stages.dedup.reference import datasketch_signatures  # noqa: PLC0415 - optional

        sig, n_shingles = datasketch_signatures(norm, norm_lengths, settings)
    else:
        shingles, doc_of = shingle_hashes(tokens, counts, settings.ngram, settings.seed)
        sig = signatures(shingles, doc_of, n, settings.num_perm, settings.seed)
        n_shingles = np.bincount(doc_of, minlength=n).astype(np.int32)
    keys = band_keys(sig, settings.bands, settings.rows, settings.seed, n_shingles == 0)
    return BatchSignatures(sig, keys, exact, norm_lengths.astype(np.int32), n_shingles)
