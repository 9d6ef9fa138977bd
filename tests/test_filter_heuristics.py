"""Default rules that do not punish clean text or speech (issues 13 and 14): ruled lines and box-drawing
tables are cleaned, not rejected; list items and table rows do not count against end punctuation; menus
repeated at the top and the bottom go before repetition is judged; transcripts are not judged by line
shape. The junk they stood for is still rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from corpus_tool import schema
from corpus_tool.errors import UsageError
from corpus_tool.stages import filter as flt

OLD_RULES = Path(__file__).parent / "fixtures" / "filter_rules_golden.yaml"  # the defaults before the fix

PROSE = ("长江是中国第一长河，发源于青藏高原的唐古拉山脉，自西向东流经十一个省级行政区，最后在上海注入东海。"
         "长江流域气候温和，雨量充沛，自古以来就是重要的农业区。两岸的平原土壤肥沃，人们在这里种植水稻和茶叶。")
MORE = ("在交通还不发达的年代，长江是沟通东西的大动脉。船只顺流而下，把四川的盐和木材运到江南，又把江南的丝绸运往内地。"
        "今天，人们越来越重视长江的生态保护，国家实行了十年禁渔，并在沿岸建设了湿地公园。")

BOX_TABLE = PROSE + "\n下表列出了主要支流的长度：\n" + "\n".join([
    "┌" + "─" * 30 + "┬" + "─" * 30 + "┐",
    "│ 支流名称 │ 长度（公里） │",
    "├" + "─" * 30 + "┼" + "─" * 30 + "┤",
    "│ 嘉陵江 │ 一千一百二十 │",
    "├" + "─" * 30 + "┼" + "─" * 30 + "┤",
    "│ 汉江 │ 一千五百七十七 │",
    "└" + "─" * 30 + "┴" + "─" * 30 + "┘"]) + "\n" + MORE
RULED = (PROSE + "\n" + "-" * 60 + "\n" + MORE + "\n" + "=" * 60 + "\n"
         + "沿江的城市因此繁荣起来，武汉、南京等地都曾是重要的商业中心。")
SEPARATOR_PAGE = "=" * 400 + "\n欢迎光临本站\n" + "=" * 400
CITIES = ["上海市", "武汉市", "南京市", "重庆市", "宜昌市", "九江市", "岳阳市", "安庆市", "芜湖市", "镇江市"]
DISTRICTS = ["东城区", "西湖区", "南山区", "北塘区"]
LIST_ARTICLE = ("长江沿岸主要城市\n本次调查涉及的城市和区县如下：\n"
                + "\n".join(f"{i}. {c}{d}" for i, (c, d) in enumerate(
                    ((c, d) for d in DISTRICTS for c in CITIES), 1))
                + "\n以上数据来自二〇二三年的统计年鉴，由各地统计局提供。")
TOC = ("目录\n" + "\n".join(f"{i}.{j}. {a}{b}" for i, a in enumerate(
    ["系统", "网络", "文件", "用户", "软件", "硬件", "安全"], 1) for j, b in enumerate(
    ["的安装与升级", "的配置文件", "的日常管理", "的备份与恢复", "的调试方法"], 1)) + "\n本手册介绍系统的安装和使用。")
NAV = "Debian GNU/Linux 常见问题解答\n第三章 软件包管理工具的介绍\n本章的其他各节\n"
NAV_PAGE = NAV + PROSE + "\n" + MORE + "\n" + NAV

TRANSCRIPT = (
    "大家好欢迎收听今天的节目我是主持人小王今天我们请到了一位做了二十年农业的老朋友来聊一聊种地这件事\n\n"
    "谢谢主持人其实我小时候就在田里长大那时候种的是水稻一年两季每到夏天就特别忙\n\n"
    "那现在和以前比起来最大的变化是什么呢\n\n"
    "最大的变化我觉得是机器多了以前插秧全靠人现在有插秧机了收割也是用收割机效率高了很多\n\n"
    "听起来是好事但是会不会也有一些新的难处\n\n"
    "难处当然有比如说买机器要花钱年轻人又不愿意留在村里所以很多地是老人在种")
LYRICS = "\n".join(["我爱你 爱着你 就像老鼠爱大米", "不管有多少风雨 我都会依然陪着你"] * 25)
LOOP = "今天我们来聊一聊这本书\n" + "\n".join(["谢谢大家的观看"] * 200)


@pytest.fixture(scope="module")
def rules():
    return flt.load_rules()[0]


@pytest.fixture(scope="module")
def old_rules():
    return flt.load_rules(OLD_RULES)[0]


def test_table_borders_and_ruled_lines_are_cleaned_not_rejected(rules, old_rules):
    for text in (BOX_TABLE, RULED):
        assert flt.judge(old_rules, text).reason == "char_run"
        v = flt.judge(rules, text)
        assert v.reason is None and "char_run" in v.cleaned
        assert "─" * 21 not in v.text and "-" * 21 not in v.text and "=" * 21 not in v.text
        assert "嘉陵江" in v.text or "=" in text  # the table's cells stay
    v = flt.judge(rules, BOX_TABLE)
    assert "├" not in v.text and "│ 嘉陵江 │ 一千一百二十 │" in v.text


def test_a_page_made_of_separator_runs_and_garbage_runs_are_still_rejected(rules):
    v = flt.judge(rules, SEPARATOR_PAGE)
    assert v.reason == "char_run" and "separator runs" in v.detail
    v = flt.judge(rules, PROSE + "\n" + "/" * 40000)
    assert v.reason == "char_run" and "40000" in v.detail and "'/'" in v.detail
    assert flt.judge(rules, PROSE + "哈" * 300 + MORE).reason == "char_run"


def test_lists_tables_of_contents_and_menus_do_not_reject_articles(rules, old_rules):
    for text in (LIST_ARTICLE, TOC):
        assert flt.judge(old_rules, text).reason == "lines"
        assert flt.judge(rules, text).reason is None
    assert flt.judge(old_rules, NAV_PAGE).reason == "repetition"
    v = flt.judge(rules, NAV_PAGE)
    assert v.reason is None and "常见问题解答" not in v.text and "boilerplate_lines" in v.cleaned


def _batch(texts: list[str], kinds: list[str | None]) -> pa.RecordBatch:
    meta = [json.dumps({"kind": k}) if k else None for k in kinds]
    return schema.conform(pa.table({"id": [f"t{i}" for i in range(len(texts))], "text": texts,
                                    "source": ["x"] * len(texts), "meta": meta}))


def test_transcripts_are_not_judged_by_punctuation_but_loops_still_fail():
    stage = flt.FilterStage()
    texts = [TRANSCRIPT, TRANSCRIPT, LYRICS, LOOP]
    kept, rejected = stage.process(_batch(texts, ["transcript", None, "transcript", "transcript"]))
    assert kept.column("id").to_pylist() == ["t0"]
    reasons = dict(zip(rejected.column("id").to_pylist(), rejected.column("reason").to_pylist(), strict=True))
    assert reasons == {"t1": "lines", "t2": "repetition", "t3": "repetition"}
    assert stage.resolved()["rules"][-2]["skip_kinds"] == ["transcript"]


def test_kind_keys_are_validated(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("rules:\n  - {name: n, kind: length, params: {min_chars: 1}, skip_kinds: 3}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="skip_kinds"):
        flt.load_rules(bad)
    only = tmp_path / "o.yaml"
    only.write_text("rules:\n  - {name: n, kind: length, params: {min_chars: 1000}, only_kinds: [transcript]}\n",
                    encoding="utf-8")
    rules = flt.load_rules(only)[0]
    assert flt.judge(rules, PROSE).reason is None
    assert flt.judge(rules, PROSE, kind="transcript").reason == "n"
    assert flt.document_kind('{"kind": "transcript", "speakers": ["a"]}') == "transcript"
    assert flt.document_kind('{"title": "x"}') is None and flt.document_kind("not json") is None
