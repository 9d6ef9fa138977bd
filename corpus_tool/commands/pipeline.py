"""The pipeline commands: init, run (local or Slurm), demo, report, audit."""

from __future__ import annotations

import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from corpus_tool.errors import CorpusToolError, ExitCode, UsageError
from corpus_tool.executors import HANDOFF_MB, Start


class Executor(StrEnum):
    local = "local"
    slurm = "slurm"


TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "pipeline.yaml"

INIT_EPILOG = """Examples (a config for the embedded sample corpus; edit input and output):

  corpus-tool init
  corpus-tool init my.yaml -o /data/out
  corpus-tool run pipeline.yaml --executor local --workers 2
"""

RUN_EPILOG = """Examples (rerun the same command after a crash or a failed task: it resumes):

  corpus-tool run pipeline.yaml --executor local --workers 8
  corpus-tool run pipeline.yaml --handoff-mb 0     # step by step
  corpus-tool run pipeline.yaml --dry-run
  corpus-tool run pipeline.yaml --executor slurm
  corpus-tool run pipeline.yaml -e slurm --submit --wait --partition cpu

Slurm without --submit writes OUT/slurm/*.sbatch and OUT/slurm/submit.sh.
"""

DEMO_EPILOG = """Examples:

  corpus-tool demo -o demo-out
  corpus-tool demo -o demo-out --overwrite --workers 2
  corpus-tool demo -o demo-out --executor slurm
"""

REPORT_EPILOG = """Examples (writes ROOT/report/index.html, PNG plots and summary.json):

  corpus-tool report demo-out
  corpus-tool report demo-out -o /tmp/report
"""

AUDIT_EPILOG = """Examples (exit 0 when every check passes, 1 otherwise, each failure listed):

  corpus-tool audit demo-out
"""

Workers = Annotated[
    int | None,
    typer.Option("--workers", "-w", min=1, help="Local executor: tasks run at once (default: the config's)."),
]
ExecutorOpt = Annotated[Executor, typer.Option("--executor", "-e", help="Where tasks run.")]
StartOpt = Annotated[
    Start,
    typer.Option(
        "--start",
        help="Local executor: run the tasks in --workers long-lived workers forked once from this process, "
        "which has imported the libraries and loaded the stages' dictionaries (pool); fork each task from this "
        "process (fork); or spawn a fresh corpus-tool process per task, as Slurm does (spawn). Same output.",
    ),
]

HandoffOpt = Annotated[
    int,
    typer.Option(
        "--handoff-mb",
        min=0,
        help="Local executor, pool: run consecutive per-shard steps (ingest .. dedup's signatures; dedup's filter and "
        "tokenize) shard by shard in one worker, which hands each file it writes to the next step from memory "
        "(up to this many MB per worker; the rest is read from the file). 0: step by step, every file read back. "
        "Same output.",
    ),
]


def init(
    config: Annotated[Path, typer.Argument(help="Config file to write.")] = Path("pipeline.yaml"),
    output: Annotated[
        str,
        typer.Option("-o", "--output", help="Output root written into the config (relative to the config's folder)."),
    ] = "corpus-out",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing config file.")] = False,
) -> None:
    """Write a commented example pipeline config for the embedded sample corpus."""
    if config.exists() and not overwrite:
        raise UsageError(f"{config}: already exists; pass --overwrite to replace it")
    write_config(config, output)
    print(f"wrote {config}; run it with: corpus-tool run {config} --executor local --workers 2")


# The demo without KenLM's lmplz (a plain `pip install`): perplexity scores with the model shipped in
# corpus_tool/data/models/reference-lm instead of a train-lm step. That model is train-lm's output for the
# same reference text and settings (tests/test_perplexity.py retrains it and compares the bytes), so the demo's
# results are the same either way.
SHIPPED_LM = "{data}/models/reference-lm"
_TRAIN_LM_STEP = """  - stage: train-lm
    inputs: ["{data}/reference"]
    output: models/lm
"""
_SHIPPED_LM_NOTE = """  # train-lm is left out: KenLM's lmplz is not installed (`corpus-tool setup kenlm` builds it).
  # perplexity uses the reference model shipped with corpus-tool: train-lm's output for {data}/reference.
"""


