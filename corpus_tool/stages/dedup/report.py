"""The cluster report: what was removed, and which document it was matched to."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tool import schema
from corpus_tool.errors import UsageError
from corpus_tool.stages.dedup.work import WorkDir


def cluster_report(work: str, limit: int = 20, preview: int = 60, min_size: int = 2) -> Iterator[dict]:
    """The `limit` largest clusters (ties by cluster id), each as {cluster, size, members: [{id, source,
    shard, row, kept, reason, preview}]}; source and preview are read from the input shards."""
    wd = WorkDir(work)
    if not wd.clusters_manifest.exists():
        raise UsageError(f"{work}: the clusters step has not finished; run `corpus-tool dedup clusters`")
    table = pq.read_table(wd.clusters_path)
    table = table.filter(pc.greater_equal(table.column("size"), min_size))
    if table.num_rows == 0:
        return
    cluster = table.column("cluster").to_numpy()
    size = table.column("size").to_numpy()
    firsts = np.unique(cluster, return_index=True)[1]
    order = np.lexsort((cluster[firsts], -size[firsts]))
    chosen = set(cluster[firsts][order][: limit if limit > 0 else None].tolist())
    rows = table.filter(pc.is_in(table.column("cluster"), pa.array(sorted(chosen), pa.int64()))).to_pylist()
    inputs = {m["shard"]: m["input"]["path"] for m in wd.signature_shards()}
    texts = _read_rows(inputs, rows, preview)
    by_cluster: dict[int, list[dict]] = {}
    for r in rows:
        src, text = texts[(r["shard"], r["row"])]
        by_cluster.setdefault(r["cluster"], []).append({
            "id": r[schema.ID], "source": src, "shard": r["shard"], "row": r["row"], "kept": r["kept"],
            "reason": r[schema.REASON], "preview": text,
        })
    for c in sorted(by_cluster, key=lambda c: (-len(by_cluster[c]), c)):
        yield {"cluster": c, "size": len(by_cluster[c]), "members": by_cluster[c]}


def _read_rows(
    inputs: dict[str, str], rows: list[dict], preview: int
) -> dict[tuple[str, int], tuple[str, str]]:
    out: dict[tuple[str, int], tuple[str, str]] = {}
    wanted: dict[str, list[int]] = {}
    for r in rows:
        wanted.setdefault(r["shard"], []).append(r["row"])
    for shard, want in wanted.items():
        path = inputs[shard]
        try:
            t = pq.read_table(path, columns=[schema.SOURCE, schema.TEXT]).take(pa.array(sorted(set(want))))
        except (OSError, pa.ArrowException) as e:
            raise UsageError(f"{path}: cannot read the input shard for the report ({e})") from e
        got = zip(sorted(set(want)), t.column(0).to_pylist(), t.column(1).to_pylist(), strict=True)
        for row, src, text in got:
            flat = " ".join(text.split())
            out[(shard, row)] = (src, flat[:preview] + ("…" if len(flat) > preview else ""))
    return out


def format_report(clusters: Iterator[dict], as_json: bool = False) -> Iterator[str]:
    for c in clusters:
        if as_json:
            yield json.dumps(c, ensure_ascii=False)
            continue
        yield f"cluster {c['cluster']}  size {c['size']}"
        for m in c["members"]:
            mark = "KEEP" if m["kept"] else ("exact" if m["reason"] == "exact_duplicate" else "near ")
            yield f"  {mark}  {m['id']}  {m['source']}  {m['preview']}"
        yield ""

