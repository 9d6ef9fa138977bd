"""Run a plan as Slurm array jobs: one array job per step (split when larger than MaxArraySize), each
after the steps it reads from with `--dependency=afterok:`, per-task logs, and only unfinished tasks submitted.

Files, under the output root:

    slurm/NN-<step>[.partK].sbatch   one array job; task i of the array runs task TASKS[i] of the step
    slurm/submit.sh                  submits them in order with their dependencies (what --submit does)
    slurm/jobs.json                  the job ids of the last submission (--submit)
    logs/<step>/task-<i>.log         the task's output; logs/<step>/slurm-<job>_<i>.out: Slurm's own

The array index is a position in the script's TASKS list, and the task passes `--shard-index TASKS[i]
--num-shards N` explicitly: so an array never exceeds MaxArraySize, and a rerun's arrays hold only the
tasks still missing. Each job has `--kill-on-invalid-dep=yes`: when a task fails, the steps after it are
cancelled instead of pending forever. Success is read from the task records the scripts write, so `--wait`
works without slurmdbd (no sacct).
"""

from __future__ import annotations

import getpass
import json
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from corpus_tool.errors import CorpusToolError, MissingDependencyError, UsageError
from corpus_tool.pipeline import SLURM_DIR, Plan, SlurmOptions, Step

DEFAULT_MAX_ARRAY_SIZE = 1001  # Slurm's default MaxArraySize
ACTIVE_STATES = {
    "PENDING",
    "RUNNING",
    "CONFIGURING",
    "COMPLETING",
    "SUSPENDED",
    "REQUEUED",
    "REQUEUE_HOLD",
    "REQUEUE_FED",
    "RESIZING",
    "SIGNALING",
    "STAGE_OUT",
    "STOPPED",
}
_INDEX = "\0I"  # stands for the task index in a command line until the script is written


@dataclass
class JobScript:
    step: Step
    part: int
    parts: int
    tasks: list[int]  # task indices of the step, in array order
    path: Path


@dataclass
class Submitted:
    script: JobScript
    job_id: str