def write_config(path: Path, output: str, *, shipped_lm: bool = False) -> None:
    text = TEMPLATE.read_text(encoding="utf-8").replace("__OUTPUT__", output)
    if shipped_lm:
        if _TRAIN_LM_STEP not in text or 'model: "{train-lm}"' not in text:
            raise CorpusToolError(f"{TEMPLATE}: the train-lm step is not where the demo expects it (a bug)")
        text = text.replace(_TRAIN_LM_STEP, _SHIPPED_LM_NOTE).replace('model: "{train-lm}"', f'model: "{SHIPPED_LM}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run(
    config: Annotated[Path, typer.Argument(help="Pipeline config (YAML).", exists=True, dir_okay=False)],
    executor: ExecutorOpt = Executor.local,
    workers: Workers = None,
    start: StartOpt = Start.pool,
    handoff_mb: HandoffOpt = HANDOFF_MB,
    num_shards: Annotated[int | None, typer.Option(min=1, help="Array tasks per stage (overrides the config).")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Redo every task and shard, even finished ones.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the unfinished tasks' command lines only.")] = False,
    submit: Annotated[
        bool,
        typer.Option("--submit", help="Slurm: submit the scripts and print the job ids.", rich_help_panel="Slurm"),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="Slurm: submit (implied) and wait for the jobs; exit 1 if any task failed.",
            rich_help_panel="Slurm",
        ),
    ] = False,
    partition: Annotated[str | None, typer.Option(help="sbatch --partition.", rich_help_panel="Slurm")] = None,
    account: Annotated[str | None, typer.Option(help="sbatch --account.", rich_help_panel="Slurm")] = None,
    time_limit: Annotated[
        str | None, typer.Option("--time", help="sbatch --time per task.", rich_help_panel="Slurm")
    ] = None,
    mem: Annotated[str | None, typer.Option(help="sbatch --mem per task.", rich_help_panel="Slurm")] = None,
    cpus_per_task: Annotated[
        int | None, typer.Option(min=1, help="sbatch --cpus-per-task.", rich_help_panel="Slurm")
    ] = None,
    throttle: Annotated[
        int | None,
        typer.Option(min=1, help="Tasks of one array running at once (%N).", rich_help_panel="Slurm"),
    ] = None,
    poll: Annotated[
        float,
        typer.Option(min=0.2, help="Slurm --wait: seconds between squeue polls.", rich_help_panel="Slurm"),
    ] = 5.0,
) -> None:
    """Run a whole pipeline: on this machine with N workers, or as Slurm array jobs."""
    from corpus_tool.pipeline import load_config, make_plan

    cfg = load_config(config)
    plan = make_plan(cfg, num_shards=num_shards, overwrite=overwrite)
    if plan.missing:
        raise UsageError(
            f"{config}: stage(s) {', '.join(plan.missing)} are not available in this corpus-tool "
            f"(commands: corpus-tool --help)"
        )
    slurm_opts = {
        "partition": partition,
        "account": account,
        "time": time_limit,
        "mem": mem,
        "cpus_per_task": cpus_per_task,
        "throttle": throttle,
    }
    rc = execute(
        plan,
        executor,
        workers or cfg.workers,
        start=start,
        handoff_mb=handoff_mb,
        overwrite=overwrite,
        dry_run=dry_run,
        submit=submit,
        wait=wait,
        slurm_opts=slurm_opts,
        poll=poll,
    )
    raise typer.Exit(rc)


