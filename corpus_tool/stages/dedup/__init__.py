"""Exact and MinHash-LSH near-duplicate removal across all shards, as four steps that each run as an
array job: signatures (per shard) -> pairs (per band or set of bands) -> clusters (one task) -> filter
(per shard).

docs/dedup.md explains the settings, the S-curve and the measured figures; work.py the on-disk layout.
"""

from corpus_tool.stages.dedup.hashing import ShingleSettings

__all__ = ["ShingleSettings"]
