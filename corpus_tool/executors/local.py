"""Run a plan on this machine: step by step, each step's tasks as up to N concurrent processes.

Every task is the same `corpus-tool ...` command line a Slurm array task runs, with its output in
OUT/logs/<step>/task-<i>.log. How a task gets a process (`--start`):

- `pool` (the default): `run` imports Python's and corpus-tool's libraries and loads what the steps' tasks load
  (their stages' modules, jieba's dictionary), then forks N workers once; each runs task after task through
  the CLI's entry point. A task pays neither a fresh interpreter (0.6 s of CPU) nor, as a fresh fork would,
  the page faults of copying what it touches of `run`'s memory and of growing a heap of its own again (a
  third of a forked task's fixed cost was the kernel's). A command stage's task (train-lm, ...) still gets a
  fork of its own.
- `fork`: a child forked from `run` per task.
- `spawn`: a fresh `corpus-tool` process per task, exactly as Slurm starts one.

With the pool, consecutive steps that work shard by shard (ingest, langid, normalize, filter, perplexity and dedup's
signatures; dedup's filter and tokenize) run as a chain: a worker takes task i of the first step and then task i
of each next one, on the shards it has just written, and reads them from memory instead of from their files
(handoff.py, at most `--handoff-mb` in all). Any task a chain did not finish runs after it as usual.

The outputs are the same bytes. When a task exits 0 its record is written; a rerun skips recorded tasks, and
inside a task the runner skips finished shards, so a crash or a kill costs at most the shards in flight. A
failed task stops the pipeline after the step's other tasks have finished.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import json
import os
import re
import resource
import select
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from corpus_tool import handoff, shards
from corpus_tool.errors import UsageError
from corpus_tool.executors import HANDOFF_MB, Start
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


def run_local(plan: Plan, workers: int, *, overwrite: bool = False, start: Start = Start.pool,
              out: TextIO = sys.stderr, handoff_mb: int = HANDOFF_MB) -> LocalRun:
    """Run every unfinished task of `plan`, step by step (with the pool, chains of per-shard steps shard by
    shard), with at most `workers` processes at once; `handoff_mb` 0 turns the chains off."""
    pool: WorkerPool | None = None
    if start is not Start.spawn:
        _import_for_tasks()
    if start is Start.pool:
        for step in plan.steps:  # the workers are forked once: they inherit what every later step loads
            if plan.pending(step, overwrite):
                warm_for_tasks(step)
        pool = WorkerPool(max(1, workers))
    try:
        return _run_steps(plan, workers, overwrite, start, pool, out, handoff_mb << 20)
    finally:
        if pool is not None:
            pool.close()


def chains(steps: list[Step]) -> list[list[Step]]:
    """`steps` in order, cut into runs a worker can take shard by shard: a step joins the run before it when
    both work shard by shard (StepSpec.per_shard) in as many tasks, it reads the previous step's output, and it
    needs nothing else from the run (what it needs from earlier steps is finished before the run starts)."""
    runs: list[list[Step]] = []
    for step in steps:
        if runs and _continues(runs[-1], step):
            runs[-1].append(step)
        else:
            runs.append([step])
    return runs


def _continues(run: list[Step], step: Step) -> bool:
    before = run[-1]
    inside = {s.label for s in run}
    return (before.chain_done is not None and step.chain_done is not None and before.sharded and step.sharded
            and not step.own_process and step.count == before.count and step.chain_input is not None
            and step.chain_input == before.output and set(step.after) & inside <= {before.label})


def _run_steps(plan: Plan, workers: int, overwrite: bool, start: Start, pool: WorkerPool | None,
               out: TextIO, handoff_bytes: int = 0) -> LocalRun:
    results: list[TaskResult] = []
    skipped = 0
    runs = chains(plan.steps) if pool is not None and handoff_bytes else [[s] for s in plan.steps]
    for run in runs:
        # a run's steps before its first unfinished one are finished: a chain starts there
        while len(run) > 1 and not plan.pending(run[0], overwrite):
            skipped += run[0].count
            _say(plan, run[0], f"all {run[0].count} task(s) already finished", out)
            run = run[1:]
        if len(run) > 1:
            step_results, failed, done_before = _run_chain(plan, run, pool, overwrite, handoff_bytes, out)
        else:
            step_results, failed, done_before = _run_one_step(plan, run[0], workers, overwrite, start, pool, out)
        results += step_results
        skipped += done_before
        if failed:
            later = [s.label for s in plan.steps[plan.steps.index(run[-1]) + 1:]]
            if later:
                print(f"  not started: {', '.join(later)}", file=out)
            return LocalRun(results, failed, skipped)
    return LocalRun(results, [], skipped)


def _say(plan: Plan, step: Step, what: str, out: TextIO) -> None:
    print(f"[{plan.steps.index(step) + 1}/{len(plan.steps)}] {step.label}: {what}", file=out, flush=True)


def _pending_note(plan: Plan, step: Step, pending: list[int]) -> str:
    done_note = f" ({step.count - len(pending)} already finished)" if len(pending) < step.count else ""
    return f"{len(pending)} task(s){done_note}: corpus-tool {step.command} ..."


def _report(plan: Plan, steps: list[Step], step_results: list[TaskResult], seconds: float,
            out: TextIO) -> list[TaskResult]:
    """Print how the step (or chain) went; returns its failed tasks."""
    failed = [r for r in step_results if r.returncode != 0]
    peak = max((r.max_rss_kb for r in step_results), default=0)
    first, last = plan.steps.index(steps[0]) + 1, plan.steps.index(steps[-1]) + 1
    head = (f"[{first}/{len(plan.steps)}] {steps[0].label}" if len(steps) == 1
            else f"[{first}-{last}/{len(plan.steps)}] {steps[0].label} .. {steps[-1].label}")
    print(f"{head}: {'FAILED' if failed else 'done'} in {seconds:.1f} s (peak RSS per task {peak / 1024:.0f} MB)",
          file=out, flush=True)
    for r in failed:
        print(f"  {r.step} task {r.index} exited {_describe_rc(r.returncode)}; log: {r.log}", file=out)
        for line in _tail(r.log, 5):
            print(f"    | {line}", file=out)
    return failed


def _run_one_step(plan: Plan, step: Step, workers: int, overwrite: bool, start: Start, pool: WorkerPool | None,
                  out: TextIO) -> tuple[list[TaskResult], list[TaskResult], int]:
    """(results, failed ones, tasks already finished) of one step's unfinished tasks."""
    pending = plan.pending(step, overwrite)
    if not pending:
        _say(plan, step, f"all {step.count} task(s) already finished", out)
        return [], [], step.count
    _say(plan, step, _pending_note(plan, step, pending), out)
    t0 = time.perf_counter()
    if start is Start.fork:
        warm_for_tasks(step)
    if pool is not None and not step.own_process:
        step_results = _run_step_in_pool(plan, step, pending, pool)
    else:
        step_results = _run_step(plan, step, pending, workers, Start.fork if pool is not None else start)
    failed = _report(plan, [step], step_results, time.perf_counter() - t0, out)
    return step_results, failed, step.count - len(pending)


