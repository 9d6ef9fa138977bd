"""Text to token ids, exactly as `tokenizers.Tokenizer.encode(text).ids`, as fast as we can make it.

Two backends give the same ids:
- `gigatoken` (Rust, PyPI): byte-identical to HF tokenizers for byte-level BPE and SentencePiece-style BPE
  with byte fallback, 8-10x faster per core on Chinese text. It refuses what it cannot reproduce
  (Unigram, WordPiece, most normalizers) at load time, and then we use HF.
- `hf`: the tokenizers library's own `encode_batch_fast` (threaded in Rust).
With the fast path on, a sample of every batch (`verify_fraction`) is also encoded with HF and compared;
on any difference the batch is redone with HF and HF is used from then on, so a silent divergence cannot
spread. A batch comes back as one flat uint32 token array plus the token count of each document.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus_tool.errors import MissingDependencyError, UsageError

log = logging.getLogger("corpus_tool")

TOKENIZER_FILE = "tokenizer.json"
# Special tokens that mean "end of document" in common tokenizers, most specific first.
EOD_CANDIDATES = (
    "<|endoftext|>",
    "<|end_of_text|>",
    "</s>",
    "<eos>",
    "<|eos|>",
    "<eod>",
    "<|eod|>",
    "[EOS]",
    "<|end|>",
    "<｜end▁of▁sentence｜>",  # DeepSeek (full-width bars)
)
BACKENDS = ("auto", "gigatoken", "hf")


def tokenizer_file(path: str | Path) -> Path:
    """`path` itself, or the tokenizer.json inside it when it is a directory."""
    p = Path(path)
    if p.is_dir():
        p = p / TOKENIZER_FILE
    if not p.is_file():
        raise UsageError(f"{p}: no such tokenizer file (give a tokenizer.json or a directory holding one)")
    return p


def load_hf(path: str | Path):
    from tokenizers import Tokenizer

    p = tokenizer_file(path)
    try:
        return Tokenizer.from_file(str(p))
    except Exception as e:  # noqa: BLE001 - the library raises plain Exception for a malformed file
        raise UsageError(f"{p}: not a Hugging Face tokenizer.json ({e})") from e


def find_eod(tokenizer, path: Path | None = None) -> tuple[int, str] | None:
    """The id and text of the tokenizer's end-of-document token: the `eos_token` of a
    tokenizer_config.json beside the tokenizer file (what transformers, and so Megatron's
    HuggingFaceTokenizer, use as EOD), else the first common EOD token the vocabulary has."""
    config = path.parent / "tokenizer_config.json" if path is not None else None
    if config is not None and config.is_file():
        try:
            eos = json.loads(config.read_text(encoding="utf-8")).get("eos_token")
        except (OSError, ValueError, AttributeError):
            eos = None
        if isinstance(eos, dict):  # {"content": "</s>", ...} in older configs
            eos = eos.get("content")
        if isinstance(eos, str) and tokenizer.token_to_id(eos) is not None:
            return tokenizer.token_to_id(eos), eos
    for text in EOD_CANDIDATES:
        tid = tokenizer.token_to_id(text)
        if tid is not None:
            return tid, text
    return None


def cardinality(tokenizer) -> int:
    """Number of ids the tokenizer can emit (added tokens included): what Megatron's dtype choice sees."""
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    return max(tokenizer.get_vocab_size(with_added_tokens=True), max(vocab.values(), default=-1) + 1)


@dataclass
class Encoded:
    tokens: np.ndarray  # uint32, all documents concatenated
    lengths: np.ndarray  # int64, tokens per document


