"""Dedup across shards: the four steps, their outputs, resume, and the command line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from dedup_fixtures import ARTICLE, edit_chars, pseudo_text, write_shard

from corpus_tool.errors import UsageError
from corpus_tool.runner import run_stage
from corpus_tool.stages.dedup.clusters import compute_clusters
from corpus_tool.stages.dedup.filter import DedupFilter
from corpus_tool.stages.dedup.hashing import ShingleSettings
from corpus_tool.stages.dedup.pairs import band_pairs, compute_pairs
from corpus_tool.stages.dedup.signatures import compute_signatures
from corpus_tool.stages.dedup.work import WorkDir

ONE = {"shard_index": 0, "num_shards": 1}


def dedup_all(inp: Path, out: Path, work: Path, **kw) -> None:
    compute_signatures([str(inp)], str(work), ShingleSettings(), **ONE, **kw)
    compute_pairs(str(work), verify_threshold=0.6, **ONE)
    compute_clusters(str(work))
    run_stage(DedupFilter(str(work)), [str(inp)], str(out), **ONE)


def rejected(out: Path) -> dict[str, dict]:
    rows = [r for p in sorted((out / "rejected").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    return {r["id"]: r for r in rows}


def kept_ids(out: Path) -> set[str]:
    return {i for p in sorted(out.glob("*.parquet")) for i in pq.read_table(p).column("id").to_pylist()}


@pytest.fixture
def corpus(tmp_path) -> Path:
    """Three shards of unrelated documents with planted duplicates in other shards than their originals."""
    rng = random.Random(11)
    docs = {f"a{i}": pseudo_text(rng, rng.randint(400, 1500)) for i in range(60)}
    shard_a = list(docs.items())[:30]
    shard_b = list(docs.items())[30:]
    shard_c = [
        ("near-of-a3", edit_chars(rng, docs["a3"], 0.03)),  # 3% of characters changed
        ("near-of-a40", docs["a40"][:-40] + "。本文来源：网络，如有侵权请联系删除。"),  # a footer swapped in
        # spacing and punctuation only:
        ("exact-of-a7", "  " + docs["a7"].replace("，", ", ").replace("。", "．\n") + "\n"),
        ("other", pseudo_text(rng, 900)),
    ]
    inp = tmp_path / "in"
    write_shard(inp / "a.parquet", shard_a)
    write_shard(inp / "b.parquet", shard_b)
    write_shard(inp / "c.parquet", shard_c)
    return inp


def test_cross_shard_near_and_exact_duplicates(corpus, tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    dedup_all(corpus, out, work)
    rej = rejected(out)
    # Exactly the planted copies go (the originals are longer or earlier), each naming its original.
    assert set(rej) == {"near-of-a3", "near-of-a40", "exact-of-a7"}
    assert rej["near-of-a3"]["reason"] == "near_duplicate"
    assert rej["near-of-a3"]["reason_detail"] == "near-duplicate of a3"
    assert rej["near-of-a40"]["reason_detail"] == "near-duplicate of a40"
    assert rej["exact-of-a7"]["reason"] == "exact_duplicate"
    assert rej["exact-of-a7"]["reason_detail"] == "exact duplicate of a7"
    assert rej["exact-of-a7"]["stage"] == "dedup"
    assert len(kept_ids(out)) == 61
    m = json.loads((out / "manifests" / "c.json").read_text())
    assert m["rejected_by_reason"] == {"exact_duplicate": 1, "near_duplicate": 2}
    clusters = pq.read_table(work / "clusters" / "clusters.parquet").to_pylist()
    assert sorted((r["id"], r["kept"], r["size"]) for r in clusters) == sorted([
        ("a3", True, 2), ("near-of-a3", False, 2), ("a40", True, 2), ("near-of-a40", False, 2),
        ("a7", True, 2), ("exact-of-a7", False, 2),
    ])


def test_keeper_is_the_longest(tmp_path):
    rng = random.Random(2)
    base = pseudo_text(rng, 1200)
    inp = tmp_path / "in"
    write_shard(inp / "a.parquet", [("short", base[:1100])])
    write_shard(inp / "b.parquet", [("long", base + "。" + pseudo_text(rng, 30))])
    out = tmp_path / "out"
    dedup_all(inp, out, tmp_path / "work")
    assert kept_ids(out) == {"long"}
    assert rejected(out)["short"]["reason_detail"] == "near-duplicate of long"


def _to_simplified(inp: Path, out: Path) -> None:
    """The pipeline's normalize stage (t2s); plain OpenCC where that stage is not importable."""
    try:
        from corpus_tool.stages.normalize import NormalizeStage
    except ImportError:
        import opencc

        cc = opencc.OpenCC("t2s")
        for p in sorted(inp.glob("*.parquet")):
            t = pq.read_table(p).to_pylist()
            write_shard(out / p.name, [(r["id"], cc.convert(r["text"])) for r in t])
        return
    run_stage(NormalizeStage("t2s"), [str(inp)], str(out), **ONE)


