"""Declarations: one typed options class per command, and the steps each stage runs in a pipeline.

A command's options are declared once, as dataclass fields with their help text (dolma's style). That one
declaration gives the command's `--help` and flags (commands/common.py builds them), the keys its
`-c config.yaml` section and its pipeline `options:` accept, the manifest's `config`, and the stage's
constructor arguments. A stage also declares its pipeline steps here (what each reads and writes, how many
tasks, the order), so the planner (pipeline.py) builds tasks from these objects and never looks at the CLI.
This package imports neither typer nor any stage code: it is cheap to import everywhere.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

MISSING: Any = dataclasses.MISSING

# The options the runner takes (RunOptions); a command declares which of them it has.
# What a task of any stage loads on first use, whatever its command: the runner (tqdm, progress bars,
# manifests) and numpy.ma, which pyarrow imports the first time pa.array is given a numpy array. A planned
# step's warm list starts with these (pipeline.make_plan).
COMMON_WARM = ("corpus_tool.runner", "numpy.ma")
SHARD_RUN = ("shard_index", "num_shards", "overwrite", "batch_size", "rejected", "progress_interval")


def option(default: Any = MISSING, help: str = "", *, flags: tuple[str, ...] = (), min: float | None = None,
           max: float | None = None, panel: str | None = None, stage_arg: str | None = None,
           to_stage: Callable[[Any], Any] | None = None) -> Any:
    """A declared option: a dataclass field whose metadata says how it looks on the command line.

    `flags`: the flag spellings when not `--field-name` (e.g. ("--no-eod",)); `stage_arg`: the stage
    constructor's parameter when it is named otherwise ("" = not passed to the stage); `to_stage`: converts the
    value for the constructor (e.g. "zh,en" -> ["zh", "en"]). No default: a required option."""
    meta = {"help": help, "flags": flags, "min": min, "max": max, "panel": panel, "stage_arg": stage_arg,
            "to_stage": to_stage}
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(kw_only=True)
class Options:
    """Base of every command's options. `command` is the corpus-tool subcommand; `section` the key of its
    part of a `-c config.yaml` (commands of one stage share it); `shared` the runner options it also takes."""

    command: ClassVar[str] = ""
    section: ClassVar[str] = ""
    shared: ClassVar[tuple[str, ...]] = SHARD_RUN
    shared_defaults: ClassVar[dict[str, Any]] = {}  # e.g. tokenize's larger batch_size
    # What every task of the command loads whatever its options: modules, or "module:function" to call (a
    # dictionary to read). `corpus-tool run` loads them once before it forks the tasks (--start fork), which
    # then inherit them instead of each loading its own copy.
    warm: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def fields(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def types(cls) -> dict[str, Any]:
        return typing.get_type_hints(cls)

    def to_config(self) -> dict[str, Any]:
        """The options as recorded in a manifest's `config`: every declared option, by name."""
        return {name: getattr(self, name) for name in self.names()}

    def stage_kwargs(self) -> dict[str, Any]:
        """The stage constructor's keyword arguments."""
        out = {}
        for f in self.fields():
            arg = f.metadata.get("stage_arg")
            if arg == "":
                continue
            convert = f.metadata.get("to_stage")
            value = getattr(self, f.name)
            out[arg or f.name] = convert(value) if convert else value
        return out

    def build(self, stage_cls: Callable[..., Any]) -> Any:
        """The stage, constructed from these options, which it keeps for its manifests."""
        stage = stage_cls(**self.stage_kwargs())
        stage.options = self
        return stage


def split_list(value: Any) -> list[str]:
    """A comma-separated option ("zh,en") or a YAML list, as a list of non-empty strings."""
    import re

    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return re.findall(r"[^,\s\[\]'\"]+", str(value or ""))


