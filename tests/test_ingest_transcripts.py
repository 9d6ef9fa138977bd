"""Transcripts recognised by content: ASR cue lines, hh:mm:ss prefixes, SRT/VTT without their suffix, speaker
and stamp markers glued into running text. Timing goes, turns become paragraphs, names go to meta, nothing
said is lost."""

from __future__ import annotations

import json
import re

import pytest

from corpus_tool.stages.ingest.transcripts import detect
from tests.ingest_helpers import read_docs

HAN = re.compile(r"[\u4e00-\u9fff]")
UTTERANCES = [
    "今天我们聊一下",
    "人工智能在医院里的应用",
    "特别是 large language model",
    "model 在病历整理上的作用",
    "我觉得这个方向很有前途",
    "但是数据的隐私问题要先解决",
]
ASR_ARROW = "".join(
    f"[00:00:{2 * i:02d},{i * 37:03d} -> 00:00:{2 * i + 2:02d},000] {u}\n" for i, u in enumerate(UTTERANCES)
)
WHISPER = "".join(f"[00:{2 * i:02d}.000 --> 00:{2 * i + 2:02d}.000]  {u}\n" for i, u in enumerate(UTTERANCES))
PREFIX = "".join(f"00:00:{3 * i:02d} {'主持人' if i % 2 == 0 else '嘉宾'}：{u}\n" for i, u in enumerate(UTTERANCES))
SRT_AS_TXT = "".join(
    f"{i + 1}\n00:00:{2 * i:02d},000 --> 00:00:{2 * i + 2:02d},000\n{u}\n\n" for i, u in enumerate(UTTERANCES)
)
TURNS = [
    ("主持人", "00:00", "大家好，欢迎收听本期节目。今天我们请到了做城市规划的王老师。"),
    ("嘉宾", "00:12", "大家好，我是王老师，很高兴来到这里。"),
    ("主持人", "01:05", "王老师您最近在研究什么"),  # no punctuation: the next name is glued on
    ("嘉宾", "01:20", "我在研究老城区的交通问题，特别是早高峰的拥堵。"),
    ("主持人", "10:23", "好的，那我们进入下一个话题。"),
    ("嘉宾", "10:41", "我觉得公共交通是最重要的……"),
    ("主持人", "1:02:03", "今天就聊到这里。"),
]
GLUED = "第十二期 文字稿 " + "".join(f"{name} {stamp} {said}" for name, stamp, said in TURNS)


def _han(text: str) -> list[str]:
    return HAN.findall(text)


@pytest.mark.parametrize(
    "raw, form",
    [(ASR_ARROW, "asr-bracket"), (WHISPER, "asr-bracket"), (PREFIX, "asr-prefix"), (SRT_AS_TXT, "subtitles")],
)
def test_cue_line_forms(raw, form):
    t = detect(raw)
    assert t is not None and t.form == form
    assert not re.search(r"\d:\d\d|-->|->|\[", t.text)
    assert _han(t.text) == _han("".join(UTTERANCES))  # every Han character, in order, none added
    if form == "asr-prefix":  # each speaker's turn a paragraph
        assert t.speakers == ["主持人", "嘉宾"] and t.text.split("\n\n") == UTTERANCES
    else:
        assert "特别是 large language model model 在病历整理上的作用" in t.text  # Latin words keep their space
        assert "今天我们聊一下人工智能" in t.text  # fragments of Han joined without a space


def _stamp(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def test_glued_speaker_stamps_without_line_breaks():
    assert "\n" not in GLUED
    t = detect(GLUED)
    assert t is not None and t.form == "speaker-stamps" and t.speakers == ["主持人", "嘉宾"]
    assert t.text.split("\n\n") == ["第十二期 文字稿"] + [said for _, _, said in TURNS]
    # 20,000 characters on one line, as exports that lost their line breaks are
    turns = [(TURNS[i % 7][0], _stamp(15 * i), TURNS[i % 7][2]) for i in range(800)]
    long = "".join(f"{name} {stamp} {said}" for name, stamp, said in turns)
    assert len(long) > 20_000 and "\n" not in long
    t = detect(long)
    assert t is not None and t.speakers == ["主持人", "嘉宾"]
    assert not re.search(r"\d:\d\d", t.text) and "主持人" not in t.text and "嘉宾" not in t.text
    assert t.text.split("\n\n") == [said for _, _, said in turns]
    assert _han(t.text) == _han("".join(said for _, _, said in turns))  # all that was said, one for one


@pytest.mark.parametrize(
    "prose",
    [
        "会议在10:30开始，11:00结束，12:30吃午饭，下午2:00再讨论。",
        "比分是 3:1，上半场 2:0，下半场 1:1。",
        "一行普通的文字。\n另一行，提到了 10:30 这个时间。\n第三行。",
    ],
)
def test_prose_with_times_is_not_a_transcript(prose):
    assert detect(prose) is None


def test_transcripts_through_the_cli(tmp_path, run_cli):
    src = tmp_path / "in"
    src.mkdir()
    (src / "asr.txt").write_text(ASR_ARROW, encoding="utf-8")
    (src / "whisper.txt").write_text(WHISPER, encoding="utf-8")
    (src / "meeting.txt").write_text(GLUED, encoding="utf-8")
    (src / "subs").write_text(SRT_AS_TXT, encoding="utf-8")  # no suffix at all: named on the command line
    (src / "essay.txt").write_text("会议在10:30开始。\n\n大家按时到。", encoding="utf-8")
    out = tmp_path / "out"
    run_cli("ingest", str(src / "asr.txt"), str(src / "whisper.txt"), str(src / "meeting.txt"), str(src / "subs"),
            str(src / "essay.txt"), "-o", str(out))
    for name, form in (("asr", "asr-bracket"), ("whisper", "asr-bracket"), ("meeting", "speaker-stamps"),
                       ("subs", "subtitles")):
        (doc,) = read_docs(out, name)
        meta = json.loads(doc["meta"])
        assert meta["kind"] == "transcript" and meta["transcript_form"] == form, name
        assert not re.search(r"\d\d:\d\d", doc["text"]), name
    assert json.loads(read_docs(out, "meeting")[0]["meta"])["speakers"] == ["主持人", "嘉宾"]
    essay = json.loads(read_docs(out, "essay")[0]["meta"])
    assert "kind" not in essay and read_docs(out, "essay")[0]["text"] == "会议在10:30开始。\n\n大家按时到。"
