"""`corpus-tool report OUT_ROOT`: what a pipeline run did to the data.

Everything comes from what the stages wrote: the manifests (the funnel of documents and bytes per stage,
rejections by stage and reason, token counts) and a few columns of the shards (length, lang_score, ppl,
the dedup stage's rejected rows for duplicate-cluster sizes, Megatron .idx files for tokens per document).
Columns are read alone and capped at `SAMPLE_ROWS` rows per distribution, so a report of a large run stays
cheap. Output: PNG plots, an HTML page with the plots embedded (base64, no other files needed) and a short
text summary for the terminal.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tool import report_details, schema, shards
from corpus_tool.audit import load_manifests, stage_dirs
from corpus_tool.report_details import Details

SAMPLE_ROWS = 200_000  # per distribution: enough for a histogram, bounded for a billion-document run


@dataclass
class StageFunnel:
    label: str
    stage: str
    shards: int = 0
    docs_in: int = 0
    docs_kept: int = 0
    docs_rejected: int = 0
    bytes_in: int = 0
    bytes_kept: int = 0
    seconds: float = 0.0
    reasons: Counter = field(default_factory=Counter)
    stats: Counter = field(default_factory=Counter)


@dataclass
class Summary:
    root: Path
    funnel: list[StageFunnel]
    distributions: dict[str, dict[str, np.ndarray]]  # name -> {series label: values}
    tokens: int = 0
    token_documents: int = 0
    chars_per_token: float | None = None
    notes: list[str] = field(default_factory=list)
    details: Details = field(default_factory=Details)  # sample rejections, thresholds, signals, what-if


def summarize(root: Path) -> Summary:
    root = Path(root).resolve()
    funnel: list[StageFunnel] = []
    dists: dict[str, dict[str, np.ndarray]] = {}
    summary = Summary(root, funnel, dists)
    dirs = stage_dirs(root)
    if not dirs:
        summary.notes.append(f"no stage output with manifests under {root}")
        return summary
    chars = 0
    text_tokens = 0
    for d in dirs:
        manifests = load_manifests(d)
        f = StageFunnel(d.name, _stage_name(manifests, d))
        for m in manifests.values():
            docs, nbytes = m.get("docs") or {}, m.get("bytes") or {}
            f.shards += 1
            f.docs_in += int(docs.get("in") or 0)
            f.docs_kept += int(docs.get("kept") or 0)
            f.docs_rejected += int(docs.get("rejected") or 0)
            f.bytes_in += int(nbytes.get("in") or 0)
            f.bytes_kept += int(nbytes.get("kept") or 0)
            f.seconds += float((m.get("timings") or {}).get("seconds") or 0)
            f.reasons.update(m.get("rejected_by_reason") or {})
            for k, v in (m.get("stats") or {}).items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    f.stats[k] += v
        funnel.append(f)
        kept_files = sorted(d.glob("*.parquet"))
        rejected_files = sorted((d / shards.REJECTED_DIR).glob("*.parquet"))
        if f.stage == "langid" or (f.stage not in _KNOWN_STAGES and "lang_score" not in dists):
            _add_column(dists, "lang_score", f.label, kept_files, rejected_files, schema.LANG_SCORE)
        if f.stage == "perplexity" or (f.stage not in _KNOWN_STAGES and "ppl" not in dists):
            _add_column(dists, "ppl", f.label, kept_files, rejected_files, schema.PPL)
        if f.stage == "quality":
            _add_column(dists, "quality_score", f.label, kept_files, rejected_files, schema.QUALITY_SCORE)
        report_details.collect(f.label, f.stage, manifests, kept_files, rejected_files, summary.details)
        if f.stage == "dedup":
            sizes = _cluster_sizes(rejected_files)
            if sizes.size:
                dists["duplicate cluster size"] = {f.label: sizes}
        idx = sorted(d.glob("*.idx"))
        if idx:
            per_doc = _tokens_per_doc(idx)
            dists["tokens per document"] = {f.label: per_doc}
            summary.tokens += int(f.stats.get("tokens") or per_doc.sum())
            summary.token_documents += int(f.stats.get("documents") or per_doc.size)
            chars += int(f.stats.get("characters") or 0)
            text_tokens += int(f.stats.get("text_tokens") or 0)
    # Lengths: what came in (first stage) and what is left (last stage with Parquet documents).
    parquet_dirs = [d for d in dirs if any(d.glob("*.parquet"))]
    if parquet_dirs:
        first, last = parquet_dirs[0], parquet_dirs[-1]
        lengths = {}
        for d, label in ((first, f"{first.name} (kept)"), (last, f"{last.name} (kept)")):
            values = _lengths(sorted(d.glob("*.parquet")))
            if values.size:
                lengths[label] = values
        if lengths:
            dists["length (characters)"] = lengths
    dists.update(summary.details.signals)
    if text_tokens:
        summary.chars_per_token = chars / text_tokens
    return summary


_KNOWN_STAGES = {"ingest", "langid", "normalize", "quality", "filter", "perplexity", "dedup", "tokenize"}


def _stage_name(manifests: dict[str, dict], d: Path) -> str:
    for m in manifests.values():
        if m.get("stage"):
            return str(m["stage"])
    return re.sub(r"^\d+-", "", d.name)


def _read_column(files: list[Path], column: str, cap: int = SAMPLE_ROWS) -> np.ndarray:
    parts, n = [], 0
    for f in files:
        try:
            pf = pq.ParquetFile(f)
            if column not in pf.schema_arrow.names:
                continue
            col = pf.read(columns=[column]).column(column)
        except (OSError, pa.ArrowException):
            continue
        col = pc.drop_null(col)
        if len(col):
            parts.append(col.to_numpy().astype(np.float64))
            n += len(col)
        if n >= cap:
            break
    return np.concatenate(parts)[:cap] if parts else np.array([], dtype=np.float64)


def _add_column(dists, name, label, kept_files, rejected_files, column) -> None:
    kept = _read_column(kept_files, column)
    rejected = _read_column(rejected_files, column)
    if kept.size or rejected.size:
        series = {}
        if kept.size:
            series[f"{label} kept"] = kept
        if rejected.size:
            series[f"{label} rejected"] = rejected
        dists[name] = series


def _lengths(files: list[Path]) -> np.ndarray:
    parts, n = [], 0
    for f in files:
        try:
            col = pq.read_table(f, columns=[schema.TEXT]).column(schema.TEXT)
        except (OSError, pa.ArrowException):
            continue
        parts.append(pc.utf8_length(col).to_numpy().astype(np.float64))
        n += len(col)
        if n >= SAMPLE_ROWS:
            break
    return np.concatenate(parts)[:SAMPLE_ROWS] if parts else np.array([], dtype=np.float64)


def _cluster_sizes(rejected_files: list[Path]) -> np.ndarray:
    """Sizes of duplicate clusters: the kept document plus the rows rejected as its duplicates (their
    reason_detail ends with its id, e.g. "near-duplicate of <id>"). Vectorized: Arrow extracts the id and
    counts per id."""
    parts = []
    for f in rejected_files:
        try:
            col = pq.read_table(f, columns=[schema.REASON_DETAIL]).column(schema.REASON_DETAIL)
        except (OSError, pa.ArrowException, KeyError):
            continue
        parts.extend(c for c in pc.drop_null(col).chunks if len(c))
    if not parts:
        return np.array([], dtype=np.float64)
    kept_ids = pc.struct_field(pc.extract_regex(pa.chunked_array(parts), r"(?P<kept>\S+)\s*$"), [0])
    counts = pa.table({"kept": pc.drop_null(kept_ids)}).group_by("kept").aggregate([("kept", "count")])
    return np.sort(counts.column("kept_count").to_numpy().astype(np.float64) + 1)


def read_idx(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(sequence lengths, document indices) of a Megatron MMIDIDX v1 index."""
    data = path.read_bytes()
    if data[:9] != b"MMIDIDX\x00\x00":
        raise ValueError(f"{path}: not a Megatron .idx file")
    s = int.from_bytes(data[18:26], "little")
    d1 = int.from_bytes(data[26:34], "little")
    lengths = np.frombuffer(data, dtype="<i4", count=s, offset=34)
    doc_idx = np.frombuffer(data, dtype="<i8", count=d1, offset=34 + 12 * s)
    return lengths, doc_idx


