"""What `corpus-tool report` shows about the documents a run threw away, and what other cut-offs would keep.

- Sample rejections: per stage and reason, the first `SAMPLES_PER_REASON` rejected rows in shard order
  (deterministic), each with its id, the stage's measured value against its threshold (`reason_detail`,
  which every stage writes that way) and a snippet of the text.
- Signals: every numeric leaf of the `signals` JSON written by `--annotate` runs (`repetition.dup_line_frac`,
  `quality.score`, ...), split into flagged and not flagged documents, plus thresholds to draw on the plots
  of signals and of the scored columns (quality_score, ppl, lang_score), read from the manifests' config.
- What-if: for quality_score and ppl, the documents and bytes a stage's input would keep at several cut-offs.
All reads are capped (SAMPLE_ROWS rows per column), like the rest of the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tool import schema, shards

SAMPLES_PER_REASON = 5
SNIPPET_CHARS = 120
SAMPLE_ROWS = 200_000


@dataclass
class Details:
    samples: list[dict[str, Any]] = field(default_factory=list)  # stage label, reason, id, detail, snippet
    thresholds: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # plot name -> lines
    signals: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # "signal KEY" -> series
    whatif: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # title -> rows


def _snippet(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[:SNIPPET_CHARS] + "…"


def rejected_samples(label: str, rejected_files: list[Path], per_reason: int = SAMPLES_PER_REASON
                     ) -> list[dict[str, Any]]:
    """Up to `per_reason` rejected rows per reason, in shard order."""
    taken: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for f in rejected_files:
        try:
            pf = shards.open_parquet(f)
            cols = [c for c in (schema.ID, schema.REASON, schema.REASON_DETAIL, schema.TEXT)
                    if c in pf.schema_arrow.names]
            if schema.REASON not in cols:
                continue
            batches = shards.stream_batches(pf, 256, cols)
            for batch in batches:
                reasons = batch.column(schema.REASON).to_pylist()
                want = [i for i, r in enumerate(reasons) if taken.get(r, 0) < per_reason]
                if not want:
                    continue
                rows = batch.take(pa.array(want)).to_pylist()
                for row in rows:
                    r = row[schema.REASON]
                    if taken.get(r, 0) >= per_reason:
                        continue
                    taken[r] = taken.get(r, 0) + 1
                    out.append({"stage": label, "reason": r, "id": row.get(schema.ID),
                                "detail": row.get(schema.REASON_DETAIL) or "",
                                "snippet": _snippet(row.get(schema.TEXT))})
        except (OSError, pa.ArrowException):
            continue
    return sorted(out, key=lambda s: s["reason"])


def _flatten(prefix: str, node: Any, out: dict[str, float]) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(node, int | float) and not isinstance(node, bool) and np.isfinite(node):
        out[prefix] = float(node)


def signal_series(label: str, files: list[Path], dest: dict[str, dict[str, np.ndarray]]) -> None:
    """Numeric leaves of `signals`, split by whether the leaf's top-level name is among the row's flags."""
    values: dict[str, dict[str, list[float]]] = {}
    n = 0
    for f in files:
        try:
            pf = pq.ParquetFile(f)
            if schema.SIGNALS not in pf.schema_arrow.names:
                continue
            cols = [schema.SIGNALS] + ([schema.FLAGS] if schema.FLAGS in pf.schema_arrow.names else [])
            table = pf.read(columns=cols)
        except (OSError, pa.ArrowException):
            continue
        sig = table.column(schema.SIGNALS).to_pylist()
        flags = table.column(schema.FLAGS).to_pylist() if schema.FLAGS in table.column_names else [None] * len(sig)
        for s, fl in zip(sig, flags, strict=True):
            if not s:
                continue
            try:
                leaves: dict[str, float] = {}
                _flatten("", json.loads(s), leaves)
            except (json.JSONDecodeError, TypeError):
                continue
            for key, v in leaves.items():
                side = "flagged" if key.split(".")[0] in (fl or []) else "not flagged"
                values.setdefault(key, {}).setdefault(side, []).append(v)
            n += 1
            if n >= SAMPLE_ROWS:
                break
    for key, sides in values.items():  # a signal is plotted where it first appears (where it was measured);
        if f"signal {key}" not in dest:  # later stages only carry it
            dest[f"signal {key}"] = {f"{label} {side}": np.array(v) for side, v in sorted(sides.items())}


def stage_thresholds(stage: str, config: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """The thresholds a stage's config names, keyed by the plot they belong on."""
    out: dict[str, list[tuple[str, float]]] = {}

    def add(name: str, what: str, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.setdefault(name, []).append((what, float(value)))

    if stage == "quality":
        add("quality_score", "cut-off", config.get("cutoff"))
        add("signal quality.score", "cut-off", config.get("cutoff"))
    elif stage == "perplexity":
        add("ppl", "max_ppl", config.get("max_ppl"))
        add("signal perplexity.ppl", "max_ppl", config.get("max_ppl"))
        for k in ("head", "tail"):
            add("ppl", f"{k} cut-off", (config.get("cutoffs") or {}).get(k))
    elif stage == "langid":
        add("lang_score", "threshold", config.get("threshold"))
    for rule in config.get("rules") or []:  # filter rules: a parameter named like the measure
        if not isinstance(rule, dict):
            continue
        for pname, pval in (rule.get("params") or {}).items():
            measure = pname.removeprefix("max_").removeprefix("min_")
            add(f"signal {rule.get('name')}.{measure}", pname, pval)
    return out


def what_if(files: list[Path], column: str, higher_is_better: bool, cutoffs: list[float] | None = None
            ) -> list[dict[str, Any]]:
    """Documents and bytes (of the given files: a stage's kept + rejected = its input) kept at cut-offs."""
    scores, sizes, n = [], [], 0
    for f in files:
        try:
            pf = pq.ParquetFile(f)
            if column not in pf.schema_arrow.names:
                continue
            t = pf.read(columns=[column, schema.TEXT])
        except (OSError, pa.ArrowException):
            continue
        scores.append(t.column(column).to_numpy(zero_copy_only=False).astype(np.float64))
        sizes.append(pc.binary_length(t.column(schema.TEXT)).to_numpy(zero_copy_only=False).astype(np.float64))
        n += t.num_rows
        if n >= SAMPLE_ROWS:
            break
    if not scores:
        return []
    s, b = np.concatenate(scores), np.concatenate(sizes)
    ok = ~np.isnan(s)
    if not ok.any():
        return []
    if cutoffs is None:
        qs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        cutoffs = sorted({float(np.round(v, 4)) for v in np.quantile(s[ok], qs)})
    rows = []
    for c in cutoffs:
        keep = (s >= c) if higher_is_better else (s <= c)
        rows.append({"cutoff": c, "docs_kept": int(keep.sum()), "docs": int(s.size),
                     "bytes_kept": int(b[keep].sum()), "bytes": int(b.sum())})
    return rows


def collect(label: str, stage: str, manifests: dict[str, dict], kept_files: list[Path],
            rejected_files: list[Path], details: Details) -> None:
    """Add one stage's samples, signals, thresholds and what-if tables to `details`."""
    details.samples.extend(rejected_samples(label, rejected_files))
    signal_series(label, kept_files + rejected_files, details.signals)
    first = next(iter(manifests.values()), {})  # options (config) and what they resolved to (cut-offs, rules)
    config = {**(first.get("config") or {}), **(first.get("resolved") or {})}
    for name, lines in stage_thresholds(stage, config).items():
        details.thresholds.setdefault(name, []).extend((f"{label} {what}", v) for what, v in lines)
    files = kept_files + rejected_files
    if stage == "quality":
        rows = what_if(files, schema.QUALITY_SCORE, True, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
        if rows:
            details.whatif[f"{label}: keep quality_score >= cut-off"] = rows
    elif stage == "perplexity":
        rows = what_if(files, schema.PPL, False)
        if rows:
            details.whatif[f"{label}: keep ppl <= cut-off (deciles of this run)"] = rows


def html_sections(details: Details) -> str:
    """The report's HTML for samples and what-if tables."""
    import html  # noqa: PLC0415

    e = html.escape
    samples = "".join(
        f"<tr><td>{e(s['stage'])}</td><td>{e(s['reason'])}</td><td><code>{e(str(s['id']))}</code></td>"
        f"<td>{e(s['detail'])}</td><td class=snip>{e(s['snippet'])}</td></tr>"
        for s in details.samples
    )
    parts = [
        f"<h2>Sample rejected documents (up to {SAMPLES_PER_REASON} per stage and reason)</h2>",
        "<table><tr><th>stage</th><th>reason</th><th>id</th><th>measured vs threshold</th><th>text</th></tr>"
        f"{samples}</table>" if samples else "<p>No rejected documents.</p>",
    ]
    for title, rows in details.whatif.items():
        body = "".join(
            f"<tr><td>{r['cutoff']:.4g}</td><td>{r['docs_kept']:,}</td>"
            f"<td>{100 * r['docs_kept'] / max(r['docs'], 1):.1f}%</td><td>{r['bytes_kept'] / 1e6:.3f}</td>"
            f"<td>{100 * r['bytes_kept'] / max(r['bytes'], 1):.1f}%</td></tr>"
            for r in rows
        )
        parts.append(f"<h2>What if: {e(title)}</h2><table><tr><th>cut-off</th><th>docs kept</th><th>% docs</th>"
                     f"<th>MB kept</th><th>% bytes</th></tr>{body}</table>")
    return "\n".join(parts)
