"""The bad-input corpus through `corpus-tool ingest` (a real subprocess, with a timeout): every breakage has a
decided outcome, documented in docs/reliability.md. Never a hang, never a traceback, the bad record named by
file and byte offset (or line), the good records around it still ingested, in == kept + rejected."""

from __future__ import annotations

import json
import time
from pathlib import Path

import badinput as bad
import pyarrow.parquet as pq
import pytest
from badinput import faults

from corpus_tool.stages.ingest.extract import extract_resiliparse


def ingest(tmp_path: Path, *inputs: Path | str, args: tuple = (), timeout: float = 90, code: int = 0,
           preexec_fn=None, input: bytes | None = None) -> dict:
    out = tmp_path / "out"
    t0 = time.perf_counter()
    proc = faults.run(faults.cli_argv("ingest", *map(str, inputs), "-o", str(out), *args), timeout=timeout,
                      preexec_fn=preexec_fn, input=input)
    seconds = time.perf_counter() - t0
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode == code, f"exit {proc.returncode}\n{err}"
    assert faults.temp_files(out) == [] if out.exists() else True
    result = {"err": err, "seconds": seconds, "out": out, "kept": [], "rejected": [], "manifests": []}
    if code == 0:
        for m in sorted((out / "manifests").glob("*.json")):
            man = json.loads(m.read_text())
            result["manifests"].append(man)
            kept = pq.read_table(out / f"{m.stem}.parquet").to_pylist()
            rej = pq.read_table(out / "rejected" / f"{m.stem}.parquet").to_pylist()
            assert man["docs"] == {"in": len(kept) + len(rej), "kept": len(kept), "rejected": len(rej)}
            result["kept"] += kept
            result["rejected"] += rej
        assert faults.check_consistent(out) == []
    return result


def urls(rows: list[dict]) -> list[str]:
    return sorted(r["url"] for r in rows if r["url"])


def reasons(rows: list[dict]) -> list[str]:
    return sorted(r["reason"] for r in rows)


def member_offsets(records: list[bytes], gz: bool) -> list[int]:
    sizes = [len(bad.gzip_member(r)) if gz else len(r) for r in records]
    return [sum(sizes[:i]) for i in range(len(sizes))]


GOOD = [f"http://example.com/{i}" for i in range(10)]


# -------------------------------------------------------------------------------------------------- WARC


@pytest.mark.parametrize("suffix", [".warc.gz", ".warc"])
def test_warc_truncated_mid_record(suffix, tmp_path):
    path = bad.warc_truncated_mid_record(tmp_path / f"t{suffix}")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == GOOD[:3]
    assert reasons(r["rejected"]) == ["corrupt_record"]
    at = member_offsets(bad.good_records(4), suffix.endswith(".gz"))[3]
    assert f"{path} at byte {at}" in r["rejected"][0]["reason_detail"]
    assert r["rejected"][0]["source"] == f"{path}#{at}"


@pytest.mark.parametrize("suffix", [".warc.gz", ".warc"])
def test_warc_truncated_record_then_good_ones(suffix, tmp_path):
    path = bad.warc_truncated_then_good(tmp_path / f"t{suffix}")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == [GOOD[i] for i in (0, 1, 3, 4)]
    assert reasons(r["rejected"]) == ["corrupt_record"]
    at = member_offsets(bad.good_records(5), suffix.endswith(".gz"))[2]
    assert r["rejected"][0]["source"] == f"{path}#{at}"


@pytest.mark.parametrize("suffix", [".warc.gz", ".warc"])
def test_warc_garbage_between_records(suffix, tmp_path):
    """Random bytes and a junk line between records: each junk region is one corrupt_record at its offset;
    every real record is kept (the junk here ends with a line break, as splices do; a record glued to junk
    with no line break between is lost with it, reported as that one corrupt_record)."""
    recs = bad.good_records(4)
    gz = suffix.endswith(".gz")
    parts = [bad.gzip_member(x) if gz else x for x in recs]
    garbage = bytes(range(256)) * 10 + b"\r\n\r\n"
    path = tmp_path / f"g{suffix}"
    path.write_bytes(parts[0] + parts[1] + garbage + parts[2] + b"GARBAGE\r\n\r\n" + parts[3])
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == GOOD[:4]
    assert reasons(r["rejected"]) == ["corrupt_record", "corrupt_record"]
    first_junk = len(parts[0]) + len(parts[1])
    assert r["rejected"][0]["source"] == f"{path}#{first_junk}"
    for row in r["rejected"]:
        assert str(path) in row["reason_detail"] and "at byte" in row["reason_detail"]


