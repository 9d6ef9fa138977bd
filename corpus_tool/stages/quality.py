"""`corpus-tool quality`: score every document with a trained classifier and keep the good part.

Every document gets `quality_score` (P(high quality) from the model, float32 in [0, 1]). Keeping:
- `--min-score X` keeps documents scoring at least X;
- `--keep-top F` keeps the top fraction F. F becomes a score cut-off computed on a seeded sample of the
  documents of *all* the inputs (not only this task's shards), the way `perplexity-cutoffs` works, so every
  array task computes the same cut-off and the tasks together keep what one task would have kept. The
  sample takes up to 64 random rows from each of randomly chosen row groups (bounded reading).
Rejected documents get reason `low_quality`, with the score and the cut-off in `reason_detail`.
With `--annotate` nothing is rejected: `signals` gets `"quality": {"score": ..., "cutoff": ...}` and `flags`
gets `quality` on the documents that would have been rejected (`corpus-tool select` can apply it later).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool import annotate, schema, shards
from corpus_tool.errors import BadInputError, UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stage import Stage
from corpus_tool.stages.quality_model import QualityModel

REASON = "low_quality"
DEFAULT_SAMPLE = 10_000


ROWS_PER_GROUP = 64


def sample_texts(paths: list[str], sample: int, seed: int) -> tuple[list[str], int]:
    """(texts of a seeded sample of about `sample` rows of the Parquet files `paths`, total rows).

    Row groups are visited in a seeded random order and up to ROWS_PER_GROUP random rows are taken from each
    until `sample` rows are taken, so a task reads about sample / 64 row groups (text column only) however
    large the input is; only the files' footers are read for the others."""
    groups: list[tuple[str, int, int]] = []  # (file, row group, rows)
    for p in paths:
        try:
            meta = pq.ParquetFile(p).metadata
        except (OSError, pa.ArrowException) as e:
            raise BadInputError(p, None, f"not a readable Parquet file ({e})") from e
        groups.extend((p, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups))
    total = sum(n for _, _, n in groups)
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    for k in rng.permutation(len(groups)):
        if len(texts) >= sample:
            break
        path, g, n = groups[int(k)]
        if n == 0:
            continue
        take = min(n, ROWS_PER_GROUP, sample - len(texts))
        rows = np.sort(rng.choice(n, size=take, replace=False))
        col = pq.ParquetFile(path).read_row_group(g, columns=[schema.TEXT]).column(schema.TEXT)
        texts.extend(t or "" for t in col.take(pa.array(rows)).to_pylist())
    return texts, int(total)


def cutoff_for_fraction(scores: np.ndarray, keep_top: float) -> float:
    """The score at or above which a fraction `keep_top` of `scores` lies."""
    if scores.size == 0:
        raise UsageError("--keep-top: the inputs hold no document to compute a cut-off from")
    return float(np.quantile(scores.astype(np.float64), 1.0 - keep_top, method="lower"))


class QualityStage(Stage):
    """Adds `quality_score`; rejects below --min-score or outside --keep-top (reason low_quality)."""

    name = "quality"

    def __init__(self, model: str | Path, *, min_score: float | None = None, keep_top: float | None = None,
                 sample: int = DEFAULT_SAMPLE, seed: int = 0, annotate: bool = False):
        super().__init__()
        if min_score is not None and keep_top is not None:
            raise UsageError("give --min-score or --keep-top, not both")
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise UsageError(f"--min-score must be in [0, 1], not {min_score}")
        if keep_top is not None and not 0.0 < keep_top <= 1.0:
            raise UsageError(f"--keep-top must be a fraction in (0, 1], not {keep_top}")
        if sample < 1:
            raise UsageError(f"--sample must be positive, not {sample}")
        self.model_path = str(model)
        self.model = QualityModel(model)
        self.min_score = min_score
        self.keep_top = keep_top
        self.sample = sample
        self.seed = seed
        self.annotate = annotate
        self.cutoff: float | None = min_score
        self.cutoff_sample: dict[str, int] | None = None

    def list_shards(self, inputs: list[str]) -> list[InputShard]:
        found = super().list_shards(inputs)
        if self.keep_top is not None:
            paths = [p for s in found for p in s.paths]
            if shards.STDIN in paths:
                raise UsageError("--keep-top needs Parquet inputs to sample (not stdin); use --min-score")
            texts, total = sample_texts(paths, self.sample, self.seed)
            self.cutoff = cutoff_for_fraction(self.model.scores(texts), self.keep_top)
            self.cutoff_sample = {"documents": total, "sampled": len(texts)}
        return found

    def resolved(self) -> dict[str, Any]:
        card = self.model.card
        return {
            "model_created": card.get("created"),
            "text_preparation": card.get("text_preparation"),
            "cutoff": self.cutoff,
            "cutoff_sample": self.cutoff_sample,
        }

    def keep_all(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        return self.split(batch, np.ones(batch.num_rows, dtype=bool), [None] * batch.num_rows)

    def _how(self) -> str:
        if self.keep_top is not None:
            return f"cut-off for --keep-top {self.keep_top:g}"
        return "--min-score"

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        scores = self.model.scores(texts)
        batch = schema.replace_column(batch, schema.QUALITY_SCORE, pa.array(scores, pa.float32()))
        n = len(texts)
        self.counters["docs_scored"] += n
        if self.cutoff is None:
            return self.keep_all(batch)
        low = scores < np.float32(self.cutoff)
        self.counters["below_cutoff"] += int(low.sum())
        if self.annotate:  # signals["quality"] = {"score", "cutoff", "reason"}; flag "quality" where it would reject
            signals = [{self.name: {"score": round(float(x), 6), "cutoff": self.cutoff,
                                    "reason": REASON if lo else None}}
                       for x, lo in zip(scores.tolist(), low.tolist(), strict=True)]
            flags = [[self.name] if lo else [] for lo in low.tolist()]
            return self.keep_all(annotate.annotate_batch(batch, signals, flags))
        details = [f"quality_score {s:.4f} < {self.cutoff:.4f} ({self._how()})" if lo else None
                   for s, lo in zip(scores.tolist(), low.tolist(), strict=True)]
        reasons = [REASON if lo else None for lo in low.tolist()]
        return self.split(batch, ~low, reasons, details)
