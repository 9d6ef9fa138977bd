"""Speech through the default pipeline: a clean, unpunctuated ASR transcript and a glued speaker/stamp dialogue
survive ingest -> langid -> normalize -> quality -> filter (rules/zh_web.yaml defaults) -> perplexity, as in
corpus_tool/data/pipeline.yaml; an ASR hallucination loop and a music video's repeated lyrics do not."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq

from corpus_tool.stages.ingest.transcripts import detect

DATA = Path(__file__).resolve().parents[1] / "corpus_tool" / "data"
HAN = re.compile(r"[\u4e00-\u9fff]")
# A podcast's opening, as an ASR system writes it: no punctuation at all. Written for this test.
SPOKEN = """\
大家好欢迎收听本期的城市生活播客
今天我们想聊一聊老城区改造这件事
最近很多听众给我们留言说自己家附近的老房子要拆了
有人觉得这是好事因为住了几十年的房子确实太旧了
水管经常漏水冬天也没有暖气
但是也有人舍不得因为邻居们都认识了很多年
楼下的小卖部楼上的王阿姨大家互相照应
我们这期请到了一位在规划局工作了十五年的朋友
他会跟我们讲讲改造到底是怎么决定的
首先要说明的是并不是所有的老房子都会拆
现在更多的做法是保留原来的街道格局
把房子内部重新装修加装电梯和新的管道
这样居民可以继续住在原来的地方
费用一部分由政府承担一部分由居民自己出
具体的比例每个城市都不一样
我们之前去看过南边的一个小区那里去年刚刚做完改造
楼道里装了感应灯外墙也重新刷过
一位七十多岁的老人告诉我们以前上楼要歇三次现在坐电梯一分钟就到了
当然改造的过程中也有不少矛盾比如一楼的住户不愿意出电梯的钱因为他们自己用不上
这种时候社区会组织大家开会一起商量最后的方案往往是楼层越高出的钱越多
我觉得这里面最重要的是让居民自己来做决定而不是别人替他们决定
好的今天的节目就先到这里我们下期再见
""".splitlines()
DIALOGUE = [
    ("主持人", "大家好欢迎收听今天的节目我们请到了李医生"),
    ("李医生", "大家好"),
    ("主持人", "李医生最近天气变冷了很多人感冒了是吗"),
    ("李医生", "对的每年这个时候门诊的病人都会多起来特别是老人和小孩"),
    ("主持人", "那我们平时应该怎么预防呢"),
    ("李医生", "首先是要多喝水保证睡眠然后出门的时候注意保暖"),
    ("主持人", "嗯"),
    ("李医生", "还有就是家里要经常开窗通风不要一直关着门窗"),
    ("主持人", "好的"),
    ("李医生", "如果已经感冒了也不要马上吃抗生素因为大部分感冒是病毒引起的抗生素没有用"),
    ("主持人", "原来是这样那什么时候需要去医院呢"),
    ("李医生", "如果发烧超过三天或者呼吸困难就一定要去医院看看"),
    ("主持人", "明白了谢谢李医生今天的分享我们下期再见"),
]
LYRICS = ["我在夜里想起你", "风吹过那条老街", "你说过不会走远", "可是我等了一年", "啦啦啦 啦啦啦"] * 8


def _stamp(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}".replace(".", ",")


def _asr(lines: list[str]) -> str:
    out, t = [], 0.0
    for line in lines:
        d = 0.18 * len(line)
        out.append(f"[{_stamp(t)} -> {_stamp(t + d)}] {line}")
        t += d + 0.3
    return "\n".join(out) + "\n"


def _glued(turns: list[tuple[str, str]]) -> str:
    s, t = "", 0
    for name, said in turns:
        s += f"{name} {t // 60:02d}:{t % 60:02d} {said}"
        t += 5 + len(said) // 3
    return s


def _rows(folder: Path) -> dict[str, dict]:
    rows = {}
    for f in sorted(folder.glob("*.parquet")) + sorted((folder / "rejected").glob("*.parquet")):
        for r in pq.read_table(f).to_pylist():
            rows[Path(r["source"].split("#")[0]).stem] = r
    return rows


def test_han_characters_survive_ingest_one_for_one():
    t = detect(_asr(SPOKEN))
    assert t is not None and HAN.findall(t.text) == HAN.findall("".join(SPOKEN))
    t = detect(_glued(DIALOGUE))
    assert t is not None and HAN.findall(t.text) == HAN.findall("".join(said for _, said in DIALOGUE))


def test_clean_speech_survives_the_default_pipeline_and_loops_do_not(tmp_path, run_cli):
    src = tmp_path / "speech"
    src.mkdir()
    (src / "podcast.txt").write_text(_asr(SPOKEN), encoding="utf-8")
    (src / "dialogue.txt").write_text(_glued(DIALOGUE), encoding="utf-8")
    loop = SPOKEN[:3] + ["请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"] * 200  # a whisper hallucination loop
    (src / "loop.txt").write_text(_asr(loop), encoding="utf-8")
    (src / "song.txt").write_text(_asr(LYRICS), encoding="utf-8")
    w = tmp_path / "w"
    run_cli("ingest", str(src), "-o", str(w / "1"))
    ingested = _rows(w / "1")
    assert all(json.loads(r["meta"])["kind"] == "transcript" for r in ingested.values()) and len(ingested) == 4
    assert HAN.findall(ingested["podcast"]["text"]) == HAN.findall("".join(SPOKEN))
    run_cli("langid", str(w / "1"), "-o", str(w / "2"))
    run_cli("normalize", str(w / "2"), "-o", str(w / "3"), "--opencc", "t2s")
    run_cli("train-quality", "--positive", str(DATA / "reference"), "--negative", str(DATA / "quality" / "negative"),
            "--bucket", "50000", "-o", str(w / "qm"))
    run_cli("quality", str(w / "3"), "-o", str(w / "4"), "--model", str(w / "qm"), "--min-score", "0.5")
    run_cli("filter", str(w / "4"), "-o", str(w / "5"))
    run_cli("perplexity", str(w / "5"), "-o", str(w / "6"), "--model", str(DATA / "models" / "reference-lm"))
    final = _rows(w / "6")
    assert sorted(k for k, r in final.items() if r.get("reason") is None) == ["dialogue", "podcast"]
    rejected = {k: r["stage"] for i in range(1, 7) for k, r in _rows(w / str(i)).items() if r.get("reason")}
    assert sorted(rejected) == ["loop", "song"] and set(rejected.values()) <= {"quality", "filter"}
    # The default filter rules alone catch both (the quality model happens to catch the loop first above).
    run_cli("filter", str(w / "3"), "-o", str(w / "f"))
    alone = _rows(w / "f")
    assert {k: r.get("reason") for k, r in alone.items()} == {
        "podcast": None, "dialogue": None, "loop": "repetition", "song": "repetition"
    }
    assert "老城区改造" in final["podcast"]["text"] and "李医生" in final["dialogue"]["text"]