@pytest.mark.parametrize("suffix", [".warc.gz", ".warc"])
@pytest.mark.parametrize("delta", [300, -300])
def test_warc_wrong_content_length(suffix, delta, tmp_path):
    """A record that claims 300 bytes more (it then swallows the next header: reported, and the next
    record is still read) or 300 bytes fewer (the record is cut; its tail is junk, reported)."""
    path = bad.warc_wrong_content_length(tmp_path / f"c{suffix}", delta=delta)
    r = ingest(tmp_path, path)
    assert set(urls(r["kept"])) >= {GOOD[0], GOOD[2], GOOD[3]}
    assert reasons(r["rejected"]) == ["corrupt_record"]
    assert str(path) in r["rejected"][0]["reason_detail"]


@pytest.mark.parametrize("suffix", [".warc.gz", ".warc"])
def test_warc_content_length_of_a_petabyte(suffix, tmp_path):
    path = bad.warc_huge_content_length(tmp_path / f"h{suffix}")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == [GOOD[0], GOOD[2]]
    assert reasons(r["rejected"]) == ["record_too_large"]
    assert r["rejected"][0]["url"] == "http://example.com/huge"


def test_warc_bad_chunked_transfer_encoding(tmp_path):
    """Broken chunk sizes (not hex, absurd, too long, unterminated, negative): every record is accounted
    for, the good ones are kept, nothing crashes."""
    path = bad.warc_bad_chunked(tmp_path / "c.warc.gz")
    r = ingest(tmp_path, path)
    assert len(r["kept"]) + len(r["rejected"]) == 8
    assert {GOOD[0], GOOD[1], "http://example.com/chunked-ok"} <= set(urls(r["kept"]))
    ok = next(x for x in r["kept"] if x["url"].endswith("chunked-ok"))
    assert ok["text"] == extract_resiliparse(bad.page(200).decode()).text  # the page, as if it was not chunked
    assert "\r\n0\r\n" not in ok["text"]


def test_warc_gzip_member_that_is_not_gzip(tmp_path):
    path = bad.warc_member_not_gzip(tmp_path / "n.warc.gz")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == [GOOD[0], GOOD[3]]
    assert set(reasons(r["rejected"])) == {"corrupt_record"}
    at = len(bad.gzip_member(bad.good_records(1)[0]))
    assert r["rejected"][0]["source"] == f"{path}#{at}"
    assert "gzip" in r["rejected"][0]["reason_detail"]


def test_warc_gzip_member_with_bad_crc(tmp_path):
    path = bad.warc_gzip_bad_crc(tmp_path / "crc.warc.gz")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == [GOOD[0], GOOD[2]]
    assert reasons(r["rejected"]) == ["corrupt_record"]


def test_warc_records_that_are_not_documents_are_counted(tmp_path):
    path = bad.warc_non_html(tmp_path / "n.warc.gz")
    r = ingest(tmp_path, path)
    assert urls(r["kept"]) == [GOOD[0]] and r["rejected"] == []
    stats = r["manifests"][0]["stats"]
    assert stats["skipped.request"] == 1 and stats["skipped.metadata"] == 1
    assert stats["skipped.non_200"] == 2 and stats["skipped.non_html"] == 1


def test_warc_target_uris_never_become_paths(tmp_path):
    path = bad.warc_malicious_uris(tmp_path / "u.warc.gz")
    before = set(tmp_path.rglob("*"))
    r = ingest(tmp_path, path)
    created = set(tmp_path.rglob("*")) - before
    out = r["out"]
    assert all(p == out or out in p.parents for p in created), created
    assert sorted(str(p.relative_to(out)) for p in faults.visible_files(out)) == [
        "manifests/u.json", "rejected/u.parquet", "u.parquet"]
    assert "../../../../tmp/pwned" in urls(r["kept"])
    assert not Path("/tmp/pwned").exists() and not Path("/tmp/pwned-id").exists()


