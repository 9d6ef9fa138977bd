"""Annotate instead of reject: the shared `signals` / `flags` columns (RedPajama-V2's "signals, not
decisions").

A stage run with `--annotate` keeps every document and merges what it measured into two columns:
- `signals` (string): one JSON object for the whole pipeline, `{name: measurement}`, where a name is a
  filter rule (`"repetition": {"dup_line_char_frac": 0.04, ...}`) or another stage's key (`quality`,
  `perplexity`). A later annotate run overwrites the names it measures again and keeps the others.
- `flags` (list<string>): the names that would have rejected the document, in the order they were judged.
  A name measured again is first removed, then re-added if it still fails.

`corpus-tool select` thresholds these columns later without recomputing anything. Every stage that
annotates uses `merge` below, so that the JSON stays one object and flags stay unique.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa

from corpus_tool import schema


def parse_signals(value: str | None) -> dict[str, Any]:
    """The `signals` JSON of one row as a dict ({} for null)."""
    if not value:
        return {}
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError(f"`signals` is not a JSON object: {value[:60]!r}")
    return data


def _clean(v: Any) -> Any:
    """JSON has no NaN or infinity: they are written as null."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


def dumps(signals: dict[str, Any]) -> str:
    """Compact JSON; floats keep their full repr, so that a threshold compares exactly as it did."""
    return json.dumps(_clean(signals), ensure_ascii=False, separators=(",", ":"))


def merge(old_signals: str | None, old_flags: list[str] | None, signals: dict[str, Any],
          flags: list[str]) -> tuple[str, list[str]]:
    """One row's merged (signals JSON, flags): this stage's names replace earlier values of the same names."""
    merged = parse_signals(old_signals)
    merged.update(signals)
    kept = [f for f in (old_flags or []) if f not in signals and f not in flags]
    return dumps(merged), kept + [f for f in dict.fromkeys(flags)]


def annotate_batch(batch: pa.RecordBatch, signals: list[dict[str, Any]],
                   flags: list[list[str]]) -> pa.RecordBatch:
    """`batch` with its `signals` and `flags` columns merged with one (signals, flags) pair per row."""
    names = batch.schema.names
    old_s = batch.column(schema.SIGNALS).to_pylist() if schema.SIGNALS in names else [None] * batch.num_rows
    old_f = batch.column(schema.FLAGS).to_pylist() if schema.FLAGS in names else [None] * batch.num_rows
    out_s: list[str] = []
    out_f: list[list[str]] = []
    for i in range(batch.num_rows):
        s, f = merge(old_s[i], old_f[i], signals[i], flags[i])
        out_s.append(s)
        out_f.append(f)
    batch = schema.replace_column(batch, schema.SIGNALS, pa.array(out_s, pa.string()))
    return schema.replace_column(batch, schema.FLAGS, pa.array(out_f, pa.list_(pa.string())))


def lookup(signals: dict[str, Any], key: str) -> Any:
    """A dotted key into one row's signals: `repetition.dup_line_char_frac`, `quality`; None if absent."""
    node: Any = signals
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