def _run_chain(plan: Plan, run: list[Step], pool: WorkerPool, overwrite: bool, handoff_bytes: int,
               out: TextIO) -> tuple[list[TaskResult], list[TaskResult], int]:
    """Task i of every step of `run`, one after the other in one worker, for each i; then, as usual, any task a
    chain did not finish (a chained task runs on the shards the task before it wrote, so its record, which says
    that every shard it owns by the runner's rule is finished, is written only when that holds)."""
    done_before = 0
    for k, step in enumerate(run):
        pending = plan.pending(step, overwrite)
        done_before += step.count - len(pending)
        note = "" if k == 0 else f" (chained: each shard goes on from {run[k - 1].label} in the same worker)"
        _say(plan, step, _pending_note(plan, step, pending) + note, out)
    t0 = time.perf_counter()
    answers = _run_chains_in_pool(plan, run, pool, handoff_bytes, overwrite)
    step_results = []
    for step, index, answer in answers:
        rc = int(answer["returncode"])
        if rc == 0 and step is not run[0] and not all(
            shards.is_finished(step.chain_done, n) for n in plan.owned_shards(step, index)
        ):
            continue  # done below, as an ordinary task
        step_results.append(_finished(plan, step, index, rc, answer["seconds"], int(answer["max_rss_kb"] or 0),
                                      answer["cpu_seconds"], Start.pool))
    failed = _report(plan, run, step_results, time.perf_counter() - t0, out)
    if failed:
        return step_results, failed, done_before
    for step in run:  # what the chains left (nothing, unless a step's shards are not the step before's)
        if plan.pending(step):
            more, failed, _ = _run_one_step(plan, step, 1, False, Start.pool, pool, out)
            step_results += more
            if failed:
                return step_results, failed, done_before
    return step_results, [], done_before


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
            results.append(_finished(plan, step, index, proc.returncode, seconds, max_rss,
                                     round(usage.ru_utime + usage.ru_stime, 3), start))
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


