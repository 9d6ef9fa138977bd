"""Options every stage shares, `-c config.yaml` handling, and the end-of-run summary.

Configs follow dolma's style: a YAML file of option values (option names with dashes or underscores),
either flat or under a key named after the stage; options given on the command line win over the file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

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
ProgressInterval = Annotated[
    float,
    typer.Option(help="Without a terminal (Slurm logs): log a progress line inside each shard every this many "
                      "seconds; 0 turns it off. On a terminal a status line is redrawn instead.", min=0,
                 rich_help_panel="Sharding"),
]
Config = Annotated[
    Path | None,
    typer.Option("-c", "--config", help="YAML file of option values; command-line options win.",
                  exists=True, dir_okay=False),
]

COMMON_KEYS = ("shard_index", "num_shards", "overwrite", "batch_size", "rejected", "progress_interval")


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
        # Compared by name: typer >= 0.2x vendors its own click, with its own ParameterSource enum.
        if source is None or getattr(source, "name", "") in ("DEFAULT", "DEFAULT_MAP"):
            params[name] = _coerce(ctx, name, value, f"{config_path}: option {key!r}")
    return params


def _coerce(ctx: typer.Context, name: str, value: Any, where: str) -> Any:
    """A config value converted and checked exactly as the same value given on the command line."""
    param = next((p for p in ctx.command.params if p.name == name), None)
    if param is None:
        return value
    if isinstance(value, str) and (param.multiple or param.nargs != 1):
        value = [value]
    try:
        return param.process_value(ctx, value)
    except Exception as e:  # noqa: BLE001 - click's and typer's BadParameter are distinct classes
        raise UsageError(f"{where}: {getattr(e, 'message', None) or e}") from e


def load_yaml(path: Path) -> dict[str, Any]:
    """Load a YAML mapping safely (no object construction)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text (byte {e.start})") from e
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
        "progress_interval": float(params.get("progress_interval", 30.0)),
    }


def report(summary) -> None:
    """Print the one-line summary to stderr."""
    print(summary.line(), file=sys.stderr)
