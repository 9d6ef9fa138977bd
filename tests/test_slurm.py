"""The pipeline as real Slurm array jobs on a single-node Slurm started by the tests (tests/slurm_cluster.py).

The cluster has MaxArraySize=1, so every 2-task step of the sample pipeline is split into two array jobs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from slurm_cluster import SlurmCluster, SlurmUnavailable
from test_pipeline import compare_outputs, new_pipeline, reference_run

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm():
    cluster = SlurmCluster(max_array_size=1)
    try:
        cluster.start()
    except SlurmUnavailable as e:
        cluster.stop()
        reason = f"SLURM TESTS SKIPPED: a real Slurm could not be started here: {e}"
        print(f"\n{'!' * 100}\n{reason}\n{'!' * 100}", file=sys.stderr)
        pytest.skip(reason)
    saved = {k: os.environ.get(k) for k in cluster.env}
    os.environ.update(cluster.env)  # sbatch/squeue in the CLI subprocesses, and the jobs, inherit it
    try:
        yield cluster
    finally:
        cluster.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def reference(tmp_path_factory):
    return reference_run(tmp_path_factory)


def _slurm_run(run_cli, config: Path, check: bool = True):
    return run_cli(
        "run",
        str(config),
        "--executor",
        "slurm",
        "--submit",
        "--wait",
        "--poll",
        "0.3",
        check=check,
        timeout=300,
    )


def test_sample_pipeline_on_slurm_is_byte_identical_to_local(slurm, reference, tmp_path, run_cli):
    inputs, local_run = reference
    config = new_pipeline(tmp_path, inputs)
    out = tmp_path / "out"
    proc = _slurm_run(run_cli, config)
    err = proc.stderr.decode()
    # Job ids were printed, one per array job; 2-task steps were split into two arrays (MaxArraySize=1).
    assert re.search(r"01-ingest part 1/2: job \d+ \(1 task\(s\)\)", err), err
    assert re.search(r"01-ingest part 2/2: job \d+ \(1 task\(s\)\)", err), err
    scripts = sorted((out / "slurm").glob("*.sbatch"))
    ingest = (out / "slurm" / "01-ingest.part1.sbatch").read_text()
    assert "#SBATCH --array=0-0%64" in ingest and "#SBATCH --kill-on-invalid-dep=yes" in ingest
    assert "TASKS=(0)" in ingest and "--num-shards 2" in ingest
    assert "TASKS=(1)" in (out / "slurm" / "01-ingest.part2.sbatch").read_text()
    submit_sh = (out / "slurm" / "submit.sh").read_text()
    assert "--dependency=afterok:$J" in submit_sh
    assert len(scripts) >= 10
    # Per-task logs exist and name their Slurm job.
    log = (out / "logs" / "01-ingest" / "task-1.log").read_text()
    assert "Slurm job" in log
    compare_outputs(local_run, out)
    run_cli("audit", str(out))
    # A rerun has nothing to submit.
    again = _slurm_run(run_cli, config)
    assert "nothing to submit" in again.stderr.decode()


def test_failed_task_cancels_dependants_and_rerun_finishes_only_what_is_missing(
    slurm, reference, tmp_path, run_cli
):
    inputs, local_run = reference
    config = new_pipeline(tmp_path, inputs)
    out = tmp_path / "out"
    # Fault: the output file of one normalize shard cannot be created (a folder is in its place), so the
    # task that owns that shard fails at the rename; its sibling tasks succeed.
    shard_names = sorted(p.stem for p in (local_run / "01-ingest" / "manifests").glob("*.json"))
    victim = shard_names[1]
    victim_task = 1  # shard i in name order goes to task i mod 2
    blocker = out / "03-normalize" / f"{victim}.parquet"
    blocker.mkdir(parents=True)
    proc = _slurm_run(run_cli, config, check=False)
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert re.search(rf"03-normalize task {victim_task} \(job \d+_\d+\): FAILED", err), err
    assert re.search(r"04-quality: 2 task\(s\) CANCELLED \(DependencyNeverSatisfied\)", err), err
    # Steps before the failure finished; the failed task's siblings finished; nothing after it ran.
    assert len(list((out / "02-langid" / "manifests").glob("*.json"))) == len(shard_names)
    normalized = {p.stem for p in (out / "03-normalize" / "manifests").glob("*.json")}
    sibling_shards = set(shard_names[0::2])  # task 0's shards
    assert victim not in normalized and sibling_shards <= normalized
    assert not (out / "04-quality" / "manifests").exists() or not list(
        (out / "04-quality" / "manifests").iterdir()
    )

    shutil.rmtree(blocker)
    proc = _slurm_run(run_cli, config)
    jobs = json.loads((out / "slurm" / "jobs.json").read_text())["jobs"]
    steps = {j["step"]: j["tasks"] for j in jobs}
    assert "01-ingest" not in steps and "02-langid" not in steps and "train-lm" not in steps
    assert steps["03-normalize"] == [victim_task]
    assert sorted(sum((j["tasks"] for j in jobs if j["step"] == "04-quality"), [])) == [0, 1]
    compare_outputs(local_run, out)
    run_cli("audit", str(out))