def _slurm_cmd(args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except FileNotFoundError as e:
        raise MissingDependencyError(
            f"{args[0]}: not found; --submit and --wait need Slurm's client commands (sbatch, squeue, "
            "scontrol) "
            "on PATH. Without --submit, the scripts are written for you to submit elsewhere."
        ) from e
    if check and proc.returncode != 0:
        raise CorpusToolError(f"{shlex.join(args)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc


def max_array_size() -> int:
    """MaxArraySize from `scontrol show config` (tasks per array: index 0 to MaxArraySize - 1)."""
    try:
        proc = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_MAX_ARRAY_SIZE
    m = re.search(r"^MaxArraySize\s*=\s*(\d+)", proc.stdout, re.MULTILINE)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else DEFAULT_MAX_ARRAY_SIZE


def apply_overrides(plan: Plan, overrides: dict[str, Any]) -> None:
    """Command-line sbatch options win over the config's (pipeline-wide and per stage)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if given:
        for step in plan.steps:
            step.slurm = replace(step.slurm, **given)


def write_scripts(
    plan: Plan, *, overwrite: bool = False, array_limit: int | None = None, python: str = sys.executable
) -> list[JobScript]:
    """Write one sbatch script per unfinished step (per part of at most `array_limit` tasks) and submit.sh."""
    limit = array_limit or max_array_size()
    sdir = plan.root / SLURM_DIR
    sdir.mkdir(parents=True, exist_ok=True)
    for old in sdir.glob("*.sbatch"):
        old.unlink()
    scripts: list[JobScript] = []
    for step in plan.steps:
        pending = plan.pending(step, overwrite)
        if not pending:
            continue
        chunks = [pending[i : i + limit] for i in range(0, len(pending), limit)]
        for part, tasks in enumerate(chunks, 1):
            suffix = f".part{part}" if len(chunks) > 1 else ""
            path = sdir / f"{step.label}{suffix}.sbatch"
            path.write_text(_script(plan, step, tasks, part, len(chunks), python), encoding="utf-8")
            scripts.append(JobScript(step, part, len(chunks), tasks, path))
        (plan.root / "logs" / step.label).mkdir(parents=True, exist_ok=True)
        plan.record_path(step, 0).parent.mkdir(parents=True, exist_ok=True)
    (sdir / "submit.sh").write_text(_submit_sh(scripts), encoding="utf-8")
    (sdir / "submit.sh").chmod(0o755)
    return scripts


def _sbatch_options(step: Step, plan: Plan, tasks: int) -> list[str]:
    s: SlurmOptions = step.slurm
    opts = [
        f"--job-name=ct-{step.label}",
        f"--array=0-{tasks - 1}%{s.throttle}",
        f"--output={plan.root / 'logs' / step.label}/slurm-%A_%a.out",
        f"--time={s.time}",
        f"--mem={s.mem}",
        f"--cpus-per-task={s.cpus_per_task}",
        "--kill-on-invalid-dep=yes",
    ]
    if s.partition:
        opts.append(f"--partition={s.partition}")
    if s.account:
        opts.append(f"--account={s.account}")
    return opts + list(s.extra)


def _quote(args: list[str]) -> str:
    return " ".join('"$I"' if a == _INDEX else shlex.quote(a) for a in args)


def _script(plan: Plan, step: Step, tasks: list[int], part: int, parts: int, python: str) -> str:
    header = "\n".join(f"#SBATCH {o}" for o in _sbatch_options(step, plan, len(tasks)))
    part_note = f", part {part} of {parts}" if parts > 1 else ""
    log = plan.log_path(step, 0).parent
    record = plan.record_path(step, 0).parent
    return f"""#!/bin/bash
# corpus-tool pipeline {plan.config.path}
# step {step.label}{part_note}: {len(tasks)} of its {step.count} task(s). Array index k runs task TASKS[k].
{header}
set -u
TASKS=({" ".join(map(str, tasks))})
I=${{TASKS[$SLURM_ARRAY_TASK_ID]}}
LOG={shlex.quote(str(log))}/task-$I.log
RECORD={shlex.quote(str(record))}/$I.json
PREFIX=({_quote(plan.prefix)})
ARGS=({_quote(step.task_args(_INDEX))})
rm -f "$RECORD"
{{
  echo "# {step.label} task $I of {step.count}" \\
       "(Slurm job ${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}} on $(hostname))"
  echo "# ${{PREFIX[*]}} ${{ARGS[*]}}"
}} > "$LOG"
SECONDS=0
"${{PREFIX[@]}}" "${{ARGS[@]}}" >> "$LOG" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
  {shlex.quote(python)} -m corpus_tool.executors.record "$RECORD" "$SECONDS" "${{ARGS[@]}}" \\
    >> "$LOG" 2>&1 || rc=$?
fi
exit "$rc"
"""


def _submit_sh(scripts: list[JobScript]) -> str:
    lines = [
        "#!/bin/bash",
        "# Submits the pipeline's array jobs in order, each afterok the jobs of the steps it reads from.",
        "set -euo pipefail",
        'cd "$(dirname "$0")"',
    ]
    jobs: dict[str, list[str]] = {}  # step label -> shell variables holding its job ids
    for n, js in enumerate(scripts):
        var = f"J{n}"
        deps = [v for label in js.step.after for v in jobs.get(label, [])]
        dep = f"--dependency=afterok:{':'.join('$' + v for v in deps)} " if deps else ""
        lines.append(f"{var}=$(sbatch --parsable {dep}{js.path.name}); {var}=${{{var}%%;*}}")
        lines.append(f'echo "{js.step.label}{f" part {js.part}" if js.parts > 1 else ""}: job ${var}"')
        jobs.setdefault(js.step.label, []).append(var)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- submit


def check_not_running(plan: Plan) -> None:
    """Refuse to submit again while jobs of the previous submission are still queued or running."""
    jobs_file = plan.root / SLURM_DIR / "jobs.json"
    if not jobs_file.exists():
        return
    try:
        previous = [j["job_id"] for j in json.loads(jobs_file.read_text(encoding="utf-8"))["jobs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return
    active = active_jobs(previous)
    if active:
        raise UsageError(
            f"{jobs_file}: job(s) {', '.join(sorted(active))} of the previous submission are still in the "
            "queue; "
            "wait for them (or scancel them) before submitting again"
        )


def submit(plan: Plan, scripts: list[JobScript], out: TextIO = sys.stderr) -> list[Submitted]:
    """sbatch each script, afterok on every job of the steps it reads from that are part of this submission
    (finished steps are not resubmitted and impose nothing); print the job ids."""
    submitted: list[Submitted] = []
    jobs: dict[str, list[str]] = {}  # step label -> its job ids in this submission
    try:
        for js in scripts:
            deps = [j for label in js.step.after for j in jobs.get(label, [])]
            args = ["sbatch", "--parsable"]
            if deps:
                args.append(f"--dependency=afterok:{':'.join(deps)}")
            proc = _slurm_cmd([*args, str(js.path)])
            job_id = proc.stdout.strip().split(";")[0]
            jobs.setdefault(js.step.label, []).append(job_id)
            submitted.append(Submitted(js, job_id))
            part = f" part {js.part}/{js.parts}" if js.parts > 1 else ""
            after = f", after {', '.join(js.step.after)}" if deps else ""
            print(f"{js.step.label}{part}: job {job_id} ({len(js.tasks)} task(s){after})", file=out, flush=True)
    finally:
        _save_jobs(plan, submitted)
    return submitted


def _save_jobs(plan: Plan, submitted: list[Submitted]) -> None:
    path = plan.root / SLURM_DIR / "jobs.json"
    data = {
        "jobs": [
            {
                "step": s.script.step.label,
                "part": s.script.part,
                "job_id": s.job_id,
                "tasks": s.script.tasks,
                "script": str(s.script.path),
            }
            for s in submitted
        ]
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------- wait


def active_jobs(job_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """{job id: [(state, reason), ...]} for those of `job_ids` that are not finished yet."""
    for attempt in range(6):  # slurmctld may be busy for a moment on a loaded cluster
        proc = _slurm_cmd(["squeue", "-h", "-u", getpass.getuser(), "-o", "%F|%i|%T|%r"], check=False)
        if proc.returncode == 0:
            break
        time.sleep(2**attempt)
    else:
        raise CorpusToolError(
            f"squeue failed (exit {proc.returncode}): {proc.stderr.strip()}; the jobs keep running: "
            "rerun the same command later to see what is unfinished"
        )
    wanted = set(job_ids)
    active: dict[str, list[tuple[str, str]]] = {}
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) != 4:
            continue
        array_id, job, state, reason = parts
        base = array_id if array_id not in ("", "N/A", "0") else job.split("_")[0]
        if base in wanted and state in ACTIVE_STATES:
            active.setdefault(base, []).append((state, reason))
    return active


def job_states(job_id: str) -> dict[int, dict[str, str]]:
    """Per array task: JobState, Reason, ExitCode, from `scontrol show job` (empty once Slurm forgot it)."""
    proc = _slurm_cmd(["scontrol", "-o", "show", "job", job_id], check=False)
    states: dict[int, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        fields = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", line))
        task = fields.get("ArrayTaskId", "")
        if task.isdigit():
            states[int(task)] = fields
        elif task:  # a pending range such as 4-7%2
            for a, b in re.findall(r"(\d+)(?:-(\d+))?", task.split("%")[0]):
                for t in range(int(a), int(b or a) + 1):
                    states[t] = fields
    return states


def wait(plan: Plan, submitted: list[Submitted], *, poll: float = 5.0, out: TextIO = sys.stderr) -> list[str]:
    """Poll until every submitted job has left the queue; return one line per task that did not finish."""
    ids = [s.job_id for s in submitted]
    last = ""
    while True:
        active = active_jobs(ids)
        if not active:
            break
        stuck = [
            j
            for j, states in active.items()
            if all(st == "PENDING" and "DependencyNeverSatisfied" in r for st, r in states)
        ]
        if stuck:  # belt and braces: --kill-on-invalid-dep should already have cancelled them
            _slurm_cmd(["scancel", *stuck], check=False)
        counts: dict[str, int] = {}
        for states in active.values():
            for st, _ in states:
                counts[st] = counts.get(st, 0) + 1
        note = ", ".join(f"{n} {st.lower()}" for st, n in sorted(counts.items()))
        running = sorted(
            {s.script.step.label for s in submitted if any(st == "RUNNING" for st, _ in active.get(s.job_id, []))}
        )
        line = f"waiting: {note} task(s)" + (f"; running: {', '.join(running)}" if running else "")
        if line != last:
            print(line, file=out, flush=True)
            last = line
        time.sleep(poll)
    problems: list[str] = []
    never_ran: dict[tuple[str, str], int] = {}  # (step, state and reason) -> tasks
    for s in submitted:
        step = s.script.step
        missing = [t for t in s.script.tasks if not plan.is_done(step, t)]
        if not missing:
            continue
        states = job_states(s.job_id)
        for k, task in enumerate(s.script.tasks):
            if task not in missing:
                continue
            st = states.get(k, {})
            state = st.get("JobState", "unknown state")
            reason = st.get("Reason", "")
            if state in ("CANCELLED", "PENDING") and st.get("ExitCode", "0:0") == "0:0":
                key = (step.label, f"{state}" + (f" ({reason})" if reason not in ("", "None") else ""))
                never_ran[key] = never_ran.get(key, 0) + 1
                continue
            detail = f", exit {st['ExitCode']}" if st.get("ExitCode", "0:0") != "0:0" else ""
            problems.append(
                f"{step.label} task {task} (job {s.job_id}_{k}): {state}{detail}; log: {plan.log_path(step, task)}"
            )
    problems += [f"{label}: {n} task(s) {what}" for (label, what), n in never_ran.items()]
    return problems