def test_simplified_and_traditional_versions_are_found_after_normalize(tmp_path):
    import opencc

    traditional = opencc.OpenCC("s2t").convert(ARTICLE)
    assert sum(a != b for a, b in zip(ARTICLE, traditional, strict=True)) > 40  # really different script
    rng = random.Random(4)
    raw = tmp_path / "raw"
    write_shard(raw / "cn.parquet", [("simplified", ARTICLE), ("x1", pseudo_text(rng, 500))])
    write_shard(raw / "tw.parquet", [("traditional", traditional), ("x2", pseudo_text(rng, 500))])
    # Without normalisation the two scripts are not near-duplicates...
    dedup_all(raw, tmp_path / "out-raw", tmp_path / "work-raw")
    assert rejected(tmp_path / "out-raw") == {}
    # ...after t2s they are.
    norm = tmp_path / "norm"
    _to_simplified(raw, norm)
    dedup_all(norm, tmp_path / "out", tmp_path / "work")
    rej = rejected(tmp_path / "out")
    assert set(rej) == {"traditional"}
    assert rej["traditional"]["reason_detail"].endswith(" of simplified")


def test_pages_sharing_only_navigation_and_boilerplate_are_not_merged(tmp_path):
    rng = random.Random(8)
    nav = ("首页 | 新闻中心 | 国内 | 国际 | 财经 | 科技 | 体育 | 娱乐 | 汽车 | 房产 | 教育 | 旅游 | "
           "健康 | 视频\n")
    header = nav + "当前位置：首页 > 新闻中心 > 正文\n" + pseudo_text(random.Random(0), 150) + "\n"
    footer = ("\n" + pseudo_text(random.Random(1), 200)
              + "\n关于我们 | 联系我们 | 广告服务 | 网站地图 | 版权声明\n"
              "Copyright © 2003-2024 示例新闻网 版权所有 京ICP备00000000号\n")
    pages = [(f"page{i}", header + pseudo_text(rng, rng.randint(350, 700)) + footer) for i in range(12)]
    inp = tmp_path / "in"
    write_shard(inp / "a.parquet", pages[:6])
    write_shard(inp / "b.parquet", pages[6:])
    out = tmp_path / "out"
    dedup_all(inp, out, tmp_path / "work")
    assert rejected(out) == {}
    assert len(kept_ids(out)) == 12
    # The same pages with the same body are merged, so the test above can fail.
    copy = header.replace("正文", "详情") + pages[2][1][len(header):]
    write_shard(inp / "c.parquet", [("copy-of-page2", copy)])
    dedup_all(inp, tmp_path / "out2", tmp_path / "work2")
    assert set(rejected(tmp_path / "out2")) == {"copy-of-page2"}


def test_rerun_gives_the_same_bytes_and_resumes(corpus, tmp_path):
    dedup_all(corpus, tmp_path / "out1", tmp_path / "work1", batch_size=7)
    dedup_all(corpus, tmp_path / "out2", tmp_path / "work2", batch_size=50)
    for rel in ["a.parquet", "b.parquet", "c.parquet", "rejected/c.parquet"]:
        assert (tmp_path / "out1" / rel).read_bytes() == (tmp_path / "out2" / rel).read_bytes(), rel
    for p in sorted((tmp_path / "work1").rglob("*")):
        if p.is_file() and p.suffix in (".npy", ".parquet") or p.name == "config.json":
            assert p.read_bytes() == (tmp_path / "work2" / p.relative_to(tmp_path / "work1")).read_bytes(), p
    # A rerun in place skips every finished unit.
    work = str(tmp_path / "work1")
    assert compute_signatures([str(corpus)], work, ShingleSettings(), **ONE).skipped == 3
    assert compute_pairs(work, verify_threshold=0.6, **ONE).skipped == 33
    assert compute_clusters(work).skipped == 1
    # Other settings in the same work directory are refused rather than mixed.
    with pytest.raises(UsageError, match="signatures made with"):
        compute_signatures([str(corpus)], work, ShingleSettings(ngram=4), **ONE)


def test_partitions_and_band_ranges_give_the_same_pairs(corpus, tmp_path):
    work = tmp_path / "work"
    compute_signatures([str(corpus)], str(work), ShingleSettings(), **ONE)
    wd = WorkDir(work)
    shard_list = wd.signature_shards()
    for band in ("000", "007", "exact"):
        one, three = band_pairs(wd, shard_list, band, 32, 1), band_pairs(wd, shard_list, band, 32, 3)
        assert np.array_equal(one, three)
    for i in range(5):  # 33 units over 5 tasks
        compute_pairs(str(work), shard_index=i, num_shards=5, verify_threshold=0.6)
    assert len(list((work / "pairs").glob("band-*.npy"))) == 33
    assert compute_clusters(str(work)).extra["near_duplicate"] == "2"


