"""The demo, and report and audit on its real run of the sample pipeline."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from corpus_tool import shards
from corpus_tool.report import read_idx


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`corpus-tool demo` (README command 1), run once for this module: (output root, stdout)."""
    from conftest import corpus_tool

    out = tmp_path_factory.mktemp("demo") / "demo-out"
    proc = corpus_tool("demo", "-o", str(out), "--workers", "2", timeout=600)
    return out, proc.stdout.decode() + proc.stderr.decode()


@pytest.fixture
def run_copy(demo_run, tmp_path):
    """A private copy of the demo's output (tests tamper with it)."""
    copy = tmp_path / "out"
    shutil.copytree(demo_run[0], copy)
    return copy


def test_demo_runs_every_stage_then_reports_and_audits(demo_run, run_cli, tmp_path):
    out, text = demo_run
    assert "NOT AVAILABLE" not in text and "NOT RUN" not in text
    for stage in ("01-ingest", "02-langid", "03-normalize", "04-quality", "05-filter", "06-perplexity", "07-dedup",
                  "08-tokenize"):
        assert re.search(rf"^{stage}\s+\d+\s+[\d,]+\s+[\d,]+", text, re.M), stage
    assert f"clean documents (Parquet):           {out / '07-dedup'}" in text
    assert f"token shards (Megatron .bin/.idx):   {out / '08-tokenize'}" in text
    tokens = sum(int(read_idx(p)[0].sum()) for p in (out / "08-tokenize").glob("*.idx"))
    assert tokens > 1000 and f"tokens: {tokens:,} in" in text
    assert re.search(r"audit: all \d+ checks passed", text)
    assert (out / "report" / "index.html").exists() and (out / "pipeline.yaml").exists()
    # The demo never overwrites silently, and never deletes a folder it did not make.
    again = run_cli("demo", "-o", str(out), check=False)
    assert again.returncode == 2 and "pass --overwrite" in again.stderr.decode()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    refused = run_cli("demo", "-o", str(foreign), "--overwrite", check=False)
    assert refused.returncode == 2 and "not deleting it" in refused.stderr.decode()
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_demo_quality_step_drops_the_junk_pages_and_keeps_the_articles(demo_run):
    """The demo's classifier (trained at demo time on shipped text, none of it from the sample corpus)
    rejects the sample's keyword, gambling and repeated-character pages and nothing else."""
    root = demo_run[0]
    rejected = pq.read_table(sorted((root / "04-quality" / "rejected").glob("*.parquet"))).to_pylist()
    kept = pq.read_table(sorted((root / "04-quality").glob("*.parquet"))).to_pylist()
    junk = ("二手车交易", "娱乐城", "哈哈哈哈")
    assert len(rejected) >= 4 and all(any(j in r["text"] for j in junk) for r in rejected)
    assert not [r["id"] for r in kept if any(j in r["text"] for j in junk)]
    assert max(r["quality_score"] for r in rejected) < 0.5 <= min(r["quality_score"] for r in kept)
    assert sum("dfzx.example/a/" in (r["url"] or "") for r in kept) >= 5  # the news articles stay


def _manifest_totals(stage_dir: Path) -> dict[str, int]:
    totals = {"in": 0, "kept": 0, "rejected": 0}
    for m in (stage_dir / "manifests").glob("*.json"):
        docs = json.loads(m.read_text())["docs"]
        for k in totals:
            totals[k] += docs[k]
    return totals


