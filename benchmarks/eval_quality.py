#!/usr/bin/env python
"""Measure the quality classifier and KenLM perplexity on devdata, with a held-back part never trained on.

    .venv/bin/python benchmarks/eval_quality.py                   # all three text preparations
    .venv/bin/python benchmarks/eval_quality.py --features char   # one
    .venv/bin/python benchmarks/eval_quality.py --json out.json

Documents (../shared/devdata; the split is by source file, so no page or article is on both sides):
- clean: zhwiki articles cut at paragraph breaks into 300-6000-character documents; the Debian Reference
  (zh-cn) chapters, extracted by ingest's extractor and cut into about 3000-character sections; the GNE
  news pages' main content (ingest's extraction, at least 200 characters).
- boilerplate (real): what a news page holds besides its main content (all visible text minus the main
  content's lines: navigation, link lists, footers, ads), and the four GNE list pages' visible text.
- spam (synthetic: devdata has no spam pages): keyword-stuffed SEO, gambling/scam ads, product listings,
  navigation and comment spam from scripts/make_quality_data.py, generated with seeds other than the demo's;
  the held-back spam uses yet another seed.
- shuffled (held back only, a kind never trained on): 40 held-back zhwiki documents with the characters of
  each line shuffled (word salad); reported apart ("vs shuffled"), not in "all junk".
Every 10 source files, 3 (by sha1 of the name) are held back. The classifier is `train-quality` with its
defaults (balanced by oversampling); KenLM is `train-lm` (char 5-gram) on the same clean training documents.
Combined: the mean of the two scores' z-values (logit of quality_score; -log10 ppl), standardized on the
training documents. AUC: P(clean scores better than junk), held-back documents only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_tool.stages.ingest.extract import _RESILIPARSE_OPTS, HTMLTree, extract_plain_text, extract_resiliparse, tidy  # noqa: E402,E501
from corpus_tool.stages.perplexity import LanguageModel  # noqa: E402
from corpus_tool.stages.quality_model import QualityModel, auc  # noqa: E402
from corpus_tool.stages.train_lm import train_lm  # noqa: E402
from corpus_tool.stages.train_quality import train_quality  # noqa: E402

# ../shared/devdata beside the checkout (a worktree one level deeper finds it one more level up)
SHARED = next((p / "shared/devdata" for p in REPO.parents if (p / "shared/devdata").is_dir()),
              REPO.parent / "shared/devdata")


def held_back(name: str) -> bool:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 10 < 3


def cut(text: str, rng: random.Random, lo: int, hi: int) -> list[str]:
    paras = [p for p in text.split("\n") if p.strip()]
    docs, cur, target = [], [], rng.randint(lo, hi)
    for p in paras:
        cur.append(p)
        if sum(map(len, cur)) >= target:
            docs.append("\n".join(cur))
            cur, target = [], rng.randint(lo, hi)
    if cur and sum(map(len, cur)) >= 200:
        docs.append("\n".join(cur))
    return docs


def documents() -> list[tuple[str, str, str]]:
    """(kind, source file, text): kind is zhwiki, debian, news (clean) or boilerplate."""
    rng = random.Random(0)
    out = []
    for p in sorted((SHARED / "text/zhwiki").glob("*.txt")):
        out += [("zhwiki", p.name, d) for d in cut(p.read_text(encoding="utf-8"), rng, 300, 6000)]
    for p in sorted((SHARED / "text/debian-reference-zh-cn").glob("*.html")):
        text = extract_resiliparse(p.read_text(encoding="utf-8", errors="replace")).text
        out += [("debian", p.name, d) for d in cut(text, rng, 2000, 4000)]
    pages = sorted((SHARED / "html/gne/tests").rglob("*.html"))
    for p in pages:
        html = p.read_text(encoding="utf-8", errors="replace")
        main = extract_resiliparse(html, fallback="none").text
        everything = tidy(extract_plain_text(HTMLTree.parse(html), main_content=False, **_RESILIPARSE_OPTS))
        name = str(p.relative_to(SHARED / "html/gne/tests"))
        if len(main) >= 200:
            out.append(("news", name, main))
        main_lines = set(main.split("\n"))
        rest = "\n".join(ln for ln in everything.split("\n") if ln.strip() and ln not in main_lines)
        if len(rest) >= 200:
            out.append(("boilerplate", name, rest))
    for p in sorted((SHARED / "html/gne/test_list_page").rglob("*.html")):
        html = p.read_text(encoding="utf-8", errors="replace")
        text = tidy(extract_plain_text(HTMLTree.parse(html), main_content=False, **_RESILIPARSE_OPTS))
        out.append(("boilerplate", "list/" + p.name, text))
    return out


def spam(seed: int, per_kind: int) -> list[tuple[str, str, str]]:
    import make_quality_data as mq  # noqa: PLC0415

    rng = random.Random(seed)
    return [("spam", f"{kind}-{seed}-{i}", make(rng)) for kind, make in mq.KINDS.items() for i in range(per_kind)]


def write(path: Path, texts: list[str]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts,
                             "source": [f"x#{i}" for i in range(len(texts))]}), path, compression="zstd")
    return str(path)


def z(values: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return (values - ref.mean()) / (ref.std() or 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", nargs="*", default=["char", "jieba", "both"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    docs = documents()
    train = [d for d in docs if not held_back(d[1])] + spam(101, 60)
    test = [d for d in docs if held_back(d[1])] + spam(202, 20)
    # A junk kind never trained on: held-back zhwiki documents with each line's characters shuffled
    shuffler = random.Random(7)
    test += [("shuffled", name, "\n".join("".join(shuffler.sample(ln, len(ln))) for ln in text.split("\n")))
             for kind, name, text in test[:] if kind == "zhwiki"][:40]
    clean_kinds = {"zhwiki", "debian", "news"}
    counts = {k: [sum(d[0] == k for d in train), sum(d[0] == k for d in test)]
              for k in ("zhwiki", "debian", "news", "boilerplate", "spam", "shuffled")}
    print("documents (train, held back):", counts)
    work = Path(tempfile.mkdtemp(prefix="eval-quality-"))
    pos = write(work / "pos" / "p.parquet", [t for k, _, t in train if k in clean_kinds])
    neg = write(work / "neg" / "n.parquet", [t for k, _, t in train if k not in clean_kinds])
    test_texts = [t for _, _, t in test]
    labels = np.array([k in clean_kinds for k, _, _ in test])
    kinds = np.array([k for k, _, _ in test])
    lm = work / "lm"
    t0 = time.perf_counter()
    train_lm([pos], lm, order=5, tokenizer="char")
    model = LanguageModel(lm)
    print(f"train-lm: {time.perf_counter() - t0:.1f} s")
    seen = kinds != "shuffled"
    neg_log_ppl = np.array([-np.log10(model.perplexity(t) or 1e9) for t in test_texts])
    neg_log_ppl_train = np.array([-np.log10(model.perplexity(t) or 1e9) for _, _, t in train])
    results: dict = {"documents": counts, "features": {}}

    def aucs(scores: np.ndarray) -> dict[str, float]:
        seen = kinds != "shuffled"
        out = {"all junk": auc(labels[seen], scores[seen])}
        for junk in ("boilerplate", "spam", "shuffled"):
            m = labels | (kinds == junk)
            out[f"vs {junk}"] = auc(labels[m], scores[m])
        for clean in sorted(clean_kinds):
            m = (~labels & seen) | (kinds == clean)
            out[f"{clean} vs junk"] = auc(labels[m], scores[m])
        return {k: round(v, 4) for k, v in out.items()}

    results["kenlm"] = aucs(neg_log_ppl)
    print("KenLM -log10 ppl:", results["kenlm"])
    for features in args.features:
        t0 = time.perf_counter()
        card = train_quality([pos], [neg], work / f"q-{features}", features=features, valid_fraction=0.0)
        train_s = time.perf_counter() - t0
        m = QualityModel(work / f"q-{features}")
        t0 = time.perf_counter()
        q = m.scores(test_texts).astype(np.float64)
        score_s = time.perf_counter() - t0
        q_train = m.scores([t for _, _, t in train]).astype(np.float64)
        logit = lambda p: np.log(np.clip(p, 1e-6, 1 - 1e-6) / np.clip(1 - p, 1e-6, 1))  # noqa: E731
        combined = 0.5 * z(logit(q), logit(q_train)) + 0.5 * z(neg_log_ppl, neg_log_ppl_train)
        mb = sum(len(t.encode()) for t in test_texts) / 1e6
        r = {
            "classifier": aucs(q),
            "combined": aucs(combined),
            "train_seconds": round(train_s, 2),
            "score_mb_per_s": round(mb / score_s, 2),
            "precision_recall_at_0.5": {  # over the kinds trained on; shuffled apart
                "precision": round(float((labels & (q >= 0.5)).sum() / max(((q >= 0.5) & seen).sum(), 1)), 4),
                "recall": round(float((labels & (q >= 0.5)).sum() / max(labels.sum(), 1)), 4),
                "shuffled_scoring_at_least_0.5": int(((q >= 0.5) & ~seen).sum()),
            },
            "train_docs": card["documents"],
        }
        results["features"][features] = r
        print(f"{features}: classifier {r['classifier']}\n      combined {r['combined']}\n"
              f"      train {train_s:.1f} s, scoring {r['score_mb_per_s']} MB/s, {r['precision_recall_at_0.5']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
