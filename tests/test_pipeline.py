"""The pipeline config, the plan, and the local executor running the real sample pipeline."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from corpus_tool.errors import UsageError
from corpus_tool.pipeline import load_config, make_plan
from corpus_tool.specs.base import COMMON_WARM

REPO = Path(__file__).resolve().parents[1]
ALL = {
    "ingest",
    "langid",
    "normalize",
    "filter",
    "perplexity",
    "dedup",
    "tokenize",
    "train-lm",
    "train-tokenizer",
    "train-quality",
    "quality",
}
OUTPUT_SUFFIXES = (".parquet", ".bin", ".idx")


def cli(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    from conftest import corpus_tool

    return corpus_tool(*args, check=check, timeout=timeout)


_REFERENCE: dict[str, Path] = {}


def pipeline_inputs(tmp: Path) -> Path:
    """The sample corpus plus one large JSONL.zst shard (so that a worker can be caught mid-shard)."""
    inputs = tmp / "in"
    inputs.mkdir()
    for p in (REPO / "corpus_tool" / "data" / "sample").iterdir():
        (inputs / p.name).write_bytes(p.read_bytes())
    _big_jsonl(inputs / "big.jsonl.zst", 2500)
    return inputs


def new_pipeline(tmp: Path, inputs: Path) -> Path:
    """`corpus-tool init`'s config, reading `inputs`, output root tmp/out. Returns the config path."""
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "pipeline.yaml"
    cli("init", str(config), "-o", "out")
    text = config.read_text(encoding="utf-8").replace('input: ["{data}/sample"]', f'input: ["{inputs}"]')
    assert str(inputs) in text
    config.write_text(text, encoding="utf-8")
    return config


def reference_run(tmp_path_factory) -> tuple[Path, Path]:
    """(inputs, output root) of one undisturbed local run, made once per test session and shared by the
    local, killed-worker and Slurm tests as the bytes every other run must reproduce."""
    if "root" not in _REFERENCE:
        base = tmp_path_factory.mktemp("reference")
        inputs = pipeline_inputs(base)
        config = new_pipeline(base / "run", inputs)
        proc = cli("run", str(config), "--executor", "local", "--workers", "2")
        _REFERENCE.update(inputs=inputs, root=base / "run" / "out", stderr=proc.stderr.decode())
    return _REFERENCE["inputs"], _REFERENCE["root"]


def output_files(root: Path) -> dict[str, bytes]:
    """Every data file of a run (Parquet, .bin, .idx), by path relative to the root; manifests (timings) and
    reports are left out."""
    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and p.name.endswith(OUTPUT_SUFFIXES) and rel.parts[0] not in ("report", ".pipeline"):
            files[str(rel)] = p.read_bytes()
    return files


def compare_outputs(expected_root: Path, actual_root: Path) -> None:
    expected, actual = output_files(expected_root), output_files(actual_root)
    assert sorted(actual) == sorted(expected)
    different = [name for name in expected if expected[name] != actual[name]]
    assert not different, f"files differ from the reference run: {different}"
    assert any(n.endswith(".idx") for n in expected), "the run produced no token shards"


def write_config(tmp: Path, text: str) -> Path:
    path = tmp / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ config


