"""The bad-input corpus, built at test time into temporary directories (nothing big is committed).

Each generator writes one hostile input and returns its path. Everything is deterministic (seeded), so a
failure reproduces. Large inputs (bombs, 50 MB pages) are written by streaming, never held in memory whole.
docs/reliability.md lists every input here, what corpus-tool does with it, and the test that proves it.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

# ------------------------------------------------------------------------------------------ documents

HAN_FIRST, HAN_LAST = 0x4E00, 0x9FA5
PUNCT = "，。！？、；：“”《》"


def chinese_text(rng: np.random.Generator, n_chars: int) -> str:
    """Random Han text with punctuation and paragraph breaks (not language, but the right bytes)."""
    codes = rng.integers(HAN_FIRST, HAN_LAST, size=n_chars)
    chars = [chr(c) for c in codes]
    for i in range(17, n_chars, int(rng.integers(15, 40))):
        chars[i] = PUNCT[i % len(PUNCT)]
    for i in range(200, n_chars, 200):
        chars[i] = "\n\n"
    return "".join(chars)


SUBJECTS = ["城市居民", "研究人员", "地方政府", "学校老师", "农民朋友", "年轻工程师", "博物馆", "铁路部门",
            "志愿者", "医院", "图书馆", "气象台"]
VERBS = ["介绍了", "讨论了", "公布了", "总结了", "改进了", "记录了", "调查了", "推广了", "说明了"]
OBJECTS = ["新的垃圾分类办法", "春季播种的经验", "地铁线路的规划", "古籍修复的技术", "节约用水的措施",
           "社区图书馆的开放时间", "山区学校的午餐计划", "传统节日的习俗", "夏天防暑的办法", "河道治理的进展"]
TAILS = ["，大家普遍认为效果不错。", "，并表示明年还会继续。", "，引起了广泛的关注。", "，相关数据已经公开。",
         "。这是一件好事。", "，得到了居民的支持。"]


def sentences_text(rng: np.random.Generator, paragraphs: int = 4) -> str:
    """Plausible Chinese prose (subject-verb-object sentences): passes langid and the default filter rules."""
    paras = []
    for _ in range(paragraphs):
        n = int(rng.integers(3, 7))
        paras.append("".join(
            SUBJECTS[rng.integers(len(SUBJECTS))] + VERBS[rng.integers(len(VERBS))]
            + OBJECTS[rng.integers(len(OBJECTS))] + TAILS[rng.integers(len(TAILS))] for _ in range(n)))
    return "\n\n".join(paras)


REFERENCE_DIR = Path(__file__).resolve().parents[2] / "corpus_tool" / "data" / "reference"


def reference_sentences() -> list[str]:
    """Sentences of the Chinese reference text shipped in the package (real prose, passes every stage)."""
    out = []
    for f in sorted(REFERENCE_DIR.glob("*.txt")):
        for para in f.read_text(encoding="utf-8").split("\n"):
            out += [x + "。" for x in para.split("。") if len(x) > 8]
    return out


def prose_jsonl(path: Path, n_docs: int, *, seed: int = 0, dup_every: int = 10) -> Path:
    """Raw JSONL of prose documents (ingest input) made of reference sentences in random order; every
    `dup_every`-th document repeats an earlier one with a small change, so that dedup has work to do."""
    rng = np.random.default_rng(seed)
    pool = reference_sentences()
    texts: list[str] = []
    with open(path, "wb") as fh:
        for i in range(n_docs):
            if dup_every and i % dup_every == dup_every - 1 and texts:
                text = texts[int(rng.integers(len(texts)))] + "好。"
            else:
                paras = ["".join(pool[j] for j in rng.choice(len(pool), int(rng.integers(3, 8)), replace=False))
                         for _ in range(int(rng.integers(2, 6)))]
                text = "\n\n".join(paras)
            texts.append(text)
            fh.write(json.dumps({"id": f"{path.stem}-{i}", "text": text}, ensure_ascii=False).encode() + b"\n")
    return path


def write_docs(path: Path, n_docs: int, *, seed: int = 0, chars: int = 300, row_group_size: int | None = None,
               id_prefix: str | None = None) -> Path:
    """A document shard (zstd Parquet with id/text/source) of `n_docs` random Chinese documents."""
    rng = np.random.default_rng(seed)
    prefix = id_prefix if id_prefix is not None else path.stem
    texts = [chinese_text(rng, int(rng.integers(chars // 2, chars * 2))) for _ in range(n_docs)]
    table = pa.table({
        "id": [f"{prefix}-{i:06d}" for i in range(n_docs)],
        "text": texts,
        "source": [f"{path.name}#{i}" for i in range(n_docs)],
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=row_group_size or max(1, n_docs))
    return path


def large_prose_shard(path: Path, megabytes: int, *, docs_per_group: int = 4000, seed: int = 0) -> Path:
    """A document shard of about `megabytes` MB of text (reference sentences in random order, so every
    stage keeps most of it), written row group by row group: never held in memory whole."""
    import pyarrow.parquet as pq_

    rng = np.random.default_rng(seed)
    pool = np.array(reference_sentences(), dtype=object)
    written, doc = 0, 0
    writer = None
    try:
        while written < megabytes * 1_000_000:
            texts = ["".join(pool[rng.integers(0, len(pool), int(rng.integers(10, 60)))])
                     for _ in range(docs_per_group)]
            table = pa.table({"id": [f"big-{doc + i}" for i in range(len(texts))], "text": texts,
                              "source": [f"big#{doc + i}" for i in range(len(texts))]})
            if writer is None:
                writer = pq_.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            written += sum(len(t.encode()) for t in texts)
            doc += len(texts)
    finally:
        if writer is not None:
            writer.close()
    return path


def docs_dir(root: Path, n_shards: int, n_docs: int, **kw) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for s in range(n_shards):
        write_docs(root / f"part-{s:05d}.parquet", n_docs, seed=s, **kw)
    return root


# --------------------------------------------------------------------------------- broken Parquet


def zero_byte_parquet(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_parquet(path: Path, keep: float = 0.5) -> Path:
    """A valid shard cut short (as by a killed copy): the footer is gone."""
    write_docs(path, 50, seed=1, row_group_size=10)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def parquet_bad_footer_magic(path: Path) -> Path:
    """Right length, but the trailing magic bytes are wrong."""
    write_docs(path, 5, seed=2)
    data = bytearray(path.read_bytes())
    data[-4:] = b"XXXX"
    path.write_bytes(bytes(data))
    return path


def parquet_corrupt_page(path: Path) -> Path:
    """Footer intact, but bytes inside a data page are garbage (a bit-rotted disk)."""
    write_docs(path, 200, seed=3, row_group_size=50)
    data = bytearray(path.read_bytes())
    mid = len(data) // 3
    data[mid: mid + 64] = bytes(range(64))
    path.write_bytes(bytes(data))
    return path


def parquet_missing_text(path: Path) -> Path:
    """Readable Parquet without the required `text` column."""
    pq.write_table(pa.table({"id": ["a"], "source": ["s"]}), path)
    return path


def parquet_null_text(path: Path) -> Path:
    """The `text` column exists but holds nulls (a foreign tool's output)."""
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["好", None], "source": ["s", "s"]}), path)
    return path


