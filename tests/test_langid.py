"""langid: the real lid.176 model plus script evidence, on sentences written for these tests; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tool import schema
from corpus_tool.stages import textstats as ts
from corpus_tool.stages.langid import LangIdStage, default_model_path, sample_pieces

ZH_HANS = [
    "陆一跌倒在路边，沉沉的睡了起来。",  # lid.176 alone: ja 0.74
    "今天天气很好，我们一起去公园散步吧。",
    "这家餐厅的菜很好吃，但是价格有点贵。",
    "他每天早上六点起床，然后跑步半个小时。",
]
ZH_HANT = [
    "臺灣的軟體開發者們說，這個問題應該從頭開始解決。",
    "我們明天下午在圖書館見面，一起準備考試。",
    "這部電影的劇情非常感人，觀眾都哭了。",
]
JA = [
    "東京都の人口は約千四百万人で、日本で最も多い。",
    "日本政府は来年度の予算案を閣議決定した。",
    "昨日は友達と一緒に映画を見に行きました。",
    "株式会社日立製作所代表取締役社長",  # no kana at all: the model's certainty decides
]
KO = [
    "서울은 대한민국의 수도이며 가장 큰 도시이다.",
    "오늘 날씨가 정말 좋아서 공원에 산책하러 갔어요.",
    "韓國語 문장에 漢字가 조금 섞여 있어도 한국어입니다.",
]


@pytest.fixture(scope="module")
def stage():
    s = LangIdStage()
    s.model  # noqa: B018 - load once for the module
    return s


def decide(stage, text):
    return stage.decide(text, ts.class_counts([text])[0])


@pytest.mark.parametrize("text", ZH_HANS + ZH_HANT)
def test_chinese_simplified_and_traditional_are_kept(stage, text):
    d = decide(stage, text)
    assert (d.lang, d.reason) == ("zh", None)
    assert d.score >= 0.9


@pytest.mark.parametrize("text", JA)
def test_japanese_is_not_chinese(stage, text):
    d = decide(stage, text)
    assert (d.lang, d.reason) == ("ja", "lang_ja")


@pytest.mark.parametrize("text", KO)
def test_korean_is_not_chinese(stage, text):
    d = decide(stage, text)
    assert (d.lang, d.reason) == ("ko", "lang_ko")


def test_script_evidence_fixes_lid176_zh_as_ja(stage):
    raw = LangIdStage(script_evidence=False, fold_varieties=False)
    text = ZH_HANS[0]
    assert decide(raw, text).lang == "ja"  # the model alone gets it wrong
    d = decide(stage, text)
    assert (d.lang, d.score, d.evidence) == ("zh", 1.0, "han")
    assert d.raw_lang == ""  # Han only, Chinese punctuation: decided without asking the model
    no_punct = decide(stage, "陆一跌倒在路边沉沉的睡了起来")
    # No Chinese punctuation: the model is asked (it says en 0.54) and the script overrules it.
    assert (no_punct.lang, no_punct.raw_lang, no_punct.evidence) == ("zh", "en", "han")


def test_yi_script_is_not_chinese(stage):
    yi = "ꆈꌠꁱꂷꀉꂿꄀꁱꌠꅉꆈꌠꉙꑞꌠꅉꆹ ꀊꁨꀋꃅ"
    d = decide(stage, yi)
    assert (d.lang, d.reason, d.evidence) == ("ii", "lang_ii", "yi")


@pytest.mark.parametrize("text", ["工", "工人", "中国", "ごに"])
def test_very_short_texts_are_rejected_as_too_short(stage, text):
    assert decide(stage, text).reason == "too_short"


@pytest.mark.parametrize("text", ["hello", "数学 mathematics", "qwrt zxcv plmk"])
def test_low_confidence_is_rejected_not_guessed(stage, text):
    d = decide(stage, text)
    assert d.reason == "low_confidence"
    assert d.score < stage.threshold


def test_other_languages_get_their_label_as_reason(stage):
    d = decide(stage, "Das ist ein deutscher Satz über das Wetter in Berlin.")
    assert (d.lang, d.reason) == ("de", "lang_de")


def test_langs_and_threshold_options():
    both = LangIdStage(langs=["zh", "en"])
    assert decide(both, "The weather in Beijing is very nice today.").reason is None
    strict = LangIdStage(threshold=1.0)
    d = decide(strict, "Das ist ein deutscher Satz über das Wetter.")
    assert d.reason in ("low_confidence", "lang_de")


def test_long_mixed_document(stage):
    """Chinese paragraphs with an English quotation and a Japanese title: Chinese, scored on a sample."""
    zh = (
        "人工智能是计算机科学的一个分支，它企图了解智能的实质，"
        "并生产出一种新的能以人类智能相似的方式做出反应的智能机器。"
    )
    doc = "\n".join(
        [zh] * 30
        + ["As Turing wrote, we can only see a short distance ahead, but we see plenty that needs doing."]
        + ["参考书目：『人工知能の哲学』（東京大学出版会）"]
        + [zh] * 30
    )
    assert len(doc) > stage.sample_chars
    pieces = sample_pieces(doc, stage.sample_chars)
    assert all("\n" not in p for p in pieces)
    assert sum(map(len, pieces)) <= stage.sample_chars + 400
    assert pieces[0].startswith("人工智能") and pieces[-1].endswith("机器。")
    d = decide(stage, doc)
    assert (d.lang, d.reason) == ("zh", None)
    counts = ts.class_counts([doc])
    assert ts.han_fraction(counts)[0] > 0.8


def test_sample_pieces_cut_long_lines_and_merge_short_ones():
    assert sample_pieces("短\n行\n\n", 1000) == ["短 行"]
    pieces = sample_pieces("字" * 1000, 5000)
    assert [len(p) for p in pieces] == [400, 400, 200]


def test_textstats_counts_every_class():
    counts = ts.class_counts(["日本の首都は東京です。", "한국어 文章", "ꆈꌠ", "", "abc 123，"])
    han, kana, hangul, yi = (counts[:, c].tolist() for c in (ts.HAN, ts.KANA, ts.HANGUL, ts.YI))
    assert han == [6, 2, 0, 0, 0]
    assert kana == [4, 0, 0, 0, 0]
    assert hangul == [0, 3, 0, 0, 0]
    assert yi == [0, 0, 2, 0, 0]
    assert counts[4, ts.LATIN] == 3 and counts[4, ts.DIGIT] == 3 and counts[4, ts.ZH_PUNCT] == 1
    assert counts[0, ts.CJK_PUNCT] == 1
    assert np.allclose(ts.han_fraction(counts), [6 / 11, 2 / 5, 0, 0, 0])


def test_textstats_handles_slices_nulls_and_large_strings():
    arr = pa.array(["前言", None, "中文字", "x"], pa.string())
    assert ts.class_counts(arr)[:, ts.HAN].tolist() == [2, 0, 3, 0]
    assert ts.class_counts(arr.slice(2, 2))[:, ts.HAN].tolist() == [3, 0]
    assert ts.class_counts(arr.cast(pa.large_string()))[:, ts.HAN].tolist() == [2, 0, 3, 0]
    assert ts.class_counts(pa.chunked_array([arr.slice(0, 1), arr.slice(2, 1)]))[:, ts.HAN].tolist() == [2, 3]


def test_stage_fills_columns(stage):
    texts = [ZH_HANS[1], JA[0], "工"]
    batch = schema.conform(pa.table({"id": ["a", "b", "c"], "text": texts, "source": ["s"] * 3}))
    kept, rejected = stage.process(batch)
    assert kept.column("lang").to_pylist() == ["zh"]
    assert kept.column("han_frac").to_pylist()[0] > 0.8
    assert rejected.column("reason").to_pylist() == ["lang_ja", "too_short"]
    assert rejected.column("lang").to_pylist() == ["ja", "zh"]
    assert stage.counters["script_han"] == 1 and stage.counters["script_kana"] == 1


def _write_shard(path, texts):
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts,
                             "source": [f"x#{i}" for i in range(len(texts))]}), path)


def test_cli_langid_shard(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    texts = ZH_HANS + ZH_HANT + JA + KO + ["工", "hello"]
    _write_shard(inp / "s0.parquet", texts)
    out = tmp_path / "out"
    run_cli("langid", str(inp), "-o", str(out), "--model", default_model_path())
    kept = pq.read_table(out / "s0.parquet").to_pylist()
    assert [r["text"] for r in kept] == ZH_HANS + ZH_HANT
    assert all(r["lang"] == "zh" and r["lang_score"] >= 0.5 and r["han_frac"] > 0.5 for r in kept)
    m = json.loads((out / "manifests" / "s0.json").read_text())
    assert m["docs"] == {"in": len(texts), "kept": len(kept), "rejected": len(texts) - len(kept)}
    assert m["rejected_by_reason"] == {"lang_ja": 4, "lang_ko": 3, "too_short": 1, "low_confidence": 1}
    assert m["resolved"]["langs"] == ["zh"] and m["config"]["threshold"] == 0.5


def test_cli_bad_model_path_names_the_file(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    _write_shard(inp / "s0.parquet", ["中文"])
    proc = run_cli("langid", str(inp), "-o", str(tmp_path / "out"), "--model", str(tmp_path / "nope.bin"),
                   check=False)
    assert proc.returncode == 2
    assert b"nope.bin" in proc.stderr
    assert not (tmp_path / "out" / "manifests").exists()


def test_cli_config_file_sets_langs_and_threshold(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    english = "The weather in Beijing is very nice today, so we went to the park."
    _write_shard(inp / "s0.parquet", [ZH_HANS[1], english, JA[0]])
    cfg = tmp_path / "c.yaml"
    cfg.write_text("langid:\n  langs: [zh, en]\n  threshold: 0.6\n", encoding="utf-8")
    out = tmp_path / "out"
    run_cli("langid", str(inp), "-o", str(out), "-c", str(cfg))
    assert [r["lang"] for r in pq.read_table(out / "s0.parquet").to_pylist()] == ["zh", "en"]
    m = json.loads((out / "manifests" / "s0.json").read_text())
    assert m["resolved"]["langs"] == ["zh", "en"] and m["config"]["threshold"] == 0.6


def test_kana_share_sets_the_japanese_evidence_threshold():
    # Chinese quoting a Japanese title: 6 kana in 20 CJK letters, a share of 0.3.
    counts = ts.class_counts(["他最喜欢的书叫《ノルウェイの森》，每年都读一遍。"])[0]
    assert LangIdStage()._script_evidence(counts, 20)[0] == "kana"  # default 0.20: not Chinese
    assert LangIdStage(kana_share=0.5)._script_evidence(counts, 20)[0] != "kana"


def test_compiled_class_counts_equal_numpy():
    """textstats.class_counts (langid's per-document class counts, _textscan.c's table_counts) against its
    numpy reference: every string kind, astral code points, empty and null documents, and the Arrow path
    the reference also takes. (Documents come from Arrow, whose strings are UTF-8: no lone surrogates.)"""
    assert ts._textscan is not None, "pip install builds it"
    rng = np.random.default_rng(7)
    texts = [*ZH_HANS, *ZH_HANT, *JA, "", None, "abc\x00\x7f", "é\u200b\u3000", "𠀀乾發\U0010ffff",
             "　ｆｕｌｌ１２３", "한국어 ㄱ", "ꀀꀁ"]
    # random code points over the whole range, so every class of the table is hit
    for _ in range(200):
        cps = rng.integers(0, 0x110000, size=int(rng.integers(0, 300)))
        texts.append("".join(chr(c) for c in cps if not 0xD800 <= c < 0xE000))
    got = ts.class_counts(texts)
    np.testing.assert_array_equal(got, ts.class_counts_reference(texts))
    np.testing.assert_array_equal(got, ts.class_counts_reference(pa.array(texts, pa.string())))
    assert got.shape == (len(texts), ts.N_CLASSES) and (got.sum(axis=0) > 0).sum() == ts.N_CLASSES


def test_table_counts_refuses_a_value_out_of_range():
    table = np.zeros(0x110000, dtype=np.uint8)
    table[ord("中")] = 3
    np.testing.assert_array_equal(np.frombuffer(ts._textscan.table_counts(["中中a", None], table, 4), np.int64),
                                  [1, 0, 0, 2, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="below n_values"):
        ts._textscan.table_counts(["中"], table, 3)
    with pytest.raises(ValueError, match="one byte per code point"):
        ts._textscan.table_counts(["中"], table[:100], 4)
