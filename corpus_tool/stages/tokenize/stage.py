"""The tokenize stage: document shards in, one token dataset per shard out (Megatron .bin/.idx or flat).

`process` encodes a batch, rejects documents that yield no tokens (reason `empty`), appends EOD, and returns
the kept rows with their `tokens` (TOKENS_COLUMN, an Arrow large_list<uint32> built zero-copy from the
encoder's flat array): the input this stage's own sink declares. The sink streams them into the shard's
token files, which the runner renames into place before it writes the manifest, and reports the shard's
token statistics for it (the run's summary line adds those up: `summary_extra`).

Megatron's preprocess_data.py records an empty document as a document with no sequences; we reject it
instead, so every document in our index has at least its EOD and docs in == kept + rejected holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tool import schema, shards
from corpus_tool.errors import UsageError
from corpus_tool.stage import Stage
from corpus_tool.stages.tokenize import flat, megatron
from corpus_tool.stages.tokenize.encoder import TokenEncoder, cardinality, find_eod

TOKENS_COLUMN = "tokens"  # internal: carries a kept document's ids from `process` to the sink
FORMATS = ("megatron", "flat")
EMPTY = "empty"
PERCENTILES = (1, 10, 50, 90, 99)


class TokenizeStage(Stage):
    name: ClassVar[str] = "tokenize"

    def __init__(
        self,
        tokenizer: str | Path,
        *,
        eod: int | None = None,
        append_eod: bool = True,
        fmt: str = "megatron",
        backend: str = "auto",
        threads: int = 0,
        verify_fraction: float = 0.002,
    ):
        super().__init__()
        if fmt not in FORMATS:
            raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.format = fmt
        self.encoder = TokenEncoder(
            Path(tokenizer), backend=backend, threads=threads, verify_fraction=verify_fraction
        )
        self.vocab_size = cardinality(self.encoder.hf)
        self.append_eod = append_eod
        self.eod, self.eod_token = self._resolve_eod(eod)
        self.dtype = megatron.optimal_dtype(self.vocab_size)

    def _resolve_eod(self, eod: int | None) -> tuple[int | None, str | None]:
        if eod is not None:
            if not self.append_eod:
                raise UsageError("--eod and --no-eod contradict each other; give one of them")
            if not 0 <= eod < self.vocab_size:
                raise UsageError(
                    f"--eod {eod} is not an id of {self.encoder.path} (vocabulary of {self.vocab_size})"
                )
            return eod, self.encoder.hf.id_to_token(eod)
        found = find_eod(self.encoder.hf, self.encoder.path)
        if found is None:
            if self.append_eod:
                raise UsageError(
                    f"{self.encoder.path} has no end-of-document token (looked for <|endoftext|>, </s>, "
                    "<eos>, ...); pass --eod ID, or --no-eod to write documents without one"
                )
            return None, None
        return found

    def resolved(self) -> dict[str, Any]:
        return {
            "tokenizer": str(self.encoder.path),
            "tokenizer_sha256": shards.file_digest(self.encoder.path),
            "vocab_size": self.vocab_size,
            "eod": self.eod if self.append_eod else None,
            "eod_token": self.eod_token if self.append_eod else None,
            "dtype": self.dtype.name if self.format == "megatron" else flat.flat_dtype(self.vocab_size).name,
        }

    # -- work ---------------------------------------------------------------------------------------
    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        enc = self.encoder.encode(texts)
        keep = enc.lengths > 0
        reasons = [None if k else EMPTY for k in keep]
        details = [None if k else "the text gives no tokens" for k in keep]
        kept, rejected = self.split(batch, keep, reasons, details)
        lengths, tokens = enc.lengths[keep], enc.tokens
        if self.append_eod and len(lengths):
            tokens = np.insert(tokens, np.cumsum(lengths), np.uint32(self.eod))
            lengths = lengths + 1
            self.counters["eod_tokens"] += len(lengths)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        column = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(tokens, pa.uint32()))
        if TOKENS_COLUMN in kept.schema.names:  # a user column of that name: ours replaces it
            kept = kept.drop_columns([TOKENS_COLUMN])
        return kept.append_column(TOKENS_COLUMN, column), rejected

    def begin_shard(self, shard) -> None:
        super().begin_shard(shard)
        self.encoder.verified = self.encoder.mismatches = 0

    def shard_stats(self) -> dict[str, Any]:
        stats = super().shard_stats()
        stats["backend"] = self.encoder.backend
        if self.encoder.verified:
            stats["fast_path_verified_docs"] = self.encoder.verified
            stats["fast_path_mismatches"] = self.encoder.mismatches
        if self.encoder.fallback_reason:
            stats["backend_note"] = self.encoder.fallback_reason
        return stats

    def summary_extra(self, stats: list[dict[str, Any]]) -> dict[str, Any]:
        """Token totals over the shards of this run, from their manifests' statistics."""
        tokens = sum(s.get("tokens", 0) for s in stats)
        if not tokens:
            return {}
        text_tokens = sum(s.get("text_tokens", 0) for s in stats)
        return {
            "tokens": f"{tokens:,}",
            "chars/token": f"{sum(s.get('characters', 0) for s in stats) / max(text_tokens, 1):.3f}",
            "tokens/doc": f"{tokens / max(sum(s.get('documents', 0) for s in stats), 1):.1f}",
            "encoder": self.encoder.backend,
        }

    # -- outputs ------------------------------------------------------------------------------------
    def make_sink(self, out_dir: Path, name: str) -> TokenSink:
        prefix = out_dir / name
        if self.format == "megatron":
            writer = megatron.MegatronWriter(prefix, self.dtype)
        else:
            writer = flat.FlatWriter(prefix, self.vocab_size, self.eod if self.append_eod else None)
        return TokenSink(writer, eod_per_doc=self.append_eod)

    def output_files(self, out_dir: Path, name: str) -> list[Path]:
        prefix = out_dir / name
        if self.format == "megatron":
            return [megatron.bin_path(prefix), megatron.idx_path(prefix)]
        return list(flat.paths(prefix))