def test_init_config_plans_every_stage_in_order(tmp_path):
    cli("init", str(tmp_path / "p.yaml"), "-o", "results")
    cfg = load_config(tmp_path / "p.yaml")
    assert cfg.output == (tmp_path / "results").resolve()
    assert cfg.num_shards == 2 and cfg.slurm.throttle == 64
    plan = make_plan(cfg, available=ALL, check_options=False)
    warm = {s.label: s.warm for s in plan.steps}
    assert "corpus_tool.stages.jieba_loader:initialize_jieba" in warm["05-filter"] and not warm["train-lm"]
    assert all(warm[k][:len(COMMON_WARM)] == COMMON_WARM for k in ("05-filter", "03-normalize", "08-tokenize"))
    labels = [s.label for s in plan.steps]
    assert labels == [
        "train-lm",
        "train-tokenizer",
        "train-quality",
        "01-ingest",
        "02-langid",
        "03-normalize",
        "04-quality",
        "05-filter",
        "06-perplexity",
        "07-dedup-signatures",
        "07-dedup-pairs",
        "07-dedup-clusters",
        "07-dedup-filter",
        "08-tokenize",
    ]
    steps = {s.label: s for s in plan.steps}
    root = cfg.output
    assert steps["02-langid"].task_args(1) == [
        "langid",
        str(root / "01-ingest"),
        "-o",
        str(root / "02-langid"),
        "--shard-index",
        "1",
        "--num-shards",
        "2",
    ]
    assert steps["06-perplexity"].args[-2:] == ["--model", str(root / "models" / "lm")]
    assert steps["07-dedup-signatures"].args[:5] == [
        "dedup",
        "signatures",
        str(root / "06-perplexity"),
        "-o",
        str(root / "07-dedup-work"),
    ]
    assert steps["07-dedup-clusters"].count == 1 and not steps["07-dedup-clusters"].sharded
    assert steps["07-dedup-filter"].task_args(0)[:7] == [
        "dedup",
        "filter",
        str(root / "06-perplexity"),
        "--work",
        str(root / "07-dedup-work"),
        "-o",
        str(root / "07-dedup"),
    ]
    assert steps["08-tokenize"].args[1] == str(root / "07-dedup")
    assert "--tokenizer" in steps["08-tokenize"].args
    assert steps["01-ingest"].args[1] == str(REPO / "corpus_tool" / "data" / "sample")
    # Dependencies (Slurm's afterok): the stage read by default, and the stages named by {NAME}.
    assert steps["01-ingest"].after == [] and steps["train-lm"].after == []
    assert steps["06-perplexity"].after == ["05-filter", "train-lm"]
    assert steps["04-quality"].after == ["03-normalize", "train-quality"]
    assert steps["train-quality"].args[:3] == ["train-quality", "-o", str(root / "models" / "quality")]
    assert steps["07-dedup-pairs"].after == ["07-dedup-signatures"]
    assert steps["08-tokenize"].after == ["07-dedup-filter", "train-tokenizer"]
    # A stage that is not available is reported, and the chain skips it.
    partial = make_plan(cfg, available=ALL - {"normalize"}, check_options=False)
    assert partial.missing == ["normalize"]
    assert {s.label: s for s in partial.steps}["04-quality"].args[1] == str(root / "02-langid")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("input: x\noutput: o\nstages: [langid]\nnum_shard: 3\n", r"pipeline\.yaml: num_shard: unknown key"),
        (
            "input: x\noutput: o\nstages:\n  - stage: langid\n    optionz: {}\n",
            r"stages\[0\]\.optionz: unknown key",
        ),
        ("input: x\noutput: o\nstages: [langid]\nnum_shards: zero\n", r"num_shards: expected int"),
        ("input: x\noutput: o\nstages: [langid]\nnum_shards: 0\n", r"num_shards: must be at least 1"),
        ("input: x\nstages: [langid]\n", r"missing required key 'output'"),
        (
            "input: x\noutput: o\nstages:\n  - stage: langid\n    options: {thresold: 0.5}\n",
            r"stages\[0\] \(langid\)\.options\.thresold: this command has no option --thresold",
        ),
        (
            "input: x\noutput: o\nstages:\n  - stage: tokenize\n    options: {tokenizer: '{nope}'}\n",
            r"unknown placeholder \{nope\}",
        ),
        ("input: x\noutput: o\nstages: [langid, langid]\n", r"two stages are named 'langid'"),
        ("input: x\noutput: o\nstages:\n  - stage: train-tokenizer\n", r"needs its inputs"),
        ("input: x\noutput: o\nslurm: {memory: 4G}\nstages: [langid]\n", r"slurm\.memory: unknown key"),
        ("- a\n- b\n", r"a pipeline config is a mapping"),
        ("input: [x\n", r"not valid YAML"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path, text, message):
    path = write_config(tmp_path, text)
    with pytest.raises(UsageError, match=message):
        make_plan(load_config(path), available=ALL)