def _tokens_per_doc(files: list[Path]) -> np.ndarray:
    parts = []
    for f in files:
        try:
            lengths, doc_idx = read_idx(f)
        except (OSError, ValueError):
            continue
        csum = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        parts.append((csum[doc_idx[1:]] - csum[doc_idx[:-1]]).astype(np.float64))
    return np.concatenate(parts) if parts else np.array([], dtype=np.float64)


# ------------------------------------------------------------------------------------------ text


def text_summary(s: Summary) -> str:
    lines = [f"pipeline outputs in {s.root}"]
    if not s.funnel:
        return "\n".join(lines + s.notes)
    head = (
        f"{'stage':<22} {'shards':>6} {'docs in':>9} {'kept':>9} {'rejected':>9} {'MB in':>8} {'MB kept':>8}"
    )
    lines.append(head)
    for f in s.funnel:
        lines.append(
            f"{f.label:<22} {f.shards:>6} {f.docs_in:>9,} {f.docs_kept:>9,} {f.docs_rejected:>9,} "
            f"{f.bytes_in / 1e6:>8.2f} {f.bytes_kept / 1e6:>8.2f}"
        )
        top = ", ".join(f"{r} {n:,}" for r, n in f.reasons.most_common(5))
        if top:
            lines.append(f"{'':<22}   rejected: {top}")
    first, last = s.funnel[0], s.funnel[-1]
    if first.docs_in:
        lines.append(
            f"kept {last.docs_kept:,} of {first.docs_in:,} documents "
            f"({100 * last.docs_kept / first.docs_in:.1f}%), "
            f"{last.bytes_kept / 1e6:.2f} of {first.bytes_in / 1e6:.2f} MB of text"
        )
    if s.tokens:
        cpt = f", {s.chars_per_token:.2f} characters per token" if s.chars_per_token else ""
        lines.append(f"tokens: {s.tokens:,} in {s.token_documents:,} documents{cpt}")
    return "\n".join(lines + s.notes)


