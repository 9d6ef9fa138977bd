"""select: keep or reject annotated documents by their `flags` and by thresholds on `signals` or on any
numeric column, without recomputing anything (RedPajama-V2's "signals, not decisions").

    corpus-tool filter IN -o ANNOTATED --annotate         # every document kept, signals + flags written
    corpus-tool select ANNOTATED -o OUT                    # exactly what the plain filter run rejects
    corpus-tool select ANNOTATED -o OUT --ignore-flag repetition \
        --where 'repetition.dup_line_char_frac <= 0.15' --where 'quality_score >= 0.3'

A condition is `KEY OP NUMBER` with OP one of < <= > >= == !=. KEY is a document column (`quality_score`,
`ppl`, `han_frac`, `lang_score`) or a dotted path into `signals` (`rule.measure`, or a stage's key such as
`quality.score`). A document without the value passes the condition (the rule did not measure it, e.g. a
rule that skips transcripts). The rejection's reason is the one the flagging stage's plain run gives
(`low_quality`, `ppl_above_max`, a filter rule's name), or the KEY's first part (the rule or the column); its
detail says the value against the threshold.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import annotate as ann
from corpus_tool import schema
from corpus_tool.errors import UsageError
from corpus_tool.stage import Stage

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    ">": operator.gt}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Condition:
    """One `KEY OP NUMBER` threshold; a document is kept when it holds."""

    key: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        m = _CONDITION.match(text)
        if not m:
            raise UsageError(f"--where {text!r}: expected KEY OP NUMBER, e.g. 'repetition.dup_line_char_frac "
                             "<= 0.1' or 'quality_score >= 0.5' (OP: < <= > >= == !=)")
        return cls(m.group(1), m.group(2), float(m.group(3)))

    @property
    def reason(self) -> str:
        return self.key.split(".", 1)[0]

    def holds(self, value: Any) -> bool:
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            return True
        return _OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.key} {self.op} {self.threshold:g}"


class SelectStage(Stage):
    """Reject documents that carry a flag (unless ignored) or fail a `--where` condition."""

    name = "select"

    def __init__(self, where: list[str] | None = None, use_flags: bool = True,
                 ignore_flags: list[str] | None = None):
        super().__init__()
        self.where = [Condition.parse(w) for w in where or []]
        self.use_flags = use_flags
        self.ignore_flags = sorted(set(ignore_flags or []))
        if not self.where and not use_flags:
            raise UsageError("select with --no-flags needs at least one --where condition")

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        n = batch.num_rows
        names = batch.schema.names
        signals_col = batch.column(schema.SIGNALS).to_pylist() if schema.SIGNALS in names else [None] * n
        flags_col = batch.column(schema.FLAGS).to_pylist() if schema.FLAGS in names else [None] * n
        columns = {c.key: batch.column(c.key).to_pylist() for c in self.where if c.key in names
                   and c.key not in (schema.SIGNALS, schema.FLAGS)}
        ignored = set(self.ignore_flags)
        keep = np.ones(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        details: list[str | None] = [None] * n
        for i in range(n):
            try:
                signals = ann.parse_signals(signals_col[i])
            except ValueError as e:
                raise UsageError(f"row {i}: {e}") from e
            reason = detail = None
            if self.use_flags:
                flag = next((f for f in flags_col[i] or [] if f not in ignored), None)
                if flag is not None:
                    # a stage's flag (quality, perplexity) carries the reason its plain run would give
                    stage_reason = signals.get(flag, {}).get("reason") if isinstance(signals.get(flag), dict) else None
                    reason = stage_reason or flag
                    detail = f"flagged by {flag}: {ann.dumps(signals.get(flag, {}))}"
            if reason is None:
                for c in self.where:
                    value = columns[c.key][i] if c.key in columns else ann.lookup(signals, c.key)
                    if not c.holds(value):
                        reason, detail = c.reason, f"{c.key} = {value!r} fails {c}"
                        break
            if reason is not None:
                keep[i] = False
                reasons[i], details[i] = reason, detail
                self.counters[f"rejected.{reason}"] += 1
        self.counters["docs"] += n
        return self.split(batch, keep, reasons, details)
