"""Accuracy of the langid stage on lingua's labelled test data: lid.176 alone vs. lid.176 + script evidence.

    .venv/bin/python benchmarks/eval_langid_accuracy.py [--lingua ../shared/devdata/langid/lingua]
        [--threshold 0.5] [--markdown]

For every text of lingua's `sentences/`, `word-pairs/` and `single-words/` folders (label = file name), it
asks two classifiers "is this zh?":
  * lid.176 alone: fastText's top label is `zh` with probability >= threshold (cc_net's rule);
  * corpus-tool: the langid stage's decision (kept) with its defaults.
zh-Hant is lingua's zh.txt converted with OpenCC s2t (lingua's zh set is Simplified).
It prints zh recall and the share of ja, ko and all other languages taken as zh, split by text length.
Also: why the stage rejected zh texts (too_short, low_confidence, lang_xx).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from corpus_tool.stages import textstats as ts
from corpus_tool.stages.langid import LangIdStage

BUCKETS = ((1, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 10**9))


def bucket(n: int) -> str:
    for lo, hi in BUCKETS:
        if lo <= n <= hi:
            return f"{lo}-{hi}" if hi < 10**9 else f"{lo}+"
    return "0"


def load(root: Path) -> list[tuple[str, str, str]]:
    """(kind, language, text) for every line; zh-Hant made from zh with OpenCC s2t."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rows = []
    for kind in ("sentences", "word-pairs", "single-words"):
        for f in sorted((root / kind).glob("*.txt")):
            lang = f.stem
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rows.append((kind, lang, line.strip()))
                    if lang == "zh":
                        rows.append((kind, "zh-Hant", s2t.convert(line.strip())))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--lingua", default=str(Path(__file__).resolve().parents[1] / "../shared/devdata/langid/lingua")
    )
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--min-letters", type=int, default=None)
    args = ap.parse_args()
    rows = load(Path(args.lingua))
    kw = {"threshold": args.threshold}
    if args.min_letters is not None:
        kw["min_letters"] = args.min_letters
    stage = LangIdStage(**kw)
    raw_stage = LangIdStage(
        threshold=args.threshold, script_evidence=False, fold_varieties=False, min_letters=0
    )
    texts = [r[2] for r in rows]
    counts = ts.class_counts(texts)
    n_letters = ts.letters(counts)
    # (group, bucket) -> [n, lid_zh, ours_zh]
    table: dict[tuple[str, str, str], np.ndarray] = defaultdict(lambda: np.zeros(3, dtype=np.int64))
    reasons: dict[str, Counter] = defaultdict(Counter)
    for i, (kind, lang, text) in enumerate(rows):
        raw = raw_stage.predict(text)
        top = max(raw, key=raw.get)
        lid_zh = top == "zh" and raw[top] >= args.threshold
        d = stage.decide(text, counts[i])
        ours_zh = d.reason is None
        group = lang if lang in ("zh", "zh-Hant", "ja", "ko") else "other"
        for b in (bucket(int(n_letters[i])), "all"):
            table[(kind, group, b)] += (1, lid_zh, ours_zh)
            table[("all kinds", group, b)] += (1, lid_zh, ours_zh)
        if group in ("zh", "zh-Hant"):
            reasons[f"{kind} {group}"][d.reason or "kept"] += 1
        if group != "zh" and group != "zh-Hant" and ours_zh:
            print(f"  false zh ({lang}, {kind}): {text[:60]}")
        if group == "zh" and not ours_zh and kind == "sentences":
            print(f"  missed zh ({d.reason}, {d.lang} {d.score:.2f}): {text[:60]}")

    print(
        f"\nthreshold {args.threshold}; rate = share taken as zh (recall for zh rows, error for the others)"
    )
    print("| data | group | letters | texts | lid.176 alone | corpus-tool |")
    print("|---|---|---|---:|---:|---:|")
    order = [f"{lo}-{hi}" if hi < 10**9 else f"{lo}+" for lo, hi in BUCKETS] + ["all"]
    for kind in ("sentences", "word-pairs", "single-words", "all kinds"):
        for group in ("zh", "zh-Hant", "ja", "ko", "other"):
            for b in order:
                n, a, o = table.get((kind, group, b), (0, 0, 0))
                if n:
                    print(f"| {kind} | {group} | {b} | {n} | {a / n:.1%} | {o / n:.1%} |")
    print("\nwhy zh texts were not kept:")
    for k, c in reasons.items():
        print(f"  {k}: {dict(c.most_common())}")


if __name__ == "__main__":
    main()
