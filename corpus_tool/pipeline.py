"""The pipeline: one YAML file that names the stages in order, and the plan of tasks it turns into.

A config is loaded (yamlfile.load: safe) into dataclasses and checked up front, so that a typo fails with
the file and key named, before anything runs. Each stage's steps come from its declaration in
corpus_tool/specs (StageSpec: the steps, what each reads and writes, how many tasks); the plan turns them
into tasks, each a plain `corpus-tool ...` command line built here from the declared options (the one place
task command lines are made). Executors (local processes, Slurm arrays) only run command lines.

    stage kind     steps                                             tasks
    shards         one step: `corpus-tool STAGE IN -o OUT`          num_shards (--shard-index i)
    command        one step: `corpus-tool STAGE ARGS -o OUT`         1 (train-lm, train-tokenizer, ...)
    steps          dedup: signatures (array over shards), pairs (array over band ranges),
                   clusters (1 task), filter (array over shards)

Document stages write to numbered folders under the output root (01-ingest, 02-langid, ...), each the input
of the next. A task is finished when its task record exists (written by the executor when the command
exited 0, for the same command line) and, for stages that read the previous stage's shards, every shard it
owns has a manifest. Finished tasks are never run again, which is how a rerun resumes.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus_tool import shards, specs
from corpus_tool.errors import UsageError
from corpus_tool.pipeline_config import PipelineConfig, SlurmOptions, StageConfig, load_config  # noqa: F401 (re-exported)
from corpus_tool.specs.base import BANDS, COMMON_WARM, INPUTS, NONE, ONE, OUTPUT, WORK, Options, StageSpec

DATA_DIR = Path(__file__).resolve().parent / "data"
STATE_DIR = ".pipeline"  # under the output root: the plan and the task records
LOG_DIR = "logs"
SLURM_DIR = "slurm"



# -------------------------------------------------------------------------------------------- plan


def corpus_tool_prefix() -> list[str]:
    """How a task calls corpus-tool: the console script beside this Python, else `python -m corpus_tool`."""
    script = Path(sys.executable).parent / "corpus-tool"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "corpus_tool"]


@dataclass(kw_only=True)
class Step:
    """A list of tasks that can all run at once; it starts when the steps in `after` have finished."""

    label: str  # unique, used for log, script and record folders: e.g. 02-langid, 06-dedup-pairs
    stage: str  # the stage entry it comes from
    command: str  # corpus-tool subcommand, e.g. "langid" or "dedup pairs"
    args: list[str]  # the command line after the corpus-tool prefix, without shard options
    count: int  # number of tasks
    sharded: bool  # tasks get --shard-index i --num-shards count
    output: Path
    slurm: SlurmOptions
    # For stages that read the previous stage's shards: that folder (a task is finished only when every
    # shard it owns has a manifest in `output`).
    shard_input: Path | None = None
    documents: bool = False  # output is a document stage folder (for report/audit)
    # Labels of the steps whose output this step reads (Slurm: afterok on their jobs). Config order is always
    # a valid order: a stage only reads stages before it.
    after: list[str] = field(default_factory=list)
    overwritable: bool = True  # the command takes --overwrite (pipeline --overwrite passes it on)
    warm: tuple[str, ...] = ()  # what every task loads (Options.warm): a forking executor loads it first
    # A command stage's task (train-lm, train-tokenizer, ...): the local executor's worker pool runs it in a
    # process of its own, so that what it leaves in a process (a tokenizer's thread pool) reaches no other task.
    own_process: bool = False
    # Steps that work shard by shard (StepSpec.per_shard), for a local run's chains: the folder whose manifests/
    # says which shards it has finished (its output; dedup signatures: WORK/signatures), None for any other
    # step; and the document folder whose shards its tasks take (None for ingest, which reads raw files).
    chain_done: Path | None = None
    chain_input: Path | None = None

    def task_args(self, index: int | str) -> list[str]:
        if not self.sharded:
            return list(self.args)
        return [*self.args, "--shard-index", str(index), "--num-shards", str(self.count)]


@dataclass
class Plan:
    config: PipelineConfig
    root: Path
    prefix: list[str]
    steps: list[Step]
    missing: list[str] = field(default_factory=list)  # stages skipped because their command is not there

    # -- task records ----------------------------------------------------------------------------------
    def record_path(self, step: Step, index: int) -> Path:
        return self.root / STATE_DIR / "tasks" / step.label / f"{index}.json"

    def log_path(self, step: Step, index: int) -> Path:
        return self.root / LOG_DIR / step.label / f"task-{index}.log"

    def argv(self, step: Step, index: int) -> list[str]:
        return [*self.prefix, *step.task_args(index)]

    def is_done(self, step: Step, index: int) -> bool:
        record = self.record_path(step, index)
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return False
        if data.get("command") != shlex.join(step.task_args(index)):
            return False
        if step.shard_input is not None:
            return all(shards.is_finished(step.output, n) for n in self.owned_shards(step, index))
        return step.output.exists()

    def owned_shards(self, step: Step, index: int) -> list[str]:
        """The shard names task `index` processes, from the input folder's manifests (the runner's rule:
        the i-th shard in name order goes to task i mod count)."""
        folder = step.shard_input or step.chain_input
        assert folder is not None
        mdir = folder / shards.MANIFEST_DIR
        names = sorted(p.stem for p in mdir.glob("*.json")) if mdir.is_dir() else []
        return names[index :: step.count]

    def pending(self, step: Step, overwrite: bool = False) -> list[int]:
        return [i for i in range(step.count) if overwrite or not self.is_done(step, i)]

    def save(self) -> Path:
        """Write the plan beside the outputs, for report and audit (and for people)."""
        path = self.root / STATE_DIR / "plan.json"
        shards.write_json_atomic(path, self.describe())
        return path

    def describe(self) -> dict[str, Any]:
        return {
            "config": str(self.config.path),
            "root": str(self.root),
            "missing_stages": self.missing,
            "steps": [
                {
                    "label": s.label,
                    "stage": s.stage,
                    "command": s.command,
                    "tasks": s.count,
                    "sharded": s.sharded,
                    "output": str(s.output),
                    "documents": s.documents,
                    "example": shlex.join(["corpus-tool", *s.task_args(0)]),
                }
                for s in self.steps
            ],
        }


def write_task_record(path: Path, args: list[str], seconds: float | None = None, **extra: Any) -> None:
    """Record that a task's command exited 0 (the executors call this; Slurm tasks via `python -m`)."""
    record = {
        "command": shlex.join(args),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "seconds": None if seconds is None else round(seconds, 3),
        **extra,
    }
    for var in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        if var in os.environ:
            record[var.lower()] = os.environ[var]
    shards.write_json_atomic(path, record)