def _finished(plan: Plan, step: Step, index: int, returncode: int, seconds: float, max_rss_kb: int,
              cpu_seconds: float | None, start: Start) -> TaskResult:
    """A task that ended: its record when it exited 0 (what a rerun checks), and its result."""
    if returncode == 0:
        write_task_record(
            plan.record_path(step, index),
            step.task_args(index),
            seconds,
            max_rss_kb=max_rss_kb,
            cpu_seconds=cpu_seconds,
            executor="local",
            start=start.value,
        )
    return TaskResult(step.label, index, returncode, seconds, max_rss_kb, str(plan.log_path(step, index)))


def _start(plan: Plan, step: Step, index: int, start: Start) -> subprocess.Popen | ForkedTask:
    log = _new_log(plan, step, index)
    with open(log, "a", encoding="utf-8") as fh:
        if start is Start.fork:
            return ForkedTask.start(step.task_args(index), fh.fileno())
        return subprocess.Popen(plan.argv(step, index), stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)


def _new_log(plan: Plan, step: Step, index: int) -> Path:
    """Start the task's log with its command line, and drop an old record of the task (it is running again)."""
    log = plan.log_path(step, index)
    log.parent.mkdir(parents=True, exist_ok=True)
    plan.record_path(step, index).unlink(missing_ok=True)
    argv = plan.argv(step, index)
    log.write_text(f"# {step.label} task {index} of {step.count}\n# {' '.join(argv)}\n", encoding="utf-8")
    return log


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
            _stdin_from_devnull()
            _output_to(log_fd)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            code = _call_cli(args)
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


def _stdin_from_devnull() -> None:
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _output_to(fd: int) -> None:
    """stdout and stderr on `fd` (a task's log), with fresh stream objects: whatever sys.stdout and sys.stderr
    were (a capture, a tty, the previous task's log) is left behind."""
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115


def _call_cli(args: list[str]) -> int:
    """`corpus-tool ARGS` through the CLI's entry point, in this process; its exit code."""
    sys.argv = ["corpus-tool", *args]
    from corpus_tool import cli  # noqa: PLC0415

    try:
        cli.main(args)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


# ------------------------------------------------------------------------------------------ worker pool


