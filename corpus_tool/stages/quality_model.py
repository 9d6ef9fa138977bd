"""A learned quality classifier: the text preparation shared by training and scoring, and the model.

A model directory (made by `corpus-tool train-quality`, corpus_tool/stages/train_quality.py) holds
`model.bin` (a supervised fastText model with labels `__label__hq` and `__label__lq`) and `card.json`
(inputs, text preparation, hyper-parameters, validation figures). Scoring reads the text preparation from
the card, so a document is always prepared exactly as the training documents were.

Bounded work: a document longer than `max_chars` characters is scored on a sample of its lines, evenly
spaced from the first to the last, in document order, until `max_chars` characters are taken (a line longer
than the budget is cut). So a 1 MB page costs what a 2,000-character one does, and the sample covers its
beginning, middle and end rather than only its head.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from corpus_tool.errors import MissingDependencyError, UsageError

MODEL_FILE = "model.bin"
CARD_FILE = "card.json"
CARD_FORMAT = "corpus-tool-quality-model/1"
POSITIVE = "__label__hq"
NEGATIVE = "__label__lq"
FEATURES = ("char", "jieba", "both")
DEFAULT_FEATURES = "char"
DEFAULT_MAX_CHARS = 2000

# After lower(): runs of ASCII letters/digits are one token each, every other non-space character is one.
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
# The same tokens for many texts at once, on their code points (char_tokens): whitespace is re's \s, i.e.
# str.isspace(), every such character being below U+3001; "word" characters are a-z and 0-9.
_SPACE = np.array([chr(c).isspace() for c in range(0x3001)])
_WORD = np.zeros(0x3001, dtype=bool)
_WORD[[ord(c) for c in "abcdefghijklmnopqrstuvwxyz0123456789"]] = True
# One lookup for both: 1 = whitespace, 2 = word character; index 0x3001 stands for every code point above.
_IS_SPACE, _IS_WORD = 1, 2
_KIND = np.zeros(0x3002, dtype=np.uint8)
_KIND[:0x3001] = _SPACE * _IS_SPACE + _WORD * _IS_WORD


def char_tokens(texts: list[str]) -> list[str]:
    """`" ".join(_TOKEN.findall(t))` for every text, computed for all of them in a few numpy passes: the
    non-space characters are kept, and a space goes before each token but the first of its text (a token
    starts at every non-space character except a word character right after another)."""
    return _char_tokens_joined("".join(texts), np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))


def _char_tokens_joined(joined: str, lengths: np.ndarray) -> list[str]:
    """`char_tokens` of the texts of `lengths` characters that make up `joined`, in order."""
    n_texts = len(lengths)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    if cps.size == 0:
        return [""] * n_texts
    kind = _KIND[np.minimum(cps, 0x3001)]
    keep = np.flatnonzero((kind & _IS_SPACE) == 0)
    word = (kind & _IS_WORD) != 0
    bounds = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    # k_first[i]: the kept characters before text i, so keep[k_first[i]] is its first one when it has any
    k_first = np.searchsorted(keep, bounds)
    first = np.zeros(keep.size + 1, dtype=bool)
    first[k_first] = True  # (a text without kept characters marks its successor's first, or the end)
    # each kept character, preceded by a space when it starts a token that is not its text's first; a
    # text's first kept character is never preceded by one, whatever the character before it (keep[0] - 1
    # may be -1: that character is the first of its text)
    sep = ~(word[keep] & word[keep - 1]) & ~first[:-1]
    n_sep = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(sep, out=n_sep[1:])
    out = np.full(keep.size + int(n_sep[-1]), 0x20, dtype=np.uint32)
    out[np.arange(keep.size) + n_sep[1:]] = cps[keep]
    # where each text's output starts: its kept characters and spaces before it
    b = (k_first + n_sep[k_first]).tolist()
    tokens = out.tobytes().decode("utf-32-le")
    return [tokens[b[i]:b[i + 1]] for i in range(n_texts)]


def _evenly_spaced(n: int, want: int) -> list[int]:
    """`np.unique(np.linspace(0, n - 1, want).round())` as ints, in plain Python (the same floats: numpy
    computes i * ((n - 1) / (want - 1)) and puts n - 1 last; both round half to even)."""
    if want == 1 or n == 1:
        return [0]
    step = (n - 1) / (want - 1)
    picked = [round(i * step) for i in range(want - 1)]
    picked.append(n - 1)
    return sorted(set(picked))


def sample_lines(text: str, max_chars: int) -> str:
    """`text` itself when short enough, else evenly spaced lines (in order) totalling about `max_chars`."""
    if len(text) <= max_chars:
        return text
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        return text[:max_chars]
    mean = sum(len(ln) + 1 for ln in lines) / len(lines)  # + 1: the newline
    want = max(1, min(len(lines), int(max_chars / mean)))
    out, used = [], 0
    for i in _evenly_spaced(len(lines), want):
        line = lines[i][: max_chars - used]
        out.append(line)
        used += len(line) + 1
        if used >= max_chars:
            break
    return "\n".join(out)


class TextPreparation:
    """Turns a document into the one line of space-separated tokens fastText sees (training and scoring)."""

    def __init__(self, features: str = DEFAULT_FEATURES, max_chars: int = DEFAULT_MAX_CHARS):
        if features not in FEATURES:
            raise UsageError(f"--features must be one of {', '.join(FEATURES)}, not {features!r}")
        if max_chars < 1:
            raise UsageError(f"--max-chars must be positive, not {max_chars}")
        self.features = features
        self.max_chars = int(max_chars)
        self._cut = None
        if features != "char":
            import jieba  # noqa: PLC0415

            from corpus_tool.stages.jieba_loader import initialize_jieba  # noqa: PLC0415

            initialize_jieba()
            self._cut = jieba.cut

    def describe(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "max_chars": self.max_chars,
            "steps": "lines sampled evenly to max_chars; lower-cased; '__label__' removed; tokens: "
            + {"char": "each non-space character, ASCII letter/digit runs as one",
               "jieba": "jieba words (HMM on) per line, whitespace dropped",
               "both": "jieba words followed by the character tokens"}[self.features],
        }

    def many(self, texts: list[str]) -> list[str]:
        """`self(text)` for every text (char features: tokenized all at once, see char_tokens)."""
        if self.features != "char":
            return [self(t) for t in texts]
        samples = [sample_lines(t or "", self.max_chars) for t in texts]
        # Lower-cased all at once, the samples joined by line breaks: a line break is neither cased nor
        # case-ignorable, so each sample's final-sigma context ends there as at its own end. When no
        # character lower-cases to more than one, the text keeps its length and the samples their offsets;
        # "__label__" then becomes nine spaces, not one: the same tokens, the offsets kept.
        joined = "\n".join(samples)
        low = joined.lower()
        if len(low) != len(joined):
            return char_tokens([t.lower().replace("__label__", " ") for t in samples])
        lengths = np.fromiter((len(t) + 1 for t in samples), dtype=np.int64, count=len(samples))
        if samples:
            lengths[-1] -= 1  # no line break after the last one
        return _char_tokens_joined(low.replace("__label__", " " * 9), lengths)

    def __call__(self, text: str) -> str:
        text = sample_lines(text or "", self.max_chars).lower().replace("__label__", " ")
        if self.features == "char":
            return " ".join(_TOKEN.findall(text))
        words = [w for line in text.split("\n") for w in self._cut("".join(line.split()), HMM=True)
                 if w.strip()]
        if self.features == "jieba":
            return " ".join(words)
        return " ".join(words) + " " + " ".join(_TOKEN.findall(text))


def load_card(model_dir: str | Path) -> tuple[Path, dict[str, Any]]:
    """(path of model.bin, card) of a model directory, or a clear error."""
    p = Path(model_dir)
    card_path, bin_path = p / CARD_FILE, p / MODEL_FILE
    if not p.is_dir() or not card_path.is_file() or not bin_path.is_file():
        raise UsageError(f"{p}: not a quality model directory (needs {MODEL_FILE} and {CARD_FILE}; make one "
                         f"with `corpus-tool train-quality --positive GOOD... --negative BAD... -o {p}`)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f"{card_path}: unreadable model card ({e})") from e
    if card.get("format") != CARD_FORMAT:
        raise UsageError(f"{card_path}: not a {CARD_FORMAT} card (format {card.get('format')!r})")
    return bin_path, card


def load_fasttext(path: str | Path):
    try:
        import fasttext  # noqa: PLC0415
    except ImportError as e:
        raise MissingDependencyError("the `fasttext` package is not installed (pip install fasttext)") from e
    fasttext.FastText.eprint = lambda *a, **k: None  # its load_model warning is noise
    try:
        return fasttext.load_model(str(path))
    except ValueError as e:
        raise UsageError(f"{path}: fastText cannot load this model ({e})") from e


def _positive(labels: list[str], probs) -> float:
    """P(high quality) from one prediction's labels and probabilities (either order, either one missing)."""
    for label, p in zip(labels, probs, strict=True):
        if label == POSITIVE:
            return float(p)
    for label, p in zip(labels, probs, strict=True):
        if label == NEGATIVE:
            return 1.0 - float(p)
    return 0.5


