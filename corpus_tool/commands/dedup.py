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

from corpus_tool.commands.common import Call, inputs_arg, output_opt, report, stage_command, work_arg
from corpus_tool.errors import UsageError
from corpus_tool.specs.dedup import (
    ClusterOptions,
    DedupFilterOptions,
    DedupOptions,
    PairsOptions,
    SignatureOptions,
)

DEFAULT_STEP = "run"


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


def _settings(o: SignatureOptions):
    from corpus_tool.stages.dedup.hashing import ShingleSettings  # noqa: PLC0415

    if o.tokenizer not in ("char", "jieba"):
        raise UsageError(f"--tokenizer must be char or jieba, not {o.tokenizer!r}")
    return ShingleSettings(ngram=o.ngram, tokenizer=o.tokenizer, bands=o.bands, rows=o.rows, seed=o.seed,
                           engine=o.engine)


def run_all(call: Call) -> None:
    """Every step, locally: signatures, pairs, clusters, filter (each skipped when already finished)."""
    from corpus_tool.runner import run_stage  # noqa: PLC0415
    from corpus_tool.stages.dedup.clusters import compute_clusters  # noqa: PLC0415
    from corpus_tool.stages.dedup.filter import DedupFilter  # noqa: PLC0415
    from corpus_tool.stages.dedup.pairs import compute_pairs  # noqa: PLC0415
    from corpus_tool.stages.dedup.signatures import compute_signatures  # noqa: PLC0415

    o, run = call.options, call.run
    work = o.work
    if work is None:
        if call.output == "-":
            raise UsageError("with -o - give --work DIR for the dedup work files")
        work = str(Path(call.output) / "dedup-work")
    local = {"shard_index": 0, "num_shards": 1, "overwrite": run.overwrite}
    report(compute_signatures(call.inputs, work, _settings(o), batch_size=run.batch_size, **local))
    report(compute_pairs(work, partitions=o.partitions, verify_threshold=o.verify_threshold or None, **local))
    report(compute_clusters(work, overwrite=run.overwrite))
    stage = DedupFilterOptions(work=work).build(DedupFilter)
    report(run_stage(stage, call.inputs, call.output, **(run.runner_kwargs() | local)))


def signatures(call: Call) -> None:
    """Step 1, one task per shard: MinHash signatures, LSH band keys and exact-text hashes."""
    from corpus_tool.stages.dedup.signatures import compute_signatures  # noqa: PLC0415

    run = call.run
    report(compute_signatures(call.inputs, call.output, _settings(call.options), shard_index=run.shard_index,
                              num_shards=run.num_shards, overwrite=run.overwrite, batch_size=run.batch_size))


def pairs(call: Call) -> None:
    """Step 2, one task per band or set of bands: candidate pairs of documents that share a band key."""
    from corpus_tool.stages.dedup.pairs import compute_pairs  # noqa: PLC0415

    o, run = call.options, call.run
    report(compute_pairs(call.params["work"], shard_index=run.shard_index, num_shards=run.num_shards,
                         overwrite=run.overwrite, partitions=o.partitions, verify_threshold=o.verify_threshold or None))


def clusters(call: Call) -> None:
    """Step 3, one task: connected components over all pairs; which document of each cluster stays."""
    from corpus_tool.stages.dedup.clusters import compute_clusters  # noqa: PLC0415

    report(compute_clusters(call.params["work"], overwrite=call.run.overwrite))


def filter_(call: Call) -> None:
    """Step 4, one task per shard: write the kept documents; removed ones go to rejected/ with the kept id."""
    from corpus_tool.runner import run_stage  # noqa: PLC0415
    from corpus_tool.stages.dedup.filter import DedupFilter  # noqa: PLC0415

    report(run_stage(call.options.build(DedupFilter), call.inputs, call.output, **call.run.runner_kwargs()))


stage_command(app, DedupOptions, run_all,
              epilog="Example: corpus-tool dedup filtered/ -o deduped/ --work /scratch/dedup-work")
stage_command(app, SignatureOptions, signatures, io=[inputs_arg(), output_opt("The work directory.")], epilog=(
    "Examples:\n\n  corpus-tool dedup signatures filtered/ -o work/\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup signatures filtered/ -o work/'\n\n"
    "  corpus-tool dedup signatures filtered/ -o work/ --tokenizer jieba --ngram 3"))
stage_command(app, PairsOptions, pairs, io=[work_arg()], epilog=(
    "Examples:\n\n  corpus-tool dedup pairs work/\n\n"
    "  # 32 bands + the exact-duplicate band, one task each:\n\n"
    "  sbatch --array=0-32 --wrap 'corpus-tool dedup pairs work/'\n\n"
    "  corpus-tool dedup pairs work/ --partitions 4     # a quarter of the memory"))
stage_command(app, ClusterOptions, clusters, io=[work_arg()],
              epilog="Example: corpus-tool dedup clusters work/ && corpus-tool dedup report work/")
stage_command(app, DedupFilterOptions, filter_, epilog=(
    "Examples:\n\n  corpus-tool dedup filter filtered/ --work work/ -o deduped/\n\n"
    "  sbatch --array=0-99 --wrap 'corpus-tool dedup filter filtered/ --work work/ -o deduped/'"))


@app.command("report", epilog=(
    "Examples:\n\n  corpus-tool dedup report work/\n\n"
    "  corpus-tool dedup report work/ --limit 0 --json > clusters.jsonl"))
def report_cmd(
    work: Annotated[str, typer.Argument(help="The dedup work directory (written by `dedup signatures`).",
                                        show_default=False)],
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