def available_stages() -> set[str]:
    """The pipeline stages this corpus-tool declares (corpus_tool/specs); a stage not yet written has none."""
    return set(specs.STAGES)


def accepted_options(options: type[Options]) -> set[str]:
    """The option names (underscores) a step's command takes: its declared options, the runner options it
    shares, and no_NAME for a boolean --NAME/--no-NAME."""
    names = set(options.names()) | set(options.shared)
    flags = {f.name: f.metadata.get("flags") for f in (*options.fields(), *specs.RunOptions.fields())}
    types = {**specs.RunOptions.types(), **options.types()}
    return names | {f"no_{n}" for n in names if types.get(n) is bool and not flags.get(n)}


_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


class _NeedsMissing(Exception):
    """A stage refers to the output of a stage that is not available."""


class _Resolver:
    """Resolves `{root}`, `{data}` and `{STAGE_NAME}` (that stage's output) in paths and option values."""

    def __init__(self, config: PipelineConfig, root: Path):
        self.config = config
        self.values = {"root": str(root), "data": str(DATA_DIR)}
        self.missing: set[str] = set()
        self.used: set[str] = set()  # placeholders used since the last reset (stage names, root)

    def sub(self, value: str, where: str) -> str:
        def repl(m: re.Match) -> str:
            key = m.group(1)
            if key in self.missing:
                raise _NeedsMissing(key)
            if key not in self.values:
                raise UsageError(
                    f"{where}: unknown placeholder {{{key}}} "
                    f"(known: {', '.join('{' + k + '}' for k in self.values)}"
                    "; a stage's name stands for its output only after that stage)"
                )
            if key != "data":
                self.used.add(key)
            return self.values[key]

        return _PLACEHOLDER.sub(repl, value)

    def path(self, value: str, where: str) -> str:
        """A path from the config: placeholders resolved, relative paths taken from the config's folder."""
        value = self.sub(value, where)
        if value == shards.STDIN or os.path.isabs(value):
            return value
        joined = self.config.path.parent / value
        return str(joined if glob_like(value) else joined.resolve())


def glob_like(value: str) -> bool:
    return any(c in value for c in "*?[")