@dataclass(kw_only=True)
class RunOptions(Options):
    """The runner's options (runner.run_stage), shared by every command that processes shards."""

    shard_index: int | None = option(
        None, "This task's index; default $SLURM_ARRAY_TASK_ID - $SLURM_ARRAY_TASK_MIN, else 0.", panel="Sharding")
    num_shards: int | None = option(
        None, "Number of tasks; default $SLURM_ARRAY_TASK_COUNT, else 1. Task i takes the shards whose position "
        "in name order is i modulo this.", panel="Sharding")
    overwrite: bool = option(False, "Redo shards that are already finished (have a manifest).",
                             flags=("--overwrite",), panel="Sharding")
    batch_size: int = option(512, "Documents per record batch (bounds memory).", min=1, panel="Sharding")
    rejected: str | None = option(None, "With -o -: write rejected documents as JSONL to this file.",
                                  panel="Sharding")
    progress_interval: float = option(
        30.0, "Without a terminal (Slurm logs): log a progress line inside each shard every this many seconds; 0 "
        "turns it off. On a terminal a status line is redrawn instead.", min=0, panel="Sharding")

    def runner_kwargs(self) -> dict[str, Any]:
        return {"shard_index": self.shard_index, "num_shards": self.num_shards, "overwrite": bool(self.overwrite),
                "batch_size": int(self.batch_size), "rejected_output": self.rejected,
                "progress_interval": float(self.progress_interval)}


# ------------------------------------------------------------------------------------------ pipeline steps

# What a step's tasks are an array over.
SHARDS = "shards"  # the stage's input shards: num_shards tasks, each --shard-index i --num-shards N
BANDS = "bands"  # dedup's LSH bands: `band_tasks` tasks (default num_shards)
ONE = "one"  # a single task over everything

# What a step reads (its positional arguments) and writes (-o).
INPUTS = "inputs"  # the stage's inputs: the previous document stage's output, or the pipeline's input
NONE = ""  # no positional arguments: the command's inputs are options (train-quality --positive/--negative)
WORK = "work"  # the stage's work folder (dedup's signatures, pairs, clusters)
OUTPUT = "output"  # the stage's output folder


@dataclass(frozen=True, kw_only=True)
class StepSpec:
    """One step of a stage in a pipeline: a corpus-tool command run as `tasks` tasks.

    The task command line is `corpus-tool COMMAND <reads> -o <writes> [--work WORK] OPTIONS`; steps of one
    stage run in the order declared, each after the one before."""

    options: type[Options]
    reads: str = INPUTS  # INPUTS or WORK (positional arguments)
    writes: str = OUTPUT  # OUTPUT or WORK (-o); "" when the command takes no -o
    passes_work: bool = False  # also gets --work WORK
    tasks: str = SHARDS
    documents: bool = False  # writes document shards: the next stage reads them (and report/audit do)
    # A shard's output depends on that shard's input alone (not on the other shards, as quality's --keep-top
    # sample does), and its stage takes every Parquet file of its input folder as a shard (Stage.list_shards):
    # a local run may run it on a shard as soon as the step before has written that shard (a chain).
    per_shard: bool = False
    shard_manifests: str = ""  # per_shard: where, under what it writes, its finished shards' manifests are
    suffix: str = ""  # added to the stage's label: 06-dedup-signatures

    @property
    def command(self) -> str:
        return self.options.command


@dataclass(frozen=True)
class StageSpec:
    """A pipeline `stage:` and the steps it runs. A stage of one ONE step is a command stage (train-lm): it
    needs `inputs:` and writes models/NAME; any other stage reads documents and writes a numbered folder."""

    name: str
    steps: tuple[StepSpec, ...]

    @property
    def kind(self) -> str:
        if len(self.steps) > 1:
            return "steps"
        return "command" if self.steps[0].tasks == ONE and not self.steps[0].documents else "shards"

    @property
    def uses_work(self) -> bool:
        return any(WORK in (s.reads, s.writes) or s.passes_work for s in self.steps)

    def option_names(self) -> set[str]:
        """Every key a pipeline `options:` of this stage may hold (each step takes the ones it declares)."""
        return {n for s in self.steps for n in (*s.options.names(), *s.options.shared)}
