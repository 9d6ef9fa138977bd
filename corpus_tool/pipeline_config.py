"""The pipeline config: the YAML file, loaded (yamlfile.load: safe) into dataclasses and checked up front,
so that a typo fails with the file and the key named, before anything runs (docs/pipeline.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tool import specs, yamlfile
from corpus_tool.errors import UsageError
from corpus_tool.specs.base import NONE

KINDS = ("shards", "command", "steps")  # kind of a stage: from its StageSpec (corpus_tool/specs)


@dataclass
class SlurmOptions:
    """sbatch settings. Pipeline-wide defaults in `slurm:`, per-stage overrides in a stage's `slurm:`."""

    partition: str | None = None
    account: str | None = None
    time: str = "02:00:00"  # per task; a shard of the budgeted size takes minutes, not hours
    mem: str = "4G"  # the stages are bounded at 2 GB RSS per worker; twice that for headroom
    cpus_per_task: int = 1  # every stage is single-threaded per shard except tokenize's batch encoder
    throttle: int = 64  # at most this many tasks of one array run at once (`--array=...%64`)
    extra: list[str] = field(default_factory=list)  # more sbatch options, e.g. ["--qos=normal"]

    def merged(self, overrides: dict[str, Any], where: str) -> SlurmOptions:
        data = {**self.__dict__, **_check_keys(overrides, SlurmOptions, where)}
        return _build(SlurmOptions, data, where)


@dataclass
class StageConfig:
    """One entry of `stages:`."""

    stage: str  # the corpus-tool subcommand: ingest, langid, ..., dedup, or a command such as train-lm
    name: str = ""  # unique step name (default: the stage)
    kind: str = ""  # shards | command | steps (default: from the stage's declaration; for a stage not there)
    inputs: list[str] | None = None  # default: the previous document stage's output (or `input:`)
    output: str | None = None  # relative to the output root; default NN-name (models/name for commands)
    options: dict[str, Any] = field(default_factory=dict)  # command-line options, without dashes
    num_shards: int | None = None  # array tasks for this stage (default: the pipeline's num_shards)
    slurm: dict[str, Any] = field(default_factory=dict)


@dataclass
class PipelineConfig:
    path: Path  # the YAML file; relative paths in it are relative to its folder
    input: list[str]
    output: Path
    stages: list[StageConfig]
    num_shards: int = 4
    workers: int = 2
    slurm: SlurmOptions = field(default_factory=SlurmOptions)


def _key(where: str, key: str) -> str:
    """`FILE: a.b.c`: the file, then the key path."""
    return f"{where}{key}" if where.endswith(": ") else f"{where}.{key}"


def _check_keys(data: Any, cls: type, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f for f in cls.__dataclass_fields__}
    out = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in known or name == "path":
            keys = ", ".join(sorted(known - {"path"}))
            raise UsageError(f"{_key(where, key)}: unknown key (known: {keys})")
        out[name] = value
    return out


def _build(cls: type, data: dict[str, Any], where: str):
    """Build dataclass `cls` from `data`, checking each value's type against the annotation."""
    hints = {"str": str, "int": int, "bool": bool}
    for name, f in cls.__dataclass_fields__.items():
        if name not in data or data[name] is None:
            continue
        ann = str(f.type)
        value = data[name]
        base = ann.split(" |")[0]
        if base in hints and not (isinstance(value, hints[base]) and not (base == "int" and isinstance(value, bool))):
            if base == "str" and isinstance(value, int | float):
                data[name] = str(value)
                continue
            raise UsageError(f"{_key(where, name)}: expected {base}, got {value!r}")
        if base.startswith("list") and not isinstance(value, list):
            raise UsageError(f"{_key(where, name)}: expected a list, got {value!r}")
        if base.startswith("dict") and not isinstance(value, dict):
            raise UsageError(f"{_key(where, name)}: expected a mapping, got {value!r}")
        if base == "int" and value < 1 and name in ("num_shards", "workers", "cpus_per_task", "throttle"):
            raise UsageError(f"{_key(where, name)}: must be at least 1, got {value}")
    return cls(**data)


def load_config(path: str | Path) -> PipelineConfig:
    """Read and check a pipeline YAML file. Errors name the file and the key."""
    path = Path(path)
    raw = yamlfile.load(path, "pipeline config")
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: a pipeline config is a mapping with input, output and stages")
    data = _check_keys(raw, PipelineConfig, f"{path}: ")
    for key in ("input", "output", "stages"):
        if key not in data:
            raise UsageError(f"{path}: missing required key {key!r}")
    base = path.resolve().parent
    inputs = data["input"] if isinstance(data["input"], list) else [data["input"]]
    if not inputs or not all(isinstance(i, str) for i in inputs):
        raise UsageError(f"{path}: input: expected a path or a list of paths")
    data["input"] = inputs
    if not isinstance(data["output"], str):
        raise UsageError(f"{path}: output: expected a path")
    data["output"] = (base / data["output"]).resolve()
    slurm = data.get("slurm") or {}
    data["slurm"] = _build(SlurmOptions, _check_keys(slurm, SlurmOptions, f"{path}: slurm"), f"{path}: slurm")
    if not isinstance(data["stages"], list) or not data["stages"]:
        raise UsageError(f"{path}: stages: expected a non-empty list of stages")
    stages = []
    for i, entry in enumerate(data["stages"]):
        where = f"{path}: stages[{i}]"
        if isinstance(entry, str):
            entry = {"stage": entry}
        fields = _check_keys(entry, StageConfig, where)
        if "stage" not in fields or not isinstance(fields["stage"], str):
            raise UsageError(f"{where}: missing key 'stage' (the corpus-tool command, e.g. langid)")
        sc = _build(StageConfig, fields, where)
        sc.name = sc.name or sc.stage
        spec = specs.STAGES.get(sc.stage)
        sc.kind = {"dedup": "steps"}.get(sc.kind, sc.kind) or (spec.kind if spec else "shards")
        if sc.kind not in KINDS:
            raise UsageError(f"{where}.kind: {sc.kind!r} is not one of {', '.join(KINDS)}")
        if sc.inputs is not None and isinstance(sc.inputs, str):
            sc.inputs = [sc.inputs]
        if sc.kind == "command" and not sc.inputs and not (spec and spec.steps[0].reads == NONE):
            raise UsageError(f"{where}.inputs: a command stage ({sc.stage}) needs its inputs")
        stages.append(sc)
    names = [s.name for s in stages]
    for n in names:
        if names.count(n) > 1:
            raise UsageError(f"{path}: two stages are named {n!r}; give one of them a `name:`")
        if n in ("root", "data") or not re.fullmatch(r"[A-Za-z0-9_.-]+", n):
            raise UsageError(f"{path}: stage name {n!r}: use letters, digits, '-', '_' and '.' (not root/data)")
    data["stages"] = stages
    return _build(PipelineConfig, {"path": path.resolve(), **data}, f"{path}: ")
