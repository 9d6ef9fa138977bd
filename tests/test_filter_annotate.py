"""Annotate instead of reject (issue 14): `filter --annotate` keeps every row and names every rule that
would reject it; `select` applies thresholds to the annotated shards and reproduces exactly what the plain
filter run rejects; the shared `signals`/`flags` helper merges stages' annotations."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from filter_fixtures import documents
from test_filter_heuristics import LOOP, SEPARATOR_PAGE, TRANSCRIPT

from corpus_tool import annotate as ann
from corpus_tool import schema
from corpus_tool.stages import filter as flt
from corpus_tool.stages.select import Condition


def _corpus() -> tuple[list[str], list[str | None]]:
    texts = documents(160, seed=11) + [TRANSCRIPT, TRANSCRIPT, LOOP, SEPARATOR_PAGE, "短", "English only. " * 20]
    kinds = [None] * 160 + ["transcript", None, "transcript", None, None, None]
    return texts, kinds


def _write(path, texts, kinds):
    meta = [json.dumps({"kind": k}) if k else None for k in kinds]
    pq.write_table(pa.table({"id": [f"d{i:03d}" for i in range(len(texts))], "text": texts,
                             "source": [f"x#{i}" for i in range(len(texts))], "meta": meta}), path)


def test_annotate_keeps_every_row_and_names_every_rule_that_would_reject():
    texts, kinds = _corpus()
    rules = flt.load_rules()[0]
    plain = flt.judge_batch(rules, texts, kinds=kinds)
    annotated = flt.judge_batch(rules, texts, kinds=kinds, annotate=True)
    n_flagged = 0
    for kind, p, a in zip(kinds, plain, annotated, strict=True):
        assert a.reason is None
        assert (a.flags[0] if a.flags else None) == p.reason  # the first flag is the plain decision
        n_flagged += bool(a.flags)
        # every rule that measured the document is in signals, and each flag is a rule that rejects
        assert set(a.flags) <= set(a.signals)
        assert {r.name for r in rules if r.applies_to(kind)} == set(a.signals)
        if p.reason is None:
            assert a.text == p.text and a.cleaned == p.cleaned
    assert n_flagged > 40
    # a document that fails several rules names all of them
    short_english = annotated[-1]
    assert short_english.flags[:1] == ["han_ratio"] and "stop_words" in short_english.flags
    tiny = annotated[-2]
    assert tiny.flags[0] == "length" and "stop_words" in tiny.flags
    assert tiny.signals["length"] == {"chars": 1}
    assert annotated[-4].signals["repetition"]["top_4gram_frac"] > 0.256
    assert "lines" not in annotated[-6].signals  # a transcript: the rule did not run


def test_select_reproduces_the_plain_filter_run(tmp_path, run_cli):
    texts, kinds = _corpus()
    inp = tmp_path / "in"
    inp.mkdir()
    _write(inp / "s.parquet", texts, kinds)
    run_cli("filter", str(inp), "-o", str(tmp_path / "plain"))
    run_cli("filter", str(inp), "-o", str(tmp_path / "ann"), "--annotate")
    ann_rows = pq.read_table(tmp_path / "ann" / "s.parquet").to_pylist()
    assert len(ann_rows) == len(texts) and not (tmp_path / "ann" / "rejected" / "s.parquet").exists() or \
        pq.read_table(tmp_path / "ann" / "rejected" / "s.parquet").num_rows == 0
    assert all(isinstance(json.loads(r["signals"]), dict) for r in ann_rows)
    run_cli("select", str(tmp_path / "ann"), "-o", str(tmp_path / "sel"))
    plain_kept = pq.read_table(tmp_path / "plain" / "s.parquet")
    sel_kept = pq.read_table(tmp_path / "sel" / "s.parquet")
    for col in ("id", "text", "cleaned", "meta"):
        assert sel_kept.column(col).to_pylist() == plain_kept.column(col).to_pylist()
    plain_rej = pq.read_table(tmp_path / "plain" / "rejected" / "s.parquet")
    sel_rej = pq.read_table(tmp_path / "sel" / "rejected" / "s.parquet")
    assert sel_rej.column("id").to_pylist() == plain_rej.column("id").to_pylist()
    assert sel_rej.column("reason").to_pylist() == plain_rej.column("reason").to_pylist()
    assert set(sel_rej.column("stage").to_pylist()) == {"select"}
    manifest = json.loads((tmp_path / "sel" / "manifests" / "s.json").read_text())
    plain_manifest = json.loads((tmp_path / "plain" / "manifests" / "s.json").read_text())
    assert manifest["rejected_by_reason"] == plain_manifest["rejected_by_reason"]


def test_select_thresholds_signals_and_columns(tmp_path, run_cli):
    texts, kinds = _corpus()
    inp = tmp_path / "in"
    inp.mkdir()
    _write(inp / "s.parquet", texts, kinds)
    run_cli("filter", str(inp), "-o", str(tmp_path / "ann"), "--annotate")
    run_cli("select", str(tmp_path / "ann"), "-o", str(tmp_path / "sel"), "--no-flags",
            "--where", "length.chars >= 300", "--where", "han_ratio.han_ratio>=0.5")
    rows = pq.read_table(tmp_path / "ann" / "s.parquet").to_pylist()
    expect = [r["id"] for r in rows if json.loads(r["signals"])["length"]["chars"] >= 300
              and json.loads(r["signals"])["han_ratio"]["han_ratio"] >= 0.5]
    assert pq.read_table(tmp_path / "sel" / "s.parquet").column("id").to_pylist() == expect
    rej = pq.read_table(tmp_path / "sel" / "rejected" / "s.parquet").to_pylist()
    assert {r["reason"] for r in rej} <= {"length", "han_ratio"} and rej
    assert all("fails" in r["reason_detail"] for r in rej)
    # ignoring one flag and thresholding its signal instead
    run_cli("select", str(tmp_path / "ann"), "-o", str(tmp_path / "sel2"), "--ignore-flag", "repetition",
            "--where", "repetition.top_4gram_frac <= 0.9")
    def kept2(r):
        flags = [f for f in r["flags"] if f != "repetition"]
        top4 = json.loads(r["signals"]).get("repetition", {}).get("top_4gram_frac")
        return not flags and (top4 is None or top4 <= 0.9)

    expect2 = [r["id"] for r in rows if kept2(r)]
    assert pq.read_table(tmp_path / "sel2" / "s.parquet").column("id").to_pylist() == expect2
    assert any(r["flags"] == ["repetition"] for r in rows if r["id"] in expect2)  # re-thresholded, kept
    bad = run_cli("select", str(tmp_path / "ann"), "-o", str(tmp_path / "sel3"), "--where", "x ~ 3", check=False)
    assert bad.returncode == 2 and b"KEY OP NUMBER" in bad.stderr and b"Traceback" not in bad.stderr


def test_conditions_on_columns_and_missing_values():
    c = Condition.parse("quality_score >= 0.5")
    assert (c.key, c.op, c.threshold, c.reason) == ("quality_score", ">=", 0.5, "quality_score")
    assert c.holds(0.7) and not c.holds(0.2) and c.holds(None)
    assert Condition.parse("repetition.dup_10gram_frac<1e-1").reason == "repetition"


def test_merge_keeps_other_stages_and_replaces_its_own():
    s, f = ann.merge(None, None, {"length": {"chars": 3}, "han_ratio": {"han_ratio": 0.1}}, ["length"])
    assert json.loads(s) == {"length": {"chars": 3}, "han_ratio": {"han_ratio": 0.1}} and f == ["length"]
    s2, f2 = ann.merge(s, f + ["low_quality"], {"length": {"chars": 300}}, [])
    assert json.loads(s2)["length"] == {"chars": 300} and f2 == ["low_quality"]
    s3, _ = ann.merge(s2, f2, {"perplexity": {"ppl": float("nan")}}, ["perplexity"])
    assert json.loads(s3)["perplexity"] == {"ppl": None}
    batch = schema.conform(pa.table({"id": ["a"], "text": ["t"], "source": ["s"]}))
    out = ann.annotate_batch(batch, [{"quality": {"score": 0.5}}], [["low_quality"]])
    assert out.column(schema.FLAGS).to_pylist() == [["low_quality"]]
    assert ann.lookup(ann.parse_signals(out.column(schema.SIGNALS)[0].as_py()), "quality.score") == 0.5
    with pytest.raises(ValueError):
        ann.parse_signals("[1, 2]")