# ----------------------------------------------------------------------------------------- plots


def _plots(s: Summary, out: Path) -> list[tuple[str, Path]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[tuple[str, Path]] = []

    def save(fig, name: str, title: str) -> None:
        path = out / f"{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        made.append((title, path))

    if s.funnel:
        labels = [f.label for f in s.funnel]
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
        x = np.arange(len(labels))
        axes[0].bar(x - 0.2, [f.docs_in for f in s.funnel], 0.4, label="in")
        axes[0].bar(x + 0.2, [f.docs_kept for f in s.funnel], 0.4, label="kept")
        axes[0].set_title("documents per stage")
        axes[1].bar(x - 0.2, [f.bytes_in / 1e6 for f in s.funnel], 0.4, label="in")
        axes[1].bar(x + 0.2, [f.bytes_kept / 1e6 for f in s.funnel], 0.4, label="kept")
        axes[1].set_title("text MB per stage")
        for ax in axes:
            ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
            ax.legend()
        save(fig, "funnel", "Funnel: documents and bytes in and kept per stage")

        rows = [(f"{f.label}: {r}", n) for f in s.funnel for r, n in f.reasons.most_common()]
        if rows:
            rows = rows[:40]
            fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1.2))
            ax.barh(range(len(rows)), [n for _, n in rows])
            ax.set_yticks(range(len(rows)), [r for r, _ in rows], fontsize=8)
            ax.invert_yaxis()
            counts = [n for _, n in rows]
            if max(counts) > 50 * max(1, min(counts)):
                ax.set_xscale("log")  # one dominant reason must not hide the others
            ax.set_xlabel("documents rejected")
            save(fig, "rejections", "Rejections by stage and reason")

    for name, series in s.distributions.items():
        fig, ax = plt.subplots(figsize=(7, 3.6))
        values = [v for v in series.values() if v.size]
        if not values:
            plt.close(fig)
            continue
        log_x = (
            name in ("length (characters)", "ppl", "tokens per document") and min(v.min() for v in values) > 0
        )
        lo = min(v.min() for v in values)
        hi = max(v.max() for v in values)
        if log_x and hi > lo:
            bins = np.logspace(np.log10(lo), np.log10(hi), 40)
            ax.set_xscale("log")
        elif name == "duplicate cluster size":
            bins = np.arange(1.5, hi + 1.5, 1.0) if hi > 1 else 5
        else:
            bins = 40
        for label, v in series.items():
            ax.hist(v, bins=bins, alpha=0.6, label=f"{label} (n={v.size:,})")
        for k, (what, value) in enumerate(s.details.thresholds.get(name, [])):
            ax.axvline(value, color=f"C{k + 3}", linestyle="--", linewidth=1.5, label=f"{what} = {value:.4g}")
        ax.set_title(name)
        ax.set_ylabel("documents" if name != "duplicate cluster size" else "clusters")
        ax.legend(fontsize=8)
        save(fig, re.sub(r"\W+", "_", name).strip("_"), f"Distribution: {name}")
    return made


