"""The pipeline as real Slurm array jobs on a single-node Slurm started by the tests (tests/slurm_cluster.py).

The cluster has MaxArraySize=3, so every 4-task step of the sample pipeline is split into two array jobs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.slurm_cluster import SlurmCluster, SlurmUnavailable
from tests.test_pipeline import compare_outputs, local_sample_run

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def slurm():
    cluster = SlurmCluster(max_array_size=3)
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


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    return local_sample_run(tmp_path_factory.mktemp("local"))


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


def test_sample_pipeline_on_slurm_is_byte_identical_to_local(slurm, local_run, tmp_path, run_cli):
    out = tmp_path / "slurm-out"
    run_cli("init", str(tmp_path / "pipeline.yaml"), "-o", str(out))
    proc = _slurm_run(run_cli, tmp_path / "pipeline.yaml")
    err = proc.stderr.decode()
    # Job ids were printed, one per array job; 4-task steps were split into two arrays (MaxArraySize=3).
    assert re.search(r"01-ingest part 1/2: job \d+ \(3 task\(s\)\)", err), err
    assert re.search(r"01-ingest part 2/2: job \d+ \(1 task\(s\)\)", err), err
    scripts = sorted((out / "slurm").glob("*.sbatch"))
    ingest = (out / "slurm" / "01-ingest.part1.sbatch").read_text()
    assert "#SBATCH --array=0-2%64" in ingest and "#SBATCH --kill-on-invalid-dep=yes" in ingest
    assert "TASKS=(0 1 2)" in ingest and "--num-shards 4" in ingest
    assert "TASKS=(3)" in (out / "slurm" / "01-ingest.part2.sbatch").read_text()
    submit_sh = (out / "slurm" / "submit.sh").read_text()
    assert "--dependency=afterok:$J" in submit_sh
    assert len(scripts) >= 10
    # Per-task logs exist and name their Slurm job.
    log = (out / "logs" / "01-ingest" / "task-3.log").read_text()
    assert "Slurm job" in log
    compare_outputs(local_run, out)
    run_cli("audit", str(out))
    # A rerun has nothing to submit.
    again = _slurm_run(run_cli, tmp_path / "pipeline.yaml")
    assert "nothing to submit" in again.stderr.decode()


def test_failed_task_cancels_dependants_and_rerun_finishes_only_what_is_missing(
    slurm, local_run, tmp_path, run_cli
):
    out = tmp_path / "out"
    config = tmp_path / "pipeline.yaml"
    run_cli("init", str(config), "-o", str(out))
    # Fault: the output file of one normalize shard cannot be created (a folder is in its place), so the
    # task that owns that shard fails at the rename; its sibling tasks succeed.
    shard_names = sorted(p.stem for p in (local_run / "01-ingest" / "manifests").glob("*.json"))
    victim = shard_names[1]
    victim_task = 1  # shard i in name order goes to task i mod 4
    blocker = out / "03-normalize" / f"{victim}.parquet"
    blocker.mkdir(parents=True)
    proc = _slurm_run(run_cli, config, check=False)
    err = proc.stderr.decode()
    assert proc.returncode != 0, err
    assert re.search(rf"03-normalize task {victim_task} \(job \d+_\d+\): FAILED", err), err
    assert re.search(r"04-filter task \d \(job \d+_\d+\): (CANCELLED|PENDING)", err), err
    # Steps before the failure finished; the failed task's siblings finished; nothing after it ran.
    assert len(list((out / "02-langid" / "manifests").glob("*.json"))) == len(shard_names)
    normalized = {p.stem for p in (out / "03-normalize" / "manifests").glob("*.json")}
    assert victim not in normalized and len(normalized) == len(shard_names) - 1
    assert not (out / "04-filter" / "manifests").exists() or not list(
        (out / "04-filter" / "manifests").iterdir()
    )

    shutil.rmtree(blocker)
    proc = _slurm_run(run_cli, config)
    jobs = json.loads((out / "slurm" / "jobs.json").read_text())["jobs"]
    steps = {j["step"]: j["tasks"] for j in jobs}
    assert "01-ingest" not in steps and "02-langid" not in steps and "train-lm" not in steps
    assert steps["03-normalize"] == [victim_task]
    assert sorted(sum((j["tasks"] for j in jobs if j["step"] == "04-filter"), [])) == [0, 1, 2, 3]
    compare_outputs(local_run, out)
    run_cli("audit", str(out))
