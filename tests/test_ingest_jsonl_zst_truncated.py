"""Ingest of a truncated JSONL.zst: the rows before the cut are kept and the cut is reported."""

from __future__ import annotations

import json

import zstandard

from tests.ingest_helpers import manifest, read_docs, read_rejected


def test_truncated_jsonl_zst_keeps_the_rows_before_and_says_so(tmp_path, run_cli):
    # Several zstd blocks; the file is cut inside a later one (zstandard's reader alone ends silently there).
    rows = "".join(
        json.dumps({"id": f"r{i}", "text": f"第{i}行。" * 100 + str(i * 7919)}, ensure_ascii=False) + "\n"
        for i in range(3000)
    )
    data = zstandard.ZstdCompressor().compress(rows.encode())
    path = tmp_path / "broken.jsonl.zst"
    path.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out))
    m = manifest(out, "broken")
    kept = read_docs(out, "broken")
    assert m["docs"]["in"] == m["docs"]["kept"] + m["docs"]["rejected"]
    assert len(kept) > 1000 and [d["id"] for d in kept] == [f"r{i}" for i in range(len(kept))]
    assert "corrupt_record" in [r["reason"] for r in read_rejected(out, "broken")]
