"""Fault injection helpers: run the CLI in a subprocess under limits, kill it, and inspect what it left.

Nothing here mocks the code under test: faults are real (a full tmpfs, RLIMIT_FSIZE, RLIMIT_AS, SIGKILL).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOY = str(Path(__file__).resolve().with_name("toy_cli.py"))


def cli_argv(*args: str, toy: bool = False) -> list[str]:
    """argv for the real CLI (`python -m corpus_tool`), or for the CLI plus the test-only `toy` command."""
    return [sys.executable, TOY, *args] if toy else [sys.executable, "-m", "corpus_tool", *args]


def run(argv: list[str], *, timeout: float = 120, preexec_fn: Callable[[], None] | None = None,
        env: dict | None = None, input: bytes | None = None,
        stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("CORPUS_TOOL_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run(argv, input=input, stdout=stdout, stderr=subprocess.PIPE, env=full_env,
                          timeout=timeout, preexec_fn=preexec_fn, cwd=REPO)


def kill_after(argv: list[str], delay: float, *, env: dict | None = None) -> int | None:
    """Start `argv` in its own process group, SIGKILL the whole group after `delay` seconds.
    Returns the exit code if it finished before the kill, else None."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env,
                            cwd=REPO, start_new_session=True)
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


# ------------------------------------------------------------------------------------------- limits


def limit_file_size(max_bytes: int) -> Callable[[], None]:
    """preexec_fn: files may not grow past `max_bytes`; writes past it fail with EFBIG (SIGXFSZ ignored,
    and the ignored disposition survives exec)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def limit_memory(max_bytes: int) -> Callable[[], None]:
    """preexec_fn: cap the address space (what `ulimit -v` does)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))

    return apply


@contextlib.contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` (e.g. '1m') on `directory`; raises OSError where mounting is not allowed."""
    directory.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        raise OSError(f"cannot mount a tmpfs: {r.stderr.decode(errors='replace').strip()}")
    try:
        yield directory
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(directory)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)


def can_mount_tmpfs(scratch: Path) -> bool:
    if os.geteuid() != 0:
        return False
    try:
        with tmpfs(scratch / "probe", "64k"):
            return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------- what was left


def visible_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(out_dir).parts))


def temp_files(out_dir: Path) -> list[Path]:
    return sorted(p for p in out_dir.rglob(".*") if p.is_file())


def normalized_manifest(path: Path) -> dict:
    """A manifest without what legitimately changes between runs (timings, absolute paths of tmp dirs)."""
    m = json.loads(path.read_text(encoding="utf-8"))
    m.pop("timings", None)
    return m


def snapshot(out_dir: Path, *roots: Path) -> dict[str, str]:
    """sha256 of every visible output file, keyed by relative path. Manifests are compared without their
    timings and with `out_dir` (and `roots`, the folders of the whole run) replaced by placeholders, so two
    runs into different folders compare equal when they wrote the same bytes."""
    snap = {}
    for p in visible_files(out_dir):
        rel = str(p.relative_to(out_dir))
        if p.suffix == ".json" and (p.parent.name == "manifests" or p.name == "manifest.json"):
            text = json.dumps(normalized_manifest(p), sort_keys=True).replace(str(out_dir), "OUT")
            for root in roots:
                text = text.replace(str(root), "ROOT")
            data = text.encode()
        else:
            data = p.read_bytes()
        snap[rel] = hashlib.sha256(data).hexdigest()
    return snap


def check_consistent(out_dir: Path) -> list[str]:
    """Problems in a stage's output directory: a manifest whose files are missing or differ from their
    recorded sha256. (A Parquet without a manifest is allowed: downstream refuses to read it.)"""
    problems = []
    for m in sorted((out_dir / "manifests").glob("*.json")):
        data = json.loads(m.read_text(encoding="utf-8"))
        outs = data.get("outputs", {})
        files = list(outs.get("kept", [])) + ([outs["rejected"]] if outs.get("rejected") else [])
        for f in files:
            p = Path(f["path"])
            if not p.exists():
                problems.append(f"{m.name}: {p} missing")
            elif hashlib.sha256(p.read_bytes()).hexdigest() != f["sha256"]:
                problems.append(f"{m.name}: {p} differs from its manifest")
    return problems


def assert_clean_error(proc: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The process failed with `code`, a one-line `corpus-tool: error:` message containing `needles`,
    and no traceback."""
    err = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}\n{err}"
    assert "Traceback" not in err, err
    assert "corpus-tool: error:" in err, err
    for n in needles:
        assert n in err, f"{n!r} not in stderr:\n{err}"
    return err
