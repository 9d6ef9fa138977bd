"""Run a plan on this machine: step by step, each step's tasks as up to N concurrent subprocesses.

Every task is the same `corpus-tool ...` command line a Slurm array task runs, with its output in
OUT/logs/<step>/task-<i>.log. When a task exits 0 its record is written; a rerun skips recorded tasks, and
inside a task the runner skips finished shards, so a crash or a kill costs at most the shards in flight.
A failed task stops the pipeline after the step's other tasks have finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from corpus_tool import shards
from corpus_tool.errors import UsageError
from corpus_tool.pipeline import STATE_DIR, Plan, Step, write_task_record


@dataclass
class TaskResult:
    step: str
    index: int
    returncode: int
    seconds: float
    max_rss_kb: int  # peak resident set of the task process (from wait4's rusage)
    log: str


@dataclass
class LocalRun:
    results: list[TaskResult]
    failed: list[TaskResult]
    skipped: int  # tasks already finished before this run

    @property
    def ok(self) -> bool:
        return not self.failed


@contextlib.contextmanager
def output_lock(root: Path):
    """One local run per output root at a time: two runs would redo each other's shards."""
    path = root / STATE_DIR / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise UsageError(f"{root}: another `corpus-tool run` is working on this output root") from e
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield


def run_local(plan: Plan, workers: int, *, overwrite: bool = False, out: TextIO = sys.stderr) -> LocalRun:
    """Run every unfinished task of `plan`, step by step, with at most `workers` processes at once."""
    results: list[TaskResult] = []
    skipped = 0
    for number, step in enumerate(plan.steps, 1):
        pending = plan.pending(step, overwrite)
        skipped += step.count - len(pending)
        head = f"[{number}/{len(plan.steps)}] {step.label}"
        if not pending:
            print(f"{head}: all {step.count} task(s) already finished", file=out, flush=True)
            continue
        done_note = f" ({step.count - len(pending)} already finished)" if len(pending) < step.count else ""
        print(
            f"{head}: {len(pending)} task(s){done_note}: corpus-tool {step.command} ...", file=out, flush=True
        )
        t0 = time.perf_counter()
        step_results = _run_step(plan, step, pending, workers)
        results += step_results
        failed = [r for r in step_results if r.returncode != 0]
        peak = max((r.max_rss_kb for r in step_results), default=0)
        print(
            f"{head}: {'FAILED' if failed else 'done'} in {time.perf_counter() - t0:.1f} s "
            f"(peak RSS per task {peak / 1024:.0f} MB)",
            file=out,
            flush=True,
        )
        if failed:
            for r in failed:
                print(f"  task {r.index} exited {_describe_rc(r.returncode)}; log: {r.log}", file=out)
                for line in _tail(r.log, 5):
                    print(f"    | {line}", file=out)
            later = [s.label for s in plan.steps[number:]]
            if later:
                print(f"  not started: {', '.join(later)}", file=out)
            return LocalRun(results, failed, skipped)
    return LocalRun(results, [], skipped)


def _run_step(plan: Plan, step: Step, pending: list[int], workers: int) -> list[TaskResult]:
    queue = list(pending)
    running: dict[int, tuple[int, subprocess.Popen, float]] = {}  # pid -> (index, proc, start)
    results: list[TaskResult] = []
    try:
        while queue or running:
            while queue and len(running) < max(1, workers):
                index = queue.pop(0)
                proc = _start(plan, step, index)
                running[proc.pid] = (index, proc, time.perf_counter())
            pid, status, usage = os.wait4(-1, 0)
            if pid not in running:
                continue
            index, proc, started = running.pop(pid)
            proc.returncode = os.waitstatus_to_exitcode(status)
            seconds = time.perf_counter() - started
            max_rss = int(usage.ru_maxrss)
            if proc.returncode < 0:
                # killed by a signal: it could not remove its temporaries itself
                shards.remove_temporaries([], folder=step.output, pid=pid)
            if proc.returncode == 0:
                write_task_record(
                    plan.record_path(step, index),
                    step.task_args(index),
                    seconds,
                    max_rss_kb=max_rss,
                    cpu_seconds=round(usage.ru_utime + usage.ru_stime, 3),
                    executor="local",
                )
            results.append(
                TaskResult(
                    step.label, index, proc.returncode, seconds, max_rss, str(plan.log_path(step, index))
                )
            )
    except BaseException:
        # Ctrl-C or an error here: stop the children (SIGTERM lets the runner remove its temporary files).
        for _index, proc, _ in running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _index, proc, _ in running.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise
    return sorted(results, key=lambda r: r.index)


def _start(plan: Plan, step: Step, index: int) -> subprocess.Popen:
    log = plan.log_path(step, index)
    log.parent.mkdir(parents=True, exist_ok=True)
    plan.record_path(step, index).unlink(missing_ok=True)
    argv = plan.argv(step, index)
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(f"# {step.label} task {index} of {step.count}\n# {' '.join(argv)}\n")
        fh.flush()
        return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _describe_rc(rc: int) -> str:
    if rc < 0:
        try:
            return f"on signal {signal.Signals(-rc).name}"
        except ValueError:
            return f"on signal {-rc}"
    return str(rc)


def _tail(path: str, n: int) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = [line.rstrip("\n") for line in fh if not line.startswith("# ")]
    except OSError:
        return []
    return lines[-n:]
