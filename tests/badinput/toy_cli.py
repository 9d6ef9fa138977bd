"""The real `corpus-tool` CLI plus one test-only command, `toy`, so that core faults (full disk, kill -9,
bad shards) are tested through the real runner and the real error handling before any stage exists.

`toy` runs badinput.toy_stage.Toy.

    python tests/badinput/toy_cli.py toy IN... -o OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from badinput.toy_stage import Toy  # noqa: E402
from corpus_tool import cli  # noqa: E402
from corpus_tool.commands.common import (  # noqa: E402
    BatchSize,
    Config,
    Inputs,
    NumShards,
    Output,
    Overwrite,
    Rejected,
    ShardIndex,
    report,
    resolve,
    run_kwargs,
)
from corpus_tool.runner import run_stage  # noqa: E402


@cli.app.command("toy")
def toy(
    ctx: typer.Context,
    inputs: Inputs,
    output: Output,
    shard_index: ShardIndex = None,
    num_shards: NumShards = None,
    overwrite: Overwrite = False,
    batch_size: BatchSize = 512,
    rejected: Rejected = None,
    config: Config = None,
) -> None:
    """A test stage."""
    params = resolve(ctx, "toy")
    report(run_stage(Toy(), params["inputs"], params["output"], **run_kwargs(params)))


if __name__ == "__main__":
    cli.main()