class PoolWorker:
    """A process forked from `run` once that runs the tasks it is sent, one after another: each as
    `corpus-tool ARGS` through the CLI's entry point with stdout and stderr on the task's log, answering with
    the task's exit code, CPU and peak RSS. It reads tasks from one pipe and answers on another; it exits
    when the task pipe closes."""

    def __init__(self, pid: int, tasks_fd: int, results_fd: int):
        self.pid = pid
        self.tasks_fd = tasks_fd  # ours: the write end
        self.results_fd = results_fd  # ours: the read end
        self.task: tuple[int, float] | None = None  # (unit, start time) of the tasks it is running
        self.answered = 0  # of those tasks
        self._pending = b""

    @classmethod
    def start(cls, others: list[PoolWorker]) -> PoolWorker:
        tasks_r, tasks_w = os.pipe()
        results_r, results_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            os.close(tasks_r)
            os.close(results_w)
            return cls(pid, tasks_w, results_r)
        code = 0
        try:  # the worker: never returns into the executor
            for fd in (tasks_w, results_r, *(f for w in others for f in (w.tasks_fd, w.results_fd))):
                os.close(fd)  # another worker's pipes held open here would hide that worker's end of input
            _serve(tasks_r, results_w)
        except BaseException:  # noqa: BLE001 - a task's own errors are its log's; this is the worker's
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    def send(self, unit: int, tasks: list[tuple[list[str], Path]], handoff_bytes: int = 0) -> None:
        """Send tasks to run one after the other (a chain when there are several: the worker keeps up to
        `handoff_bytes` of the files a task writes for the next, handoff.py); each is answered when done."""
        message = {"tasks": [{"args": args, "log": str(log)} for args, log in tasks], "handoff": handoff_bytes}
        os.write(self.tasks_fd, (json.dumps(message) + "\n").encode())
        self.task = (unit, time.perf_counter())
        self.answered = 0

    def receive(self) -> list[dict]:
        """The answers that have come for the tasks sent (each once); [] while none has. Raises EOFError when
        the worker has died (no more answers will come)."""
        data = os.read(self.results_fd, 65536)
        if not data:
            raise EOFError
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        self.answered += len(lines)
        return [json.loads(line) for line in lines]

    def reap(self) -> int:
        """The exit code of a worker that has ended (negative: the signal that killed it)."""
        for fd in (self.tasks_fd, self.results_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:  # reaped by a forked task's wait4(-1) in a step of the other kind
            return 1
        return os.waitstatus_to_exitcode(status)


class WorkerPool:
    """Up to `size` PoolWorkers, started as they are first needed; a worker that dies is replaced."""

    def __init__(self, size: int):
        self.size = size
        self.workers: list[PoolWorker] = []

    def idle(self) -> PoolWorker | None:
        for worker in self.workers:
            if worker.task is None:
                return worker
        if len(self.workers) < self.size:
            worker = PoolWorker.start(self.workers)
            self.workers.append(worker)
            return worker
        return None

    def busy(self) -> list[PoolWorker]:
        return [w for w in self.workers if w.task is not None]

    def remove(self, worker: PoolWorker) -> int:
        self.workers.remove(worker)
        return worker.reap()

    def terminate(self) -> None:
        """SIGTERM to the workers running a task: the runner removes its temporary files and the task ends."""
        for worker in self.busy():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)

    def close(self, timeout: float = 30.0) -> None:
        """End every worker: closing its task pipe ends an idle one; one still busy after `timeout` is killed."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                os.close(worker.tasks_fd)
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            while True:
                try:
                    pid, _ = os.waitpid(worker.pid, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid:
                    break
                if time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker.pid, signal.SIGKILL)
                time.sleep(0.01)
            with contextlib.suppress(OSError):
                os.close(worker.results_fd)
        self.workers = []


def _serve(tasks_fd: int, results_fd: int) -> None:
    """A pool worker's loop: run each task it is sent, answer, wait for the next; return when `run` closes the
    task pipe. Ctrl-C reaches a running task (it stops as a forked one does) but not an idle worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _stdin_from_devnull()
    messages = os.fdopen(tasks_fd, "rb")
    for line in messages:
        message = json.loads(line)
        handoff.enable(message.get("handoff", 0))
        handoff.reset()
        try:
            tasks = message["tasks"]
            for k, task in enumerate(tasks):
                # a later task takes the shards the one before it wrote; the last one's files are not kept
                handoff.begin_task(chained=k > 0, feeds_next=k < len(tasks) - 1)
                started = time.perf_counter()
                answer = _run_pool_task(task["args"], task["log"])
                answer["seconds"] = round(time.perf_counter() - started, 3)
                os.write(results_fd, (json.dumps(answer) + "\n").encode())
                if answer["returncode"] != 0:
                    break  # the chain's later tasks need what this one did not finish
        finally:
            handoff.reset()  # what was kept is freed before the next message
            handoff.enable(0)


def _run_pool_task(args: list[str], log: str) -> dict:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        _output_to(fd)
    finally:
        os.close(fd)
    _reset_peak_rss()
    before = _cpu_seconds()
    code = 1
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = _call_cli(args)
    except BaseException:  # noqa: BLE001 - cli.main reports its own errors; this is only a last resort
        traceback.print_exc()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.stdout.flush()
        sys.stderr.flush()
    cpu = _cpu_seconds() - before
    peak = _peak_rss_kb()
    null = os.open(os.devnull, os.O_WRONLY)  # nothing more reaches this task's log
    _output_to(null)
    os.close(null)
    gc.collect()
    return {"returncode": code, "cpu_seconds": round(cpu, 3), "max_rss_kb": peak}


