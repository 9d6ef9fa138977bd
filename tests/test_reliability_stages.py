"""kill -9 at random points of every stage (dedup steps and tokenize included), then a rerun: the output is
byte-identical to an undisturbed run and `corpus-tool audit` passes.

A module fixture runs the whole chain once, undisturbed, on generated prose (three raw JSONL shards):
ingest -> langid -> normalize -> filter -> perplexity -> dedup -> tokenize, with a KenLM model and a
tokenizer trained by our own commands on the reference text in the package. Each test then reruns one stage
into a fresh directory, SIGKILLs it (the whole process group) several times - just after its first
temporary file appears, a little later, and at a random moment - and finally lets it finish."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import badinput as bad
import pytest
from badinput import faults

DOCS_PER_SHARD = 800
REFERENCE = bad.REFERENCE_DIR


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = faults.run(faults.cli_argv(*args), timeout=timeout)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, f"corpus-tool {' '.join(args)} exited {proc.returncode}\n{err}"
    assert "Traceback" not in err
    return proc


# Each stage: (folder, input folder, extra arguments, work folder or None). Order matters.
STAGES = {
    "ingest": ("01-ingest", "raw", (), None),
    "langid": ("02-langid", "01-ingest", (), None),
    "normalize": ("03-normalize", "02-langid", ("--opencc", "t2s"), None),
    "filter": ("04-filter", "03-normalize", (), None),
    "perplexity": ("05-perplexity", "04-filter", ("--model", "{lm}"), None),
    "dedup": ("06-dedup", "05-perplexity", ("--work", "{work}"), "dedup-work"),
    "tokenize": ("07-tokenize", "06-dedup", ("--tokenizer", "{tok}"), None),
}


def stage_argv(root: Path, stage: str, out_root: Path) -> tuple[list[str], Path, Path | None]:
    folder, source, extra, work = STAGES[stage]
    out = out_root / folder
    work_dir = out_root / work if work else None
    fill = {"lm": str(root / "models" / "lm"), "tok": str(root / "models" / "tok"), "work": str(work_dir)}
    args = [a.format(**fill) for a in extra]
    return faults.cli_argv(stage, str(root / source), "-o", str(out), *args), out, work_dir


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> tuple[Path, dict[str, float]]:
    """The undisturbed run: every stage's output under ROOT, and how long each stage took."""
    root = tmp_path_factory.mktemp("chain")
    (root / "raw").mkdir()
    for s in range(3):
        bad.prose_jsonl(root / "raw" / f"crawl-{s}.jsonl", DOCS_PER_SHARD, seed=s)
    cli("train-lm", str(REFERENCE), "-o", str(root / "models" / "lm"))
    cli("train-tokenizer", str(REFERENCE), "-o", str(root / "models" / "tok"))
    seconds = {}
    for stage in STAGES:
        argv, _, _ = stage_argv(root, stage, root)
        t0 = time.perf_counter()
        proc = faults.run(argv, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode()
        seconds[stage] = time.perf_counter() - t0
    return root, seconds


def kill_while_writing(argv: list[str], watch: list[Path], extra: float, timeout: float = 120) -> bool:
    """Start `argv`; as soon as a hidden temporary file appears under `watch` (the stage is writing a
    shard), wait `extra` seconds and SIGKILL the process group. True if it was killed before finishing."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=faults.REPO,
                            start_new_session=True)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if proc.poll() is not None:
                return False
            if any(faults.temp_files(w) for w in watch if w.exists()):
                time.sleep(extra)
                if proc.poll() is not None:
                    return False
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.003)
        raise AssertionError(f"{argv} neither wrote nor finished in {timeout} s")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("stage", list(STAGES))
def test_kill_9_at_random_points_then_rerun_is_byte_identical(stage, chain, tmp_path):
    root, seconds = chain
    rng = random.Random(f"kill-{stage}")
    argv, out, work = stage_argv(root, stage, tmp_path)
    watch = [out] + ([work] if work else [])
    ref_out = root / STAGES[stage][0]
    killed = 0
    killed += kill_while_writing(argv, watch, rng.uniform(0, 0.05))  # mid-write of the first file
    killed += kill_while_writing(argv, watch, rng.uniform(0.05, 0.5))  # later, often another shard or step
    killed += faults.kill_after(argv, rng.uniform(0.3, seconds[stage])) is None  # anywhere, startup included
    assert killed >= 1, f"{stage} finished before any kill landed"
    # After the kills: what is visible is consistent, and a later stage refuses unfinished shards.
    assert faults.check_consistent(out) == [] if out.exists() else True
    proc = faults.run(argv, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert faults.snapshot(out, tmp_path, root) == faults.snapshot(ref_out, root), f"{stage}: rerun differs"
    if work is not None:
        assert faults.snapshot(work, tmp_path, root) == faults.snapshot(root / STAGES[stage][3], root)
    # audit passes on the recovered output, hidden temporary files of the killed runs included.
    audit = faults.run(faults.cli_argv("audit", str(tmp_path)))
    assert audit.returncode == 0, audit.stdout.decode() + audit.stderr.decode()
    assert "FAIL" not in audit.stdout.decode()


def test_reference_chain_passes_audit(chain):
    root, _ = chain
    proc = faults.run(faults.cli_argv("audit", str(root)))
    assert proc.returncode == 0 and "FAIL" not in proc.stdout.decode(), proc.stdout.decode()


@pytest.mark.parametrize("step", ["signatures", "pairs", "clusters", "filter"])
def test_dedup_single_steps_survive_kill_9(step, chain, tmp_path):
    """The array-able dedup steps run one by one (as Slurm runs them); the step under test is killed
    mid-write twice, then rerun; the final output equals the undisturbed run's."""
    root, _ = chain
    source = str(root / "05-perplexity")
    work = tmp_path / "dedup-work"
    out = tmp_path / "06-dedup"
    steps = {
        "signatures": faults.cli_argv("dedup", "signatures", source, "-o", str(work)),
        "pairs": faults.cli_argv("dedup", "pairs", str(work)),
        "clusters": faults.cli_argv("dedup", "clusters", str(work)),
        "filter": faults.cli_argv("dedup", "filter", source, "--work", str(work), "-o", str(out)),
    }
    rng = random.Random(f"dedup-{step}")
    for name, argv in steps.items():
        if name == step:
            watch = [work, out]
            kill_while_writing(argv, watch, rng.uniform(0, 0.02))
            kill_while_writing(argv, watch, rng.uniform(0.02, 0.3))
        proc = faults.run(argv, timeout=300)
        assert proc.returncode == 0, f"dedup {name}: {proc.stderr.decode()}"
    assert faults.snapshot(out, tmp_path, root) == faults.snapshot(root / "06-dedup", root)


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_stage_on_a_disk_that_fills_up(stage, chain, tmp_path):
    """Writes fail past 150 KB (RLIMIT_FSIZE, EFBIG): every stage exits 5 naming what it could not write,
    leaves no temporary file and nothing inconsistent (was: dedup an internal error)."""
    root, _ = chain
    argv, out, work = stage_argv(root, stage, tmp_path)
    proc = faults.run(argv, preexec_fn=faults.limit_file_size(150_000), timeout=300)
    faults.assert_clean_error(proc, 5, "cannot write", "File too large")
    for folder in (out, work):
        if folder is not None and folder.exists():
            assert faults.temp_files(folder) == []
            assert faults.check_consistent(folder) == []


@pytest.fixture(scope="module")
def mountable(tmp_path_factory) -> bool:
    return faults.can_mount_tmpfs(tmp_path_factory.mktemp("probe"))


def test_dedup_on_a_full_disk_is_an_error_not_sigbus(chain, tmp_path, mountable):
    """dedup writes signatures through a memory map; on a full disk that was SIGBUS (exit 135, no message).
    The blocks are reserved first now: exit 5 naming the folder."""
    if not mountable:
        pytest.skip("mounting a tmpfs needs root")
    root, _ = chain
    for size in ("100k", "600k"):
        mnt = tmp_path / size
        with faults.tmpfs(mnt, size):
            proc = faults.run(faults.cli_argv("dedup", str(root / "05-perplexity"), "-o", str(mnt / "out"),
                                              "--work", str(mnt / "work")), timeout=300)
            faults.assert_clean_error(proc, 5, "No space left on device", str(mnt / "work"))
            assert faults.temp_files(mnt) == []


def test_kill_9_of_the_whole_pipeline_run_then_rerun(tmp_path, tmp_path_factory):
    """`corpus-tool run` itself and all its workers SIGKILLed twice at random moments (the login node
    dies, the allocation ends); a plain rerun finishes only what is missing, byte-identical to the
    undisturbed pipeline run, and audit passes. (The pipeline's own test kills one worker.)"""
    from test_pipeline import compare_outputs, new_pipeline, reference_run

    inputs, ref = reference_run(tmp_path_factory)
    config = new_pipeline(tmp_path / "run", inputs)
    argv = faults.cli_argv("run", str(config), "--executor", "local", "--workers", "2")
    rng = random.Random("pipeline")
    # the first kill within 2 s: the fixture pipeline, forked and compiled, can finish in 3.5 s
    killed = [faults.kill_after(argv, rng.uniform(low, high)) is None for low, high in ((0.5, 2.0), (3.0, 9.0))]
    assert killed[0], "the first kill came after the run had finished"
    proc = faults.run(argv, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "already finished" in proc.stderr.decode()  # resumed, not redone
    out = tmp_path / "run" / "out"
    compare_outputs(ref, out)
    audit = faults.run(faults.cli_argv("audit", str(out)))
    assert audit.returncode == 0 and "FAIL" not in audit.stdout.decode(), audit.stdout.decode()
