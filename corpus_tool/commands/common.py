"""Options every stage shares, `-c config.yaml` handling, and the end-of-run summary.

Configs follow dolma's style: a YAML file of option values (option names with dashes or underscores),
either flat or under a key named after the stage; options given on the command line win over the file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
import yaml

from corpus_tool.errors import UsageError

log = logging.getLogger("corpus_tool")

Inputs = Annotated[
    list[str],
    typer.Argument(help="Input shards: Parquet files, globs or directories; '-' reads JSONL from stdin.",
                   show_default=False),
]
Output = Annotated[
    str, typer.Option("-o", "--output", help="Output directory ('-' writes kept documents as JSONL to stdout).")
]
ShardIndex = Annotated[
    int | None,
    typer.Option(help="This task's index; default $SLURM_ARRAY_TASK_ID - $SLURM_ARRAY_TASK_MIN, else 0.",
                 rich_help_panel="Sharding"),
]
NumShards = Annotated[
    int | None,
    typer.Option(help="Number of tasks; default $SLURM_ARRAY_TASK_COUNT, else 1. Task i takes the shards "
                      "whose position in name order is i modulo this.", rich_help_panel="Sharding"),
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Redo shards that are already finished (have a manifest).",
                       rich_help_panel="Sharding")
]
BatchSize = Annotated[int, typer.Option(help="Documents per record batch (bounds memory).", min=1,
                                        rich_help_panel="Sharding")]
Rejected = Annotated[
    str | None,
    typer.Option(help="With -o -: write rejected documents as JSONL to this file.", rich_help_panel="Sharding"),
]
Config = Annotated[
    Path | None,
    typer.Option("-c", "--config", help="YAML file of option values; command-line options win.",
                  exists=True, dir_okay=False),
]

COMMON_KEYS = ("shard_index", "num_shards", "overwrite", "batch_size", "rejected")


def resolve(ctx: typer.Context, section: str | None = None) -> dict[str, Any]:
    """The command's parameters with values from `-c FILE` filled in where the command line gave none."""
    params = dict(ctx.params)
    config_path = params.get("config")
    if not config_path:
        return params
    data = load_yaml(Path(config_path))
    if section and isinstance(data.get(section), dict):
        data = data[section]
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in params or name == "config":
            if not isinstance(value, dict):
                raise UsageError(f"{config_path}: unknown option {key!r} for {ctx.info_name}")
            continue
        source = ctx.get_parameter_source(name)
        if source in (click.core.ParameterSource.DEFAULT, None):
            params[name] = value
    return params


def load_yaml(path: Path) -> dict[str, Any]:
    """Load a YAML mapping safely (no object construction)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from e
    except yaml.YAMLError as e:
        raise UsageError(f"{path}: not valid YAML ({e})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of option names to values")
    return data


def run_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The runner's keyword arguments from the shared options."""
    return {
        "shard_index": params.get("shard_index"),
        "num_shards": params.get("num_shards"),
        "overwrite": bool(params.get("overwrite")),
        "batch_size": int(params.get("batch_size") or 512),
        "rejected_output": params.get("rejected"),
    }


def report(summary) -> None:
    """Print the one-line summary to stderr."""
    print(summary.line(), file=sys.stderr)
