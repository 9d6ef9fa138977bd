"""dedup's options and its four pipeline steps (the code: corpus_tool/stages/dedup/).

signatures (array over shards) -> pairs (array over band ranges) -> clusters (one task) -> filter (array
over shards). `corpus-tool dedup IN -o OUT` (DedupOptions) runs all four locally. The `dedup:` section of
`-c config.yaml`, and a pipeline dedup stage's `options:`, may hold any step's options: each step takes its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tool.specs.base import BANDS, ONE, WORK, Options, StageSpec, StepSpec, option

SECTION = "dedup"
DEFAULT_VERIFY = 0.6


@dataclass(kw_only=True)
class SignatureOptions(Options):
    command = "dedup signatures"
    section = SECTION
    # the folding tables (about 0.05 s to build) once in the runner, not in each forked task
    warm = ("corpus_tool.stages.dedup.signatures", "corpus_tool.stages.dedup.hashing:_bmp_tables")
    shared = ("shard_index", "num_shards", "overwrite", "batch_size")

    ngram: int = option(5, "Shingle size: n characters (or n jieba words).", min=1, panel="MinHash")
    tokenizer: str = option("char", "char (best for Chinese) or jieba (word n-grams; slow).", panel="MinHash")
    bands: int = option(32, "LSH bands.", min=1, panel="MinHash")
    rows: int = option(4, "Rows (hash values) per band; permutations = bands x rows.", min=1, panel="MinHash")
    seed: int = option(42, "Seed of every hash function.", panel="MinHash")
    engine: str = option(
        "numpy", "numpy (one-permutation MinHash, vectorised) or datasketch (datasketch's classic MinHash, one "
        "document at a time: a slow reference; needs `pip install datasketch`).", panel="MinHash")


@dataclass(kw_only=True)
class PairsOptions(Options):
    command = "dedup pairs"
    section = SECTION
    warm = ("corpus_tool.stages.dedup.pairs",)
    shared = ("shard_index", "num_shards", "overwrite")

    verify_threshold: float = option(
        DEFAULT_VERIFY, "Keep a candidate pair only if its estimated Jaccard similarity (share of equal signature "
        "values) is at least this; 0 keeps every LSH candidate.", min=0.0, max=1.0, panel="MinHash")
    partitions: int = option(
        1, "Split each band into this many hash partitions, done one after another: memory / N, reads x N.",
        min=1, panel="Memory")


@dataclass(kw_only=True)
class ClusterOptions(Options):
    command = "dedup clusters"
    section = SECTION
    warm = ("corpus_tool.stages.dedup.clusters",)
    shared = ("overwrite",)


@dataclass(kw_only=True)
class DedupFilterOptions(Options):
    command = "dedup filter"
    section = SECTION
    warm = ("corpus_tool.stages.dedup.filter",)

    work: str = option(help="The dedup work directory (after `dedup clusters`).")


@dataclass(kw_only=True)
class DedupOptions(PairsOptions, SignatureOptions):
    """`corpus-tool dedup IN -o OUT`: every step, locally."""

    command = "dedup run"
    shared = ("overwrite", "batch_size", "rejected", "progress_interval")

    work: str | None = option(None, "Work directory for signatures, pairs and clusters [default: OUT/dedup-work].")


STAGE = StageSpec("dedup", (
    StepSpec(options=SignatureOptions, writes=WORK, per_shard=True, shard_manifests="signatures", suffix="-signatures"),
    StepSpec(options=PairsOptions, reads=WORK, writes="", tasks=BANDS, suffix="-pairs"),
    StepSpec(options=ClusterOptions, reads=WORK, writes="", tasks=ONE, suffix="-clusters"),
    StepSpec(options=DedupFilterOptions, passes_work=True, documents=True, per_shard=True, suffix="-filter"),
))
