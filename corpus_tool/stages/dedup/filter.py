"""Step 4: drop the documents the clusters step decided to remove. One array task per shard, through the
runner (so it gets manifests, the rejected/ side output and resume like every stage)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tool import schema, shards
from corpus_tool.errors import BadInputError, UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stage import Stage
from corpus_tool.stages.dedup.work import WorkDir


class DedupFilter(Stage):
    """Rejected rows get reason `exact_duplicate` or `near_duplicate`, detail `... of <kept id>`."""

    name = "dedup"

    def __init__(self, work: str):
        super().__init__()
        self.work = WorkDir(work)
        if not self.work.clusters_manifest.exists():
            raise UsageError(
                f"{work}: the clusters step has not finished; run `corpus-tool dedup clusters {work}` first"
            )
        self.clusters = shards.read_manifest(self.work.clusters_manifest)
        self.settings = self.work.settings()

    def resolved(self) -> dict[str, Any]:
        return {"clusters_fingerprint": self.clusters["fingerprint"]} | self.settings.record()

    def list_shards(self, inputs: list[str]) -> list[InputShard]:
        """The input shards, which must be exactly those the signatures were made from: a shard missing here
        could hold the kept copy of a document removed here."""
        found = super().list_shards(inputs)
        names = {s.name for s in found}
        signed = {m["shard"] for m in self.work.signature_shards()}
        if names != signed:
            missing, extra = sorted(signed - names), sorted(names - signed)
            raise UsageError(
                f"{self.work.root}: the filter inputs are not the shards the signatures were made from"
                + (f"; missing here: {', '.join(missing[:5])}" if missing else "")
                + (f"; not in the work directory: {', '.join(extra[:5])}" if extra else "")
            )
        return found

    def _decisions(self, shard: InputShard) -> pa.Table:
        sig_manifest = self.work.sig_manifest(shard.name)
        path = self.work.decisions_path(shard.name)
        if not sig_manifest.exists() or not path.exists():
            raise UsageError(
                f"{shard.paths[0]}: shard {shard.name!r} was not part of the signatures in {self.work.root}; "
                "filter the same inputs that `dedup signatures` read"
            )
        source = shards.read_manifest(sig_manifest)["input"]
        if shards.file_digest(shard.paths[0]) != source["sha256"]:
            raise UsageError(
                f"{shard.paths[0]}: this file changed since `dedup signatures` read it ({source['path']}); "
                "rerun the dedup steps"
            )
        return pq.read_table(path)

    def process_shard(
        self, shard: InputShard, batch_size: int
    ) -> Iterator[tuple[pa.RecordBatch, pa.RecordBatch]]:
        decisions = self._decisions(shard)
        rows = decisions.column("row").to_numpy()
        ids = decisions.column(schema.ID).to_pylist()
        reasons = decisions.column(schema.REASON).to_pylist()
        keepers = decisions.column("keeper_id").to_pylist()
        offset = 0
        for batch in self.read(shard, batch_size):
            n = batch.num_rows
            lo, hi = np.searchsorted(rows, [offset, offset + n])
            keep = np.ones(n, dtype=bool)
            why: list[str | None] = [None] * n
            detail: list[str | None] = [None] * n
            batch_ids = batch.column(schema.ID)
            for j in range(lo, hi):
                i = int(rows[j]) - offset
                if batch_ids[i].as_py() != ids[j]:
                    raise BadInputError(
                        shard.paths[0], f"row {offset + i}",
                        f"id {batch_ids[i].as_py()!r} where the dedup work directory expects {ids[j]!r}",
                    )
                keep[i] = False
                why[i] = reasons[j]
                kind = "exact duplicate" if reasons[j] == "exact_duplicate" else "near-duplicate"
                detail[i] = f"{kind} of {keepers[j]}"
                self.counters[reasons[j]] += 1
            offset += n
            yield self.split(batch, keep, why, detail)