class QualityModel:
    """A trained classifier: `scores(texts)` gives P(high quality) per text, float32 in [0, 1]."""

    def __init__(self, model_dir: str | Path):
        self.dir = Path(model_dir)
        self.bin_path, self.card = load_card(model_dir)
        prep = self.card.get("text_preparation") or {}
        self.prepare = TextPreparation(prep.get("features", DEFAULT_FEATURES),
                                       int(prep.get("max_chars", DEFAULT_MAX_CHARS)))
        self._ft = load_fasttext(self.bin_path)
        labels = set(self._ft.get_labels())
        if labels != {POSITIVE, NEGATIVE}:
            raise UsageError(f"{self.bin_path}: expected labels {POSITIVE} and {NEGATIVE}, found {sorted(labels)}")

    def scores_of_prepared(self, lines: list[str]) -> np.ndarray:
        """Scores of already prepared lines. Uses the binding's multilinePredict directly: fasttext 0.9.3's
        Python `predict` breaks under numpy 2 (np.array(..., copy=False))."""
        if not lines:
            return np.zeros(0, dtype=np.float32)
        labels, probs = self._ft.f.multilinePredict(lines, 2, 0.0, "replace")
        out = np.array([_positive(labs, ps) for labs, ps in zip(labels, probs, strict=True)], dtype=np.float64)
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    def scores(self, texts: list[str]) -> np.ndarray:
        return self.scores_of_prepared(self.prepare.many(texts))


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def binary_figures(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall, F1 and accuracy of `score >= threshold` as 'high quality', plus AUC."""
    labels = np.asarray(labels, dtype=bool)
    pred = np.asarray(scores) >= threshold
    tp = int((pred & labels).sum())
    fp = int((pred & ~labels).sum())
    fn = int((~pred & labels).sum())
    tn = int((~pred & ~labels).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    r = lambda v: None if v is None else round(float(v), 4)  # noqa: E731
    return {
        "documents": {"positive": int(labels.sum()), "negative": int((~labels).sum())},
        "threshold": threshold,
        "precision": r(precision),
        "recall": r(recall),
        "f1": r(f1),
        "accuracy": r((tp + tn) / len(labels)) if len(labels) else None,
        "auc": r(auc(labels, scores)),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
    }