@pytest.mark.parametrize("name", ["e.warc", "e.warc.gz", "e.jsonl", "e.jsonl.gz", "e.jsonl.zst"])
def test_empty_container_gives_an_empty_finished_shard(name, tmp_path):
    path = bad.empty_file(tmp_path / name)
    r = ingest(tmp_path, path)
    assert r["manifests"][0]["docs"] == {"in": 0, "kept": 0, "rejected": 0}


def test_empty_html_file_is_one_rejected_document(tmp_path):
    r = ingest(tmp_path, bad.empty_file(tmp_path / "e.html"))
    assert reasons(r["rejected"]) == ["empty_after_extraction"]


# ------------------------------------------------------------------------------------------------- JSONL


def test_raw_jsonl_with_every_kind_of_broken_line(tmp_path):
    """Not JSON, not an object, wrong types, no text, a lone-surrogate escape, invalid UTF-8, NUL bytes:
    each broken line is one rejected row naming its line; the good lines are kept."""
    path = tmp_path / "raw.jsonl"
    path.write_bytes(b"\n".join(bad.raw_jsonl_lines()) + b"\n")
    r = ingest(tmp_path, path)
    kept_ids = sorted(x["id"] for x in r["kept"])
    assert kept_ids == sorted(["j0", "j1", "j2", "../../etc/passwd"])  # an id is data, never a path
    assert reasons(r["rejected"]) == sorted(["invalid_json"] * 5 + ["missing_text_field"] * 4 + ["mojibake"] * 2)
    for row in r["rejected"]:
        line = int(row["source"].rsplit("#", 1)[1])
        assert row["source"] == f"{path}#{line}" and 1 <= line <= len(bad.raw_jsonl_lines())
    assert faults.visible_files(r["out"])[0].parent.name == "manifests"


