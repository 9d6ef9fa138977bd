"""CLI for dedup: `corpus-tool dedup IN... -o OUT` runs every step; `corpus-tool dedup STEP ...` runs one.

`dedup` is a group whose default command is `run`: when the first word after `dedup` is not a step name,
`run` is assumed, so both `corpus-tool dedup IN -o OUT` and `corpus-tool dedup pairs WORK` work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from corpus_tool.commands.common import (
    BatchSize,
    Config,
    Inputs,
    NumShards,
    Output,
    Overwrite,
    ProgressInterval,
    Rejected,
    ShardIndex,
    _coerce,
    load_yaml,
    report,
    run_kwargs,
)
from corpus_tool.errors import UsageError

DEFAULT_STEP = "run"
DEFAULT_VERIFY = 0.6
SECTION = "dedup"


class DedupGroup(TyperGroup):
    """A group that runs `run` when the first argument is not one of its steps."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_STEP, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["run", "signatures", "pairs", "clusters", "filter", "report"]


GROUP_EPILOG = (
    "Examples:\n\n"
    "  # every step, locally (work files in deduped/dedup-work):\n\n"
    "  corpus-tool dedup filtered/ -o deduped/\n\n"
    "  # the same as Slurm arrays (shards, then bands, then one task, then shards):\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup signatures filtered/ -o work/'\n\n"
    "  sbatch --array=0-32 --wrap 'corpus-tool dedup pairs work/'\n\n"
    "  corpus-tool dedup clusters work/\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup filter filtered/ --work work/ -o deduped/'\n\n"
    "  # what was removed, and why:\n\n"
    "  corpus-tool dedup report work/ --limit 10\n\n"
    "docs/dedup.md: settings, the S-curve, measured speed and recall."
)

