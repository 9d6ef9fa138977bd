"""train-quality and quality: a real fastText classifier trained on fixtures written here."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tool.errors import UsageError
from corpus_tool.runner import run_stage
from corpus_tool.stages.quality import QualityStage
from corpus_tool.stages.quality_model import QualityModel, auc, sample_lines
from corpus_tool.stages.train_quality import train_quality

REFERENCE = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / "reference"
SMALL = {"bucket": 20_000, "dim": 16, "epoch": 15}  # a small model keeps the tests fast

KEYWORDS = ["免费下载", "高清在线观看", "最新电影", "注册送彩金", "代开发票", "加微信", "包邮特价", "官网正品",
            "网赚项目", "刷单兼职", "减肥药", "丰胸", "贷款秒批", "信用卡套现", "手机号码", "私服发布",
            "游戏外挂", "成人用品", "股票内幕", "一夜暴富"]
NAV = ["首页", "关于我们", "联系我们", "新闻中心", "产品展示", "客户案例", "在线留言", "网站地图", "下载中心",
       "人才招聘", "帮助中心", "会员登录", "免费注册", "返回顶部", "版权所有", "友情链接"]


def spam_doc(rng: random.Random) -> str:
    """A keyword-stuffed or navigation-only page, as junk web pages are."""
    kind = rng.random()
    lines = []
    for _ in range(rng.randint(4, 12)):
        if kind < 0.5:
            words = [rng.choice(KEYWORDS) + rng.choice(["", str(rng.randint(1, 999)), "网", "站"])
                     for _ in range(rng.randint(5, 14))]
            lines.append(" ".join(words))
        else:
            lines.append(" | ".join(rng.sample(NAV, rng.randint(4, 9))))
    if rng.random() < 0.5:
        lines.append(f"Copyright © {rng.randint(2005, 2024)} 版权所有 ICP备{rng.randint(10**7, 10**8)}号")
    return "\n".join(lines)


def clean_docs(files: list[Path]) -> list[str]:
    """Paragraph groups of the shipped reference prose (three paragraphs a document)."""
    docs = []
    for f in files:
        paras = [p for p in f.read_text(encoding="utf-8").split("\n") if p.strip()]
        docs += ["\n".join(paras[i:i + 3]) for i in range(0, len(paras), 3)]
    return docs


def write_texts(folder: Path, texts: list[str], prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(texts):
        (folder / f"{prefix}{i:03d}.txt").write_text(t, encoding="utf-8")


def write_shard(path: Path, texts: list[str], prefix: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": [f"{prefix}{i}" for i in range(len(texts))], "text": texts,
                      "source": [f"{path.name}#{i}" for i in range(len(texts))]})
    pq.write_table(table, path, compression="zstd", row_group_size=7)


REF_FILES = sorted(REFERENCE.glob("*.txt"))
TRAIN_FILES, TEST_FILES = REF_FILES[:15], REF_FILES[15:]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    rng = random.Random(1)
    write_texts(root / "good", clean_docs(TRAIN_FILES), "g")
    write_shard(root / "bad" / "spam.parquet", [spam_doc(rng) for _ in range(60)], "s")
    model = root / "model"
    card = train_quality([str(root / "good")], [str(root / "bad")], model, valid_fraction=0.2, **SMALL)
    return root, model, card


def test_train_quality_learns_to_separate_held_out_documents(trained):
    _, model, card = trained
    m = QualityModel(model)
    clean = m.scores(clean_docs(TEST_FILES))  # reference files never seen in training
    rng = random.Random(99)  # spam drawn with another seed: other keyword mixes, numbers, lengths
    junk = m.scores([spam_doc(rng) for _ in range(40)])
    assert clean.dtype == np.float32 and junk.min() >= 0.0 and clean.max() <= 1.0
    labels = np.r_[np.ones(clean.size), np.zeros(junk.size)]
    assert auc(labels, np.r_[clean, junk]) >= 0.98
    assert (clean >= 0.5).mean() >= 0.9 and (junk < 0.5).mean() >= 0.9
    v = card["validation"]
    assert v["auc"] >= 0.95 and v["precision"] >= 0.9 and v["recall"] >= 0.9


def test_model_card_is_complete(trained):
    root, model, card = trained
    on_disk = json.loads((model / "card.json").read_text())
    assert on_disk == card
    for key in ("inputs", "documents", "text_preparation", "hyperparameters", "validation", "tool_version",
                "fasttext_version", "seed", "balance", "valid_fraction", "created", "repeatable"):
        assert card.get(key) is not None, key
    files = card["inputs"]["negative"]["files"]
    assert [Path(f["path"]).name for f in files] == ["spam.parquet"]
    assert files[0]["sha256"] == hashlib.sha256((root / "bad" / "spam.parquet").read_bytes()).hexdigest()
    assert len(card["inputs"]["positive"]["files"]) == len(clean_docs(TRAIN_FILES))
    for side in ("positive", "negative"):
        d = card["documents"][side]
        assert d["read"] == d["train"] + d["valid"] + d["empty_after_preparation"] + d["train_sampled_out"]
    neg = card["documents"]["negative"]
    assert (neg["read"], neg["valid"]) == (60, 12)  # --valid-fraction 0.2, exactly
    # balanced: both labels have as many training lines
    assert card["documents"]["positive"]["train_lines_after_balance"] == neg["train_lines_after_balance"]
    assert card["text_preparation"]["features"] == "char"
    assert card["hyperparameters"]["bucket"] == SMALL["bucket"] and card["repeatable"] is True
    v = card["validation"]
    assert v["documents"]["negative"] == 12 and v["documents"]["positive"] == card["documents"]["positive"]["valid"]
    assert set(v) >= {"precision", "recall", "auc", "f1", "accuracy", "confusion"}
    assert not [p.name for p in model.iterdir() if p.name not in ("model.bin", "card.json")]


def test_training_is_repeatable(trained, tmp_path):
    root, model, _ = trained
    again = tmp_path / "again"
    train_quality([str(root / "good")], [str(root / "bad")], again, valid_fraction=0.2, **SMALL)
    assert (again / "model.bin").read_bytes() == (model / "model.bin").read_bytes()


@pytest.mark.parametrize("features", ["jieba", "both"])
def test_word_features_train_and_score(trained, tmp_path, features):
    root, _, _ = trained
    card = train_quality([str(root / "good")], [str(root / "bad")], tmp_path / "m", features=features,
                         valid_fraction=0.2, **SMALL)
    assert card["text_preparation"]["features"] == features and card["validation"]["auc"] >= 0.9


def test_long_documents_are_scored_on_a_bounded_sample():
    lines = [f"第{i}行的内容在这里。" for i in range(5000)]
    text = "\n".join(lines)
    picked = sample_lines(text, 2000)
    assert len(picked) <= 2000 + 100 and picked.startswith(lines[0]) and picked.endswith(lines[-1])
    assert sample_lines("短文本", 2000) == "短文本"


def _corpus(root: Path) -> Path:
    rng = random.Random(5)
    clean = clean_docs(TEST_FILES)
    docs = [(t, "c") for t in clean] + [(spam_doc(rng), "s") for _ in range(len(clean))]
    rng.shuffle(docs)
    inp = root / "in"
    for k in range(5):  # 5 shards of unequal size
        part = docs[k * 5:(k + 1) * 5] if k < 4 else docs[20:]
        write_shard(inp / f"part-{k}.parquet", [t for t, _ in part], f"p{k}-")
    return inp


def _run(model, inp, out, tasks, **kw):
    for i in range(tasks):
        run_stage(QualityStage(model, **kw), [str(inp)], str(out), shard_index=i, num_shards=tasks)
    kept = pq.read_table(sorted(out.glob("*.parquet"))).to_pylist()
    rej = pq.read_table(sorted((out / "rejected").glob("*.parquet"))).to_pylist()
    return kept, rej


@pytest.mark.parametrize("option", [{"min_score": 0.5}, {"keep_top": 0.4, "sample": 25}])
def test_quality_agrees_across_1_2_and_3_array_tasks(trained, tmp_path, option):
    _, model, _ = trained
    inp = _corpus(tmp_path)
    n_docs = sum(pq.read_metadata(p).num_rows for p in inp.glob("*.parquet"))
    results = []
    for tasks in (1, 2, 3):
        kept, rej = _run(model, inp, tmp_path / f"out{tasks}", tasks, **option)
        assert len(kept) + len(rej) == n_docs
        assert {r["reason"] for r in rej} <= {"low_quality"} and all("quality_score" in r["reason_detail"]
                                                                      for r in rej)
        results.append(({r["id"]: r["quality_score"] for r in kept}, sorted(r["id"] for r in rej)))
        configs = {json.loads(m.read_text())["resolved"]["cutoff"] for m in (tmp_path / f"out{tasks}" /
                                                                           "manifests").glob("*.json")}
        assert len(configs) == 1  # every task used one cut-off
    assert results[0] == results[1] == results[2]
    kept, rejected = results[0]
    assert kept and rejected and min(kept.values()) >= max(0.0, min(kept.values()))
    if "keep_top" in option:
        assert abs(len(kept) / n_docs - 0.4) <= 0.1
    assert all(k.startswith("p") for k in kept)


def test_quality_without_a_threshold_scores_only_and_rejects_bad_options(trained, tmp_path):
    _, model, _ = trained
    inp = _corpus(tmp_path)
    kept, rej = _run(model, inp, tmp_path / "out", 1)
    assert not rej and all(0.0 <= r["quality_score"] <= 1.0 for r in kept)
    with pytest.raises(UsageError, match="not both"):
        QualityStage(model, min_score=0.5, keep_top=0.5)
    with pytest.raises(UsageError, match="not a quality model directory"):
        QualityStage(tmp_path)


def test_cli_train_quality_and_quality(trained, tmp_path, run_cli):
    root, _, _ = trained
    model = tmp_path / "m"
    proc = run_cli("train-quality", "--positive", str(root / "good"), "--negative", str(root / "bad"),
                   "-o", str(model), "--bucket", "20000", "--dim", "16", "--valid-fraction", "0.2")
    assert "precision" in proc.stderr.decode() and "AUC" in proc.stderr.decode()
    inp = _corpus(tmp_path)
    out = tmp_path / "out"
    run_cli("quality", str(inp), "-o", str(out), "--model", str(model), "--keep-top", "0.5")
    manifest = json.loads((out / "manifests" / "part-0.json").read_text())
    assert manifest["config"]["keep_top"] == 0.5 and manifest["resolved"]["cutoff"] is not None
    bad = run_cli("quality", str(inp), "-o", str(tmp_path / "x"), "--model", str(tmp_path), check=False)
    assert bad.returncode == 2 and b"not a quality model directory" in bad.stderr


def test_annotate_keeps_every_document_and_flags_those_it_would_reject(trained, tmp_path):
    _, model, _ = trained
    inp = _corpus(tmp_path)
    _, plain_rej = _run(model, inp, tmp_path / "plain", 1, min_score=0.5)
    kept, rej = _run(model, inp, tmp_path / "marked", 1, min_score=0.5, annotate=True)
    assert not rej and len(kept) == sum(pq.read_metadata(p).num_rows for p in inp.glob("*.parquet"))
    flagged = sorted(r["id"] for r in kept if "quality" in (r["flags"] or []))
    assert flagged and flagged == sorted(r["id"] for r in plain_rej)
    for r in kept:
        s = json.loads(r["signals"])["quality"]
        assert s["cutoff"] == 0.5 and abs(s["score"] - r["quality_score"]) < 1e-6
    # select on the flags rejects the same documents for the same reason as the plain run
    from corpus_tool.stages.select import SelectStage

    run_stage(SelectStage(), [str(tmp_path / "marked")], str(tmp_path / "selected"))
    sel_rej = [r for p in sorted((tmp_path / "selected" / "rejected").glob("*.parquet"))
               for r in pq.read_table(p).to_pylist()]
    assert sorted((r["id"], r["reason"]) for r in sel_rej) == sorted((r["id"], r["reason"]) for r in plain_rej)
    # annotating again with another cut-off replaces the flag instead of adding a second one
    again, _ = _run(model, tmp_path / "marked", tmp_path / "again", 1, min_score=0.0, annotate=True)
    assert all(not (r["flags"] or []) for r in again)


def test_max_docs_bounds_the_training_sample(trained, tmp_path):
    root, _, _ = trained
    card = train_quality([str(root / "good")], [str(root / "bad")], tmp_path / "m", valid_fraction=0.0,
                         max_docs=10, **SMALL)
    for side in ("positive", "negative"):
        d = card["documents"][side]
        assert d["train"] == 10 and d["train_sampled_out"] == d["read"] - 10
    assert card["validation"] is None


def test_cli_errors_name_the_problem(trained, tmp_path, run_cli):
    root, model, _ = trained
    common = ["--bucket", "20000", "--dim", "16"]
    missing = run_cli("train-quality", "--positive", str(tmp_path / "nope"), "--negative", str(root / "bad"),
                      "-o", str(tmp_path / "m"), *common, check=False)
    assert missing.returncode == 2 and b"nope" in missing.stderr and b"Traceback" not in missing.stderr
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "blank.txt").write_text("   \n")
    empty = run_cli("train-quality", "--positive", str(root / "good"), "--negative", str(tmp_path / "empty"),
                    "-o", str(tmp_path / "m"), *common, check=False)
    assert empty.returncode == 2 and b"no negative training document" in empty.stderr
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".m.tmp-*"))  # nothing half-written
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "notes.tex").write_text("precious")
    foreign = run_cli("train-quality", "--positive", str(root / "good"), "--negative", str(root / "bad"),
                      "-o", str(tmp_path / "thesis"), *common, check=False)
    assert foreign.returncode == 5 and (tmp_path / "thesis" / "notes.tex").read_text() == "precious"
    stdin = run_cli("quality", "-", "-o", "-", "--model", str(model), "--keep-top", "0.5",
                    input='{"id": "a", "text": "x", "source": "s"}\n', check=False)
    assert stdin.returncode == 2 and b"--keep-top needs Parquet inputs" in stdin.stderr
    piped = run_cli("quality", "-", "-o", "-", "--model", str(model), "--min-score", "0.5",
                    input=json.dumps({"id": "a", "text": clean_docs(TEST_FILES)[0], "source": "s"}) + "\n")
    assert json.loads(piped.stdout)["quality_score"] >= 0.5


def test_report_plots_annotated_signals_with_thresholds_and_what_if(trained, tmp_path):
    from corpus_tool import report

    _, model, _ = trained
    inp = _corpus(tmp_path)
    root = tmp_path / "run"
    _run(model, inp, root / "01-quality", 1, min_score=0.5, annotate=True)
    _run(model, root / "01-quality", root / "02-quality", 1, min_score=0.6)
    s = report.summarize(root)
    series = s.distributions["signal quality.score"]
    flagged = series["01-quality flagged"]
    assert flagged.size and flagged.max() < 0.5 <= series["01-quality not flagged"].min()
    assert ("01-quality cut-off", 0.5) in s.details.thresholds["signal quality.score"]
    assert s.details.thresholds["quality_score"] == [("01-quality cut-off", 0.5), ("02-quality cut-off", 0.6)]
    rows = s.details.whatif["02-quality: keep quality_score >= cut-off"]
    n_docs = sum(pq.read_metadata(p).num_rows for p in inp.glob("*.parquet"))
    assert rows[0]["docs"] == n_docs and [r["cutoff"] for r in rows][5] == 0.6
    assert sum(pq.read_metadata(p).num_rows for p in (root / "02-quality").glob("*.parquet")) == rows[5]["docs_kept"]
    samples = s.details.samples
    assert samples and {x["stage"] for x in samples} == {"02-quality"} and len(samples) <= 5
    assert all("< 0.6000" in x["detail"] for x in samples)
    page = report.write_report(s, tmp_path / "rep").read_text()
    assert "signal quality.score" in page and "What if: 02-quality" in page


def test_batch_char_tokens_equal_the_token_regex():
    # The quality model's char features are tokenized for a whole batch on code points (char_tokens); they
    # must be exactly what the regex gives each text, for every kind of whitespace and word character.
    import re

    from corpus_tool.stages import quality_model as qm

    space = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000 and re.fullmatch(r"\s", chr(c))]
    assert space == np.flatnonzero(qm._SPACE).tolist()  # re's \s is str.isspace(), all below U+3001
    rng = random.Random(15)
    alphabet = list("abcxyz0189 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000"
                    "\u200b中文，。ÀÉé_-.\U00020000😀")
    for _ in range(2000):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
                 for _ in range(rng.randint(0, 8))]
        assert qm.char_tokens(texts) == [" ".join(qm._TOKEN.findall(t)) for t in texts], texts
    prep = qm.TextPreparation("char", max_chars=50)
    docs = ["第一行 Hello World 123\n第二行，ABC-def\n" * k for k in range(12)]
    assert prep.many(docs) == [prep(d) for d in docs]


def test_evenly_spaced_lines_are_numpy_linspace_rounded():
    # sample_lines picks its lines in plain Python; they must be the ones np.linspace(...).round() picked.
    from corpus_tool.stages import quality_model as qm

    cases = [(n, w) for n in range(1, 120) for w in range(1, n + 1)]
    cases += [(n, w) for n in (1000, 4567, 99_999) for w in (1, 2, 3, 7, 500, 999, n)]
    for n, want in cases:
        expected = np.unique(np.linspace(0, n - 1, want).round().astype(np.int64)).tolist()
        assert qm._evenly_spaced(n, want) == expected, (n, want)


def test_batch_preparation_equals_one_at_a_time_for_case_edge_cases():
    # many() lower-cases the batch's samples joined by line breaks: final sigma at a sample's edges, a
    # character that lower-cases to two (İ), and __LABEL__ must come out as each text prepared alone.
    from corpus_tool.stages import quality_model as qm

    prep = qm.TextPreparation("char", max_chars=40)
    docs = ["ΟΔΟΣ", "Σ", "ΑΣ'", "'ΣΑ", "x__LABEL__y", "__label____label__", "", "中文ΑΣ\nΣΑ 文", "ΑΣ " * 30]
    assert prep.many(docs) == [prep(d) for d in docs]
    assert prep.many(docs + ["İstanbul ΑΣ"]) == [prep(d) for d in docs + ["İstanbul ΑΣ"]]
    assert prep.many([]) == []
