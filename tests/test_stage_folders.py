"""A stage refuses an output folder that holds another stage's shards (it would take their manifests as its
own and run nothing), and refuses to write into one of its own input folders: exit 2, both stages named."""

from __future__ import annotations

import json

import pytest

DOC = json.dumps({"text": "今天天气很好，我们一起去公园散步，看到了很多花。"}, ensure_ascii=False) + "\n"


@pytest.fixture
def ingested(tmp_path, run_cli):
    src = tmp_path / "a.jsonl"
    src.write_text(DOC, encoding="utf-8")
    out = tmp_path / "d"
    run_cli("ingest", str(src), "-o", str(out))
    assert json.loads((out / "manifests" / "a.json").read_text())["stage"] == "ingest"
    return out


def test_stage_refuses_its_own_input_folder(ingested, run_cli):
    proc = run_cli("langid", str(ingested), "-o", str(ingested), check=False)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "langid" in err and "ingest" in err and str(ingested) in err
    assert "already finished" not in err


def test_stage_refuses_a_folder_with_another_stages_shard(ingested, tmp_path, run_cli):
    other = tmp_path / "langid"
    run_cli("langid", str(ingested), "-o", str(other))
    proc = run_cli("normalize", str(other), "-o", str(ingested), check=False)  # shard 'a' is ingest's there
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "normalize" in err and "ingest" in err and str(ingested) in err
    # --overwrite does not change that: it redoes a stage's own shards only
    proc = run_cli("normalize", str(other), "-o", str(ingested), "--overwrite", check=False)
    assert proc.returncode == 2
    assert json.loads((ingested / "manifests" / "a.json").read_text())["stage"] == "ingest"


def test_rerun_of_the_same_stage_still_resumes(ingested, tmp_path, run_cli):
    out = tmp_path / "langid"
    run_cli("langid", str(ingested), "-o", str(out))
    proc = run_cli("langid", str(ingested), "-o", str(out))
    assert b"1 already finished" in proc.stderr
