"""Reliability of the core (runner, shards, CLI) under faults: full disks, kill -9, corrupt shards, hostile
stdin, unsafe configs. Stages are exercised through the test-only `toy` command (tests/badinput/toy_cli.py),
which is the real CLI and the real runner with a trivial stage; tests/test_reliability_stages.py repeats the
important cases with the real stages."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import badinput as bad
import pyarrow.parquet as pq
import pytest
from badinput import faults

from corpus_tool import shards
from corpus_tool.errors import BadInputError, OutputError, UsageError
from corpus_tool.runner import run_stage


def toy(*args: str, **kw) -> subprocess.CompletedProcess:
    return faults.run(faults.cli_argv("toy", *args, toy=True), **kw)


@pytest.fixture(scope="module")
def small_input(tmp_path_factory) -> Path:
    """Two shards, about 400 KB of Parquet each."""
    return bad.docs_dir(tmp_path_factory.mktemp("in") / "docs", 2, 400, chars=300, row_group_size=100)


@pytest.fixture(scope="module")
def reference(small_input, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "out"
    proc = toy(str(small_input), "-o", str(out), "--batch-size", "20")
    assert proc.returncode == 0, proc.stderr.decode()
    return out


def same_output(a: Path, b: Path) -> bool:
    return faults.snapshot(a) == faults.snapshot(b)


# ------------------------------------------------------------------------------------------- full disk


def test_file_size_limit_fails_cleanly_naming_the_file(small_input, tmp_path):
    """Writes that fail (RLIMIT_FSIZE -> EFBIG, as a quota would): exit 5, the file named, nothing visible."""
    out = tmp_path / "out"
    proc = toy(str(small_input), "-o", str(out), "--batch-size", "20",
               preexec_fn=faults.limit_file_size(60_000))
    faults.assert_clean_error(proc, 5, str(out / "part-00000.parquet"), "File too large")
    assert faults.visible_files(out) == []
    assert faults.temp_files(out) == []


@pytest.fixture(scope="module")
def mountable(tmp_path_factory) -> bool:
    return faults.can_mount_tmpfs(tmp_path_factory.mktemp("probe"))


def test_full_disk_at_every_point_leaves_no_corrupt_shard(small_input, reference, tmp_path, mountable):
    """A real full disk (tmpfs) hit at many points of the run: before the first shard, inside a Parquet
    file, between the kept and rejected files, at the manifest. Every time: exit 5 naming the file and
    'No space left', no temporary file left, every manifest matches its files, and a Parquet without a
    manifest is refused downstream. Then, with space freed, a rerun finishes byte-identical to a clean run."""
    if not mountable:
        pytest.skip("mounting a tmpfs needs root (the RLIMIT_FSIZE test above covers the write path)")
    need = sum(p.stat().st_size for p in faults.visible_files(reference))
    sizes_kb = sorted({4, *(int(need * f / 1024) for f in (0.2, 0.45, 0.7, 0.9, 0.97, 1.3))})
    outcomes = {}
    for i, kb in enumerate(sizes_kb):
        mnt = tmp_path / f"fs{kb}"
        with faults.tmpfs(mnt, f"{kb}k"):
            out = mnt / "out"
            proc = toy(str(small_input), "-o", str(out), "--batch-size", "20")
            err = proc.stderr.decode()
            assert "Traceback" not in err
            outcomes[kb] = proc.returncode
            if proc.returncode != 0:
                faults.assert_clean_error(proc, 5, "No space left on device", str(out))
            assert faults.temp_files(out) == [] if out.exists() else True
            if out.exists():
                assert faults.check_consistent(out) == []
                finished = {m.stem for m in (out / "manifests").glob("*.json")}
                unfinished = {p.stem for p in out.glob("*.parquet")} - finished
                if unfinished:
                    with pytest.raises(UsageError, match="no manifest"):
                        shards.parquet_shards([str(out)])
            if i % 2:
                continue
            # Free space and rerun: only what is missing is done, and the result is the clean result.
            subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
            again = toy(str(small_input), "-o", str(out), "--batch-size", "20")
            assert again.returncode == 0, again.stderr.decode()
            assert same_output(out, reference)
    assert 5 in outcomes.values() and 0 in outcomes.values(), outcomes  # the sweep crossed the boundary


def test_manifest_write_failure_leaves_shard_unfinished(small_input, reference, tmp_path, monkeypatch):
    """ENOSPC exactly when the manifest is written (after the Parquet files were renamed into place): an
    OutputError, no manifest, downstream refuses the shard, and a rerun completes it identically."""
    real_commit = shards.commit

    def failing_commit(tmp, final):
        if final.suffix == ".json":
            raise OSError(28, "No space left on device")
        real_commit(tmp, final)

    monkeypatch.setattr(shards, "commit", failing_commit)
    from badinput.toy_stage import Toy

    out = tmp_path / "out"
    with pytest.raises(OutputError, match="No space left on device") as e:
        run_stage(Toy(), [str(small_input)], str(out), batch_size=20)
    assert "manifests" in str(e.value)
    assert not list((out / "manifests").glob("*")) if (out / "manifests").exists() else True
    with pytest.raises(UsageError, match="no manifest"):
        shards.parquet_shards([str(out)])
    monkeypatch.setattr(shards, "commit", real_commit)
    run_stage(Toy(), [str(small_input)], str(out), batch_size=20)
    assert same_output(out, reference)


def test_stdout_on_a_full_disk_is_an_output_error(small_input, tmp_path):
    """`-o -` redirected into a file that cannot grow: exit 5 'stdout: cannot write', no traceback."""
    with open(tmp_path / "out.jsonl", "wb") as fh:
        proc = toy(str(small_input), "-o", "-", stdout=fh, preexec_fn=faults.limit_file_size(20_000))
    faults.assert_clean_error(proc, 5, "stdout: cannot write")


def test_rejected_file_that_cannot_be_written(small_input, tmp_path):
    proc = toy(str(small_input), "-o", "-", "--rejected", str(tmp_path / "no" / "such" / "dir" / "r.jsonl"),
               stdout=subprocess.DEVNULL)
    faults.assert_clean_error(proc, 5, "r.jsonl")


def test_output_path_that_is_a_file(small_input, tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("I am a file")
    proc = toy(str(small_input), "-o", str(blocker))
    faults.assert_clean_error(proc, 5, str(blocker))
    assert blocker.read_text() == "I am a file"


# --------------------------------------------------------------------------------------------- kill -9


def test_kill_9_at_random_points_then_rerun_is_byte_identical(small_input, reference, tmp_path):
    """SIGKILL the whole process group at seeded random moments (startup, mid-batch, mid-write, between
    shards); after each kill the directory is consistent and unfinished shards are refused downstream; a
    final rerun gives exactly the undisturbed output."""
    out = tmp_path / "out"
    rng = random.Random(8)
    argv = faults.cli_argv("toy", str(small_input), "-o", str(out), "--batch-size", "20", toy=True)
    env = {"TOY_DELAY": "0.03"}
    t0 = time.perf_counter()
    assert faults.run(argv, env=env, timeout=120).returncode == 0
    full = time.perf_counter() - t0
    import shutil

    kills = 0
    for _ in range(4):
        shutil.rmtree(out)
        rc = faults.kill_after(argv, rng.uniform(0.2, full), env=env)
        kills += rc is None
        assert faults.check_consistent(out) == [] if out.exists() else True
        if out.exists():
            finished = {m.stem for m in (out / "manifests").glob("*.json")}
            for name in finished:
                assert pq.read_table(out / f"{name}.parquet").num_rows > 0
            if {p.stem for p in out.glob("*.parquet")} - finished:
                with pytest.raises(UsageError):
                    shards.parquet_shards([str(out)])
        # A killed run leaves hidden temporary files at most: they are never inputs.
        assert all(p.name.startswith(".") for p in faults.temp_files(out)) if out.exists() else True
        rerun = faults.run(argv, timeout=120)
        assert rerun.returncode == 0, rerun.stderr.decode()
        assert same_output(out, reference)
    assert kills >= 3  # most kills landed before the run finished


def test_repeated_kills_on_the_same_directory_converge(small_input, reference, tmp_path):
    """Kill, resume, kill, resume... (as a preempted Slurm task requeued again and again)."""
    out = tmp_path / "out"
    argv = faults.cli_argv("toy", str(small_input), "-o", str(out), "--batch-size", "20", toy=True)
    env = {"TOY_DELAY": "0.03"}
    for delay in (0.9, 1.3, 1.1, 1.6):
        faults.kill_after(argv, delay, env=env)
    assert faults.run(argv, timeout=120).returncode == 0
    assert same_output(out, reference)


def test_sigterm_removes_temporary_files(small_input, tmp_path):
    """SIGTERM (scancel, preemption): exit 130, nothing half-written left, not even hidden temp files."""
    out = tmp_path / "out"
    argv = faults.cli_argv("toy", str(small_input), "-o", str(out), "--batch-size", "20", toy=True)
    import os

    env = dict(os.environ, TOY_DELAY="0.05")
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=faults.REPO)
    deadline = time.time() + 30
    while time.time() < deadline and not faults.temp_files(out):
        time.sleep(0.02)
    assert faults.temp_files(out), "the run never started writing"
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert faults.temp_files(out) == []
    assert faults.check_consistent(out) == []


# ------------------------------------------------------------------------------------------ overwrite


def test_finished_output_is_never_overwritten_without_overwrite(small_input, tmp_path):
    out = tmp_path / "out"
    assert toy(str(small_input), "-o", str(out)).returncode == 0
    (out / "NOTES.txt").write_text("mine")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in faults.visible_files(out)}
    proc = toy(str(small_input), "-o", str(out), "--batch-size", "7")  # a different setting: still skipped
    assert proc.returncode == 0
    assert "2 already finished" in proc.stderr.decode()
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in faults.visible_files(out)} == before
    proc = toy(str(small_input), "-o", str(out), "--overwrite")
    assert proc.returncode == 0
    assert (out / "NOTES.txt").read_text() == "mine"  # --overwrite replaces shards, never the directory
    assert (out / "part-00000.parquet").stat().st_mtime_ns != before[out / "part-00000.parquet"][0]


# ------------------------------------------------------------------------------------- broken shards


@pytest.mark.parametrize("make, needle", [
    (bad.zero_byte_parquet, "Parquet file size is 0 bytes"),
    (bad.truncated_parquet, "not a readable Parquet file"),
    (bad.parquet_bad_footer_magic, "not a readable Parquet file"),
    (bad.parquet_corrupt_page, "corrupt Parquet data"),
    (bad.parquet_missing_text, "required column 'text' is missing"),
    (bad.parquet_null_text, "column 'text' has 1 null value"),
])
def test_broken_parquet_fails_its_shard_and_finishes_the_others(make, needle, tmp_path):
    inp = tmp_path / "in"
    bad.docs_dir(inp, 2, 20)
    make(inp / "part-00001.parquet")  # the middle shard of three
    bad.write_docs(inp / "part-00002.parquet", 20, seed=9)
    out = tmp_path / "out"
    proc = toy(str(inp), "-o", str(out))
    faults.assert_clean_error(proc, 3, str(inp / "part-00001.parquet"), needle)
    assert sorted(p.name for p in faults.visible_files(out) if p.parent == out) == [
        "part-00000.parquet", "part-00002.parquet"]
    assert not (out / "manifests" / "part-00001.json").exists()
    assert faults.temp_files(out) == []


def test_bit_rot_in_parquet_is_always_a_bad_input_error(tmp_path):
    """Random byte flips anywhere in a shard (zstd or uncompressed): the reader either returns valid
    documents or raises BadInputError naming the file; never a crash, never invalid UTF-8 downstream.
    (Arrow does not check UTF-8 on read; shards.iter_document_batches validates every batch.)"""
    import pyarrow as pa

    src = tmp_path / "src.parquet"
    bad.write_docs(src, 60, seed=5, row_group_size=20)
    table = pq.read_table(src)
    rng = random.Random(3)
    outcomes = {"ok": 0, "bad": 0}
    for compression in ("zstd", "none"):
        pq.write_table(table, src, compression=compression, row_group_size=20)
        data = src.read_bytes()
        for _ in range(150):
            d = bytearray(data)
            for _ in range(rng.randint(1, 4)):
                d[rng.randrange(len(d))] = rng.randrange(256)
            victim = tmp_path / "victim.parquet"
            victim.write_bytes(bytes(d))
            try:
                for batch in shards.iter_document_batches(str(victim), 25):
                    for name in ("id", "text", "source"):
                        assert all(isinstance(v, str) for v in batch.column(name).to_pylist())
                    assert isinstance(batch, pa.RecordBatch)
                outcomes["ok"] += 1
            except BadInputError as e:
                assert str(victim) in str(e)
                outcomes["bad"] += 1
    assert outcomes["bad"] > 100 and outcomes["ok"] > 10, outcomes


def test_empty_shard_gives_an_empty_finished_shard(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    bad.write_docs(inp / "empty.parquet", 0)
    out = tmp_path / "out"
    assert toy(str(inp), "-o", str(out)).returncode == 0
    assert pq.read_table(out / "empty.parquet").num_rows == 0
    assert json.loads((out / "manifests" / "empty.json").read_text())["docs"] == {"in": 0, "kept": 0,
                                                                                   "rejected": 0}


def test_empty_input_directory_is_a_usage_error(tmp_path):
    (tmp_path / "in").mkdir()
    proc = toy(str(tmp_path / "in"), "-o", str(tmp_path / "out"))
    faults.assert_clean_error(proc, 2, "no input shards")


# ----------------------------------------------------------------------------------------------- stdin


@pytest.mark.parametrize("bad_bytes", bad.BAD_UTF8_LINES)
def test_invalid_utf8_on_stdin_names_line_and_byte(bad_bytes, tmp_path):
    data = b"\n".join(bad.jsonl_docs(200)) + b"\n" + bad.jsonl_with_bad_utf8(bad_bytes, at=3)
    offset = data.index(b'"abc' + bad_bytes) + 4
    out = tmp_path / "out"
    proc = toy("-", "-o", str(out), input=data)
    faults.assert_clean_error(proc, 3, "<stdin> at line 204", f"(byte {offset})", "invalid UTF-8")
    assert faults.visible_files(out) == [] and faults.temp_files(out) == []


@pytest.mark.parametrize("line, needle", [
    (b"[1, 2]", "expected a JSON object, got list"),
    (b'"text"', "expected a JSON object, got str"),
    (b"{broken", "not JSON"),
    (b'{"id": "a", "text": "t", "source": "s", "lang_score": "high"}', "wrong type"),
    # (a non-string text, or a meta object, is not an error: tests/test_stdin_documents.py)
    (b'{"id": "a", "text": "x\\ud800y", "source": "s"}', "not valid text"),
    (b'{"id": "a", "text": "t", "source": "s", "normalized": "abc"}', "must be a list"),
    (b"[" * 100_000, "not JSON"),
])
def test_malformed_jsonl_on_stdin_is_a_bad_input_error(line, needle, tmp_path):
    data = b"\n".join(bad.jsonl_docs(3)) + b"\n" + line + b"\n"
    proc = toy("-", "-o", "-", input=data)
    faults.assert_clean_error(proc, 3, "<stdin>", needle)


def test_ids_and_sources_never_become_paths(tmp_path):
    """Hostile `id`/`source`/`url` values on stdin: the output shard is named `stdin` and lives in OUT."""
    rows = [{"id": v, "text": "好的文本", "source": v, "url": v} for v in
            ["../../../../tmp/evil", "/etc/passwd", "..", "/", "a/../../b", "C:\\x", "x\x00y"]]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    out = tmp_path / "work" / "out"
    before = set(tmp_path.rglob("*"))
    proc = toy("-", "-o", str(out), input=data)
    assert proc.returncode == 0, proc.stderr.decode()
    created = set(tmp_path.rglob("*")) - before
    assert all(out in p.parents or p in (out, out.parent) for p in created), created
    assert sorted(str(p.relative_to(out)) for p in faults.visible_files(out)) == [
        "manifests/stdin.json", "rejected/stdin.parquet", "stdin.parquet"]
    assert not Path("/tmp/evil").exists()


# ---------------------------------------------------------------------------------------------- configs


def test_yaml_object_construction_is_refused(small_input, tmp_path):
    marker = tmp_path / "PWNED"
    cfg = tmp_path / "evil.yaml"
    cfg.write_text(f'batch_size: !!python/object/apply:os.system ["touch {marker}"]\n')
    proc = toy(str(small_input), "-o", str(tmp_path / "out"), "-c", str(cfg))
    faults.assert_clean_error(proc, 2, str(cfg), "not valid YAML")
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, needle", [
    ("batch_size: abc\n", "batch_size"),
    ("batch_size: [1, 2]\n", "batch_size"),
    ("batch_size: 0\n", "batch_size"),
    ("no_such_option: 1\n", "unknown option"),
    ("- a list\n- not a mapping\n", "expected a mapping"),
    ("key: [unclosed\n", "not valid YAML"),
])
def test_bad_config_values_are_usage_errors(text, needle, small_input, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    proc = toy(str(small_input), "-o", str(tmp_path / "out"), "-c", str(cfg))
    faults.assert_clean_error(proc, 2, needle)


def test_config_that_is_not_utf8_is_a_usage_error(small_input, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(b"\xff\xfe\x00b\x00a")
    proc = toy(str(small_input), "-o", str(tmp_path / "out"), "-c", str(cfg))
    faults.assert_clean_error(proc, 2, str(cfg))


def test_yaml_alias_bomb_is_refused_quickly(small_input, tmp_path):
    """'Billion laughs': nine levels of nine-fold aliases. safe_load shares the objects, so loading is
    cheap; the value must be refused as the wrong type, not expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text("\n".join(lines) + "\ntoy:\n  batch_size: *a8\n")
    t0 = time.perf_counter()
    proc = toy(str(small_input), "-o", str(tmp_path / "out"), "-c", str(cfg), timeout=60)
    assert time.perf_counter() - t0 < 30
    faults.assert_clean_error(proc, 2)