# ------------------------------------------------------------------------------------------ JSONL

BAD_UTF8_LINES = [
    b"\xff\xfe\xfd",  # not UTF-8 at all
    b"\xc3\x28",  # invalid 2-byte sequence
    b"\xe4\xb8",  # truncated 3-byte sequence (half a Han character)
    b"\xed\xa0\x80",  # an encoded surrogate (CESU-8), invalid in UTF-8
    b"\xc0\xaf",  # overlong encoding of '/'
]


def jsonl_docs(n: int, *, start: int = 0, extra: dict | None = None) -> list[bytes]:
    """Valid document lines (the JSONL between stages: id, text, source)."""
    rng = np.random.default_rng(start)
    return [
        json.dumps({"id": f"j{start + i}", "text": chinese_text(rng, 60), "source": f"stdin#{start + i}",
                    **(extra or {})}, ensure_ascii=False).encode()
        for i in range(n)
    ]


def jsonl_with_bad_utf8(bad: bytes = BAD_UTF8_LINES[0], at: int = 3, n: int = 6) -> bytes:
    """JSONL whose line `at` (0-based) has invalid UTF-8 inside the text value."""
    lines = jsonl_docs(n)
    lines[at] = b'{"id": "bad", "text": "abc' + bad + b'def", "source": "x"}'
    return b"\n".join(lines) + b"\n"


