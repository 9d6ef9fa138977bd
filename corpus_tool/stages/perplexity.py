"""KenLM perplexity: score every document, bucket it cc_net-style, and optionally drop the worst.

Scoring follows cc_net: each non-empty line is tokenized the way the model was trained (model.json), scored
with `<s>`/`</s>`, and the document's perplexity is 10 ** (-sum of log10 probs / (tokens + lines)). Buckets:
`head` below the head cut-off, `tail` at or above the tail cut-off, `middle` between; the cut-offs are
percentiles of the document perplexities of a sample, computed by `corpus-tool perplexity-cutoffs`.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import annotate, schema, shards
from corpus_tool.errors import MissingDependencyError, UsageError
from corpus_tool.stage import Stage
from corpus_tool.stages.train_lm import load_model_meta

try:  # the per-line preparation of the character path, compiled (built by `pip install`)
    from corpus_tool.stages._textscan import char_lines
except ImportError:  # a source tree that was never built: the Python loop below, same scores
    char_lines = None

BUCKETS = ("head", "middle", "tail")


class LanguageModel:
    """A KenLM model with the tokenization it was trained with."""

    def __init__(self, model: str | Path):
        self.path, self.meta = load_model_meta(model)
        self.tokenizer = self.meta.get("tokenizer", "char")
        try:
            import kenlm  # noqa: PLC0415
        except ImportError as e:
            raise MissingDependencyError("the `kenlm` Python module is missing: pip install kenlm") from e
        try:
            self._model = kenlm.Model(str(self.path))
        except (OSError, RuntimeError) as e:
            raise UsageError(f"{self.path}: KenLM cannot load this model ({e})") from e
        if self.tokenizer == "jieba":
            import jieba  # noqa: PLC0415

            from corpus_tool.stages.jieba_loader import initialize_jieba  # noqa: PLC0415

            initialize_jieba()
            self._cut = jieba.cut

    def doc_log_score(self, text: str) -> tuple[float, int]:
        """(sum of log10 probabilities, number of predicted tokens incl. one </s> per line)."""
        score = self._model.score
        char = self.tokenizer == "char"
        prepared = char_lines(text) if char and char_lines is not None else None
        if prepared is not None:  # the same lines as below, as the UTF-8 bytes KenLM's score encodes them to
            lines, count = prepared
            total = 0.0
            for line in lines:
                total += score(line, bos=True, eos=True)
            return total, count
        total, count = 0.0, 0
        for line in text.split("\n"):
            compact = "".join(line.split())
            if not compact:
                continue
            if char:  # the characters, space-separated: " ".join(compact), without a string per character
                total += score(compact.replace("", " ")[1:-1], bos=True, eos=True)
                count += len(compact) + 1
            else:
                words = [w for w in self._cut(compact, HMM=True) if w.strip()]
                total += score(" ".join(words), bos=True, eos=True)
                count += len(words) + 1
        return total, count

    def perplexity(self, text: str) -> float | None:
        """Document perplexity, or None for a document without any token."""
        total, count = self.doc_log_score(text)
        if count == 0:
            return None
        return float(10.0 ** min(-total / count, 38.0))  # float32 range; real models stay far below


def bucket_of(ppl: float | None, head: float, tail: float) -> str | None:
    if ppl is None or math.isnan(ppl):
        return None
    return "head" if ppl < head else "tail" if ppl >= tail else "middle"


def load_cutoffs(path: str | Path) -> tuple[float, float]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        head, tail = float(data["head"]), float(data["tail"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{p}: not a cut-off file with numeric `head` and `tail` (make one with "
                         f"`corpus-tool perplexity-cutoffs`): {e}") from e
    if head > tail:
        raise UsageError(f"{p}: head cut-off {head} is above tail cut-off {tail}")
    return head, tail


class PerplexityStage(Stage):
    """Adds `ppl` (and `ppl_bucket` when cut-offs are given); rejects by --max-ppl or dropped buckets."""

    name = "perplexity"

    def __init__(self, model: str | Path, *, max_ppl: float | None = None, cutoffs: str | Path | None = None,
                 drop_buckets: list[str] | None = None, annotate: bool = False):
        super().__init__()
        self.annotate = annotate
        self.model_path = str(model)
        self.lm = LanguageModel(model)
        self.max_ppl = max_ppl
        self.cutoffs_path = str(cutoffs) if cutoffs else None
        self.cutoffs = load_cutoffs(cutoffs) if cutoffs else None
        self.drop_buckets = list(drop_buckets or [])
        bad = [b for b in self.drop_buckets if b not in BUCKETS]
        if bad:
            raise UsageError(f"--drop-buckets: unknown bucket(s) {bad}; use head, middle, tail")
        if self.drop_buckets and self.cutoffs is None:
            raise UsageError("--drop-buckets needs --cutoffs FILE (from corpus-tool perplexity-cutoffs)")

    def resolved(self) -> dict[str, Any]:
        return {
            "tokenizer": self.lm.tokenizer,
            "order": self.lm.meta.get("order"),
            "cutoffs": None if self.cutoffs is None else {"file": self.cutoffs_path, "head": self.cutoffs[0],
                                                          "tail": self.cutoffs[1]},
        }

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        ppls = [self.lm.perplexity(t or "") for t in texts]
        batch = schema.replace_column(batch, schema.PPL, ppls)
        buckets: list[str | None] = [None] * len(texts)
        if self.cutoffs is not None:
            head, tail = self.cutoffs
            buckets = [bucket_of(p, head, tail) for p in ppls]
            batch = schema.replace_column(batch, schema.PPL_BUCKET, buckets)
            for b in buckets:
                self.counters[f"bucket.{b or 'none'}"] += 1
        keep = np.ones(len(texts), dtype=bool)
        reasons: list[str | None] = [None] * len(texts)
        details: list[str | None] = [None] * len(texts)
        filtering = self.max_ppl is not None or bool(self.drop_buckets)
        for i, p in enumerate(ppls):
            if p is None:
                if filtering:
                    keep[i], reasons[i], details[i] = False, "ppl_no_text", "no token to score"
                continue
            if self.max_ppl is not None and p > self.max_ppl:
                keep[i], reasons[i] = False, "ppl_above_max"
                details[i] = f"ppl {p:.1f} > max {self.max_ppl}"
            elif buckets[i] in self.drop_buckets:
                keep[i], reasons[i] = False, f"ppl_{buckets[i]}"
                head, tail = self.cutoffs  # type: ignore[misc]
                details[i] = f"ppl {p:.1f} in bucket {buckets[i]} (head < {head:.1f} <= middle < {tail:.1f})"
        scored = [p for p in ppls if p is not None]
        self.counters["docs_scored"] += len(scored)
        if self.annotate:  # keep all; signals["perplexity"] = {"ppl", "bucket", "reason"}; flag "perplexity"
            self.counters["would_reject"] += int((~keep).sum())
            signals = [{self.name: {"ppl": p, "bucket": b, **({"reason": r} if r else {})}}
                       for p, b, r in zip(ppls, buckets, reasons, strict=True)]
            flags = [[] if k else [self.name] for k in keep.tolist()]
            return self.split(annotate.annotate_batch(batch, signals, flags), np.ones(len(texts), dtype=bool),
                              [None] * len(texts))
        return self.split(batch, keep, reasons, details)


# -------------------------------------------------------------------------------------------- cut-offs


def sample_texts(inputs: list[str], sample: int, seed: int = 0, batch_size: int = 1024
                 ) -> tuple[list[str], int]:
    """A uniform reservoir sample of up to `sample` document texts from Parquet shards (seeded)."""
    rng = random.Random(seed)
    reservoir: list[str] = []
    seen = 0
    for shard in shards.parquet_shards(inputs):
        for path in shard.paths:
            for batch in shards.iter_document_batches(path, batch_size):
                for text in batch.column(schema.TEXT).to_pylist():
                    seen += 1
                    if len(reservoir) < sample:
                        reservoir.append(text or "")
                    else:
                        j = rng.randrange(seen)
                        if j < sample:
                            reservoir[j] = text or ""
    return reservoir, seen


def compute_cutoffs(inputs: list[str], model: str | Path, *, sample: int = 10000, head_pct: float = 30.0,
                    tail_pct: float = 60.0, seed: int = 0) -> dict[str, Any]:
    """cc_net-style cut-offs: the head_pct-th and tail_pct-th percentiles of document perplexity."""
    if not 0 < head_pct <= tail_pct < 100:
        raise UsageError(f"need 0 < --head-pct <= --tail-pct < 100 (got {head_pct}, {tail_pct})")
    lm = LanguageModel(model)
    texts, seen = sample_texts(inputs, sample, seed)
    ppls = np.array([p for p in (lm.perplexity(t) for t in texts) if p is not None], dtype=np.float64)
    if ppls.size == 0:
        raise UsageError(f"no scorable document in {' '.join(inputs)}")
    pcts = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]
    values = np.percentile(ppls, pcts)
    return {
        "model": str(model),
        "tokenizer": lm.tokenizer,
        "documents_seen": seen,
        "documents_scored": int(ppls.size),
        "sample": sample,
        "seed": seed,
        "head_percentile": head_pct,
        "tail_percentile": tail_pct,
        "head": float(np.percentile(ppls, head_pct)),
        "tail": float(np.percentile(ppls, tail_pct)),
        "percentiles": {str(p): round(float(v), 3) for p, v in zip(pcts, values, strict=True)},
    }