app = typer.Typer(
    cls=DedupGroup,
    help="Remove exact and near-duplicate documents across all shards (MinHash LSH on character 5-grams).\n\n"
    "Without a step name, runs every step: `corpus-tool dedup IN... -o OUT [--work DIR]`. "
    "Steps: signatures (per shard) -> pairs (per band or set of bands) -> clusters (one task) -> "
    "filter (per shard).",
    epilog=GROUP_EPILOG,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Ngram = Annotated[int, typer.Option(help="Shingle size: n characters (or n jieba words).", min=1,
                                    rich_help_panel="MinHash")]
Tokenizer = Annotated[str, typer.Option(help="char (best for Chinese) or jieba (word n-grams; slow).",
                                        rich_help_panel="MinHash")]
Bands = Annotated[int, typer.Option(help="LSH bands.", min=1, rich_help_panel="MinHash")]
Rows = Annotated[int, typer.Option(help="Rows (hash values) per band; permutations = bands x rows.", min=1,
                                   rich_help_panel="MinHash")]
Seed = Annotated[int, typer.Option(help="Seed of every hash function.", rich_help_panel="MinHash")]
Verify = Annotated[float, typer.Option(
    help="Keep a candidate pair only if its estimated Jaccard similarity (share of equal signature values) "
         "is at least this; 0 keeps every LSH candidate.", min=0.0, max=1.0, rich_help_panel="MinHash")]
Partitions = Annotated[int, typer.Option(
    help="Split each band into this many hash partitions, done one after another: memory / N, reads x N.",
    min=1, rich_help_panel="Memory")]
Work = Annotated[str, typer.Argument(help="The dedup work directory (written by `dedup signatures`).",
                                     show_default=False)]


# Every option of every dedup step: a `dedup:` section of -c config.yaml may hold all of them, and each step
# takes the ones it has (any other key is still an error).
_ALL_STEP_OPTIONS = {"work", "ngram", "tokenizer", "bands", "rows", "seed", "verify_threshold", "partitions",
                     "shard_index", "num_shards", "overwrite", "batch_size", "rejected", "output", "inputs",
                     "limit", "preview"}


def _resolve(ctx: typer.Context) -> dict:
    """`resolve` for the dedup steps: options that belong to another dedup step are skipped, not refused."""
    config = ctx.params.get("config")
    if not config:
        return dict(ctx.params)
    data = load_yaml(Path(config))
    section = data.get(SECTION) if isinstance(data.get(SECTION), dict) else data
    params = dict(ctx.params)
    for key, value in section.items():
        name = str(key).replace("-", "_")
        if name not in params or name == "config":
            if name in _ALL_STEP_OPTIONS or isinstance(value, dict):
                continue
            raise UsageError(f"{config}: unknown option {key!r} for dedup {ctx.info_name}")
        source = ctx.get_parameter_source(name)  # compared by name, as in common.resolve (typer's own click)
        if source is None or getattr(source, "name", "") in ("DEFAULT", "DEFAULT_MAP"):
            params[name] = _coerce(ctx, name, value, f"{config}: option {key!r}")
    return params


def _settings(p: dict):
    from corpus_tool.stages.dedup.hashing import ShingleSettings  # noqa: PLC0415

    if p["tokenizer"] not in ("char", "jieba"):
        raise UsageError(f"--tokenizer must be char or jieba, not {p['tokenizer']!r}")
    return ShingleSettings(ngram=int(p["ngram"]), tokenizer=str(p["tokenizer"]), bands=int(p["bands"]),
                           rows=int(p["rows"]), seed=int(p["seed"]))


@app.command("run", epilog="Example: corpus-tool dedup filtered/ -o deduped/ --work /scratch/dedup-work")
def run_all(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output,
    work: Annotated[str | None, typer.Option(help="Work directory for signatures, pairs and clusters "
                                                  "[default: OUT/dedup-work].")] = None,
    ngram: Ngram = 5,
    tokenizer: Tokenizer = "char",
    bands: Bands = 32,
    rows: Rows = 4,
    seed: Seed = 42,
    verify_threshold: Verify = DEFAULT_VERIFY,
    partitions: Partitions = 1,
    overwrite: Overwrite = False,
    batch_size: BatchSize = 512,
    rejected: Rejected = None,
    progress_interval: ProgressInterval = 30.0,
    config: Config = None,
) -> None:
    """Every step, locally: signatures, pairs, clusters, filter (each skipped when already finished)."""
    from corpus_tool.runner import run_stage  # noqa: PLC0415
    from corpus_tool.stages.dedup.clusters import compute_clusters  # noqa: PLC0415
    from corpus_tool.stages.dedup.filter import DedupFilter  # noqa: PLC0415
    from corpus_tool.stages.dedup.pairs import compute_pairs  # noqa: PLC0415
    from corpus_tool.stages.dedup.signatures import compute_signatures  # noqa: PLC0415

    p = _resolve(ctx)
    if p["work"] is None:
        if p["output"] == "-":
            raise UsageError("with -o - give --work DIR for the dedup work files")
        p["work"] = str(Path(p["output"]) / "dedup-work")
    local = {"shard_index": 0, "num_shards": 1, "overwrite": bool(p["overwrite"])}
    report(compute_signatures(p["inputs"], p["work"], _settings(p), batch_size=int(p["batch_size"]), **local))
    verify = float(p["verify_threshold"]) or None
    report(compute_pairs(p["work"], partitions=int(p["partitions"]), verify_threshold=verify, **local))
    report(compute_clusters(p["work"], overwrite=local["overwrite"]))
    report(run_stage(DedupFilter(p["work"]), p["inputs"], p["output"], **(run_kwargs(p) | local)))


@app.command("signatures", epilog=(
    "Examples:\n\n  corpus-tool dedup signatures filtered/ -o work/\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup signatures filtered/ -o work/'\n\n"
    "  corpus-tool dedup signatures filtered/ -o work/ --tokenizer jieba --ngram 3"))
def signatures_cmd(
    ctx: typer.Context,
    inputs: Inputs,
    output: Annotated[str, typer.Option("-o", "--output", help="The work directory.")],
    ngram: Ngram = 5,
    tokenizer: Tokenizer = "char",
    bands: Bands = 32,
    rows: Rows = 4,
    seed: Seed = 42,
    shard_index: ShardIndex = None,
    num_shards: NumShards = None,
    overwrite: Overwrite = False,
    batch_size: BatchSize = 512,
    config: Config = None,
) -> None:
    """Step 1, one task per shard: MinHash signatures, LSH band keys and exact-text hashes."""
    from corpus_tool.stages.dedup.signatures import compute_signatures  # noqa: PLC0415

    p = _resolve(ctx)
    report(compute_signatures(
        p["inputs"], p["output"], _settings(p), shard_index=p["shard_index"], num_shards=p["num_shards"],
        overwrite=bool(p["overwrite"]), batch_size=int(p["batch_size"]),
    ))


@app.command("pairs", epilog=(
    "Examples:\n\n  corpus-tool dedup pairs work/\n\n"
    "  # 32 bands + the exact-duplicate band, one task each:\n\n"
    "  sbatch --array=0-32 --wrap 'corpus-tool dedup pairs work/'\n\n"
    "  corpus-tool dedup pairs work/ --partitions 4     # a quarter of the memory"))
def pairs_cmd(
    ctx: typer.Context,
    work: Work,
    verify_threshold: Verify = DEFAULT_VERIFY,
    partitions: Partitions = 1,
    shard_index: ShardIndex = None,
    num_shards: NumShards = None,
    overwrite: Overwrite = False,
    config: Config = None,
) -> None:
    """Step 2, one task per band or set of bands: candidate pairs of documents that share a band key."""
    from corpus_tool.stages.dedup.pairs import compute_pairs  # noqa: PLC0415

    p = _resolve(ctx)
    report(compute_pairs(
        p["work"], shard_index=p["shard_index"], num_shards=p["num_shards"], overwrite=bool(p["overwrite"]),
        partitions=int(p["partitions"]), verify_threshold=float(p["verify_threshold"]) or None,
    ))


@app.command("clusters", epilog="Example: corpus-tool dedup clusters work/ && corpus-tool dedup report work/")
def clusters_cmd(
    ctx: typer.Context,
    work: Work,
    overwrite: Overwrite = False,
    config: Config = None,
) -> None:
    """Step 3, one task: connected components over all pairs; which document of each cluster stays."""
    from corpus_tool.stages.dedup.clusters import compute_clusters  # noqa: PLC0415

    p = _resolve(ctx)
    report(compute_clusters(p["work"], overwrite=bool(p["overwrite"])))


@app.command("filter", epilog=(
    "Examples:\n\n  corpus-tool dedup filter filtered/ --work work/ -o deduped/\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup filter filtered/ --work work/ -o deduped/'"))
def filter_cmd(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output,
    work: Annotated[str, typer.Option(help="The dedup work directory (after `dedup clusters`).")],
    shard_index: ShardIndex = None,
    num_shards: NumShards = None,
    overwrite: Overwrite = False,
    batch_size: BatchSize = 512,
    rejected: Rejected = None,
    progress_interval: ProgressInterval = 30.0,
    config: Config = None,
) -> None:
    """Step 4, one task per shard: write the kept documents; removed ones go to rejected/ with the kept id."""
    from corpus_tool.runner import run_stage  # noqa: PLC0415
    from corpus_tool.stages.dedup.filter import DedupFilter  # noqa: PLC0415

    p = _resolve(ctx)
    report(run_stage(DedupFilter(p["work"]), p["inputs"], p["output"], **run_kwargs(p)))


@app.command("report", epilog=(
    "Examples:\n\n  corpus-tool dedup report work/\n\n"
    "  corpus-tool dedup report work/ --limit 0 --json > clusters.jsonl"))
def report_cmd(
    work: Work,
    limit: Annotated[int, typer.Option(help="Show the N largest clusters (0: all).", min=0)] = 20,
    preview: Annotated[int, typer.Option(help="Characters of text shown per document.", min=0)] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per cluster.")] = False,
) -> None:
    """The clusters found: id, size, and every member (id, source, kept or why removed, a text preview)."""
    from corpus_tool.stages.dedup.report import cluster_report, format_report  # noqa: PLC0415

    for line in format_report(cluster_report(work, limit=limit, preview=preview), as_json=as_json):
        print(line)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="dedup")