def raw_jsonl_lines() -> list[bytes]:
    """Raw JSONL (ingest input) with every kind of broken line between good ones."""
    good = jsonl_docs(3)
    return [
        good[0],
        b"",  # blank
        b"   ",
        b"{not json",
        b"[1, 2, 3]",  # JSON, but not an object
        b'"just a string"',
        b"null",
        b'{"id": 7, "text": 12}',  # wrong types
        b'{"id": "no-text"}',
        b'{"text": null}',
        b'{"text": {"nested": "object"}}',
        b'{"text": "a\\ud800b"}',  # a lone surrogate escaped in JSON: valid JSON, not valid UTF-8 text
        good[1],
        b'{"text": "abc' + BAD_UTF8_LINES[1] + b'"}',
        b'{"id": "../../etc/passwd", "text": "\xe8\xb7\xaf\xe5\xbe\x84", "url": "file:///etc/passwd"}',
        b"\x00\x00\x00",
        good[2],
    ]


# ------------------------------------------------------------------------------------------- WARC


def http_response(body: bytes, *, content_type: str = "text/html; charset=utf-8", status: str = "200 OK",
                  extra_headers: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra_headers}"
    if "Content-Length" not in extra_headers and "Transfer-Encoding" not in extra_headers:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def warc_record(payload: bytes, *, uri: str = "http://example.com/", record_type: str = "response",
                content_length: int | None = None, record_id: str | None = None,
                date: str = "2024-01-01T00:00:00Z") -> bytes:
    """One WARC/1.0 record; `content_length` overrides the true length (to lie)."""
    length = len(payload) if content_length is None else content_length
    rid = record_id or f"<urn:uuid:{zlib.crc32(uri.encode() + payload):08x}-0000-0000-0000-000000000000>"
    ctype = "application/http; msgtype=response" if record_type == "response" else "application/warc-fields"
    head = (
        f"WARC/1.0\r\nWARC-Type: {record_type}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: {date}\r\n"
        f"WARC-Record-ID: {rid}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n"
    )
    return head.encode() + payload + b"\r\n\r\n"


def page(i: int, body_chars: int = 400) -> bytes:
    rng = np.random.default_rng(1000 + i)
    paras = "".join(f"<p>{chinese_text(rng, body_chars // 4)}</p>\n" for _ in range(4))
    return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>页面{i}</title></head>"
            f"<body><article><h1>第{i}篇文章</h1>{paras}</article></body></html>").encode()


def good_records(n: int, start: int = 0) -> list[bytes]:
    return [warc_record(http_response(page(i)), uri=f"http://example.com/{i}")
            for i in range(start, start + n)]