def execute(
    plan,
    executor: Executor,
    workers: int,
    *,
    start: Start = Start.pool,
    handoff_mb: int = HANDOFF_MB,
    overwrite: bool = False,
    dry_run: bool = False,
    submit: bool = False,
    wait: bool = False,
    slurm_opts: dict | None = None,
    poll: float = 5.0,
) -> int:
    """Run (or write, or print) `plan`; returns the exit code."""
    import shlex

    if dry_run:
        for step in plan.steps:
            for i in plan.pending(step, overwrite):
                print(shlex.join(plan.argv(step, i)))
        return ExitCode.OK
    plan.root.mkdir(parents=True, exist_ok=True)
    plan.save()
    tasks = sum(step.count for step in plan.steps)
    print(
        f"corpus-tool: {len(plan.steps)} steps, {tasks} tasks; outputs in {plan.root}, one log per task in "
        f"{plan.root / 'logs'}",
        file=sys.stderr,
    )
    if executor is Executor.local:
        from corpus_tool.executors.local import output_lock, run_local

        with output_lock(plan.root):
            result = run_local(plan, workers, overwrite=overwrite, start=start, handoff_mb=handoff_mb)
        if not result.ok:
            print(
                f"corpus-tool: run FAILED; fix the cause and rerun the same command to finish the "
                f"{len(result.failed)} failed task(s) and what follows",
                file=sys.stderr,
            )
            return ExitCode.FAILURE
        print(
            f"corpus-tool: pipeline finished: {len(result.results)} task(s) run, {result.skipped} already "
            f"finished; outputs in {plan.root}",
            file=sys.stderr,
        )
        return ExitCode.OK

    from corpus_tool.executors import slurm

    slurm.apply_overrides(plan, slurm_opts or {})
    if submit or wait:
        slurm.check_not_running(plan)
    scripts = slurm.write_scripts(plan, overwrite=overwrite)
    sdir = plan.root / "slurm"
    if not scripts:
        print(f"corpus-tool: every task is already finished; nothing to submit ({plan.root})", file=sys.stderr)
        return ExitCode.OK
    print(f"wrote {len(scripts)} sbatch script(s) in {sdir}", file=sys.stderr)
    if not (submit or wait):
        print(f"submit them in order with: bash {sdir / 'submit.sh'}", file=sys.stderr)
        return ExitCode.OK
    submitted = slurm.submit(plan, scripts)
    if not wait:
        print(
            f"submitted {len(submitted)} job(s); watch with: squeue -u $USER; rerun this command after a "
            "failure to submit only the unfinished tasks",
            file=sys.stderr,
        )
        return ExitCode.OK
    try:
        problems = slurm.wait(plan, submitted, poll=poll)
    except KeyboardInterrupt:
        print(
            "corpus-tool: stopped waiting; the jobs keep running (squeue -u $USER). Rerun the same command "
            "once they are done: it submits only what did not finish",
            file=sys.stderr,
        )
        return ExitCode.INTERRUPTED
    if problems:
        print(f"corpus-tool: {len(problems)} task(s) did not finish:", file=sys.stderr)
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        print(
            "corpus-tool: fix the cause and rerun the same command: only unfinished tasks are submitted",
            file=sys.stderr,
        )
        return ExitCode.FAILURE
    print(f"corpus-tool: all Slurm tasks finished; outputs in {plan.root}", file=sys.stderr)
    return ExitCode.OK