def test_filter_refuses_inputs_that_changed(corpus, tmp_path):
    work = tmp_path / "work"
    dedup_all(corpus, tmp_path / "out", work)
    with pytest.raises(UsageError, match="missing here: c"):
        run_stage(DedupFilter(str(work)), [str(corpus / "a.parquet"), str(corpus / "b.parquet")],
                  str(tmp_path / "out2"), **ONE)
    write_shard(corpus / "c.parquet", [("new", "完全不同的内容")])
    with pytest.raises(UsageError, match="changed since"):
        run_stage(DedupFilter(str(work)), [str(corpus)], str(tmp_path / "out3"), **ONE, keep_going=False)


def test_steps_through_the_cli(corpus, tmp_path, run_cli):
    work, out = tmp_path / "work", tmp_path / "out"
    for i in range(2):
        run_cli("dedup", "signatures", str(corpus), "-o", str(work),
                "--shard-index", str(i), "--num-shards", "2")
    assert len(list((work / "signatures" / "manifests").glob("*.json"))) == 3
    for i in range(3):  # as a Slurm array: --array=4-6
        run_cli("dedup", "pairs", str(work),
                env={"SLURM_ARRAY_TASK_ID": str(4 + i), "SLURM_ARRAY_TASK_MIN": "4",
                     "SLURM_ARRAY_TASK_COUNT": "3"})
    proc = run_cli("dedup", "clusters", str(work))
    assert b"exact_duplicate 1, near_duplicate 2" in proc.stderr
    run_cli("dedup", "filter", str(corpus), "--work", str(work), "-o", str(out))
    assert set(rejected(out)) == {"near-of-a3", "near-of-a40", "exact-of-a7"}
    report = run_cli("dedup", "report", str(work), "--limit", "2").stdout.decode()
    assert report.count("cluster ") == 2 and "KEEP" in report and "c.parquet#" in report
    lines = run_cli("dedup", "report", str(work), "--limit", "0", "--json").stdout.decode().splitlines()
    clusters = [json.loads(x) for x in lines]
    assert {m["id"] for c in clusters for m in c["members"] if not m["kept"]} == set(rejected(out))
    # The one-shot command gives the same documents.
    run_cli("dedup", str(corpus), "-o", str(tmp_path / "oneshot"))
    for name in ("a", "b", "c"):
        oneshot = tmp_path / "oneshot" / f"{name}.parquet"
        assert (out / f"{name}.parquet").read_bytes() == oneshot.read_bytes()
    assert (tmp_path / "oneshot" / "dedup-work" / "clusters" / "manifest.json").exists()


def test_cli_help_and_errors(run_cli, tmp_path):
    text = run_cli("dedup", "--help").stdout.decode()
    for step in ("signatures", "pairs", "clusters", "filter", "report", "sbatch --array"):
        assert step in text
    proc = run_cli("dedup", "clusters", str(tmp_path / "nowhere"), check=False)
    assert proc.returncode == 2 and b"dedup signatures" in proc.stderr


def test_one_config_section_serves_every_step(corpus, tmp_path, run_cli):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dedup:\n  ngram: 4\n  verify-threshold: 0.7\n  partitions: 2\n", encoding="utf-8")
    work = tmp_path / "work"
    run_cli("dedup", "signatures", str(corpus), "-o", str(work), "-c", str(cfg))
    assert json.loads((work / "config.json").read_text())["ngram"] == 4
    run_cli("dedup", "pairs", str(work), "-c", str(cfg))
    assert json.loads((work / "pairs" / "manifests" / "band-000.json").read_text())["verify_threshold"] == 0.7
    cfg.write_text("dedup:\n  ngramz: 4\n", encoding="utf-8")
    proc = run_cli("dedup", "pairs", str(work), "-c", str(cfg), check=False)
    assert proc.returncode == 2 and b"unknown option 'ngramz'" in proc.stderr


def test_a_page_copied_thousands_of_times_gives_linear_pairs(tmp_path):
    """One boilerplate page copied n times is one bucket of n in every band: a star of n - 1 pairs per band,
    not n(n-1)/2, and one cluster of n that keeps one copy."""
    rng = random.Random(12)
    page = pseudo_text(rng, 600)
    n = 3000
    inp = tmp_path / "in"
    write_shard(inp / "a.parquet", [(f"copy{i}", page) for i in range(n // 2)] + [("other", pseudo_text(rng, 600))])
    write_shard(inp / "b.parquet", [(f"copy{i}", page + "\n") for i in range(n // 2, n)])
    work, out = tmp_path / "work", tmp_path / "out"
    dedup_all(inp, out, work)
    for band in ("000", "031", "exact"):
        manifest = json.loads((work / "pairs" / "manifests" / f"band-{band}.json").read_text())
        assert manifest["candidate_pairs"] == manifest["pairs"] == n - 1
        pairs = np.load(work / "pairs" / f"band-{band}.npy")
        assert (pairs[:, 0] == 0).all()  # every copy paired with the first
    assert kept_ids(out) == {"copy0", "other"}
    assert len(rejected(out)) == n - 1
    assert {r["size"] for r in pq.read_table(work / "clusters" / "clusters.parquet").to_pylist()} == {n}