def option_args(options: dict[str, Any], resolver: _Resolver, where: str, accepted: set[str] | None) -> list[str]:
    """`{key: value}` as command-line options: --key value; True -> --key; False -> --no-key; lists repeat."""
    args: list[str] = []
    for key, value in options.items():
        name = str(key).replace("_", "-")
        if accepted is not None and name.replace("-", "_") not in accepted and value is not False:
            raise UsageError(
                f"{where}.{key}: this command has no option --{name} "
                f"(it has: {', '.join('--' + o.replace('_', '-') for o in sorted(accepted))})"
            )
        if value is None:
            continue
        if value is True:
            args.append(f"--{name}")
        elif value is False:
            if accepted is not None and f"no_{name.replace('-', '_')}" in accepted:
                args.append(f"--no-{name}")
        elif isinstance(value, list):
            for v in value:
                args += [f"--{name}", resolver.sub(str(v), f"{where}.{key}")]
        elif isinstance(value, dict):
            raise UsageError(f"{where}.{key}: expected a value, got a mapping")
        else:
            args += [f"--{name}", resolver.sub(str(value), f"{where}.{key}")]
    return args


def make_plan(
    config: PipelineConfig,
    *,
    available: set[str] | None = None,
    check_options: bool = True,
    num_shards: int | None = None,
    overwrite: bool = False,
) -> Plan:
    """Turn a config into steps of tasks. Stages whose command is not in `available` (and stages that need
    their output) are left out and listed in `plan.missing`; the next stage reads the last document stage."""
    root = config.output
    resolver = _Resolver(config, root)
    available = available_stages() if available is None else available
    steps: list[Step] = []
    missing: list[str] = []
    previous_docs: Path | None = None  # output folder of the last document stage
    doc_outputs: set[Path] = set()
    number = 0
    cfg_where = str(config.path)
    first_missing: str | None = None  # a missing document stage that reads the raw input breaks the chain
    last_label: dict[str, str] = {}  # stage name -> label of its last step
    previous_docs_label: str | None = None

    for i, sc in enumerate(config.stages):
        where = f"{cfg_where}: stages[{i}] ({sc.name})"
        if sc.kind != "command":
            number += 1
        resolver.used = set()
        try:
            if sc.stage not in available or sc.stage not in specs.STAGES:
                if sc.kind != "command" and previous_docs is None and sc.inputs is None:
                    first_missing = first_missing or sc.name
                raise _NeedsMissing(sc.stage)
            if first_missing and sc.kind != "command" and previous_docs is None and sc.inputs is None:
                raise _NeedsMissing(first_missing)
            new = _stage_steps(
                sc,
                config,
                where,
                number,
                root,
                resolver,
                previous_docs,
                doc_outputs,
                num_shards,
                check_options,
            )
        except _NeedsMissing as e:
            missing.append(sc.name if str(e) in (sc.stage, sc.name) else f"{sc.name} (needs {e})")
            resolver.missing.add(sc.name)
            continue
        new[0].after = _dependencies(sc, resolver.used, root, new[0], last_label, previous_docs_label, steps)
        for before, step in zip(new, new[1:], strict=False):  # dedup's steps, in order
            step.after = [before.label]
        steps += new
        resolver.values[sc.name] = str(new[-1].output)
        last_label[sc.name] = new[-1].label
        if sc.kind != "command":
            previous_docs = new[-1].output
            previous_docs_label = new[-1].label
            doc_outputs.add(previous_docs)
    if overwrite:  # every task redoes its shards (and, with a new command line, is unfinished)
        for step in steps:
            if step.overwritable:
                step.args.append("--overwrite")
    return Plan(config, root, corpus_tool_prefix(), steps, missing)


def _dependencies(
    sc: StageConfig,
    used: set[str],
    root: Path,
    first: Step,
    last_label: dict[str, str],
    previous_docs_label: str | None,
    steps: list[Step],
) -> list[str]:
    """The steps a stage's first step waits for: the stages it names ({NAME}), the previous document stage
    when it reads that by default, and, when it names a path under the output root some other way
    ({root}, a literal path), the step just before it (it may read anything written so far)."""
    deps = {last_label[name] for name in used if name in last_label}
    if sc.kind != "command" and sc.inputs is None and previous_docs_label is not None:
        deps.add(previous_docs_label)
    literal = [a for a in first.args if a.startswith(str(root)) and not a.startswith(str(first.output))]
    named = {str(s.output) for s in steps if s.label in deps}
    if ("root" in used or any(not any(a.startswith(n) for n in named) for a in literal)) and steps:
        deps.add(steps[-1].label)
    return sorted(deps)