def demo(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the config and every output.")] = Path(
        "demo-out"
    ),
    executor: ExecutorOpt = Executor.local,
    workers: Workers = None,
    start: StartOpt = Start.pool,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Delete a previous demo output folder first.")] = False,
) -> None:
    """Run the whole pipeline on the sample corpus embedded in the package, then summarize what it did."""
    from corpus_tool import report as report_mod
    from corpus_tool.pipeline import STATE_DIR, load_config, make_plan

    if output.exists() and any(output.iterdir()):
        if not overwrite:
            raise UsageError(f"{output}: exists and is not empty; pass --overwrite to replace a previous demo")
        if not _is_demo_output(output, STATE_DIR):
            raise UsageError(f"{output}: not the output folder of a previous demo; not deleting it")
        shutil.rmtree(output)
    config = output / "pipeline.yaml"
    from corpus_tool.stages import train_lm

    shipped_lm = not train_lm.kenlm_binaries_available()
    if shipped_lm:
        print("corpus-tool demo: lmplz not found, so perplexity uses the shipped reference model instead of "
              "training one; `corpus-tool setup kenlm` builds lmplz", file=sys.stderr)
    write_config(config, ".", shipped_lm=shipped_lm)
    cfg = load_config(config)
    plan = make_plan(cfg)
    if plan.missing:
        print(
            f"corpus-tool demo: NOT AVAILABLE YET in this installation, skipped: {', '.join(plan.missing)}",
            file=sys.stderr,
        )
    rc = execute(plan, executor, workers or cfg.workers, start=start, submit=True, wait=True, poll=1.0)
    if rc != ExitCode.OK:
        raise typer.Exit(rc)
    from corpus_tool import audit as audit_mod

    summary = report_mod.summarize(plan.root)
    print(report_mod.text_summary(summary))
    page = report_mod.write_report(summary, plan.root / "report")
    checks = audit_mod.audit(plan.root)
    root = plan.root
    print(f"\nresults in {root}:")
    print(f"  config (rerun with corpus-tool run): {config}")
    docs = [s for s in plan.steps if s.documents and s.command != "tokenize"]
    if docs:
        print(f"  clean documents (Parquet):           {docs[-1].output}")
    tokens = [s for s in plan.steps if s.command == "tokenize"]
    if tokens:
        print(f"  token shards (Megatron .bin/.idx):   {tokens[-1].output}")
    print(f"  rejected documents, with reasons:    {root}/*/rejected/")
    print(f"  report (open in a browser):          {page}")
    print(f"  per-task logs:                       {root / 'logs'}")
    if checks.failed:
        print(f"audit: {len(checks.failed)} check(s) FAILED:")
        for line in checks.failed:
            print(f"  {line}")
    else:
        print(f"audit: all {len(checks.passed)} checks passed (corpus-tool audit {output})")
    if plan.missing:
        print(f"NOT RUN (not available yet in this installation): {', '.join(plan.missing)}")
    if checks.failed:
        raise typer.Exit(ExitCode.FAILURE)



def _is_demo_output(folder: Path, state_dir: str) -> bool:
    """True only for a folder a demo made: its plan names the demo config inside it (or the demo stopped
    right after writing that config). A user's own folder is never deleted by --overwrite."""
    import json

    config = folder / "pipeline.yaml"
    try:
        plan = json.loads((folder / state_dir / "plan.json").read_text(encoding="utf-8"))
        return Path(plan.get("config", "")) == config.resolve()
    except (OSError, ValueError):
        return [p.name for p in folder.iterdir()] == ["pipeline.yaml"]


def report(
    root: Annotated[Path, typer.Argument(help="Output root of a pipeline run.", exists=True, file_okay=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Report folder (default ROOT/report).")] = None,
) -> None:
    """Funnel, rejections by reason, distributions: PNG plots, a self-contained HTML page, a text summary."""
    from corpus_tool import report as report_mod

    out = output or root / "report"
    summary = report_mod.summarize(root)
    page = report_mod.write_report(summary, out)
    print(report_mod.text_summary(summary))
    print(f"\nreport: {page}")


def audit(
    root: Annotated[Path, typer.Argument(help="Output root of a pipeline run.", exists=True, file_okay=False)],
) -> None:
    """Check the outputs: in == kept + rejected, manifests match files, no duplicate document ids."""
    from corpus_tool import audit as audit_mod

    result = audit_mod.audit(root)
    for line in result.passed:
        print(f"ok    {line}")
    for line in result.failed:
        print(f"FAIL  {line}")
    if result.failed:
        print(f"audit: {len(result.failed)} check(s) FAILED in {root}", file=sys.stderr)
        raise typer.Exit(ExitCode.FAILURE)
    print(f"audit: all {len(result.passed)} check(s) passed in {root}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command(epilog=INIT_EPILOG)(init)
    app.command(epilog=RUN_EPILOG)(run)
    app.command(epilog=DEMO_EPILOG)(demo)
    app.command(epilog=REPORT_EPILOG)(report)
    app.command(epilog=AUDIT_EPILOG)(audit)


__all__ = ["register", "CorpusToolError"]
