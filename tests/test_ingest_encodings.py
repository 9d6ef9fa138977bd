"""Ingest and every Unicode encoding form, CJK codecs chosen by plausibility, undecodable bytes rejected."""

from __future__ import annotations

import re

import pytest

from corpus_tool.stages.ingest import charset
from corpus_tool.stages.ingest.plausible import plausibility
from tests.ingest_helpers import ARTICLE, ARTICLE_TW, manifest, page, read_docs, read_rejected

SRT = (
    "1\n00:00:01,000 --> 00:00:03,000\n大家好，今天我们来聊一聊垃圾分类。\n\n"
    "2\n00:00:03,500 --> 00:00:05,000\n其实只要记住四个大类。\n"
)
WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
BOM = {"utf-16-le": "\ufeff", "utf-16-be": "\ufeff", "utf-32-le": "\ufeff", "utf-32-be": "\ufeff"}
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# 63 Traditional characters encoded as EUC-TW (CNS 11643 plane 1) by glibc iconv; Python has no EUC-TW codec
# and GB18030 decodes these bytes without a single error, into fluent-looking nonsense Han.
EUC_TW = bytes.fromhex(
    "dab0ebedd3f8e7afcfd4cea9dde5d6c0d9d1a1a2d6b4e2afc9fde0f5c6ccd6c0c4b8ddf4c4b8ebedd3f8fac0dedea1a4ebedd3f8"
    "e7dfd3d3cdfcc5b2dbd2dba7c7e3cea9dde5ced8d6c0e0f4ddf4a1a2cfc4eed5a1a3c6bacea9c5afccfbfba2c7e2d9b4d9f2d3fb"
    "e5b5cca7eeeda1a2c7d6f1ecc6cbd1c9cdb4c4d8ddf4fafdc8a9c7a1cba4d5a4f3dcfcc8c4e3c5c0a1a4"
)
# Simplified text whose GB2312 bytes also decode as Big5 without an error (into other, Traditional, characters).
GB_AND_BIG5 = "今天我们聊一下天气预报明天会下雨吗我觉得不会因为气象台说了明天是晴天大家可以出门玩但是要注意防晒"


def _encode(text: str, enc: str, bom: bool) -> bytes:
    return ((BOM[enc] if bom else "") + text).encode(enc)


@pytest.mark.parametrize("enc", WIDE)
@pytest.mark.parametrize("bom", [True, False])
def test_wide_forms_decode_with_and_without_bom(enc, bom):
    for text, html in ((ARTICLE + "\n第二行 abc 123\n", False), (page(ARTICLE), True), (ARTICLE, False)):
        d = charset.decode(_encode(text, enc, bom), html=html)
        assert d.encoding == enc and d.text == text and d.undecodable is None, (enc, bom, html, d.encoding)


def test_gb2312_that_also_decodes_as_big5_is_read_as_gb():
    data = GB_AND_BIG5.encode("gb2312")
    as_big5 = data.decode("big5hkscs")  # decodes cleanly, so "the first codec that does not fail" is wrong here
    assert "\ufffd" not in as_big5 and as_big5 != GB_AND_BIG5
    assert plausibility(GB_AND_BIG5)[0] > plausibility(as_big5)[0] + 1
    for label in (None, "big5"):  # even with a lying Big5 label
        d = charset.decode(data, label, html=False)
        assert d.encoding == "gb18030" and d.text == GB_AND_BIG5
    tw = ARTICLE_TW.encode("big5")
    assert charset.decode(tw, "gb2312", html=False).text == ARTICLE_TW  # and Big5 stays Big5


def test_utf8_text_with_a_stray_byte_is_not_read_as_utf16():
    # One invalid byte among ~90 non-ASCII bytes (over the 1-per-100 allowance) in an even-length text file:
    # UTF-16 decodes such bytes without an error, into Hangul and private-use nonsense.
    text = "第一行文字内容在这里。\n第二行文字内容在这里。\n第三行第四行"
    data = text.encode() + b"\x85" + "第五行".encode()
    assert len(data) % 2 == 0 and "\ufffd" not in data.decode("utf-16-le")
    d = charset.decode(data, html=False)
    assert d.encoding == "utf-8" and d.text == text + "\ufffd" + "第五行"


def test_euc_tw_is_undecodable_not_nonsense():
    assert "\ufffd" not in EUC_TW.decode("gb18030")  # the trap: a clean decoding
    d = charset.decode(EUC_TW, html=False)
    assert d.undecodable and "EUC-TW" in d.undecodable


