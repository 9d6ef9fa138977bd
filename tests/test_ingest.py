"""Ingest: lying charsets, WARC corruption, subtitles, JSONL.zst, limits, and the embedded sample corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard

from corpus_tool.stages.ingest import charset
from corpus_tool.stages.ingest.stage import IngestStage
from corpus_tool.stages.ingest.subtitles import subtitles_to_text
from tests.ingest_helpers import (
    ARTICLE,
    ARTICLE_TW,
    manifest,
    page,
    read_docs,
    read_rejected,
    response_records,
    warc_record,
    write_warc_gz,
)

SAMPLE = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / "sample"
HEX16 = re.compile(r"^[0-9a-f]{16}$")


# ------------------------------------------------------------------------------------------- charset


@pytest.mark.parametrize(
    ("encoding", "http", "meta", "text", "expected_codec"),
    [
        ("gb18030", "utf-8", "utf-8", ARTICLE, "gb18030"),  # GBK bytes labelled utf-8 everywhere
        ("utf-8", "gb2312", "gb2312", ARTICLE, "utf-8"),  # UTF-8 bytes labelled gb2312
        ("big5", None, None, ARTICLE_TW, "big5hkscs"),  # Big5 with no label at all
        ("big5", "utf-8", "gbk", ARTICLE_TW, "big5hkscs"),  # Big5 with two wrong labels
        ("gb18030", None, "gb2312", ARTICLE, "gb18030"),  # honest GB2312
    ],
)
def test_charset_is_decided_from_the_bytes(encoding, http, meta, text, expected_codec):
    data = page(text, meta_charset=meta, lang="zh-TW" if encoding == "big5" else "zh-CN").encode(encoding)
    d = charset.decode(data, http)
    assert d.encoding == expected_codec
    assert text[:40] in d.text
    assert d.replacement_chars == 0
    assert charset.bad_char_count(d.text) == 0


def test_latin1_page_with_few_accents_is_not_read_as_utf8():
    # Two umlauts in a large ASCII page: not "UTF-8 with two bad bytes" but windows-1252.
    data = ("<html><body><p>" + "Die Ernte war gut. " * 3000 + "Größe und Qualität.</p></body></html>").encode(
        "latin-1"
    )
    d = charset.decode(data, None)
    assert "Größe und Qualität" in d.text and d.encoding == "cp1252"


def test_utf8_page_with_one_stray_byte_stays_utf8():
    data = page(ARTICLE * 5, "gb2312").encode("utf-8") + b"\xe6\xbb"  # a cut-off character at the end
    d = charset.decode(data, "gb2312")
    assert d.encoding == "utf-8" and ARTICLE[:30] in d.text and d.replacement_chars == 1


def test_gbk_extension_characters_decode_as_gb18030():
    # 镕 and 喆 are outside GB2312: a strict gb2312 decoder would fail on them.
    data = page("朱镕基和张喆在会上发言。" * 20, meta_charset="gb2312").encode("gbk")
    d = charset.decode(data, "gb2312")
    assert "朱镕基和张喆" in d.text


def test_lying_pages_through_the_cli(tmp_path, run_cli):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a-gbk-says-utf8.html").write_bytes(page(ARTICLE, "utf-8").encode("gbk"))
    (pages / "b-utf8-says-gb2312.html").write_bytes(page(ARTICLE, "gb2312").encode("utf-8"))
    (pages / "c-big5-no-label.html").write_bytes(page(ARTICLE_TW, None, lang="zh-TW").encode("big5"))
    out = tmp_path / "out"
    run_cli("ingest", str(pages), "-o", str(out))
    docs = {Path(d["source"]).name.split("#")[0]: d for d in read_docs(out, "pages-00000")}
    assert set(docs) == {"a-gbk-says-utf8.html", "b-utf8-says-gb2312.html", "c-big5-no-label.html"}
    assert "滨江市地铁五号线今日开通" in docs["a-gbk-says-utf8.html"]["text"]
    assert "滨江市地铁五号线今日开通" in docs["b-utf8-says-gb2312.html"]["text"]
    assert "強颱風逼近東部海域" in docs["c-big5-no-label.html"]["text"]
    assert docs["c-big5-no-label.html"]["html_lang"] == "zh-TW"
    meta = json.loads(docs["a-gbk-says-utf8.html"]["meta"])
    assert meta["encoding"] == "gb18030" and meta["meta_charset"] == "utf-8" and meta["charset_label_overruled"]
    for d in docs.values():
        assert "\ufffd" not in d["text"]
        for boilerplate in ("首页", "首頁", "版权所有", "版權所有"):  # navigation and footer dropped
            assert boilerplate not in d["text"]
        assert HEX16.match(d["id"])


def test_mojibake_is_rejected_with_a_reason():
    from corpus_tool.stages.ingest.rows import Row

    stage = IngestStage()
    texts = [
        ARTICLE.encode("gbk").decode("latin-1"),
        "\ufffd\ufffd\ufffd 2026 \ufffd\ufffd\ufffd\ufffd" * 20,
        "Ça coûte très cher à Genève, où l'été est déjà fini.",  # real French stays
        (ARTICLE * 3).encode("utf-8").decode("gb18030", "replace"),  # UTF-8 read as GBK
        ARTICLE * 3 + "涓涓细流，婉转悠扬。",  # real text with a few rare characters stays
    ]
    rows = [stage.finish(Row(str(i), f"x#{i}", t)) for i, t in enumerate(texts)]
    assert [r.reject[0] if r.reject else None for r in rows] == ["mojibake", "mojibake", None, "mojibake", None]
    assert "decoded as GBK" in rows[3].reject[1]


# ---------------------------------------------------------------------------------------------- WARC


def _warc_pages():
    return [
        (
            "http://a.example/1.html",
            page(ARTICLE, "utf-8").encode("gbk"),
            "text/html; charset=utf-8",
            "200 OK",
        ),
        ("http://a.example/2.html", page(ARTICLE_TW, lang="zh-TW").encode("big5"), "text/html", "200 OK"),
        (
            "http://a.example/3.html",
            page("第三篇文章的正文内容，" * 20).encode(),
            "text/html; charset=utf-8",
            "200 OK",
        ),
        ("http://a.example/gone", b"<html>not found</html>", "text/html", "404 Not Found"),
        ("http://a.example/logo.png", b"\x89PNG....", "image/png", "200 OK"),
        (
            "http://a.example/4.html",
            page("第四篇文章的正文内容，" * 20).encode(),
            "text/html; charset=utf-8",
            "200 OK",
        ),
    ]


def test_warc_with_a_truncated_record_keeps_the_rest(tmp_path, run_cli):
    records = response_records(_warc_pages())
    # Record 5 is the response for page 3: cut its gzip member in half.
    path = tmp_path / "crawl.warc.gz"
    offsets = write_warc_gz(path, records)
    data = bytearray(path.read_bytes())
    bad_start, bad_end = offsets[5], offsets[6]
    data[bad_start:bad_end] = data[bad_start : bad_start + (bad_end - bad_start) // 2]
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    proc = run_cli("ingest", str(path), "-o", str(out))
    assert f"at byte {bad_start}" in proc.stderr.decode()  # reported with the offset
    docs = read_docs(out, "crawl")
    texts = [d["text"] for d in docs]
    assert len(docs) == 3  # pages 1, 2 and 4 (404 and PNG are skipped, not documents)
    assert any("滨江市地铁五号线" in t for t in texts)
    assert any("強颱風" in t for t in texts)
    assert any("第四篇文章" in t for t in texts)  # the record after the bad one is still read
    rej = read_rejected(out, "crawl")
    assert [(r["reason"], r["stage"]) for r in rej] == [("corrupt_record", "ingest")]
    assert str(path) in rej[0]["reason_detail"] and f"byte {bad_start}" in rej[0]["reason_detail"]
    assert rej[0]["source"] == f"{path}#{bad_start}"
    m = manifest(out, "crawl")
    assert m["docs"] == {"in": 4, "kept": 3, "rejected": 1}
    assert m["stats"]["problem.corrupt_record"] == 1
    assert m["stats"]["skipped.non_200"] == 1 and m["stats"]["skipped.non_html"] == 1
    d1 = next(d for d in docs if d["url"] == "http://a.example/1.html")
    meta = json.loads(d1["meta"])
    assert meta["warc_record_id"] == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    assert d1["crawl_date"] == "2026-11-18T08:00:01Z"
    assert d1["source"] == f"{path}#{offsets[1]}"


def test_uncompressed_warc_with_a_record_cut_short(tmp_path, run_cli):
    records = response_records(_warc_pages())
    records[5] = records[5][: len(records[5]) // 2]  # page 3's response loses its second half
    path = tmp_path / "cut.warc"
    path.write_bytes(b"".join(records))
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out))
    texts = [d["text"] for d in read_docs(out, "cut")]
    assert len(texts) == 3 and any("第四篇文章" in t for t in texts)
    assert not any("第三篇" in t for t in texts)
    assert [r["reason"] for r in read_rejected(out, "cut")] == ["corrupt_record"]


def test_warc_file_cut_at_the_end(tmp_path, run_cli):
    path = tmp_path / "end.warc.gz"
    offsets = write_warc_gz(path, response_records(_warc_pages()))
    data = path.read_bytes()
    path.write_bytes(data[: offsets[-1] + 30])
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out))
    assert len(read_docs(out, "end")) == 3
    rej = read_rejected(out, "end")
    assert rej[0]["reason"] == "corrupt_record" and rej[0]["source"].endswith(f"#{offsets[-1]}")


def test_oversized_record_is_rejected_not_read(tmp_path, run_cli):
    big = page("很长的文章。" * 3000).encode()
    path = tmp_path / "big.warc.gz"
    write_warc_gz(path, response_records([("http://a.example/big", big, "text/html", "200 OK")] + _warc_pages()[:1]))
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out), "--max-record-bytes", "20000")
    assert [r["reason"] for r in read_rejected(out, "big")] == ["record_too_large"]
    assert len(read_docs(out, "big")) == 1


def test_wet_conversion_records(tmp_path, run_cli):
    text = "第一段正文。\n第二段正文，内容足够长。".encode()
    path = tmp_path / "x.warc.wet.gz"
    write_warc_gz(path, [warc_record("conversion", "http://a.example/w", text, "text/plain", 1)])
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out))
    (doc,) = read_docs(out, "x.warc")  # shard_name: x.warc.wet.gz -> x.warc (x.warc.gz -> x)
    assert doc["text"] == "第一段正文。\n第二段正文，内容足够长。" and doc["url"] == "http://a.example/w"


# ------------------------------------------------------------------------------------ subtitles, text


SRT = """1
00:00:01,000 --> 00:00:03,200
大家好，今天我们来聊一聊
垃圾分类。