def gzip_member(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def write_warc(path: Path, records: list[bytes], *, gz: bool | None = None) -> Path:
    """Write records; for .gz, one gzip member per record (as Common Crawl does)."""
    gz = path.name.endswith(".gz") if gz is None else gz
    with open(path, "wb") as fh:
        for r in records:
            fh.write(gzip_member(r) if gz else r)
    return path


def warc_truncated_mid_record(path: Path) -> Path:
    """Three good records, then a fourth cut off halfway through its payload (a killed download)."""
    recs = good_records(4)
    raw = b"".join(gzip_member(r) for r in recs[:3]) if path.name.endswith(".gz") else b"".join(recs[:3])
    last = gzip_member(recs[3]) if path.name.endswith(".gz") else recs[3]
    path.write_bytes(raw + last[: len(last) // 2])
    return path


def warc_truncated_then_good(path: Path) -> Path:
    """A record cut short in the middle of the file, followed by good records (a bad splice)."""
    recs = good_records(5)
    gz = path.name.endswith(".gz")
    parts = [gzip_member(r) if gz else r for r in recs]
    parts[2] = parts[2][: len(parts[2]) // 2]
    path.write_bytes(b"".join(parts))
    return path


def warc_garbage_between_records(path: Path) -> Path:
    recs = good_records(4)
    gz = path.name.endswith(".gz")
    parts = [gzip_member(r) if gz else r for r in recs]
    garbage = bytes(np.random.default_rng(7).integers(0, 256, 3000, dtype=np.uint8))
    path.write_bytes(parts[0] + parts[1] + garbage + parts[2] + b"GARBAGE\r\n\r\n" + parts[3])
    return path


def warc_wrong_content_length(path: Path, *, delta: int) -> Path:
    """The second of four records claims `delta` more (or fewer, if negative) bytes than it has."""
    recs = good_records(4)
    payload = http_response(page(101))
    recs[1] = warc_record(payload, uri="http://example.com/liar", content_length=len(payload) + delta)
    return write_warc(path, recs)


def warc_huge_content_length(path: Path) -> Path:
    """A record that claims 10**15 bytes (reading it into memory must not be attempted)."""
    recs = good_records(3)
    recs[1] = warc_record(http_response(page(102)), uri="http://example.com/huge", content_length=10**15)
    return write_warc(path, recs)


def warc_bad_chunked(path: Path) -> Path:
    """HTTP bodies with Transfer-Encoding: chunked and broken chunk sizes, between good records."""
    te = "Transfer-Encoding: chunked\r\n"
    body = page(200)
    ok_chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    bad_bodies = [
        b"zz\r\n" + body + b"\r\n0\r\n\r\n",  # not hex
        b"ffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n",  # absurdly large
        b"%x\r\n" % (len(body) + 500) + body + b"\r\n0\r\n\r\n",  # larger than what follows
        b"%x\r\n" % len(body) + body,  # no terminating chunk
        b"-5\r\n" + body + b"\r\n0\r\n\r\n",  # negative
    ]
    recs = [good_records(1)[0],
            warc_record(http_response(ok_chunked, extra_headers=te), uri="http://example.com/chunked-ok")]
    for k, b in enumerate(bad_bodies):
        recs.append(warc_record(http_response(b, extra_headers=te), uri=f"http://example.com/chunked-bad-{k}"))
    recs += good_records(1, start=1)
    return write_warc(path, recs)


def warc_member_not_gzip(path: Path) -> Path:
    """A .warc.gz whose second member is not gzip at all, and whose third has a corrupt deflate stream."""
    recs = good_records(4)
    bad_member = recs[1]  # an uncompressed record where a gzip member should be
    broken = bytearray(gzip_member(recs[2]))
    broken[20:40] = b"\xff" * 20  # damage the deflate data; the gzip header is intact
    path.write_bytes(gzip_member(recs[0]) + bad_member + bytes(broken) + gzip_member(recs[3]))
    return path


def warc_gzip_bad_crc(path: Path) -> Path:
    """A .warc.gz member whose CRC32 trailer is wrong (the data inflates fine)."""
    recs = good_records(3)
    members = [gzip_member(r) for r in recs]
    m = bytearray(members[1])
    m[-8:-4] = b"\x00\x00\x00\x00" if m[-8:-4] != b"\x00\x00\x00\x00" else b"\x01\x00\x00\x00"
    members[1] = bytes(m)
    path.write_bytes(b"".join(members))
    return path


def warc_malicious_uris(path: Path) -> Path:
    """Target URIs and record ids that look like paths; none may become an output path."""
    uris = ["../../../../tmp/pwned", "/etc/passwd", "file:///etc/shadow", "http://x/../../y",
            "C:\\Windows\\system32", "http://example.com/\x00nul", "http://例子.测试/路径/../../..",
            "..", "/", "~root/.ssh/authorized_keys"]
    recs = [warc_record(http_response(page(300 + i)), uri=u, record_id="<../../../../tmp/pwned-id>")
            for i, u in enumerate(uris)]
    return write_warc(path, recs)


def warc_non_html(path: Path) -> Path:
    """Records ingest must pass over: request/metadata records, a 404, an image, a redirect."""
    recs = [
        warc_record(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", record_type="request"),
        warc_record(b"fetchTimeMs: 10\r\n", record_type="metadata"),
        warc_record(http_response(page(1), status="404 Not Found")),
        warc_record(http_response(b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png")),
        warc_record(http_response(b"", status="301 Moved Permanently",
                                  extra_headers="Location: http://example.com/x\r\nContent-Length: 0\r\n")),
        good_records(1)[0],
    ]
    return write_warc(path, recs)


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


# ------------------------------------------------------------------------------------------- HTML


def deep_html(path: Path, depth: int = 100_000, tag: str = "div") -> Path:
    """A page nested `depth` tags deep around a paragraph of Chinese text (about 1 MB for 100k)."""
    text = chinese_text(np.random.default_rng(11), 300)
    with open(path, "wb") as fh:
        fh.write(b"<html><head><meta charset='utf-8'></head><body>")
        fh.write(f"<{tag}>".encode() * depth)
        fh.write(f"<p>{text}</p>".encode())
        fh.write(f"</{tag}>".encode() * depth)
        fh.write(b"</body></html>")
    return path


def deep_unclosed_html(path: Path, depth: int = 100_000) -> Path:
    """100k opening tags that are never closed, of a tag that nests (`<b>`), then text."""
    with open(path, "wb") as fh:
        fh.write(b"<html><body>" + b"<b><i>" * (depth // 2) + "深层嵌套的文本。".encode() * 50)
    return path


def huge_html(path: Path, megabytes: int = 50) -> Path:
    """A page of `megabytes` MB of paragraphs (written in pieces)."""
    rng = np.random.default_rng(12)
    para = "".join(f"<p>{chinese_text(rng, 300)}</p>\n" for _ in range(30)).encode()
    with open(path, "wb") as fh:
        fh.write(b"<html><head><meta charset='utf-8'><title>big</title></head><body><article>")
        written = 0
        while written < megabytes * 1_000_000:
            fh.write(para)
            written += len(para)
        fh.write(b"</article></body></html>")
    return path


def one_line_html(path: Path, megabytes: float = 5) -> Path:
    """A page with no newline at all: every tag and paragraph on one line."""
    rng = np.random.default_rng(13)
    para = "".join(f"<p>{chinese_text(rng, 300).replace(chr(10), '')}</p>" for _ in range(10)).encode()
    with open(path, "wb") as fh:
        fh.write(b"<html><head><meta charset='utf-8'></head><body>")
        written = 0
        while written < megabytes * 1_000_000:
            fh.write(para)
            written += len(para)
        fh.write(b"</body></html>")
    return path


def binary_as_html(path: Path, n: int = 200_000) -> Path:
    """Random bytes under an .html name."""
    path.write_bytes(bytes(np.random.default_rng(14).integers(0, 256, n, dtype=np.uint8)))
    return path


# ------------------------------------------------------------------------------------------ bombs

GZIP_CHUNK = 16 << 20  # one gzip member holds 16 MiB; deflate cannot beat ~1030:1 anyway


def gzip_bomb(path: Path, gigabytes: float = 4, *, prefix: bytes = b"", fill: bytes = b"a") -> Path:
    """A .gz that inflates to `gigabytes` GB of `fill` (after `prefix`): concatenated gzip members, each
    the same 16 MiB of `fill`, so the file is about 1/1000 of its expansion and is written in seconds."""
    member = gzip.compress(fill * (GZIP_CHUNK // len(fill)), compresslevel=9, mtime=0)
    n = max(1, int(gigabytes * 1e9 // GZIP_CHUNK))
    with open(path, "wb") as fh:
        if prefix:
            fh.write(gzip.compress(prefix, mtime=0))
        for _ in range(n):
            fh.write(member)
    return path


ZSTD_CHUNK = 128 << 20


def zstd_bomb(path: Path, gigabytes: float = 8, *, prefix: bytes = b"", fill: bytes = b"a") -> Path:
    """A .zst that decompresses to `gigabytes` GB: concatenated zstd frames of 128 MiB of `fill` each
    (a few KB per frame)."""
    cctx = zstandard.ZstdCompressor(level=3)
    frame = cctx.compress(fill * (ZSTD_CHUNK // len(fill)))
    n = max(1, int(gigabytes * 1e9 // ZSTD_CHUNK))
    with open(path, "wb") as fh:
        if prefix:
            fh.write(cctx.compress(prefix))
        for _ in range(n):
            fh.write(frame)
    return path


def jsonl_gz_bomb(path: Path, gigabytes: float = 4) -> Path:
    """JSONL.gz: one good line, then a line that never ends: `{"text": "aaaa...` for `gigabytes` GB."""
    first = jsonl_docs(1)[0] + b"\n"
    return gzip_bomb(path, gigabytes, prefix=first + b'{"id": "bomb", "text": "')


def jsonl_zst_bomb(path: Path, gigabytes: float = 8) -> Path:
    first = jsonl_docs(1)[0] + b"\n"
    return zstd_bomb(path, gigabytes, prefix=first + b'{"id": "bomb", "text": "')


def jsonl_zst_bomb_many_lines(path: Path, gigabytes: float = 4) -> Path:
    """JSONL.zst whose expansion is many GB of short, valid lines (a bomb of records, not of one record)."""
    line = b'{"text": "\xe4\xb8\xad\xe6\x96\x87"}\n'
    return zstd_bomb(path, gigabytes, fill=line * 64)


def single_member_gzip_bomb(prefix: bytes, gigabytes: float, fill: bytes = b"a") -> Iterator[bytes]:
    """Pieces of ONE gzip member holding `prefix` + `gigabytes` GB of `fill`, made without compressing GBs:
    after a full flush deflate restarts from an empty window, so the compressed form of one 16 MiB chunk
    can be repeated. Only the CRC32 trailer needs a pass over the (virtual) data, chunk by chunk."""
    chunk = fill * (GZIP_CHUNK // len(fill))
    n = max(1, int(gigabytes * 1e9 // len(chunk)))
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "deflate output after a full flush should repeat"
    tail = c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    total = len(prefix) + n * len(chunk)
    yield b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head  # gzip header: deflate, no name, mtime 0
    for _ in range(n):
        yield block
    yield tail + struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF)


def warc_gz_bomb(path: Path, gigabytes: float = 2) -> Path:
    """A .warc.gz of three records, per-record gzip: a good one, then one whose single gzip member inflates
    to `gigabytes` GB (its Content-Length says so honestly), then a good one."""
    length = int(gigabytes * 1e9 // GZIP_CHUNK) * GZIP_CHUNK
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/bomb\r\n"
        "WARC-Date: 2024-01-01T00:00:00Z\r\n"
        "WARC-Record-ID: <urn:uuid:b0b0b0b0-0000-0000-0000-000000000000>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
    ).encode()
    recs = good_records(2)
    with open(path, "wb") as fh:
        fh.write(gzip_member(recs[0]))
        for piece in single_member_gzip_bomb(head, gigabytes):
            fh.write(piece)
        fh.write(gzip_member(recs[1]))
    return path


def warc_gz_bomb_multi_member(path: Path, gigabytes: float = 4) -> Path:
    """A .warc.gz: one good record, then a record whose gzip members inflate to `gigabytes` GB of payload
    and whose Content-Length says so honestly."""
    length = int(gigabytes * 1e9 // GZIP_CHUNK) * GZIP_CHUNK
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.com/bomb\r\n"
        "WARC-Date: 2024-01-01T00:00:00Z\r\n"
        "WARC-Record-ID: <urn:uuid:b0b0b0b0-0000-0000-0000-000000000000>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>"
    ).encode()
    first = gzip_member(good_records(1)[0])
    tmp = path.with_name(path.name + ".part")
    gzip_bomb(tmp, gigabytes, prefix=head)
    with open(path, "wb") as out, open(tmp, "rb") as src:
        out.write(first)
        while chunk := src.read(1 << 20):
            out.write(chunk)
    tmp.unlink()
    return path


# ------------------------------------------------------------------------------------- subtitles

BAD_SUBTITLES = {
    "no_timestamps.srt": "1\n你好\n\n2\n世界\n",
    "bad_timestamps.srt": "1\n00:00:99,999 --> 99:99:99,999\n字幕一\n\n2\nnot a time --> either\n字幕二\n",
    "only_numbers.srt": "1\n2\n3\n4\n",
    "empty.vtt": "",
    "header_only.vtt": "WEBVTT\n\n",
    "bom_crlf.vtt": ("\ufeffWEBVTT\r\n\r\n00:00.000 --> 00:01.000\r\n第一句\r\n\r\n"
                     "00:01.000 --> 00:02.000\r\n第二句\r\n"),
    "unterminated_cue.vtt": "WEBVTT\n\n00:00.000 --> 00:01.000 align:start position:0%\n<c.x>未闭合标签",
    "huge_cue_number.srt": "99999999999999999999999\n00:00:00,000 --> 00:00:01,000\n号\n",
}


def write_subtitles(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in BAD_SUBTITLES.items():
        p = root / name
        p.write_text(text, encoding="utf-8")
        out.append(p)
    gbk = root / "gbk_encoded.srt"
    gbk.write_bytes("1\n00:00:00,000 --> 00:00:01,000\n简体中文字幕\n".encode("gbk"))
    out.append(gbk)
    return out


def gz_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()