def test_every_form_through_the_cli(tmp_path, run_cli):
    """HTML, text and subtitles in UTF-16/32 LE/BE with and without BOM, an EUC-TW text, a GB2312 text: the
    right text every time, no NUL or control character, the EUC-TW file rejected as undecodable."""
    src = tmp_path / "in"
    src.mkdir()
    for enc in WIDE:
        for bom in (True, False):
            tag = f"{enc}-{'bom' if bom else 'nobom'}"
            (src / f"page-{tag}.html").write_bytes(_encode(page(ARTICLE, meta_charset=enc[:6]), enc, bom))
            (src / f"text-{tag}.txt").write_bytes(_encode(ARTICLE + "\n\n" + ARTICLE_TW, enc, bom))
            (src / f"subs-{tag}.srt").write_bytes(_encode(SRT, enc, bom))
    (src / "cns.txt").write_bytes(EUC_TW)
    (src / "gb.txt").write_bytes(GB_AND_BIG5.encode("gb2312"))
    out = tmp_path / "out"
    run_cli("ingest", str(src), "-o", str(out))
    docs = {d["source"].rsplit("/", 1)[-1]: d for d in read_docs(out, "in-00000")}
    assert len(docs) == 3 * 8 + 1
    for name, d in docs.items():
        assert not CONTROL.search(d["text"]), name
        if name.startswith("page-"):
            assert ARTICLE in d["text"] and "<p>" not in d["text"], name
        elif name.startswith("text-"):
            assert d["text"] == ARTICLE + "\n\n" + ARTICLE_TW, name
        elif name.startswith("subs-"):
            assert d["text"] == "大家好，今天我们来聊一聊垃圾分类。其实只要记住四个大类。", name
    assert docs["gb.txt#0"]["text"] == GB_AND_BIG5
    (rej,) = read_rejected(out, "in-00000")
    assert rej["reason"] == "undecodable" and "EUC-TW" in rej["reason_detail"] and rej["text"] == ""
    assert manifest(out, "in-00000")["docs"] == {"in": 26, "kept": 25, "rejected": 1}


def test_control_characters_never_reach_text(tmp_path, run_cli):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"text": "' + ARTICLE + '\\u0000\\u0007\\u001b[31m\\u000c\\u0085\\t 尾"}\n', encoding="utf-8")
    (tmp_path / "t.txt").write_bytes(ARTICLE.encode() + b"\x00\x01\x0b\x7f\n\xc2\x85" + "结束".encode())
    out = tmp_path / "out"
    run_cli("ingest", str(rows), str(tmp_path / "t.txt"), "-o", str(out))
    texts = [read_docs(out, "rows")[0]["text"], read_docs(out, "t")[0]["text"]]
    for t in texts:
        assert not CONTROL.search(t) and ARTICLE in t
    # the form feed is a line break; U+0085, the tab and the space start the next line and are stripped
    assert texts[0].endswith("[31m\n尾"), texts[0][-12:]


def test_character_counts_equal_the_regexes():
    # The plausibility counts work on a text's Latin-1 bytes and str.split(); on every code point, and on
    # texts mixing them, they must give what the regexes they replace give.
    import random

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    rng = random.Random(4)
    alphabet = list("ab \t\n\r\x00\x0b\x0c\x1c\x7f\x85\x9f\xa0\xe9\xff\u2028\u3000中文婊睙甯傚湴\ufffd\ud800")
    texts = [every, ""] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    latin1_upper = re.compile("[\u00a0-\u00ff]")
    for t in texts:
        visible = len(re.findall(r"\S", t))
        assert charset.non_space_count(t) == visible
        assert charset.bad_char_count(t) == len(re.findall("[\ufffd\x80-\x9f]", t))
        n = len(latin1_upper.findall(t))
        assert charset.latin1_mojibake_fraction(t) == (n / max(visible, 1) if n else 0.0)
        assert charset.control_count(t) == len("".join(charset.CONTROL.findall(t)))
        gbk = len(charset._UTF8_AS_GBK.findall(t))
        # the compiled one-pass count gives what the checks count one by one
        assert charset.char_counts(t) == charset.char_counts_python(t) == charset.CharCounts(
            charset.bad_char_count(t), n, gbk, charset.control_count(t), visible, len(t))
        counts = charset.char_counts(t)
        assert counts.bad_fraction() == charset.bad_char_fraction(t)[1]
        assert counts.latin1_fraction() == charset.latin1_mojibake_fraction(t)
        assert counts.utf8_as_gbk_fraction() == charset.utf8_as_gbk_fraction(t)


def test_the_compiled_character_counts_are_the_ones_in_use():
    from corpus_tool.stages import _textscan

    assert charset.char_counts is not charset.char_counts_python and _textscan.char_counts
    mojibake = "中文".encode().decode("gbk", "replace") * 20  # UTF-8 read as GBK: rows E4-E9
    counts = charset.char_counts(mojibake)
    assert counts.utf8_as_gbk >= 20 and counts == charset.char_counts_python(mojibake)