class TokenSink:
    """Streams the `tokens` column of kept batches into a token writer and keeps the shard's statistics."""

    def __init__(self, writer: megatron.MegatronWriter | flat.FlatWriter, eod_per_doc: bool):
        self.writer = writer
        self.eod_per_doc = eod_per_doc
        self.chars = 0
        self.text_bytes = 0

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        column = batch.column(TOKENS_COLUMN)
        offsets = column.offsets.to_numpy()
        values = column.values.to_numpy(zero_copy_only=False)[offsets[0] : offsets[-1]]
        self.writer.add_documents(values, np.diff(offsets))
        text = batch.column(schema.TEXT)
        self.chars += int(pc.sum(pc.utf8_length(text)).as_py() or 0)
        self.text_bytes += int(pc.sum(pc.binary_length(text)).as_py() or 0)

    def finish(self) -> list[Path]:
        return self.writer.finish()

    def abort(self) -> None:
        self.writer.abort()

    def _text_tokens(self) -> int:
        return self.writer.tokens - (self.writer.documents if self.eod_per_doc else 0)

    def stats(self) -> dict[str, Any]:
        lengths = self.writer.sequence_lengths()
        text_tokens = self._text_tokens()
        out: dict[str, Any] = {
            "documents": self.writer.documents,
            "tokens": self.writer.tokens,
            "text_tokens": text_tokens,
            "characters": self.chars,
            "chars_per_token": round(self.chars / text_tokens, 4) if text_tokens else None,
            "bytes_per_token": round(self.text_bytes / text_tokens, 4) if text_tokens else None,
            "token_dtype": str(getattr(self.writer.dtype, "name", self.writer.dtype)),
        }
        out["tokens_per_document"] = length_summary(lengths)
        out["tokens_per_document_histogram"] = log2_histogram(lengths)
        return out


def length_summary(lengths: np.ndarray) -> dict[str, float | int]:
    """Mean, min, max and the 1/10/50/90/99th percentiles (nearest rank) of the documents' token counts."""
    if len(lengths) == 0:
        return {}
    values = np.percentile(lengths, PERCENTILES, method="inverted_cdf")
    summary: dict[str, float | int] = {"mean": round(float(np.mean(lengths)), 2), "min": int(lengths.min())}
    summary.update({f"p{p}": int(v) for p, v in zip(PERCENTILES, values, strict=True)})
    summary["max"] = int(lengths.max())
    return summary


def log2_histogram(lengths: np.ndarray) -> list[dict[str, int]]:
    """Document counts in power-of-two token-count buckets, in order (a list, since manifests sort keys):
    [{"from": 1, "to": 1, "documents": n}, {"from": 2, "to": 3, ...}, {"from": 4, "to": 7, ...}, ...]."""
    if len(lengths) == 0:
        return []
    buckets = np.floor(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    counts = np.bincount(buckets)
    return [
        {"from": 1 << b, "to": (1 << (b + 1)) - 1, "documents": int(c)} for b, c in enumerate(counts) if c
    ]