def test_report_funnel_distributions_and_html(demo_run, run_cli, tmp_path):
    root = demo_run[0]
    proc = run_cli("report", str(root), "-o", str(tmp_path / "report"))
    text = proc.stdout.decode()
    # The funnel on the terminal has every stage with the manifests' counts.
    for stage in (
        "01-ingest",
        "02-langid",
        "03-normalize",
        "04-quality",
        "05-filter",
        "06-perplexity",
        "07-dedup",
        "08-tokenize",
    ):
        t = _manifest_totals(root / stage)
        assert re.search(rf"^{stage}\s+\d+\s+{t['in']:,}\s+{t['kept']:,}\s+{t['rejected']:,}\s", text, re.M), (
            stage,
            text,
        )
    assert re.search(r"rejected: .*lang_", text)  # langid rejections by reason
    assert re.search(r"rejected: .*duplicate", text)  # dedup rejections by reason
    idx_tokens = sum(int(read_idx(p)[0].sum()) for p in (root / "08-tokenize").glob("*.idx"))
    assert f"tokens: {idx_tokens:,} in" in text

    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    dists = summary["distributions"]
    for name in ("length (characters)", "lang_score", "ppl", "duplicate cluster size", "tokens per document"):
        assert name in dists and all(s["n"] > 0 for s in dists[name].values()), name
    kept_final = _manifest_totals(root / "08-tokenize")["kept"]
    assert dists["tokens per document"]["08-tokenize"]["n"] == kept_final
    dedup_rejected = _manifest_totals(root / "07-dedup")["rejected"]
    # Every dedup-rejected document is in exactly one cluster, with its kept document.
    assert dists["duplicate cluster size"]["07-dedup"]["n"] >= 1
    assert summary["funnel"][6]["docs_rejected"] == dedup_rejected
    # What was thrown away: sample rejections per stage and reason, with the measured value vs threshold.
    samples = summary["rejected_samples"]
    quality = [s for s in samples if s["stage"] == "04-quality"]
    assert quality and all(s["reason"] == "low_quality" and "< 0.5000" in s["detail"] for s in quality)
    assert {(s["stage"], s["reason"]) for s in samples} >= {("05-filter", "length"), ("07-dedup", "near_duplicate")}
    assert all(s["id"] and len(s["snippet"]) <= 121 for s in samples if s["reason"] != "empty_text")
    # the quality step separates the sample's junk pages (kept: all above the cut-off, rejected: below)
    assert dists["quality_score"]["04-quality rejected"]["n"] == _manifest_totals(root / "04-quality")["rejected"]
    assert summary["thresholds"]["quality_score"] == [["04-quality cut-off", 0.5]]
    what_if = summary["what_if"]["04-quality: keep quality_score >= cut-off"]
    assert [r["cutoff"] for r in what_if][4] == 0.5
    assert what_if[4]["docs_kept"] == _manifest_totals(root / "04-quality")["kept"]
    assert any(k.startswith("06-perplexity: keep ppl <= cut-off") for k in summary["what_if"])

    # The HTML page is self-contained: every plot is an embedded PNG that decodes to a real picture.
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<table>" in page and "07-dedup" in page
    assert "Sample rejected documents" in page and "What if: 04-quality" in page
    assert not re.search(r'src="(?!data:)', page), "the page refers to an outside file"
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 7  # funnel, rejections, five distributions
    for b64 in images:
        img = Image.open(io.BytesIO(base64.b64decode(b64)))
        img.load()
        assert img.width > 300 and img.height > 200
        assert len(set(np.asarray(img.convert("L")).ravel().tolist())) > 10  # not a blank picture
    assert len(list((tmp_path / "report").glob("*.png"))) == len(images)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_opens_in_a_headless_browser(demo_run, run_cli, tmp_path):
    """The page renders in a real browser with every image decoded (Debian's chromium, headless)."""
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium); the HTML and every embedded image "
            "are still parsed and decoded by test_report_funnel_distributions_and_html"
        )
    run_cli("report", str(root := demo_run[0]), "-o", str(tmp_path / "report"))
    page = (tmp_path / "report" / "index.html").read_text()
    # A copy of the page with a probe that writes, once loaded, how many images decoded with a size.
    probe = (
        "<script>window.addEventListener('load', () => {const imgs = [...document.images];"
        "document.body.setAttribute('data-probe', imgs.length + ':' + "
        "imgs.filter(i => i.complete && i.naturalWidth > 0).length);});</script></body>"
    )
    probed = tmp_path / "probe.html"
    probed.write_text(page.replace("</body>", probe), encoding="utf-8")
    args = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run([*args, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-probe="(\d+):(\d+)"', dom.stdout)
    assert m, f"chromium did not load the page: {dom.stderr[-2000:]}"
    total, decoded = int(m.group(1)), int(m.group(2))
    assert total >= 7 and decoded == total
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            *args,
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            (tmp_path / "report" / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    img = np.asarray(Image.open(shot).convert("L"))
    assert img.shape[0] >= 2000 and (img < 128).mean() > 0.01  # text and plots, not a blank page
    assert root.exists()


def test_audit_passes_on_a_good_run(run_copy, run_cli):
    proc = run_cli("audit", str(run_copy))
    out = proc.stdout.decode()
    assert "FAIL" not in out
    for stage in ("01-ingest", "05-filter", "07-dedup", "08-tokenize"):
        assert re.search(rf"ok\s+{stage}: in == kept \+ rejected", out), stage
    assert re.search(r"ok\s+07-dedup: no document id twice", out)
    assert re.search(r"ok\s+08-tokenize: reads exactly what 07-dedup kept", out)


def _rewrite(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")


def _fix_manifest(stage_dir: Path, shard: str, kept_delta: int = 0) -> None:
    """Make a shard's manifest describe its (tampered) files again: only the deeper checks can fail."""
    mpath = stage_dir / "manifests" / f"{shard}.json"
    m = json.loads(mpath.read_text())
    m["outputs"]["kept"] = [shards.describe_file(stage_dir / f"{shard}.parquet")]
    m["docs"]["kept"] += kept_delta
    m["docs"]["in"] += kept_delta
    mpath.write_text(json.dumps(m))


def _audit_fails(run_cli, root: Path, *patterns: str) -> str:
    proc = run_cli("audit", str(root), check=False)
    out = proc.stdout.decode()
    assert proc.returncode == 1, out
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    for pattern in patterns:
        assert any(re.search(pattern, line) for line in failures), (pattern, failures)
    return out


def test_audit_fails_on_a_changed_shard(run_copy, run_cli):
    d = run_copy / "05-filter"
    shard = sorted(p.stem for p in d.glob("*.parquet") if pq.read_metadata(p).num_rows > 1)[0]
    table = pq.read_table(d / f"{shard}.parquet")
    _rewrite(d / f"{shard}.parquet", table.slice(1))  # one document silently lost
    _audit_fails(
        run_cli,
        run_copy,
        rf"05-filter: manifests match their files.*{shard}.*sha256",
        rf"06-perplexity: inputs unchanged.*{shard}.parquet changed",
    )


def test_audit_fails_when_counts_do_not_add_up(run_copy, run_cli):
    mpath = (
        run_copy
        / "02-langid"
        / "manifests"
        / sorted(p.name for p in (run_copy / "02-langid" / "manifests").iterdir())[0]
    )
    m = json.loads(mpath.read_text())
    m["docs"]["in"] += 1
    mpath.write_text(json.dumps(m))
    _audit_fails(run_cli, run_copy, r"02-langid: in == kept \+ rejected.*in \d+, kept")


def test_audit_fails_on_a_duplicated_document_id(run_copy, run_cli):
    d = run_copy / "07-dedup"
    names = sorted(p.stem for p in d.glob("*.parquet") if pq.read_metadata(p).num_rows > 0)
    a, b = pq.read_table(d / f"{names[0]}.parquet"), pq.read_table(d / f"{names[1]}.parquet")
    _rewrite(d / f"{names[0]}.parquet", pa.concat_tables([a, b.slice(0, 1).cast(a.schema)]))
    _fix_manifest(d, names[0], kept_delta=1)
    dup_id = b.column("id")[0].as_py()
    _audit_fails(run_cli, run_copy, rf"07-dedup: no document id twice.*{re.escape(dup_id)} x2")


def test_audit_fails_on_a_shard_without_manifest(run_copy, run_cli):
    d = run_copy / "03-normalize"
    shard = sorted(p.stem for p in d.glob("*.parquet"))[0]
    (d / "manifests" / f"{shard}.json").unlink()
    _audit_fails(run_cli, run_copy, rf"03-normalize: no shard without a manifest.*{shard}.parquet")
