"""Minimal JSONL on stdin is a document stream for every stage: `text` alone, or with id/source/url/meta/
metadata and any other field (docs/shard-contract.md). Lines without a string text are rejected rows with
their line number; the stream goes on."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest

from corpus_tool import shards
from corpus_tool.errors import BadInputError

LINES = [
    {"text": "今天天气很好，我们去公园散步。"},  # text alone
    {"id": "dt-7", "text": "第二篇文档。", "metadata": {"source_url": "http://a.cn", "n": 1}},  # datatrove
    {"no": "text here"},  # no text: rejected, line 3
    {"id": 12, "text": "第四篇。", "source": "crawl-1#4", "url": "http://b.cn/x", "lang_hint": "zh"},
    {"text": ["not", "a", "string"]},  # non-string text: rejected, line 5
    {"text": "带我们自己的 meta。", "meta": json.dumps({"format": "jsonl"})},
]
STDIN = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in LINES)


def read_all(data: str, on_reject=None):
    return [r for b in shards.iter_jsonl_documents(io.BytesIO(data.encode()), 2, on_reject=on_reject)
            for r in b.to_pylist()]


def test_minimal_lines_become_documents_and_bad_lines_rejected_rows():
    rejected = []
    docs = read_all(STDIN, lambda batch, reasons, details: rejected.extend(
        zip(batch.to_pylist(), reasons, details, strict=True)))
    assert [d["id"] for d in docs] == ["<stdin>#1", "dt-7", "12", "<stdin>#6"]
    assert [d["source"] for d in docs] == ["<stdin>#1", "<stdin>#2", "crawl-1#4", "<stdin>#6"]
    assert docs[0]["meta"] is None
    assert json.loads(docs[1]["meta"]) == {"metadata": {"source_url": "http://a.cn", "n": 1}}
    assert docs[2]["url"] == "http://b.cn/x" and json.loads(docs[2]["meta"]) == {"lang_hint": "zh"}
    assert docs[3]["meta"] == json.dumps({"format": "jsonl"})  # our own meta string passes unchanged
    assert [(r["id"], reason) for r, reason, _ in rejected] == [("<stdin>#3", "missing_text"),
                                                                ("<stdin>#5", "text_not_string")]
    assert "line 3" in rejected[0][2] and "line 5" in rejected[1][2] and "list" in rejected[1][2]
    assert json.loads(rejected[0][0]["meta"])["line"] == json.dumps(LINES[2], ensure_ascii=False)


def test_same_input_same_ids():
    assert read_all(STDIN, lambda *a: None) == read_all(STDIN, lambda *a: None)


def test_without_a_reject_sink_a_line_without_text_is_a_clear_error():
    with pytest.raises(BadInputError, match=r"line 3 \(byte \d+\): no field 'text'"):
        read_all(STDIN)


@pytest.mark.parametrize("stage", ["normalize", "filter", "langid"])
def test_stage_reads_minimal_stdin_and_counts_rejected_lines(stage, tmp_path, run_cli):
    out = tmp_path / "out"
    proc = run_cli(stage, "-", "-o", str(out), input=STDIN)
    manifest = json.loads((out / "manifests" / "stdin.json").read_text())
    assert manifest["stage"] == stage
    assert manifest["docs"]["in"] == 6 == manifest["docs"]["kept"] + manifest["docs"]["rejected"]
    assert manifest["rejected_by_reason"]["missing_text"] == 1
    assert manifest["rejected_by_reason"]["text_not_string"] == 1
    rej = pq.read_table(out / "rejected" / "stdin.parquet").to_pylist()
    by_id = {r["id"]: r for r in rej}
    assert by_id["<stdin>#3"]["reason"] == "missing_text" and by_id["<stdin>#3"]["stage"] == stage
    assert by_id["<stdin>#5"]["reason"] == "text_not_string"
    assert b"missing_text 1" in proc.stderr


def test_pipe_mode_keeps_going_past_bad_lines(tmp_path, run_cli):
    rej = tmp_path / "rej.jsonl"
    proc = run_cli("normalize", "-", "-o", "-", "--rejected", str(rej), input=STDIN)
    kept = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [d["id"] for d in kept] == ["<stdin>#1", "dt-7", "12", "<stdin>#6"]
    rejected = [json.loads(line) for line in rej.read_text().splitlines()]
    assert [(r["id"], r["reason"]) for r in rejected] == [("<stdin>#3", "missing_text"),
                                                          ("<stdin>#5", "text_not_string")]


def test_our_own_stream_reads_back_unchanged():
    docs = read_all(STDIN, lambda *a: None)
    batch = next(shards.iter_jsonl_documents(io.BytesIO(STDIN.encode()), 100, on_reject=lambda *a: None))
    assert read_all(shards.batch_to_jsonl(batch)) == docs


def test_not_json_is_still_exit_3_naming_the_line(run_cli):
    proc = run_cli("normalize", "-", "-o", "-", input='{"text": "好"}\n{oops\n', check=False)
    assert proc.returncode == 3
    assert b"<stdin> at line 2" in proc.stderr
