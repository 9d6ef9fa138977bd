"""The filter stage: run the rules in order on each document; the first failing rule rejects it (or, with
`annotate`, every rule runs, every document is kept and `signals`/`flags` say what each rule measured)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import annotate as ann
from corpus_tool import schema
from corpus_tool.stage import Stage
from corpus_tool.stages.filter.docview import Cleaned, DocView
from corpus_tool.stages.filter.loader import load_rules
from corpus_tool.stages.filter.registry import Rule


@dataclass
class Verdict:
    reason: str | None  # the failing rule's name, None when kept (always None when annotating)
    detail: str | None
    text: str
    cleaned: list[str]
    signals: dict[str, Any] = field(default_factory=dict)  # annotate: rule name -> its measurements
    flags: list[str] = field(default_factory=list)  # annotate: the rules that would have rejected it


def judge(rules: list[Rule], text: str, counters: Counter | None = None, kind: str | None = None,
          annotate: bool = False) -> Verdict:
    """Run `rules` in order on one document: the first failing rule rejects it. With `annotate`, every
    rule runs (a failing rule is flagged and the next rule judges the same text)."""
    return judge_batch(rules, [text], counters, [kind], annotate)[0]


def judge_batch(rules: list[Rule], texts: list[str], counters: Counter | None = None,
                kinds: list[str | None] | None = None, annotate: bool = False) -> list[Verdict]:
    """`judge` for many documents, rule by rule: each rule sees, at once, every document still standing
    (a rule kind with a `batch` checker vectorizes over them). Each document meets the rules in file
    order and sees the text the cleaners left, so every verdict is what `judge` alone gives."""
    kinds = kinds if kinds is not None else [None] * len(texts)
    docs = [DocView(t, k) for t, k in zip(texts, kinds, strict=True)]
    cleaned: list[list[str]] = [[] for _ in texts]
    signals: list[dict[str, Any]] = [{} for _ in texts]
    flags: list[list[str]] = [[] for _ in texts]
    details: list[str | None] = [None] * len(texts)
    reasons: list[str | None] = [None] * len(texts)
    alive = list(range(len(texts)))
    for rule in rules:
        todo = alive if rule.judges_every_kind else [i for i in alive if rule.applies_to(kinds[i])]
        if not todo:
            continue
        sigs: list[dict[str, Any]] | None = [{} for _ in todo] if annotate else None
        batch = getattr(rule.check, "batch", None)
        if batch is not None:
            outs = batch([docs[i] for i in todo], sigs)
        else:
            outs = [rule.check(docs[i], None if sigs is None else sigs[j]) for j, i in enumerate(todo)]
        rejected: set[int] = set()
        if sigs is not None:
            for j, i in enumerate(todo):
                signals[i][rule.name] = sigs[j]
        for j, out in enumerate(outs):
            if out is None:
                continue
            i = todo[j]
            if isinstance(out, Cleaned):
                cleaned[i].append(rule.name)
                if counters is not None:
                    counters[f"lines_removed.{rule.name}"] += out.lines_removed
                    counters[f"docs_cleaned.{rule.name}"] += 1
                docs[i] = DocView(out.text, kinds[i])
            elif annotate:
                flags[i].append(rule.name)
                details[i] = details[i] or out
            else:
                reasons[i], details[i] = rule.name, out
                rejected.add(i)
        if rejected:
            alive = [i for i in alive if i not in rejected]
    return [Verdict(reasons[i], details[i], docs[i].text, cleaned[i], signals[i], flags[i])
            for i in range(len(texts))]


def document_kind(meta: str | None) -> str | None:
    """meta["kind"] (e.g. "transcript", set by ingest) or None."""
    if not meta or '"kind"' not in meta:
        return None
    try:
        value = json.loads(meta)
    except ValueError:
        return None
    kind = value.get("kind") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else None


class FilterStage(Stage):
    """Keep documents that pass every rule; cleaners may rewrite `text` and fill `cleaned`."""

    name = "filter"

    def __init__(self, rules_path: str | Path | None = None, annotate: bool = False):
        super().__init__()
        self.rules, self.rules_source = load_rules(rules_path)
        self.annotate = annotate
        self._kind_aware = any(r.skip_kinds or r.only_kinds is not None for r in self.rules)

    def resolved(self) -> dict[str, Any]:
        return {
            "rules_file": self.rules_source,
            "rules": [self._rule_config(r) for r in self.rules],
        }

    @staticmethod
    def _rule_config(r: Rule) -> dict[str, Any]:
        out: dict[str, Any] = {"name": r.name, "kind": r.kind, "params": r.params}
        if r.skip_kinds:
            out["skip_kinds"] = sorted(r.skip_kinds)
        if r.only_kinds is not None:
            out["only_kinds"] = sorted(r.only_kinds)
        return out

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        previous = batch.column(schema.CLEANED).to_pylist()
        kinds: list[str | None] = [None] * len(texts)
        if self._kind_aware and schema.META in batch.schema.names:
            kinds = [document_kind(m) for m in batch.column(schema.META).to_pylist()]
        keep = np.ones(len(texts), dtype=bool)
        reasons: list[str | None] = [None] * len(texts)
        details: list[str | None] = [None] * len(texts)
        new_texts: list[str] = []
        new_cleaned: list[list[str] | None] = []
        signals: list[dict[str, Any]] = []
        flags: list[list[str]] = []
        changed = False
        verdicts = judge_batch(self.rules, [t or "" for t in texts], self.counters, kinds, self.annotate)
        for i, (text, v) in enumerate(zip(texts, verdicts, strict=True)):
            new_texts.append(v.text if v.reason is None else text)
            if v.cleaned:
                changed = True
                new_cleaned.append(list(previous[i] or []) + v.cleaned)
            else:
                new_cleaned.append(previous[i])
            if v.reason is not None:
                keep[i] = False
                reasons[i], details[i] = v.reason, v.detail
                self.counters[f"rejected.{v.reason}"] += 1
            for f in v.flags:
                self.counters[f"flagged.{f}"] += 1
            signals.append(v.signals)
            flags.append(v.flags)
        self.counters["docs"] += len(texts)
        if changed:
            batch = schema.replace_strings(batch, schema.TEXT, new_texts, texts)
            batch = schema.replace_column(batch, schema.CLEANED, new_cleaned)
        if self.annotate:
            batch = ann.annotate_batch(batch, signals, flags)
        return self.split(batch, keep, reasons, details)