def test_yaml_is_loaded_safely(tmp_path):
    path = write_config(tmp_path, "input: !!python/object/apply:os.system ['echo pwned']\noutput: o\nstages: [a]\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        load_config(path)


def test_options_become_command_line_options(tmp_path):
    path = write_config(
        tmp_path,
        """
input: [raw/*.warc.gz]
output: out
num_shards: 3
slurm: {mem: 8G, partition: cpu}
stages:
  - stage: ingest
    slurm: {time: "00:30:00"}
  - stage: tokenize
    num_shards: 2
    options: {tokenizer: "{data}/tok", eod: false, format: flat, threads: 1}
""",
    )
    plan = make_plan(load_config(path), available=ALL)
    ingest, tok = plan.steps
    assert ingest.args[1] == str(tmp_path / "raw/*.warc.gz")  # globs stay globs, relative to the config
    assert ingest.slurm.mem == "8G" and ingest.slurm.partition == "cpu" and ingest.slurm.time == "00:30:00"
    assert tok.slurm.time == "02:00:00"
    assert tok.count == 2
    assert tok.args[4:] == [
        "--tokenizer",
        str(REPO / "corpus_tool" / "data" / "tok"),
        "--no-eod",
        "--format",
        "flat",
        "--threads",
        "1",
    ]


# ----------------------------------------------------------------------------------- local executor


@pytest.fixture
def reference(tmp_path_factory):
    return reference_run(tmp_path_factory)


def test_local_run_produces_every_stage_and_resumes(reference, run_cli):
    root = reference[1]
    for stage in (
        "01-ingest",
        "02-langid",
        "03-normalize",
        "04-quality",
        "05-filter",
        "06-perplexity",
        "07-dedup",
        "08-tokenize",
    ):
        manifests = list((root / stage / "manifests").glob("*.json"))
        assert manifests, stage
    assert list((root / "08-tokenize").glob("*.idx"))
    records = list((root / ".pipeline" / "tasks").rglob("*.json"))
    assert len(records) == 3 + 2 * 10 + 1  # three commands, ten 2-task steps, one clusters task
    # The pool ran the per-shard steps in chains (quality, which samples every shard, stands alone; dedup's
    # pairs and clusters steps cut the chain after its signatures).
    err = _REFERENCE["stderr"]
    for chain in ("01-ingest .. 03-normalize", "05-filter .. 07-dedup-signatures", "07-dedup-filter .. 08-tokenize"):
        assert f"{chain}: done" in err, err
    # A rerun finds everything finished and changes nothing.
    before = output_files(root)
    proc = run_cli("run", str(root.parent / "pipeline.yaml"), "--workers", "2")
    assert "already finished" in proc.stderr.decode() and "0 task(s) run" in proc.stderr.decode()
    assert output_files(root) == before


@pytest.mark.parametrize("start", ["spawn", "fork", "pool-step-by-step"])
def test_spawned_and_forked_tasks_give_the_bytes_of_pooled_ones(reference, tmp_path, run_cli, start):
    """The reference run gives its tasks to long-lived workers forked from `corpus-tool run` (the default),
    which take chains of per-shard steps shard by shard, handing each file to the next step in memory; the
    command stages' tasks get a fork of their own. The pool step by step (every file read back), a fresh
    fork per task, and fresh processes per task as Slurm starts them, must write the same bytes. Each task
    record says how its task started."""
    inputs, ref = reference
    records = {r: json.loads(r.read_text()) for r in (ref / ".pipeline" / "tasks").rglob("*.json")}
    commands = {"train-lm", "train-tokenizer", "train-quality"}
    assert {r["start"] for p, r in records.items() if p.parent.name not in commands} == {"pool"}
    assert {r["start"] for p, r in records.items() if p.parent.name in commands} == {"fork"}
    assert all(r["cpu_seconds"] > 0 and r["max_rss_kb"] > 0 for r in records.values())
    config = new_pipeline(tmp_path / "run", inputs)
    how = ["--start", start] if start != "pool-step-by-step" else ["--handoff-mb", "0"]
    proc = run_cli("run", str(config), "--workers", "2", *how)
    assert "pipeline finished" in proc.stderr.decode()
    assert ("chained" in proc.stderr.decode()) is False
    root = tmp_path / "run" / "out"
    starts = {json.loads(r.read_text())["start"] for r in (root / ".pipeline" / "tasks").rglob("*.json")}
    assert starts == ({start} if start != "pool-step-by-step" else {"pool", "fork"})
    compare_outputs(ref, root)
    # A pooled task's own output reaches its log, once.
    log = (ref / "logs" / "02-langid" / "task-0.log").read_text()
    assert log.count("langid: ") == 1 and "shard(s) done" in log


def test_a_shard_no_chain_wrote_is_left_to_its_task_after_the_chain(tmp_path, run_cli):
    """A chained step takes the shards its task before has just written. A finished shard that was already in
    its input folder (from an earlier run) is the runner's to assign: after the chains, the task that owns it
    runs as usual, and the outputs are the bytes of a step-by-step run."""
    sample = REPO / "corpus_tool" / "data" / "sample"
    scratch = tmp_path / "scratch"
    run_cli("ingest", str(sample), "-o", str(scratch / "ingest"))
    run_cli("langid", str(scratch / "ingest"), "-o", str(scratch / "langid"))
    first = sorted((scratch / "langid").glob("*.parquet"))[0]
    manifest = json.loads((scratch / "langid" / "manifests" / f"{first.stem}.json").read_text())
    manifest["shard"] = "zz-earlier"
    roots = {}
    for name, how in (("chained", []), ("step-by-step", ["--handoff-mb", "0"])):
        base = tmp_path / name
        earlier = base / "out" / "02-langid"
        (earlier / "manifests").mkdir(parents=True)
        (earlier / "zz-earlier.parquet").write_bytes(first.read_bytes())
        (earlier / "manifests" / "zz-earlier.json").write_text(json.dumps(manifest))
        config = write_config(base, f"input: [\"{sample}\"]\noutput: out\nnum_shards: 2\n"
                                    "stages: [ingest, langid, {stage: normalize, options: {opencc: t2s}}]\n")
        proc = run_cli("run", str(config), "--workers", "2", *how)
        err = proc.stderr.decode()
        assert "pipeline finished: 6 task(s) run" in err
        if name == "chained":
            assert "(chained: each shard goes on from 02-langid in the same worker)" in err
            assert "03-normalize: 1 task(s) (1 already finished)" in err, err  # the one that owns zz-earlier
        roots[name] = base / "out"
    assert (roots["chained"] / "03-normalize" / "zz-earlier.parquet").exists()
    chained = output_files(roots["chained"])
    assert chained == output_files(roots["step-by-step"]) and len(chained) > 10


def test_a_chain_resumes_from_its_unfinished_tasks(tmp_path, run_cli):
    """A chain whose first steps are finished starts at its first unfinished step; there, task 1 runs again
    (with the next step's task 1, chained) while task 0, finished, keeps its record and log; the outputs are
    the first run's bytes."""
    sample = REPO / "corpus_tool" / "data" / "sample"
    config = write_config(tmp_path, f"input: [\"{sample}\"]\noutput: out\nnum_shards: 2\n"
                                    "stages: [ingest, langid, {stage: normalize, options: {opencc: t2s}}, filter]\n")
    run_cli("run", str(config), "--workers", "2")
    root = tmp_path / "out"
    first = output_files(root)
    tasks = root / ".pipeline" / "tasks"
    kept_record = (tasks / "02-langid" / "0.json").read_text()
    owned = sorted(p.stem for p in (root / "01-ingest" / "manifests").glob("*.json"))[1::2]  # task 1's shards
    assert owned
    for step in ("02-langid", "03-normalize", "04-filter"):  # task 1 of these never finished
        (tasks / step / "1.json").unlink()
        for name in owned:
            (root / step / "manifests" / f"{name}.json").unlink()
    proc = run_cli("run", str(config), "--workers", "2")
    err = proc.stderr.decode()
    assert "01-ingest: all 2 task(s) already finished" in err
    assert "02-langid: 1 task(s) (1 already finished)" in err and "04-filter: 1 task(s) (1 already finished)" in err
    assert "[2-4/4] 02-langid .. 04-filter: done" in err and "pipeline finished: 3 task(s) run, 5 already" in err
    assert (tasks / "02-langid" / "0.json").read_text() == kept_record
    assert output_files(root) == first


def test_one_pool_worker_runs_task_after_task_each_with_its_own_log(tmp_path, run_cli):
    """With one worker every task of a step runs in the same process, one after another: each task's log
    holds its own output only, and each record its own CPU and peak RSS."""
    path = write_config(
        tmp_path,
        f"""
input: ["{REPO / "corpus_tool" / "data" / "sample"}"]
output: out
num_shards: 3
stages:
  - ingest
  - langid
""",
    )
    proc = run_cli("run", str(path), "--workers", "1")
    assert "pipeline finished: 6 task(s) run" in proc.stderr.decode()
    for step in ("01-ingest", "02-langid"):
        name = step.split("-", 1)[1]
        for i in range(3):
            log = (tmp_path / "out" / "logs" / step / f"task-{i}.log").read_text()
            assert log.startswith(f"# {step} task {i} of 3\n")
            assert log.count(f"{name}: ") == 1 and "shard(s) done" in log, log
            assert log.count("--shard-index") == 1
            record = json.loads((tmp_path / "out" / ".pipeline" / "tasks" / step / f"{i}.json").read_text())
            assert record["start"] == "pool" and record["cpu_seconds"] > 0 and record["max_rss_kb"] > 0
    audit = run_cli("audit", str(tmp_path / "out"))
    assert "FAIL" not in audit.stdout.decode()


def test_a_pool_task_peak_rss_is_its_own():
    """A worker's peak RSS is started again before each task: a large block an earlier task used and freed
    does not count for the next one."""
    import mmap

    from corpus_tool.executors import local

    block = mmap.mmap(-1, 256 << 20)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    high = local._peak_rss_kb()
    block.close()
    local._reset_peak_rss()
    after = local._peak_rss_kb()
    assert high - after > 200 << 10, (high, after)


def test_cli_log_handler_is_not_doubled_by_a_second_main():
    """A task forked from `run` calls cli.main in a process that already set up logging."""
    import logging

    from corpus_tool import cli as cli_module

    cli_module._setup_logging()
    cli_module._setup_logging()
    ours = [h for h in logging.getLogger("corpus_tool").handlers if getattr(h, "corpus_tool_cli", False)]
    assert len(ours) == 1 and ours[0].stream is sys.stderr


def _big_jsonl(path: Path, docs: int) -> None:
    """A JSONL.zst input large enough that a stage spends a noticeable time inside one shard."""
    rng = random.Random(7)
    subjects = [
        "城市居民",
        "研究人员",
        "地方政府",
        "学校老师",
        "农民朋友",
        "年轻工程师",
        "博物馆",
        "铁路部门",
    ]
    verbs = ["介绍了", "讨论了", "公布了", "总结了", "改进了", "记录了", "调查了", "推广了"]
    objects = [
        "新的垃圾分类办法",
        "春季播种的经验",
        "地铁线路的规划",
        "古籍修复的技术",
        "节约用水的措施",
        "社区图书馆的开放时间",
        "山区学校的午餐计划",
        "传统节日的习俗",
    ]
    tails = [
        "，大家普遍认为效果不错。",
        "，并表示明年还会继续。",
        "，引起了广泛的关注。",
        "，相关数据已经公开。",
    ]
    lines = []
    for i in range(docs):
        paras = []
        for _ in range(rng.randint(3, 6)):
            paras.append(
                "".join(
                    rng.choice(subjects) + rng.choice(verbs) + rng.choice(objects) + rng.choice(tails)
                    for _ in range(rng.randint(3, 6))
                )
            )
        lines.append(json.dumps({"id": f"big-{i}", "text": "\n".join(paras)}, ensure_ascii=False))
    path.write_bytes(zstandard.ZstdCompressor().compress(("\n".join(lines) + "\n").encode()))


def test_killed_worker_then_rerun_gives_identical_output(reference, tmp_path, run_cli):
    inputs, ref = reference
    run = tmp_path / "run"
    new_pipeline(run, inputs)
    target = run / "out" / "03-normalize"
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_tool", "run", str(run / "pipeline.yaml"), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    killed = None
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline and killed is None:
        for tmp in target.glob(".big.parquet.tmp-*") if target.exists() else []:
            pid = int(tmp.name.rsplit("-", 1)[1])
            os.kill(pid, signal.SIGKILL)  # the worker dies mid-shard: its temporary file is open
            killed = (pid, tmp)
            break
        time.sleep(0.002)
    out, err = proc.communicate(timeout=240)
    assert killed is not None, "the normalize worker was never caught mid-shard:\n" + err.decode()
    assert proc.returncode != 0
    assert re.search(r"03-normalize: FAILED", err.decode()) and "on signal SIGKILL" in err.decode()
    # Nothing a later stage would read: the shard has no manifest and no visible output; later stages not run.
    assert not (target / "manifests" / "big.json").exists() and not (target / "big.parquet").exists()
    assert not (run / "out" / "05-filter").exists()

    proc = run_cli("run", str(run / "pipeline.yaml"), "--workers", "2")
    assert "01-ingest: all 2 task(s) already finished" in proc.stderr.decode()
    assert "03-normalize: 1 task(s) (1 already finished)" in proc.stderr.decode()
    assert not list((run / "out").rglob(f".*.tmp-{killed[0]}")), "the killed task's temporary file was left"
    compare_outputs(ref, run / "out")
    audit = run_cli("audit", str(run / "out"))
    assert "FAIL" not in audit.stdout.decode()


def test_failed_task_stops_the_run_with_its_log(tmp_path, run_cli):
    path = write_config(
        tmp_path,
        f"""
input: ["{REPO / "corpus_tool" / "data" / "sample"}"]
output: out
num_shards: 2
stages:
  - stage: train-tokenizer
    inputs: [does-not-exist]
  - stage: ingest
""",
    )
    proc = run_cli("run", str(path), check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1
    assert "train-tokenizer: FAILED" in err and "task 0 exited" in err
    assert "not started: 01-ingest" in err
    assert str(tmp_path / "out" / "logs" / "train-tokenizer" / "task-0.log") in err
    assert "does-not-exist" in (tmp_path / "out" / "logs" / "train-tokenizer" / "task-0.log").read_text()
    assert not (tmp_path / "out" / "01-ingest").exists()


def test_dry_run_prints_the_task_commands(tmp_path, run_cli):
    run_cli("init", str(tmp_path / "p.yaml"), "-o", "o")
    proc = run_cli("run", str(tmp_path / "p.yaml"), "--dry-run", "--num-shards", "2")
    lines = proc.stdout.decode().splitlines()
    assert any(
        re.search(r"langid \S+/o/01-ingest -o \S+/o/02-langid --shard-index 1 --num-shards 2$", ln) for ln in lines
    )
    assert not (tmp_path / "o").exists()


def test_overwrite_reaches_every_task(tmp_path):
    cli("init", str(tmp_path / "p.yaml"), "-o", "o")
    cfg = load_config(tmp_path / "p.yaml")
    plan = make_plan(cfg, overwrite=True)
    # Every command that has --overwrite gets it (train-lm has none: it always rewrites its model).
    trainers = ("train-lm", "train-quality")
    assert all(step.args[-1] == "--overwrite" for step in plan.steps if step.command not in trainers)
    assert len(plan.steps) == 14
    assert plan.pending(plan.steps[0]) == [0]


def test_slurm_scripts_carry_the_options_and_split_large_arrays(tmp_path, run_cli):
    """Writing the sbatch scripts needs no cluster: options, throttle, dependencies, and the split of a step
    larger than MaxArraySize (read from `scontrol show config`, else Slurm's default 1001)."""
    from corpus_tool.executors.slurm import max_array_size

    run_cli("init", str(tmp_path / "p.yaml"), "-o", "o")
    limit = max_array_size()
    tasks = 2 * limit + 3
    run_cli(
        "run",
        str(tmp_path / "p.yaml"),
        "--executor",
        "slurm",
        "--num-shards",
        str(tasks),
        "--partition",
        "cpu",
        "--account",
        "proj",
        "--time",
        "00:30:00",
        "--mem",
        "3G",
        "--cpus-per-task",
        "2",
        "--throttle",
        "7",
    )
    sdir = tmp_path / "o" / "slurm"
    parts = sorted(sdir.glob("02-langid*.sbatch"))
    assert [p.name for p in parts] == ["02-langid.part1.sbatch", "02-langid.part2.sbatch", "02-langid.part3.sbatch"]
    first, last = parts[0].read_text(), parts[2].read_text()
    for opt in (
        "--partition=cpu",
        "--account=proj",
        "--time=00:30:00",
        "--mem=3G",
        "--cpus-per-task=2",
        f"--array=0-{limit - 1}%7",
        "--kill-on-invalid-dep=yes",
        "--job-name=ct-02-langid",
    ):
        assert f"#SBATCH {opt}\n" in first, opt
    assert "#SBATCH --array=0-2%7\n" in last
    assert f"TASKS=({2 * limit} {2 * limit + 1} {2 * limit + 2})" in last
    assert f'--shard-index "$I" --num-shards {tasks}' in last
    # train-lm is one task, not an array over shards.
    assert "#SBATCH --array=0-0%7" in (sdir / "train-lm.sbatch").read_text()
    submit = (sdir / "submit.sh").read_text().splitlines()
    langid = [line for line in submit if "02-langid" in line and "sbatch" in line]
    ingest_jobs = [line.split("=")[0] for line in submit if "01-ingest" in line and "sbatch" in line]
    assert len(ingest_jobs) == 3
    assert all(f"--dependency=afterok:{':'.join('$' + j for j in ingest_jobs)} " in line for line in langid)
    # Nothing was submitted and no task ran.
    assert not (tmp_path / "o" / "slurm" / "jobs.json").exists() and not (tmp_path / "o" / "01-ingest").exists()


def test_two_local_runs_on_one_output_root_are_refused(tmp_path, run_cli):
    from corpus_tool.executors.local import output_lock

    run_cli("init", str(tmp_path / "p.yaml"), "-o", "o")
    with output_lock(tmp_path / "o"):
        proc = run_cli("run", str(tmp_path / "p.yaml"), check=False)
    assert proc.returncode == 2 and "another `corpus-tool run` is working on this output root" in proc.stderr.decode()
    assert not (tmp_path / "o" / "01-ingest").exists()


def test_every_warm_entry_loads():
    """Options.warm names what `run` loads before forking its workers (or a step's tasks): each entry must
    import (and its function exist), and the planned steps carry them."""
    import importlib

    from corpus_tool.specs import base

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    entries = {e for cls in subclasses(base.Options) for e in cls.warm} | set(base.COMMON_WARM)
    assert {"corpus_tool.stages.normalize", "corpus_tool.stages.jieba_loader:initialize_jieba"} <= entries
    for entry in entries:
        module, _, function = entry.partition(":")
        loaded = importlib.import_module(module)
        assert not function or callable(getattr(loaded, function)), entry