def _stage_steps(
    sc: StageConfig,
    config: PipelineConfig,
    where: str,
    number: int,
    root: Path,
    resolver: _Resolver,
    previous_docs: Path | None,
    doc_outputs: set[Path],
    num_shards: int | None,
    check_options: bool,
) -> list[Step]:
    """The steps of one stage, from its declaration: each step's command line, task count and folders."""
    spec = specs.STAGES[sc.stage]
    count = num_shards or sc.num_shards or config.num_shards
    slurm = config.slurm.merged(sc.slurm, f"{where}.slurm")
    opts = dict(sc.options)
    band_tasks = opts.pop("band_tasks", None) if any(s.tasks == BANDS for s in spec.steps) else None
    work_opt = opts.pop("work", None) if spec.uses_work else None
    if sc.kind == "command":
        out = root / resolver.sub(sc.output or f"models/{sc.name}", f"{where}.output")
        inputs = [resolver.path(p, f"{where}.inputs") for p in sc.inputs or []]
        label, shard_input = sc.name, None
    else:
        out = root / resolver.sub(sc.output or f"{number:02d}-{sc.name}", f"{where}.output")
        shard_input = None
        if sc.inputs is not None:
            inputs = [resolver.path(p, f"{where}.inputs") for p in sc.inputs]
            if len(inputs) == 1 and Path(inputs[0]) in doc_outputs:
                shard_input = Path(inputs[0])
        elif previous_docs is not None:
            inputs, shard_input = [str(previous_docs)], previous_docs
        else:
            inputs = [resolver.path(p, f"{config.path}: input") for p in config.input]
        label = out.name if out.parent == root else f"{number:02d}-{sc.name}"
    work = (Path(resolver.path(str(work_opt), f"{where}.options.work")) if work_opt
            else out.with_name(out.name + "-work"))
    per_step = _options_per_step(spec, opts, f"{where}.options", check_options)
    folders = {INPUTS: inputs, WORK: [str(work)], OUTPUT: [str(out)], NONE: []}
    steps = []
    for step_spec, options in zip(spec.steps, per_step, strict=True):
        accepted = accepted_options(step_spec.options) if check_options else None
        args = [*step_spec.command.split(), *folders[step_spec.reads]]
        if step_spec.passes_work:
            args += ["--work", str(work)]
        if step_spec.writes:
            args += ["-o", folders[step_spec.writes][0]]
        step_where = f"{where}.options" + (f".{_step_key(step_spec)}" if len(spec.steps) > 1 else "")
        args += option_args(options, resolver, step_where, accepted)
        tasks = {ONE: 1, BANDS: int(band_tasks or count)}.get(step_spec.tasks, count)
        takes_overwrite = "overwrite" in step_spec.options.shared
        if sc.kind == "command" and takes_overwrite:
            # A command task runs only when it has no record: whatever a killed run of it left (a finished
            # tokenizer.json, say) is redone, not refused.
            args.append("--overwrite")
        steps.append(Step(
            label=label + step_spec.suffix, stage=sc.name, command=step_spec.command, args=args, count=tasks,
            sharded=step_spec.tasks != ONE, output=Path(folders[step_spec.writes or step_spec.reads][0]),
            slurm=slurm, shard_input=shard_input if step_spec.reads == INPUTS and step_spec.documents else None,
            documents=step_spec.documents, overwritable=takes_overwrite and sc.kind != "command",
            own_process=sc.kind == "command",
            chain_input=shard_input if step_spec.per_shard and step_spec.reads == INPUTS else None,
            chain_done=(Path(folders[step_spec.writes][0]) / step_spec.shard_manifests
                        if step_spec.per_shard and step_spec.writes else None),
            # a stage's tasks load the runner's share too; a command that declares nothing loads nothing
            warm=COMMON_WARM + step_spec.options.warm if step_spec.options.warm else (),
        ))
    return steps


def _step_key(step) -> str:
    return step.command.split()[-1]


def _options_per_step(spec: StageSpec, opts: dict[str, Any], where: str, check: bool) -> list[dict[str, Any]]:
    """A stage's `options:` split among its steps. A multi-step stage (dedup) may hold one mapping per step
    (signatures:, pairs:, ...); a plain key goes to every step that declares it (an unknown one fails in
    the first step's check)."""
    if len(spec.steps) == 1:
        return [opts]
    out: list[dict[str, Any]] = [{} for _ in spec.steps]
    keys = [_step_key(s) for s in spec.steps]
    for key, value in opts.items():
        if key in keys:
            if not isinstance(value, dict):
                raise UsageError(f"{where}.{key}: expected a mapping of that step's options")
            out[keys.index(key)].update(value)
            continue
        takers = [i for i, s in enumerate(spec.steps) if str(key).replace("-", "_") in accepted_options(s.options)]
        for i in takers or ([0] if check else []):
            out[i][key] = value
    return out