def _cpu_seconds() -> float:
    """CPU of this process (all its threads) and of the children it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_HWM = re.compile(rb"VmHWM:\s+(\d+) kB")


def _reset_peak_rss() -> None:
    """Start this process's peak RSS (VmHWM) again from its current RSS, so that each task's peak is its
    own (Linux: /proc/self/clear_refs); where that is not possible the peak is the worker's so far."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_rss_kb() -> int:
    try:
        with open("/proc/self/status", "rb") as fh:
            found = _HWM.search(fh.read())
    except OSError:
        found = None
    return int(found.group(1)) if found else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _run_step_in_pool(plan: Plan, step: Step, pending: list[int], pool: WorkerPool) -> list[TaskResult]:
    """The step's tasks on the pool's workers, as many at once as it has workers."""
    answers = _run_in_pool(plan, [[(step, index, True)] for index in pending], pool, 0)
    return sorted((_finished(plan, s, index, int(a["returncode"]), a["seconds"], int(a["max_rss_kb"] or 0),
                             a["cpu_seconds"], Start.pool) for s, index, a in answers), key=lambda r: r.index)


def _run_chains_in_pool(plan: Plan, run: list[Step], pool: WorkerPool, handoff_bytes: int,
                        overwrite: bool) -> list[tuple[Step, int, dict]]:
    """For each task index with an unfinished task in `run`: task i of every step of `run`, in one worker, one
    after the other (those already finished too: the runner skips their shards, and the next task learns
    from it which shards to take). Answers for the tasks that were unfinished."""
    pending = {step.label: set(plan.pending(step, overwrite)) for step in run}
    units = [[(step, i, i in pending[step.label]) for step in run]
             for i in range(run[0].count) if any(i in p for p in pending.values())]
    return [(step, i, a) for step, i, a in _run_in_pool(plan, units, pool, handoff_bytes) if i in pending[step.label]]


def _run_in_pool(plan: Plan, units: list[list[tuple[Step, int, bool]]], pool: WorkerPool,
                 handoff_bytes: int) -> list[tuple[Step, int, dict]]:
    """Each unit (tasks run one after the other in one worker) on the pool's workers, as many at once as it has
    workers; (step, index, answer) for every task that ran, with its exit code, seconds, CPU and peak RSS. A
    task marked as finished before keeps its log and record (its output goes nowhere)."""
    queue = list(range(len(units)))
    answers: list[tuple[Step, int, dict]] = []
    try:
        while queue or pool.busy():
            while queue and (worker := pool.idle()) is not None:
                u = queue.pop(0)
                tasks = [(step.task_args(index), _new_log(plan, step, index) if fresh else Path(os.devnull))
                         for step, index, fresh in units[u]]
                try:
                    worker.send(u, tasks, handoff_bytes)
                except BrokenPipeError:  # it died between tasks: a new one takes them
                    pool.remove(worker)
                    queue.insert(0, u)
            busy = {w.results_fd: w for w in pool.busy()}
            ready, _, _ = select.select(list(busy), [], [])
            for fd in ready:
                worker = busy[fd]
                u, started = worker.task or (0, 0.0)
                unit = units[u]
                first = worker.answered
                try:
                    got = worker.receive()
                except EOFError:  # killed (OOM, a signal) or crashed: the running task failed, its worker is gone
                    rc = pool.remove(worker)
                    step = unit[worker.answered][0]
                    shards.remove_temporaries([], folder=step.output, pid=worker.pid)
                    got = [{"returncode": rc if rc < 0 else (rc or 1), "cpu_seconds": None, "max_rss_kb": 0,
                            "seconds": round(time.perf_counter() - started, 3)}]
                    worker.answered = len(unit)
                answers += [(*unit[first + k][:2], a) for k, a in enumerate(got)]
                if worker.answered >= len(unit) or any(a["returncode"] != 0 for a in got):
                    worker.task = None
                elif got:  # the unit's next task has started
                    worker.task = (u, time.perf_counter())
    except BaseException:
        # Ctrl-C or an error here: stop the running tasks (the runner removes temporaries); run_local's
        # pool.close() then waits for them
        pool.terminate()
        raise
    return answers


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
