"""Fuzz targets shared by the short runs in tests/test_reliability_fuzz.py and the long run in
benchmarks/fuzz_long.py. Each target takes generated input, runs the real code in-process, and checks the
invariants every input must keep: only a `CorpusToolError` may escape (a decided bad-input outcome), and every
batch that comes out is valid (string ids, valid UTF-8 text, one reason per rejected row, in == kept +
rejected)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import strategies as st

from corpus_tool import schema, shards
from corpus_tool.errors import BadInputError, CorpusToolError

# ------------------------------------------------------------------------------------------- strategies

SCRIPT_CHUNKS = [
    "中文文本，测试。", "繁體中文的句子。", "ひらがなとカタカナ", "한국어 문장입니다", "English words here. ",
    "Русский текст ", "نص عربي ", "עברית ", "हिन्दी ", "ไทย ", "😀🎉👍🏽", "e\u0301\u0301\u0301", "\u200b\u200d\ufeff",
    "\x00\x01\x1b[31m\x7f", "ＡＢＣ１２３（全角）", "&amp;&lt;&#x4e2d;&#20013;", "\r\n\r\n", "\t  \u3000 ",
    "上一篇 下一篇 返回首页", "版权所有 © 2024", "http://example.com/a?b=c", "𠀀𠀁𪚥", "\ufffd\ufffd",
    "1234567890", "。。。。！！！？？？", "\u202e\u202d", "\U000e0001", "#" * 50, "的了是在和有",
]


def mixed_script_text() -> st.SearchStrategy[str]:
    """Surrogate-free text: arbitrary code points, or runs of chunks from many scripts and junk classes."""
    arbitrary = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)
    chunks = st.lists(st.sampled_from(SCRIPT_CHUNKS), max_size=60).map("".join)
    repeated = st.tuples(st.sampled_from(SCRIPT_CHUNKS), st.integers(1, 2000)).map(lambda t: t[0] * t[1])
    return st.one_of(arbitrary, chunks, repeated)


def documents_batch(texts: list[str]) -> pa.RecordBatch:
    n = len(texts)
    return schema.conform(pa.RecordBatch.from_pydict({
        schema.ID: [f"f{i}" for i in range(n)],
        schema.TEXT: texts,
        schema.SOURCE: [f"fuzz#{i}" for i in range(n)],
    }))


# ---------------------------------------------------------------------------------------------- checks


def check_batches(pairs: list[tuple[pa.RecordBatch, pa.RecordBatch]]) -> tuple[int, int]:
    """Every (kept, rejected) pair is valid; returns (kept, rejected) counts."""
    kept = rejected = 0
    for k, r in pairs:
        for batch in (k, r):
            batch.validate(full=True)  # valid UTF-8 in every string column
            for name in (schema.ID, schema.TEXT, schema.SOURCE):
                assert batch.column(name).null_count == 0, name
        assert r.column(schema.REASON).null_count == 0
        assert all(isinstance(x, str) and x for x in r.column(schema.REASON).to_pylist())
        kept += k.num_rows
        rejected += r.num_rows
    return kept, rejected


def run_text_stage(stage, texts: list[str]) -> None:
    """A document stage's process() on one batch: in == kept + rejected, ids kept, valid output."""
    batch = documents_batch(texts)
    stage.begin_shard(shards.InputShard("fuzz", ("fuzz",)))
    k, r = stage.process(batch)
    kept, rejected = check_batches([(k, r)])
    assert kept + rejected == len(texts)
    ids = sorted(k.column(schema.ID).to_pylist() + r.column(schema.ID).to_pylist())
    assert ids == sorted(batch.column(schema.ID).to_pylist())


def run_token_encoder(encoder, texts: list[str]) -> None:
    """tokenize's fast path (gigatoken, no sampling) gives exactly HF tokenizers' ids for every document."""
    out = encoder.encode(texts)
    assert len(out.lengths) == len(texts)
    end = 0
    for text, n in zip(texts, out.lengths.tolist(), strict=True):
        got = out.tokens[end: end + n].tolist()
        end += n
        assert got == encoder.hf.encode(text).ids, text[:80]


# ---------------------------------------------------------------------------------------------- ingest


def run_ingest_file(stage, suffix: str, data: bytes) -> tuple[int, int]:
    """Ingest `data` saved under a name ending in `suffix`. Only a CorpusToolError may escape."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            found = stage.list_shards([str(path)])
            pairs = []
            for shard in found:
                stage.begin_shard(shard)
                pairs += list(stage.process_shard(shard, 64))
        except CorpusToolError:
            return 0, 0
        return check_batches(pairs)


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: 0 flip a byte, 1 truncate, 2 insert junk, 3 delete a span,
    4 duplicate a span."""
    b = bytearray(data)
    for kind, pos, val in ops:
        if not b:
            break
        at = pos % len(b)
        if kind == 0:
            b[at] = val % 256
        elif kind == 1:
            del b[at:]
        elif kind == 2:
            b[at:at] = bytes([val % 256]) * (1 + val % 17)
        elif kind == 3:
            del b[at: at + 1 + val % 200]
        else:
            b[at:at] = b[at: at + 1 + val % 300]
    return bytes(b)


mutations = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1 << 30), st.integers(0, 1 << 16)),
                     min_size=1, max_size=6)


# ----------------------------------------------------------------------------------------------- stdin


def run_stdin_jsonl(data: bytes) -> None:
    """The JSONL between stages: valid documents or a BadInputError naming <stdin>, nothing else."""
    try:
        batches = list(shards.iter_jsonl_documents(io.BytesIO(data), 7))
    except BadInputError as e:
        assert "<stdin>" in str(e)
        return
    for b in batches:
        b.validate(full=True)
        assert b.column(schema.TEXT).null_count == 0