@dataclass
class TokenEncoder:
    """Encodes batches of texts; `backend` is the one in use ("gigatoken" or "hf")."""

    path: Path
    backend: str = "auto"
    threads: int = 0  # 0: the libraries' thread pools (all cores this process may use); 1: no threads
    verify_fraction: float = 0.002  # specs/tokenize.py's default: one document in 500, at least one a batch
    # gigatoken 0.10 caches every pre-token it has seen, without bound (about 1.7 MB per MB of Chinese
    # text measured here); a fresh tokenizer object after this many characters keeps RSS bounded.
    cache_reset_chars: int = 30_000_000  # ~90 MB of Chinese; a reload costs ~0.2 s (32k vocabulary)
    mismatches: int = 0
    verified: int = 0
    fallback_reason: str | None = None
    _hf: object = field(default=None, repr=False)
    _gt: object = field(default=None, repr=False)
    _chars_since_reset: int = 0
    _prefix: list[int] = field(default_factory=list)  # ids HF's post-processor puts around every text
    _suffix: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise UsageError(f"--backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        self.path = tokenizer_file(self.path)
        self._hf = load_hf(self.path)
        if self.backend in ("auto", "gigatoken"):
            self._gt = self._load_gigatoken()
            if self._gt is not None and not self._find_affixes():
                reason = "gigatoken does not reproduce this tokenizer's post-processor"
                if self.backend == "gigatoken":
                    raise UsageError(f"{self.path}: {reason}")
                self._gt, self.fallback_reason = None, reason
        self.backend = "gigatoken" if self._gt is not None else "hf"

    def _load_gigatoken(self):
        try:
            import gigatoken
        except ImportError as e:
            if self.backend == "gigatoken":
                raise MissingDependencyError("--backend gigatoken needs the gigatoken package") from e
            self.fallback_reason = "gigatoken is not installed"
            return None
        try:
            return gigatoken.Tokenizer(str(self.path))
        except Exception as e:  # noqa: BLE001 - gigatoken raises RuntimeError for what it does not support
            reason = str(e).strip().splitlines()[0]
            if self.backend == "gigatoken":
                raise UsageError(f"{self.path}: gigatoken cannot load this tokenizer ({reason})") from e
            self.fallback_reason = f"gigatoken: {reason}"
            log.info("tokenize: using HF tokenizers (%s)", self.fallback_reason)
            return None

    def _find_affixes(self) -> bool:
        """gigatoken encodes the text only; HF's post-processor may add ids around it (a Llama-style BOS).
        Find prefix + suffix from HF's ids for the empty text and check them on a few probes."""
        probes = ["", "a", "中文测试，test 123。", " \n\t😀", "<|endoftext|>"]
        fast = [list(ids) for ids in self._gt.encode_batch_list(probes, parallel=False)]
        slow = [self._hf.encode(p).ids for p in probes]
        around = slow[0]
        for k in range(len(around) + 1):
            prefix, suffix = around[:k], around[k:]
            if all(s == prefix + f + suffix for s, f in zip(slow, fast, strict=True)):
                self._prefix, self._suffix = prefix, suffix
                return True
        return False

    @property
    def hf(self):
        return self._hf

    def encode(self, texts: list[str]) -> Encoded:
        if self._gt is None:
            return self._encode_hf(texts)
        out = self._encode_gigatoken(texts)
        if self.verify_fraction > 0 and texts and not self._verify(texts, out):
            return self._encode_hf(texts)
        return out

    def _encode_hf(self, texts: list[str]) -> Encoded:
        if self.threads == 1:
            encodings = [self._hf.encode(t) for t in texts]
        else:  # encode_batch_fast (tokenizers >= 0.20) skips offsets; the ids are the same
            encodings = getattr(self._hf, "encode_batch_fast", self._hf.encode_batch)(texts)
        ids = [e.ids for e in encodings]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        tokens = np.fromiter((t for x in ids for t in x), dtype=np.uint32, count=int(lengths.sum()))
        return Encoded(tokens, lengths)

    def _encode_gigatoken(self, texts: list[str]) -> Encoded:
        import awkward as ak

        self._chars_since_reset += sum(map(len, texts))
        if self._chars_since_reset > self.cache_reset_chars:
            self._gt = None
            _release_freed_memory()
            self._gt = self._load_gigatoken()  # a fresh object: the old one's pre-token cache is freed
            self._chars_since_reset = 0
            if self._gt is None:
                self.backend = "hf"
                return self._encode_hf(texts)
        arr = self._gt.encode_batch(texts, parallel=self.threads != 1)
        lengths = np.asarray(ak.num(arr, axis=1), dtype=np.int64)
        tokens = np.asarray(ak.flatten(arr, axis=1), dtype=np.uint32)
        if self._prefix or self._suffix:
            tokens, lengths = add_affixes(tokens, lengths, self._prefix, self._suffix)
        return Encoded(tokens, lengths)

    def _verify(self, texts: list[str], out: Encoded) -> bool:
        """Compare an evenly spaced sample of the batch with HF; switch to HF for good on a difference."""
        n = len(texts)
        step = max(1, int(1 / self.verify_fraction))
        picks = list(range(0, n, step))[: max(1, math.ceil(n * self.verify_fraction))]
        ends = np.cumsum(out.lengths)
        for i in picks:
            start = int(ends[i] - out.lengths[i])
            expected = self._hf.encode(texts[i]).ids
            self.verified += 1
            if out.tokens[start : int(ends[i])].tolist() != expected:
                self.mismatches += 1
                self._gt = None
                self.backend = "hf"
                self.fallback_reason = (
                    f"gigatoken differed from HF tokenizers on a document ({texts[i][:40]!r})"
                )
                log.warning("tokenize: %s; using HF tokenizers from here on", self.fallback_reason)
                return False
        return True


def add_affixes(tokens: np.ndarray, lengths: np.ndarray, prefix: list[int], suffix: list[int]):
    """Put `prefix` before and `suffix` after every document of a flat batch (one np.insert)."""
    n = len(lengths)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    where = np.concatenate(
        [np.repeat(starts[:, None], len(prefix), 1), np.repeat(ends[:, None], len(suffix), 1)], 1
    )
    values = np.tile(np.array(prefix + suffix, dtype=np.uint32), n)
    return np.insert(tokens, where.ravel(), values), lengths + len(prefix) + len(suffix)


def _release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc's malloc_trim): the dropped cache is many small
    allocations, and without this RSS stays near its high-water mark. A no-op where there is no glibc."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