def write_report(s: Summary, out: Path) -> Path:
    """PNG plots plus index.html (plots embedded as base64: the page is one self-contained file)."""
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(s, out)
    (out / "summary.json").write_text(json.dumps(_json_summary(s), indent=2) + "\n", encoding="utf-8")
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(f.label)}</td><td>{f.shards}</td><td>{f.docs_in:,}</td><td>{f.docs_kept:,}</td>"
        f"<td>{f.docs_rejected:,}</td><td>{f.bytes_in / 1e6:.2f}</td><td>{f.bytes_kept / 1e6:.2f}</td>"
        f"<td>{f.seconds:.1f}</td></tr>"
        for f in s.funnel
    )
    reasons = "".join(
        f"<tr><td>{e(f.label)}</td><td>{e(r)}</td><td>{n:,}</td></tr>"
        for f in s.funnel
        for r, n in f.reasons.most_common()
    )
    dist_rows = "".join(
        f"<tr><td>{e(name)}</td><td>{e(label)}</td><td>{v.size:,}</td><td>{np.median(v):.3g}</td>"
        f"<td>{np.percentile(v, 10):.3g}</td><td>{np.percentile(v, 90):.3g}</td></tr>"
        for name, series in s.distributions.items()
        for label, v in series.items()
        if v.size
    )
    images = "".join(
        f'<figure><img alt="{e(title)}" src="data:image/png;base64,{_b64(p)}">'
        f"<figcaption>{e(title)}</figcaption></figure>"
        for title, p in plots
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>corpus-tool report: {e(str(s.root))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}
td.snip{{text-align:left;max-width:460px;word-break:break-all}}
figure{{margin:1.5em 0}}img{{max-width:100%}}pre{{background:#f6f6f6;padding:1em}}</style></head><body>
<h1>corpus-tool report</h1>
<p>Output root: <code>{e(str(s.root))}</code></p>
<pre>{e(text_summary(s))}</pre>
<h2>Funnel</h2>
<table><tr><th>stage</th><th>shards</th><th>docs in</th><th>kept</th><th>rejected</th><th>MB in</th>
<th>MB kept</th><th>seconds</th></tr>{rows}</table>
<h2>Rejections by stage and reason</h2>
<table><tr><th>stage</th><th>reason</th><th>documents</th></tr>{reasons}</table>
<h2>Distributions</h2>
<table><tr><th>distribution</th><th>series</th><th>n</th><th>median</th><th>p10</th><th>p90</th></tr>{dist_rows}</table>
{report_details.html_sections(s.details)}
{images}
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _json_summary(s: Summary) -> dict[str, Any]:
    return {
        "root": str(s.root),
        "funnel": [
            {
                "stage": f.label,
                "shards": f.shards,
                "docs_in": f.docs_in,
                "docs_kept": f.docs_kept,
                "docs_rejected": f.docs_rejected,
                "bytes_in": f.bytes_in,
                "bytes_kept": f.bytes_kept,
                "seconds": round(f.seconds, 3),
                "rejected_by_reason": dict(f.reasons.most_common()),
            }
            for f in s.funnel
        ],
        "distributions": {
            name: {
                label: {"n": int(v.size), "median": float(np.median(v)) if v.size else None}
                for label, v in series.items()
            }
            for name, series in s.distributions.items()
        },
        "rejected_samples": s.details.samples,
        "thresholds": {k: [[w, v] for w, v in lines] for k, lines in s.details.thresholds.items()},
        "what_if": s.details.whatif,
        "tokens": s.tokens,
        "token_documents": s.token_documents,
        "chars_per_token": s.chars_per_token,
    }