2
00:00:03,400 --> 00:00:05,000
<i>其实只要记住四个大类。</i>

3
00:00:09,000 --> 00:00:11,000
第二部分：厨余垃圾。
"""

VTT = """WEBVTT - 访谈

NOTE 这段注释不是字幕

STYLE
::cue { color: yellow }

intro
00:00:01.000 --> 00:00:03.000 align:start position:10%
<v 主持人>王师傅，您是什么时候开始学竹编的？</v>

00:00:03.500 --> 00:00:05.000
<v 王师傅>我十四岁就跟着父亲学了，</v>

00:00:05.100 --> 00:00:07.000
<v 王师傅><c.loud>一开始就是劈竹子。</c></v>
"""


def test_subtitles_parsing():
    srt = subtitles_to_text(SRT)
    assert srt == "大家好，今天我们来聊一聊垃圾分类。其实只要记住四个大类。\n\n第二部分：厨余垃圾。"
    vtt = subtitles_to_text(VTT)
    assert vtt == "王师傅，您是什么时候开始学竹编的？\n\n我十四岁就跟着父亲学了，一开始就是劈竹子。"


def test_srt_vtt_markdown_through_the_cli(tmp_path, run_cli):
    (tmp_path / "talk.srt").write_text(SRT, encoding="utf-8")
    (tmp_path / "interview.vtt").write_text(VTT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# 标题\n\n第一段。\r\n\r\n\r\n第二段。  \n", encoding="utf-8")
    out = tmp_path / "out"
    run_cli(
        "ingest",
        str(tmp_path / "talk.srt"),
        str(tmp_path / "interview.vtt"),
        str(tmp_path / "notes.md"),
        "-o",
        str(out),
    )
    talk = read_docs(out, "talk")[0]["text"]
    assert "-->" not in talk and not re.search(r"\d\d:\d\d", talk) and not re.search(r"^\d+$", talk, re.M)
    assert "今天我们来聊一聊垃圾分类" in talk
    interview = read_docs(out, "interview")[0]["text"]
    assert "WEBVTT" not in interview and "NOTE" not in interview and "color" not in interview
    assert "<v" not in interview and "align:" not in interview
    assert read_docs(out, "notes")[0]["text"] == "标题\n\n第一段。\n\n第二段。"  # Markdown: the heading mark goes


# --------------------------------------------------------------------------------------------- JSONL


def test_jsonl_zst_keeps_ids_and_carries_meta(tmp_path, run_cli):
    rows = [
        {
            "id": "doc-1",
            "content": "第一篇文章。" * 10,
            "url": "https://x.example/1",
            "likes": 3,
            "tags": ["a"],
        },
        {"content": "没有编号的文章。" * 10, "site": "x"},
        {"id": 42, "content": "数字编号。" * 10},
        {"id": "doc-4", "title": "no text field"},
    ]
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "{not json\n"
    path = tmp_path / "export.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(data.encode()))
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out), "--text-field", "content")
    docs = read_docs(out, "export")
    assert [d["id"] for d in docs[:1] + docs[2:]] == ["doc-1", "42"]
    assert HEX16.match(docs[1]["id"])
    assert docs[0]["url"] == "https://x.example/1" and docs[0]["text"] == "第一篇文章。" * 10
    assert json.loads(docs[0]["meta"]) == {"likes": 3, "tags": ["a"], "format": "jsonl"}
    assert json.loads(docs[1]["meta"])["site"] == "x"
    assert docs[1]["source"] == f"{path}#2"
    rej = read_rejected(out, "export")
    assert [(r["id"], r["reason"]) for r in rej][0] == ("doc-4", "missing_text_field")
    assert rej[1]["reason"] == "invalid_json" and "line 5" in rej[1]["reason_detail"]
    # Ids are stable across reruns.
    out2 = tmp_path / "out2"
    run_cli("ingest", str(path), "-o", str(out2), "--text-field", "content")
    assert [d["id"] for d in read_docs(out2, "export")] == [d["id"] for d in docs]


def test_stdin_to_stdout_pipeline(run_cli):
    rows = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in ("第一行文本。", "第二行文本。"))
    proc = run_cli("ingest", "-", "-o", "-", input=rows)
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o["text"] for o in out] == ["第一行文本。", "第二行文本。"]
    assert all(o["source"].startswith("<stdin>#") for o in out)


# ------------------------------------------------------------------------------------ robustness


def test_deeply_nested_html_does_not_crash(tmp_path, run_cli):
    html = "<html><body>" + "<div>" * 50000 + "深层嵌套的正文。" * 30 + "</div>" * 50000 + "</body></html>"
    (tmp_path / "deep.html").write_text(html, encoding="utf-8")
    out = tmp_path / "out"
    run_cli("ingest", str(tmp_path / "deep.html"), "-o", str(out))
    (doc,) = read_docs(out, "deep")
    assert "深层嵌套的正文。" in doc["text"] and json.loads(doc["meta"])["deeply_nested_html"]


def test_long_document_is_truncated_and_recorded(tmp_path, run_cli):
    (tmp_path / "long.txt").write_text("长" * 5000, encoding="utf-8")
    out = tmp_path / "out"
    run_cli("ingest", str(tmp_path / "long.txt"), "-o", str(out), "--max-doc-chars", "1000")
    (doc,) = read_docs(out, "long")
    assert len(doc["text"]) == 1000 and json.loads(doc["meta"])["truncated_from_chars"] == 5000


def test_loose_files_are_grouped_into_named_shards(tmp_path, run_cli):
    site = tmp_path / "site"
    site.mkdir()
    for i in range(5):
        (site / f"p{i}.html").write_text(page(f"第{i}篇。" * 30), encoding="utf-8")
    (site / "skip.bin").write_bytes(b"\x00\x01")
    out = tmp_path / "out"
    run_cli("ingest", str(site), "-o", str(out), "--files-per-shard", "2")
    assert sorted(p.name for p in out.glob("*.parquet")) == [
        "site-00000.parquet",
        "site-00001.parquet",
        "site-00002.parquet",
    ]
    assert [Path(d["source"]).name for d in read_docs(out, "site-00001")] == ["p2.html#0", "p3.html#0"]


# ------------------------------------------------------------------------------------- sample corpus


def test_sample_corpus_ingests_as_designed(tmp_path, run_cli):
    out = tmp_path / "out"
    run_cli("ingest", str(SAMPLE), "-o", str(out))
    all_docs = []
    for shard in ("crawl", "export", "sample-00000"):
        m = manifest(out, shard)
        assert m["docs"]["in"] == m["docs"]["kept"] + m["docs"]["rejected"]
        all_docs += read_docs(out, shard)
    assert 55 <= len(all_docs) <= 120
    crawl = {d["url"]: d for d in read_docs(out, "crawl")}
    # GBK bytes labelled utf-8, UTF-8 labelled gb2312, Big5 labelled nothing / utf-8: all decoded right.
    assert "滨江市地铁五号线一期工程正式开通" in crawl["http://news.binjiang.example/2026/1118/metro5.html"]["text"]
    assert "秋粮收购" in crawl["http://news.binjiang.example/2026/1117/grain.html"]["text"]
    assert "颱風" in crawl["http://www.twnews.example/story/7781.html"]["text"]
    assert "夜市" in crawl["http://www.twnews.example/story/7802.html"]["text"]
    assert crawl["http://www.machi-news.example/akimatsuri.html"]["html_lang"] == "ja"
    assert not any("\ufffd" in d["text"] for d in all_docs)
    stats = manifest(out, "crawl")["stats"]
    assert stats["skipped.non_200"] == 3 and stats["skipped.non_html"] == 4 and stats["skipped.request"] > 20
    assert {r["reason"] for r in read_rejected(out, "crawl")} == {"mojibake"}
    kept_ids = [d["id"] for d in all_docs]
    assert len(set(kept_ids)) == len(kept_ids)


def test_rerun_gives_the_same_bytes(tmp_path, run_cli):
    a, b = tmp_path / "a", tmp_path / "b"
    run_cli("ingest", str(SAMPLE), "-o", str(a))
    run_cli("ingest", str(SAMPLE), "-o", str(b))
    for f in sorted(a.rglob("*.parquet")):
        assert f.read_bytes() == (b / f.relative_to(a)).read_bytes(), f
    assert pq.read_table(a / "crawl.parquet").num_rows > 0


def test_whole_file_gzip_warc_is_streamed(tmp_path, run_cli):
    # One gzip stream for the whole file, larger than --max-record-bytes: fastwarc streams it.
    import gzip

    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(b"".join(response_records(_warc_pages())), mtime=0))
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out), "--max-record-bytes", "3000")
    texts = [d["text"] for d in read_docs(out, "whole")]
    assert len(texts) == 4 and any("第四篇文章" in t for t in texts)


def test_record_split_over_two_gzip_members(tmp_path, run_cli):
    records = response_records(_warc_pages()[:1])
    resp = records[1]
    cut = len(resp) // 2
    path = tmp_path / "split.warc.gz"
    path.write_bytes(b"".join(gzip_member(x) for x in (records[0], resp[:cut], resp[cut:])))
    out = tmp_path / "out"
    run_cli("ingest", str(path), "-o", str(out))
    (doc,) = read_docs(out, "split")
    assert "滨江市地铁五号线" in doc["text"]


def gzip_member(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def test_extraction_fallback_when_main_content_is_empty(tmp_path, run_cli):
    # All the text sits in a "sidebar": resiliparse's main-content pass drops it.
    body = "".join(f"<p>这是一段很长的正文内容，第{i}段，讲述了城市交通的变化。</p>" for i in range(30))
    (tmp_path / "side.html").write_text(f'<html><body><div class="sidebar">{body}</div></body></html>', "utf-8")
    out = tmp_path / "out"
    run_cli("ingest", str(tmp_path / "side.html"), "-o", str(out))
    (doc,) = read_docs(out, "side")
    assert "第29段" in doc["text"] and json.loads(doc["meta"])["extractor_fallback"] == "all-text"
    out2 = tmp_path / "out2"
    run_cli("ingest", str(tmp_path / "side.html"), "-o", str(out2), "--extraction-fallback", "none")
    assert [r["reason"] for r in read_rejected(out2, "side")] == ["empty_after_extraction"]


def test_parquet_input_keeps_ids(tmp_path, run_cli):
    import pyarrow as pa

    table = pa.table({"doc_id": ["a1", "a2"], "body": ["第一篇。" * 20, "第二篇。" * 20], "lang_hint": ["zh", "zh"]})
    pq.write_table(table, tmp_path / "rows.parquet")
    out = tmp_path / "out"
    run_cli(
        "ingest",
        str(tmp_path / "rows.parquet"),
        "-o",
        str(out),
        "--text-field",
        "body",
        "--id-field",
        "doc_id",
    )
    docs = read_docs(out, "rows")
    assert [d["id"] for d in docs] == ["a1", "a2"]
    assert docs[1]["text"] == "第二篇。" * 20 and json.loads(docs[0]["meta"])["lang_hint"] == "zh"
