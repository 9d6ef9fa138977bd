"""Run a plan on this machine: step by step, each step's tasks as up to N concurrent subprocesses.

Every task is the same `corpus-tool ...` command line a Slurm array task runs, with its output in
OUT/logs/<step>/task-<i>.log. By default (`--start fork`) a task is a child forked from this process, which
has imported Python's and corpus-tool's libraries once: the child runs the command line through the same entry
point, without the 0.6 s of CPU a fresh interpreter spends starting and importing them (`--start spawn` starts a fresh
`corpus-tool` process instead, exactly as Slurm does; the outputs are the same bytes). When a task exits 0 its
record is written; a rerun skips recorded tasks, and inside a task the runner skips finished shards, so a
crash or a kill costs at most the shards in flight. A failed task stops the pipeline after the step's other
tasks have finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import os
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from corpus_tool import shards
from corpus_tool.errors import UsageError
from corpus_tool.executors import Start
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


def run_local(plan: Plan, workers: int, *, overwrite: bool = False, start: Start = Start.fork,
              out: TextIO = sys.stderr) -> LocalRun:
    """Run every unfinished task of `plan`, step by step, with at most `workers` processes at once."""
    if start is Start.fork:
        _import_for_tasks()
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
        if start is Start.fork:
            warm_for_tasks(step)
        step_results = _run_step(plan, step, pending, workers, start)
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


def _run_step(plan: Plan, step: Step, pending: list[int], workers: int, start: Start) -> list[TaskResult]:
    queue = list(pending)
    running: dict[int, tuple[int, subprocess.Popen | ForkedTask, float]] = {}  # pid -> (index, proc, start)
    results: list[TaskResult] = []
    try:
        while queue or running:
            while queue and len(running) < max(1, workers):
                index = queue.pop(0)
                proc = _start(plan, step, index, start)
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
                    start=start.value,
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


def _start(plan: Plan, step: Step, index: int, start: Start) -> subprocess.Popen | ForkedTask:
    log = plan.log_path(step, index)
    log.parent.mkdir(parents=True, exist_ok=True)
    plan.record_path(step, index).unlink(missing_ok=True)
    argv = plan.argv(step, index)
    with open(log, "w", encoding="utf-8") as fh:
        fh.write(f"# {step.label} task {index} of {step.count}\n# {' '.join(argv)}\n")
        fh.flush()
        if start is Start.fork:
            return ForkedTask.start(step.task_args(index), fh.fileno())
        return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _import_for_tasks() -> None:
    """Import what every task imports (the CLI, the runner: pyarrow, numpy), once, before the first fork.
    typer imports its parameter coercion (and pydantic with it, about 0.1 s) only when a command line is
    parsed: that too, for a run started from Python, where no command line was parsed here (`corpus-tool
    run` has already imported it for its own)."""
    import corpus_tool.cli  # noqa: F401, PLC0415
    import corpus_tool.runner  # noqa: F401, PLC0415

    with contextlib.suppress(ImportError):  # typer's own module: absent in other typer versions
        importlib.import_module("typer._adapters")


def warm_for_tasks(step: Step) -> None:
    """Load what every task of `step` loads (Options.warm: its stage's modules, jieba's dictionary) in this
    process, once, before its tasks are forked: they inherit it instead of each loading it again. Then
    freeze the heap for the garbage collector (gc.freeze), so that a child's collections do not touch, and
    so copy, the inherited objects' pages."""
    for entry in step.warm:
        module, _, function = entry.partition(":")
        try:
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
        except Exception:  # noqa: BLE001 - a task that needs it fails on it itself, with its own message
            continue
    gc.freeze()


class ForkedTask:
    """A task run in a child forked from this process: `corpus-tool ARGS` through the CLI's entry point, with
    stdout and stderr on the task's log. Offers what the executor uses of subprocess.Popen."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    @classmethod
    def start(cls, args: list[str], log_fd: int) -> ForkedTask:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return cls(pid)
        code = 1
        try:  # the child: never returns into the executor
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            # fresh stream objects on the log: whatever sys.stdout and sys.stderr were here (a capture, a tty)
            sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False,  # noqa: SIM115
                              buffering=1)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            sys.argv = ["corpus-tool", *args]
            from corpus_tool import cli  # noqa: PLC0415

            try:
                cli.main(args)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - cli.main reports its own errors; this is only a last resort
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere (the executor's wait4)
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["corpus-tool"], timeout or 0)
            time.sleep(0.05)
        return self.returncode


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
