"""KenLM perplexity: train-lm with the real lmplz/build_binary on the packaged reference text, then check
that perplexity separates clean text from the same text shuffled or garbled, and the CLI contract."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tool.errors import MissingDependencyError
from corpus_tool.stages import train_lm as tl
from corpus_tool.stages.perplexity import LanguageModel, bucket_of

REFERENCE = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / "reference"

# Held-out clean prose (not in the reference text), written for this test.
HELD_OUT = [
    "长江是中国第一长河，发源于青藏高原，自西向东流经许多省份，最后在上海注入东海。长江流域气候温和，雨量充沛，"
    "自古以来就是重要的农业区，两岸的平原土壤肥沃。",
    "秋天的早晨，村口的老槐树下总是聚着几位老人。他们一边晒太阳，一边聊着今年的收成和孩子们的近况。"
    "远处的稻田已经变成金黄色，空气里弥漫着新米的香味。",
    "图书馆是一座城市的文化中心。周末的时候，很多家长会带着孩子来这里看书。安静的阅览室里，"
    "人们各自读着自己喜欢的书，只有翻动书页的声音。",
    "医生提醒大家，冬天要注意保暖，多喝热水，适当锻炼身体。如果出现发烧和咳嗽的症状，应当及时到医院就诊，"
    "不要自己随便吃药。",
    "这座小城依山傍水，街道两旁种满了梧桐树。每到傍晚，居民们就会到河边散步，孩子们在广场上放风筝，"
    "老人们则坐在长椅上聊天。",
    "科学家通过长期的观察发现，候鸟每年都会沿着固定的路线迁徙。它们依靠太阳、星星和地球的磁场来辨别方向，"
    "飞越数千公里回到自己的繁殖地。",
]


def shuffle_chars(text: str, rng: random.Random) -> str:
    chars = list(text)
    rng.shuffle(chars)
    return "".join(chars)


def garble(text: str, rng: random.Random, frac: float = 0.3) -> str:
    return "".join(chr(rng.randint(0x4E00, 0x9FA5)) if "\u4e00" <= c <= "\u9fff" and rng.random() < frac
                   else c for c in text)


def auc(clean: list[float], junk: list[float]) -> float:
    """P(a clean document scores a lower perplexity than a junk one)."""
    c, j = np.array(clean)[:, None], np.array(junk)[None, :]
    return float(((c < j).sum() + 0.5 * (c == j).sum()) / (c.size * j.size))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "model"
    meta = tl.train_lm([str(REFERENCE)], out, order=4, tokenizer="char")
    assert meta["tokens"] > 1000 and meta["documents"] >= 2
    return out


def test_train_lm_writes_model_and_tokenizer_choice(model_dir):
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["tokenizer"] == "char" and meta["order"] == 4
    assert (model_dir / "model.bin").stat().st_size > 1000
    assert "--discount_fallback" in meta["lmplz_args"]
    assert not list(model_dir.parent.glob(".model.tmp-*"))  # no temporary directory left behind


def test_perplexity_separates_clean_from_shuffled_and_garbled(model_dir):
    lm = LanguageModel(model_dir)
    rng = random.Random(0)
    clean = [lm.perplexity(t) for t in HELD_OUT]
    shuffled = [lm.perplexity(shuffle_chars(t, rng)) for t in HELD_OUT]
    garbled = [lm.perplexity(garble(t, rng)) for t in HELD_OUT]
    assert all(p is not None and p > 1 for p in clean)
    # each document scores better than its own shuffled or garbled copy
    assert all(c < s for c, s in zip(clean, shuffled, strict=True))
    assert all(c < g for c, g in zip(clean, garbled, strict=True))
    assert auc(clean, shuffled) == 1.0
    assert auc(clean, garbled) >= 0.9


def test_scoring_matches_kenlm_directly(model_dir):
    import kenlm

    lm = LanguageModel(model_dir)
    text = "今天天气很好。\n\n我们 去 公园。"
    raw = kenlm.Model(str(model_dir / "model.bin"))
    expected = raw.score("今 天 天 气 很 好 。") + raw.score("我 们 去 公 园 。")
    total, count = lm.doc_log_score(text)
    assert total == pytest.approx(expected)
    assert count == 7 + 1 + 6 + 1
    assert lm.perplexity("   \n  ") is None


def test_buckets():
    assert bucket_of(10.0, 100.0, 200.0) == "head"
    assert bucket_of(100.0, 100.0, 200.0) == "middle"
    assert bucket_of(200.0, 100.0, 200.0) == "tail"
    assert bucket_of(None, 100.0, 200.0) is None


def test_missing_lmplz_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(MissingDependencyError, match="corpus-tool setup kenlm"):
        tl.find_kenlm_binary("lmplz")


def _write(path, texts):
    table = pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts,
                      "source": [f"x#{i}" for i in range(len(texts))]})
    pq.write_table(table, path, compression="zstd")


def test_cli_train_cutoffs_and_filter(tmp_path, run_cli):
    model = tmp_path / "lm"
    run_cli("train-lm", str(REFERENCE), "-o", str(model), "--order", "3")
    assert json.loads((model / "model.json").read_text())["order"] == 3
    run_cli("train-lm", str(REFERENCE), "-o", str(model), "--order", "4")  # replaces its own model
    assert json.loads((model / "model.json").read_text())["order"] == 4

    rng = random.Random(1)
    texts = HELD_OUT + [shuffle_chars(t, rng) for t in HELD_OUT[:3]] + [""]
    inp = tmp_path / "in"
    inp.mkdir()
    _write(inp / "s.parquet", texts)
    cut = tmp_path / "cut.json"
    run_cli("perplexity-cutoffs", str(inp), "--model", str(model), "-o", str(cut), "--head-pct", "30",
            "--tail-pct", "60")
    c = json.loads(cut.read_text())
    assert c["documents_scored"] == 9 and c["head"] <= c["tail"]

    out = tmp_path / "scored"
    run_cli("perplexity", str(inp), "-o", str(out), "--model", str(model), "--cutoffs", str(cut),
            "--drop-buckets", "tail")
    kept = pq.read_table(out / "s.parquet").to_pylist()
    rej = pq.read_table(out / "rejected" / "s.parquet").to_pylist()
    assert len(kept) + len(rej) == len(texts)
    assert all(r["ppl_bucket"] in ("head", "middle") for r in kept)
    reasons = {r["id"]: r["reason"] for r in rej}
    # the three shuffled documents are the worst: all in the tail
    assert {"d6", "d7", "d8"} <= {k for k, v in reasons.items() if v == "ppl_tail"}
    assert reasons["d9"] == "ppl_no_text"
    manifest = json.loads((out / "manifests" / "s.json").read_text())
    assert manifest["resolved"]["tokenizer"] == "char"

    out2 = tmp_path / "max"
    run_cli("perplexity", str(inp), "-o", str(out2), "--model", str(model))
    scored = pq.read_table(out2 / "s.parquet").to_pylist()
    assert len(scored) == len(texts)  # no filter given: score only
    ppl = [r["ppl"] for r in scored]
    limit = (max(ppl[:6]) + min(ppl[6:9])) / 2
    out3 = tmp_path / "max2"
    run_cli("perplexity", str(inp), "-o", str(out3), "--model", str(model), "--max-ppl", str(limit))
    rej3 = pq.read_table(out3 / "rejected" / "s.parquet").to_pylist()
    assert sorted(r["id"] for r in rej3 if r["reason"] == "ppl_above_max") == ["d6", "d7", "d8"]


def test_cli_errors(tmp_path, run_cli):
    inp = tmp_path / "in"
    inp.mkdir()
    _write(inp / "s.parquet", ["你好。"])
    proc = run_cli("perplexity", str(inp), "-o", str(tmp_path / "o"), "--model", str(tmp_path / "nope"),
                   check=False)
    assert proc.returncode == 2 and b"no such model" in proc.stderr and b"Traceback" not in proc.stderr
    other = tmp_path / "not-a-model"
    other.mkdir()
    (other / "keep.txt").write_text("precious", encoding="utf-8")
    proc = run_cli("train-lm", str(REFERENCE), "-o", str(other), check=False)
    assert proc.returncode == 5 and b"not a corpus-tool model directory" in proc.stderr
    assert (other / "keep.txt").read_text(encoding="utf-8") == "precious"


def test_annotate_keeps_every_document_and_flags_those_it_would_reject(model_dir, tmp_path):
    from corpus_tool.runner import run_stage
    from corpus_tool.stages.perplexity import PerplexityStage

    rng = random.Random(3)
    inp = tmp_path / "in"
    inp.mkdir()
    _write(inp / "s.parquet", HELD_OUT + [shuffle_chars(t, rng) for t in HELD_OUT])
    ppl = [LanguageModel(model_dir).perplexity(t) for t in pq.read_table(inp / "s.parquet")["text"].to_pylist()]
    limit = float(np.median(ppl))
    run_stage(PerplexityStage(model_dir, max_ppl=limit), [str(inp)], str(tmp_path / "plain"))
    run_stage(PerplexityStage(model_dir, max_ppl=limit, annotate=True), [str(inp)], str(tmp_path / "marked"))
    rejected = pq.read_table(tmp_path / "plain" / "rejected" / "s.parquet")["id"].to_pylist()
    kept = pq.read_table(tmp_path / "marked" / "s.parquet").to_pylist()
    assert len(kept) == len(ppl)
    marked_rej = tmp_path / "marked" / "rejected" / "s.parquet"
    assert not marked_rej.exists() or pq.read_metadata(marked_rej).num_rows == 0
    assert rejected and sorted(r["id"] for r in kept if r["flags"] == ["perplexity"]) == sorted(rejected)
    for r in kept:
        s = json.loads(r["signals"])["perplexity"]
        assert abs(s["ppl"] - r["ppl"]) <= 1e-3 * r["ppl"]
        assert (s.get("reason") == "ppl_above_max") == (r["flags"] == ["perplexity"])


SHIPPED = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / "models" / "reference-lm"


def test_shipped_reference_model_is_what_train_lm_makes(tmp_path):
    """The demo without lmplz scores with the shipped model: it must be train-lm's own output for the
    reference text at the defaults the demo's train-lm step uses (same bytes). If this fails after a change
    to train-lm or the reference text, regenerate it:
    `corpus-tool train-lm corpus_tool/data/reference -o corpus_tool/data/models/reference-lm`."""
    meta = tl.train_lm([str(REFERENCE)], tmp_path / "lm")
    assert (tmp_path / "lm" / "model.bin").read_bytes() == (SHIPPED / "model.bin").read_bytes()
    shipped = json.loads((SHIPPED / "model.json").read_text(encoding="utf-8"))
    varying = ("created", "trained_on", "tool_version", "seconds")
    assert {k: v for k, v in shipped.items() if k not in varying} == \
        {k: v for k, v in meta.items() if k not in varying}
    assert [Path(p).name for p in shipped["trained_on"]] == sorted(p.name for p in REFERENCE.glob("*.txt"))


def _python_lines(text: str) -> tuple[list[bytes], int]:
    """The definition `char_lines` compiles: per line, its non-space characters joined by spaces."""
    lines, count = [], 0
    for line in text.split("\n"):
        compact = "".join(line.split())
        if compact:
            lines.append(" ".join(compact).encode("utf-8"))
            count += len(compact) + 1
    return lines, count


WHITESPACE_AND_TEXT = st.sampled_from(["\n", " ", "\t", "\r", "\u3000", "\u00a0", "\x0b", "\x0c", "\x1c", "\x1f",
                                       "\x85", "\u2028", "\u2029", "\u200b", "\ufeff", "中", "文", "a", "。", "é",
                                       "𠀀", "😀", "\x00", "\x7f", "ß"])


@settings(max_examples=2000, deadline=None)
@given(st.lists(WHITESPACE_AND_TEXT, max_size=40).map("".join))
def test_compiled_char_lines_equal_their_definition(text):
    from corpus_tool.stages._textscan import char_lines

    assert char_lines(text) == _python_lines(text)


@given(st.text(max_size=80))
def test_compiled_char_lines_on_any_unicode(text):
    from corpus_tool.stages._textscan import char_lines

    got = char_lines(text)
    if any(0xD800 <= ord(c) < 0xE000 for c in text):
        assert got is None  # a lone surrogate: the Python path (and its error) decides
    else:
        assert got == _python_lines(text)


def test_compiled_scores_equal_the_python_path(model_dir, monkeypatch):
    """The character path with the compiled preparation gives the same floats as the Python loop."""
    from corpus_tool.stages import perplexity

    assert perplexity.char_lines is not None, "pip install builds corpus_tool/stages/_textscan.c"
    lm = LanguageModel(model_dir)
    rng = random.Random(3)
    texts = [*HELD_OUT, "", " \n\u3000\n", "a b\r\nc\td", "ＡＢＣ１２３ 中文\n\n\n英文 English words",
             *(garble(t, rng) for t in HELD_OUT), "\n".join(HELD_OUT) * 3]
    native = [lm.doc_log_score(t) for t in texts]
    monkeypatch.setattr(perplexity, "char_lines", None)
    assert native == [lm.doc_log_score(t) for t in texts]


def test_compiled_char_lines_on_long_lines():
    """Lines far longer than the scan's first buffer (it grows per line), in every UTF-8 length."""
    from corpus_tool.stages._textscan import char_lines

    rng = random.Random(9)
    pieces = ["a", "é", "中", "😀", " ", "\t", "\u3000"]
    text = "\n".join("".join(rng.choice(pieces) for _ in range(k)) for k in (1, 5000, 20000, 3, 70000))
    assert char_lines(text) == _python_lines(text)


def test_a_killed_trainings_work_dir_is_removed_by_the_next(tmp_path):
    """train-lm (like train-quality) builds its model in a hidden work directory beside it; one that a
    SIGKILL left behind is deleted when the next training of that model starts."""
    out = tmp_path / "lm"
    stale = tmp_path / ".lm.tmp-killed1"
    stale.mkdir()
    (stale / "model.bin").write_bytes(b"half")
    other = tmp_path / ".lm2.tmp-keep"  # another model's: not ours to touch
    other.mkdir()
    tl.train_lm([str(REFERENCE)], out, order=3, tokenizer="char")
    assert (out / "model.bin").is_file()
    assert not stale.exists() and other.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lm2.tmp-keep", "lm"]
