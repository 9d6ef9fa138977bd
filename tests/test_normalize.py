"""normalize: every clean-up rule, OpenCC conversion (OpenCC's own t2s cases), idempotence, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tool.stages.normalize import NormalizeStage, OpenCCConverter, normalize_text, normalize_texts

FIXTURES = Path(__file__).parent / "fixtures"
T2S = OpenCCConverter("t2s")


def norm(text: str, opencc: str | None = "t2s") -> tuple[str, list[str]]:
    return normalize_text(text, opencc)


# ------------------------------------------------------------------------------------------ each rule
@pytest.mark.parametrize(
    "text, expected, rule",
    [
        # html_entities: named, decimal, hex, double-escaped; decoded text is cleaned by later rules
        ("中文&amp;English &lt;b&gt;", "中文&English <b>", "html_entities"),
        ("&#20013;&#x6587;", "中文", "html_entities"),
        ("&amp;lt;p&amp;gt;", "<p>", "html_entities"),
        ("价格&nbsp;100元", "价格 100元", "html_entities"),
        # ansi_escapes: colour codes, cursor codes, OSC titles
        ("\x1b[31m错误\x1b[0m：文件不存在", "错误：文件不存在", "ansi_escapes"),
        ("\x1b]0;title\x07进度\x1b[2K完成", "进度完成", "ansi_escapes"),
        # control_chars: C0/C1 controls and DEL go, tab stays
        ("中\x00文\x07字\x7f符\x85", "中文字符", "control_chars"),
        ("列1\t列2", "列1\t列2", None),
        # invisible_chars: zero-width space, BOM, soft hyphen, bidi marks, word joiner; ZWJ inside emoji kept
        ("\ufeff中\u200b文\u00ad字\u200e符\u2060", "中文字符", "invisible_chars"),
        ("程序员👩\u200d💻写代码\u200d", "程序员👩\u200d💻写代码", "invisible_chars"),
        # fullwidth_ascii: letters, digits and symbols to ASCII; Chinese punctuation stays full width
        ("ＧＰＴ－４在２０２３年发布，准确率９５％！", "GPT-4在2023年发布，准确率95%！", "fullwidth_ascii"),
        ("你好，世界！真的吗？是的：对；（注）～", "你好，世界！真的吗？是的：对；（注）～", None),
        # compat_chars: Kangxi radicals, half-width kana and CJK punctuation, Latin ligatures
        ("⼀⼆三", "一二三", "compat_chars"),
        ("ｶﾀｶﾅ｡", "カタカナ。", "compat_chars"),
        ("ﬁle", "file", "compat_chars"),
        # ...and NFKC is NOT applied where it would change Chinese text or content
        ("面积100㎡，第①条，x²", "面积100㎡，第①条，x²", None),
        # nfc: combining sequences composed; CJK compatibility ideographs to unified ones
        ("cafe\u0301", "café", "nfc"),
        ("\uf900", "\u8c48", "nfc"),
        # whitespace: CRLF, exotic spaces, trailing spaces, blank-line runs; paragraph breaks kept
        ("第一段\r\n\r\n\r\n\r\n第二段  \r\n第三段\u3000", "第一段\n\n第二段\n第三段", "whitespace"),
        ("\n\n  标题\u00a0一  \n\n", "标题 一", "whitespace"),
        ("代码：\n    if x:\n        y()", "代码：\n    if x:\n        y()", None),
    ],
)
def test_each_rule(text, expected, rule):
    out, changed = norm(text, opencc=None)
    assert out == expected
    if rule is None:
        assert changed == []
    else:
        assert rule in changed


def test_url_query_with_entity_like_name_is_left_alone():
    text = "链接 http://x.cn/?a=1&copy=2&lt=3 结束"
    assert norm(text) == (text, [])


def test_rules_are_listed_in_order_applied():
    out, changed = norm("\ufeffＡＢＣ&amp;漢字  ")
    assert out == "ABC&汉字"
    assert changed == ["html_entities", "invisible_chars", "fullwidth_ascii", "opencc", "whitespace"]


# ------------------------------------------------------------------------------------------ OpenCC
CASES = json.loads((FIXTURES / "opencc_t2s_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["t2s"], ids=[c["id"] for c in CASES["t2s"]])
def test_opencc_t2s_cases(case):
    out, changed = norm(case["input"])
    assert out == case["expected"]
    assert ("opencc" in changed) == (case["input"] != case["expected"])


def test_opencc_cases_in_one_batch_match_one_by_one():
    inputs = [c["input"] for c in CASES["t2s"]]
    batch, _ = normalize_texts(inputs, T2S)
    assert batch == [c["expected"] for c in CASES["t2s"]]


@pytest.mark.parametrize("text", CASES["simplified_passthrough"])
def test_simplified_text_passes_through_unchanged(text):
    assert norm(text) == (text, [])


def test_traditional_document_becomes_simplified():
    out, changed = norm("臺灣的軟體開發者們說，這個問題應該從頭開始解決。")
    assert out == "台湾的软体开发者们说，这个问题应该从头开始解决。"
    assert changed == ["opencc"]


def test_traditional_quotation_in_simplified_document_is_converted_alone():
    # OpenCC alone would also turn the Simplified place name 乾安县 into 干安县.
    out, changed = norm("他说：“這個問題很難。”然后他们离开了乾安县，坐车回到了长春。")
    assert out == "他说：“这个问题很难。”然后他们离开了乾安县，坐车回到了长春。"
    assert changed == ["opencc"]


def test_tw2sp_converts_taiwan_phrasing_and_none_converts_nothing():
    assert norm("軟體和滑鼠", "tw2sp")[0] == "软件和鼠标"
    assert norm("軟體和滑鼠", None) == ("軟體和滑鼠", [])


def test_document_containing_the_batch_separator_is_still_converted():
    odd = "漢字" + OpenCCConverter.SEP + "測試"
    out = T2S.convert_many([odd, "體育"])
    assert out == ["汉字" + OpenCCConverter.SEP + "测试", "体育"]


def test_opencc_chains_are_followed_to_a_fixed_point():
    # t2s maps 薴 -> 苧 and 苧 -> 苎: one pass would not be idempotent.
    out, _ = norm("薴麻")
    assert norm(out)[0] == out


def test_shipped_script_table_equals_a_fresh_build_from_opencc():
    # The shipped table (scripts/make_opencc_script_table.py) saves every normalize task the build; it must
    # be exactly what the installed OpenCC gives, or be regenerated.
    import numpy as np

    from corpus_tool.stages.normalize import SIMP, TRAD, build_script_flags, load_script_flags

    shipped = load_script_flags()
    assert shipped is not None, "opencc was upgraded: run scripts/make_opencc_script_table.py"
    assert np.array_equal(shipped, build_script_flags())
    assert shipped[ord("發")] & TRAD and shipped[ord("发")] & SIMP and shipped[ord("中")] == 0


def test_unknown_opencc_config_is_a_usage_error():
    from corpus_tool.errors import UsageError

    with pytest.raises(UsageError, match="unknown OpenCC config"):
        OpenCCConverter("t2x")


# ------------------------------------------------------------------------------------------ idempotence
_PIECES = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(list("漢字體與開發著乾後髮裡麼們說這個為臺灣頭麵鬆餘製準係薴苧\n\r\t &;#x0123abcltgmp")),
    st.sampled_from(["&amp;", "&lt;", "&#20013;", "＆amp;", "\x1b[1m", "\u200d", "\ufeff", "\u3000", "\r\n",
                     "ＡＢ", "，", "⼀", "ｶﾞ", "e\u0301", "\uf900", "👩\u200d💻", "\n\n\n"]),
)
_TEXTS = st.lists(_PIECES, max_size=30).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_TEXTS, min_size=1, max_size=4))
def test_normalize_is_idempotent(texts):
    once, _ = normalize_texts(texts, T2S)
    twice, changed = normalize_texts(once, T2S)
    assert twice == once
    assert changed == [[] for _ in texts]


# ------------------------------------------------------------------------------------------ the stage
def _write_shard(path: Path, texts: list[str]) -> None:
    pq.write_table(
        pa.table({"id": [f"n{i}" for i in range(len(texts))], "text": texts,
                  "source": [f"t#{i}" for i in range(len(texts))]}),
        path,
    )


def test_stage_records_rules_and_rejects_empty_documents():
    stage = NormalizeStage()
    from corpus_tool import schema

    texts = ["乾淨的文字", "already clean", "\u200b\x00 \n"]
    batch = schema.conform(pa.table({"id": ["a", "b", "c"], "text": texts, "source": ["s", "s", "s"]}))
    kept, rejected = stage.process(batch)
    assert kept.column("text").to_pylist() == ["干净的文字", "already clean"]
    assert kept.column("normalized").to_pylist() == [["opencc"], []]
    assert rejected.column("reason").to_pylist() == ["empty"]
    assert stage.counters["changed_opencc"] == 1


def test_cli_normalize_shard(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    texts = ["繁體中文的測試文件。\r\n\r\n\r\n第二段", "简体中文保持不变。", "ＦＵＬＬ　ｗｉｄｔｈ", "\ufeff"]
    _write_shard(inp / "s0.parquet", texts)
    out = tmp_path / "out"
    run_cli("normalize", str(inp), "-o", str(out))
    kept = pq.read_table(out / "s0.parquet").to_pylist()
    assert [r["text"] for r in kept] == ["繁体中文的测试文件。\n\n第二段", "简体中文保持不变。", "FULL width"]
    assert [r["normalized"] for r in kept] == [
        ["opencc", "whitespace"], [], ["fullwidth_ascii", "whitespace"],
    ]
    m = json.loads((out / "manifests" / "s0.json").read_text())
    assert m["docs"] == {"in": 4, "kept": 3, "rejected": 1}
    assert m["rejected_by_reason"] == {"empty": 1}
    assert m["config"]["opencc"] == "t2s"


def test_cli_rejects_unknown_opencc_config(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    _write_shard(inp / "s0.parquet", ["文字"])
    proc = run_cli("normalize", str(inp), "-o", str(tmp_path / "out"), "--opencc", "t2x", check=False)
    assert proc.returncode == 2
    assert b"unknown OpenCC config" in proc.stderr