def test_jsonl_nested_100k_deep_is_invalid_json_not_a_crash(tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(bad.jsonl_docs(1)[0] + b"\n" + b"[" * 100_000 + b"\n" + b'{"text": ' + b"[" * 100_000 + b"\n")
    r = ingest(tmp_path, path)
    assert len(r["kept"]) == 1
    assert reasons(r["rejected"]) == ["invalid_json", "invalid_json"]
    assert sorted(x["source"] for x in r["rejected"]) == [f"{path}#2", f"{path}#3"]


def test_jsonl_invalid_utf8_is_replaced_and_counted(tmp_path):
    """Invalid UTF-8 inside a value: decoded with U+FFFD, counted in meta.bad_chars; a document that is
    mostly bad bytes is rejected as mojibake."""
    path = tmp_path / "u.jsonl"
    lines = [b'{"id": "few", "text": "' + "好".encode() * 100 + b"\xff" + b'"}',
             b'{"id": "most", "text": "' + b"\xff\xfe" * 50 + b'ok"}']
    path.write_bytes(b"\n".join(lines) + b"\n")
    r = ingest(tmp_path, path)
    assert [x["id"] for x in r["kept"]] == ["few"]
    assert "\ufffd" in r["kept"][0]["text"] and json.loads(r["kept"][0]["meta"])["bad_chars"] == 1
    assert [(x["id"], x["reason"]) for x in r["rejected"]] == [("most", "mojibake")]


def test_jsonl_line_over_the_record_limit_is_skipped_and_named(tmp_path):
    path = tmp_path / "long.jsonl"
    good = bad.jsonl_docs(3)
    huge = b'{"id": "huge", "text": "' + "长".encode() * 40_000 + b'"}'
    path.write_bytes(b"\n".join([good[0], huge, good[1], good[2]]) + b"\n")
    r = ingest(tmp_path, path, args=("--max-record-bytes", "50000"))
    assert sorted(x["id"] for x in r["kept"]) == ["j0", "j1", "j2"]
    assert [(x["reason"], x["source"]) for x in r["rejected"]] == [("record_too_large", f"{path}#2")]
    assert "line 2" in r["rejected"][0]["reason_detail"]


@pytest.mark.parametrize("name, make, reason, needle", [
    ("t.jsonl.gz", lambda data: bad.gz_bytes(data)[: len(bad.gz_bytes(data)) // 2], "corrupt_record",
     "after line"),
    ("t.jsonl.zst", lambda data: bad.zstandard.ZstdCompressor().compress(data)[:-5], "corrupt_record",
     "truncated zstd stream"),
    ("n.jsonl.gz", lambda data: b"this is not gzip", "corrupt_record", "cannot decompress"),
    ("n.jsonl.zst", lambda data: b"\x28\xb5\x2f\xfd" + b"\x00garbage" * 10, "corrupt_record", "cannot decompress"),
])
def test_broken_compressed_jsonl(name, make, reason, needle, tmp_path):
    data = b"\n".join(bad.jsonl_docs(200)) + b"\n"
    path = tmp_path / name
    path.write_bytes(make(data))
    r = ingest(tmp_path, path)
    assert len(r["kept"]) < 200
    assert [x["reason"] for x in r["rejected"]] == [reason]
    assert needle in r["rejected"][0]["reason_detail"] and str(path) in r["rejected"][0]["reason_detail"]


def test_jsonl_on_stdin_with_invalid_utf8(tmp_path):
    data = b"\n".join(bad.jsonl_docs(3)) + b"\n" + b'{"text": "\xff\xfe\xfd"}\n'
    r = ingest(tmp_path, "-", input=data)
    assert len(r["kept"]) == 3 and reasons(r["rejected"]) == ["mojibake"]
    assert r["rejected"][0]["source"] == "<stdin>#4"


# -------------------------------------------------------------------------------------------------- HTML


def test_html_nested_100k_deep_is_extracted_in_bounded_time(tmp_path):
    path = bad.deep_html(tmp_path / "deep.html")
    r = ingest(tmp_path, path, timeout=60)
    assert r["seconds"] < 30
    assert len(r["kept"]) == 1
    text = r["kept"][0]["text"]
    assert len(text) >= 250 and text[:5] in path.read_text()
    assert json.loads(r["kept"][0]["meta"]).get("deeply_nested_html") is True


def test_html_100k_unclosed_tags(tmp_path):
    r = ingest(tmp_path, bad.deep_unclosed_html(tmp_path / "u.html"), timeout=60)
    assert r["seconds"] < 30
    assert "深层嵌套的文本" in r["kept"][0]["text"]


def test_html_50mb_page_over_the_default_limit_is_rejected_without_reading_it(tmp_path):
    path = bad.huge_html(tmp_path / "big.html", 50)
    r = ingest(tmp_path, path, timeout=60)
    assert reasons(r["rejected"]) == ["record_too_large"]
    assert str(path) in r["rejected"][0]["reason_detail"]


def test_html_50mb_page_under_a_raised_limit_is_truncated_in_bounded_memory(tmp_path):
    """With --max-record-bytes 100 MB the page is parsed (under a 3 GB address-space cap) and the text is
    cut to --max-doc-chars, the original length recorded."""
    path = bad.huge_html(tmp_path / "big.html", 50)
    r = ingest(tmp_path, path, args=("--max-record-bytes", "100000000", "--max-doc-chars", "200000"),
               preexec_fn=faults.limit_memory(3 << 30), timeout=120)
    doc = r["kept"][0]
    assert len(doc["text"]) == 200_000
    assert json.loads(doc["meta"])["truncated_from_chars"] > 10_000_000


def test_html_on_one_line_keeps_paragraph_breaks(tmp_path):
    r = ingest(tmp_path, bad.one_line_html(tmp_path / "one.html", 2), timeout=60)
    text = r["kept"][0]["text"]
    assert text.count("\n\n") >= 100


def test_binary_file_named_html_is_rejected(tmp_path):
    r = ingest(tmp_path, bad.binary_as_html(tmp_path / "bin.html"))
    assert r["kept"] == [] and len(r["rejected"]) == 1
    assert r["rejected"][0]["reason"] in ("mojibake", "empty_after_extraction", "undecodable")


def test_broken_subtitles(tmp_path):
    paths = bad.write_subtitles(tmp_path / "subs")
    r = ingest(tmp_path, tmp_path / "subs")
    assert len(r["kept"]) + len(r["rejected"]) == len(paths)
    texts = "\n".join(x["text"] for x in r["kept"])
    assert "简体中文字幕" in texts and "第一句" in texts and "第二句" in texts
    assert "-->" not in texts and "WEBVTT" not in texts
    assert {x["reason"] for x in r["rejected"]} <= {"empty_text"}


# ------------------------------------------------------------------------------------------------- bombs

BOMB_ARGS = ("--max-record-bytes", "1000000")


@pytest.mark.parametrize("name, make", [
    ("bomb.jsonl.gz", lambda p: bad.jsonl_gz_bomb(p, 4)),
    ("bomb.jsonl.zst", lambda p: bad.jsonl_zst_bomb(p, 8)),
    ("bomb.warc.gz", lambda p: bad.warc_gz_bomb(p, 2)),
])
def test_decompression_bomb_is_bounded_in_time_and_memory(name, make, tmp_path):
    """A few MB that expand to 2-8 GB: under a 2 GB address-space cap the bomb is rejected as
    record_too_large (named by offset or line) in seconds, and the good records around it are kept."""
    path = make(tmp_path / name)
    assert path.stat().st_size < 5_000_000
    r = ingest(tmp_path, path, args=BOMB_ARGS, preexec_fn=faults.limit_memory(2 << 30), timeout=60)
    assert r["seconds"] < 30
    assert reasons(r["rejected"]) == ["record_too_large"]
    assert str(path) in r["rejected"][0]["reason_detail"]
    assert len(r["kept"]) == (2 if name.startswith("bomb.warc") else 1)


def test_zstd_bomb_with_default_limits_is_bounded(tmp_path):
    """With the default --max-record-bytes (50 MB) an endless JSONL line is skipped up to 20 x the limit
    and then the rest of the file is given up, still within the memory cap."""
    path = bad.jsonl_zst_bomb(tmp_path / "bomb.jsonl.zst", 8)
    r = ingest(tmp_path, path, preexec_fn=faults.limit_memory(2 << 30), timeout=60)
    assert reasons(r["rejected"]) == ["record_too_large"] and len(r["kept"]) == 1
    assert "rest of the file was not read" in r["rejected"][0]["reason_detail"]


def test_warc_bomb_split_over_many_gzip_members(tmp_path):
    """The same payload as many 16 MiB gzip members (valid gzip, not per-record): every member is read,
    none is kept, memory stays bounded."""
    path = bad.warc_gz_bomb_multi_member(tmp_path / "mm.warc.gz", 0.5)
    r = ingest(tmp_path, path, args=BOMB_ARGS, preexec_fn=faults.limit_memory(2 << 30), timeout=60)
    assert urls(r["kept"]) == [GOOD[0]]
    assert r["rejected"] and {x["reason"] for x in r["rejected"]} <= {"record_too_large", "corrupt_record"}


def test_warc_header_values_found_by_fuzzing(tmp_path):
    """Found by benchmarks/fuzz_long.py: a charset label with a NUL byte (codecs.lookup raises ValueError)
    and a Content-Length beyond any file offset (seek raises ValueError) were internal errors."""
    path = tmp_path / "f.warc"
    recs = [
        bad.warc_record(bad.http_response(bad.page(1), content_type="text/html; charset=utf\x00-8"),
                        uri="http://example.com/nul-charset"),
        bad.warc_record(bad.http_response(bad.page(2)), uri="http://example.com/huge", content_length=10**40),
    ]
    path.write_bytes(b"".join(recs) + bad.good_records(1)[0])
    r = ingest(tmp_path, path)
    assert "http://example.com/nul-charset" in urls(r["kept"])
    assert reasons(r["rejected"]) == ["record_too_large"]


def test_document_length_and_record_size_limits(tmp_path):
    """--max-doc-chars truncates (the original length in meta.truncated_from_chars); --max-record-bytes
    rejects a loose file that is larger, without reading it."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rows.jsonl").write_text(
        json.dumps({"id": "long", "text": "长文本。" * 500}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "short", "text": "短文本。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "in" / "big.txt").write_text("大" * 20_000, encoding="utf-8")
    (tmp_path / "in" / "small.txt").write_text("小文件的内容。", encoding="utf-8")
    r = ingest(tmp_path, tmp_path / "in", args=("--max-doc-chars", "100", "--max-record-bytes", "30000"))
    by_id = {x["id"]: x for x in r["kept"]}
    assert len(by_id["long"]["text"]) == 100
    assert json.loads(by_id["long"]["meta"])["truncated_from_chars"] == 2000
    assert by_id["short"]["text"] == "短文本。" and "truncated_from_chars" not in by_id["short"]["meta"]
    assert [(x["source"].rsplit("/", 1)[1], x["reason"]) for x in r["rejected"]] == [("big.txt#0", "record_too_large")]
    assert any(x["text"] == "小文件的内容。" for x in r["kept"])
