"""Does scoring a sample of windows (the default) change langid's decisions? Compared with scoring the whole
document, on the benchmark corpus (zhwiki documents, a quarter in Traditional, ja/ko/en documents) and on
mixed documents (a Chinese document with a Japanese, Korean or English one appended).

    .venv/bin/python benchmarks/eval_langid_sampling.py [--copies 2]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from bench_langid_normalize import build_corpus

from corpus_tool.stages import textstats as ts
from corpus_tool.stages.langid import LangIdStage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=2)
    args = ap.parse_args()
    docs = build_corpus(args.copies, seed=1)
    rng = random.Random(2)
    zh = [d for d in docs if ts.han_fraction(ts.class_counts([d]))[0] > 0.3]
    other = [d for d in docs if ts.han_fraction(ts.class_counts([d]))[0] < 0.05]
    mixed = [rng.choice(zh) + "\n" + rng.choice(other) for _ in range(300)]
    sets = {"corpus": docs, "mixed zh+other": mixed}
    whole = LangIdStage(sample_chars=10**9)
    for sample_chars in (500, 1000, 2000):
        sampled = LangIdStage(sample_chars=sample_chars)
        for name, texts in sets.items():
            counts = ts.class_counts(texts)
            t0 = time.process_time()
            a = [whole.decide(t, counts[i]) for i, t in enumerate(texts)]
            t1 = time.process_time()
            b = [sampled.decide(t, counts[i]) for i, t in enumerate(texts)]
            t2 = time.process_time()
            kept_a = sum(d.reason is None for d in a)
            kept_b = sum(d.reason is None for d in b)
            flips = Counter(
                f"{x.reason or 'kept'} -> {y.reason or 'kept'}"
                for x, y in zip(a, b, strict=True)
                if (x.reason is None) != (y.reason is None)
            )
            long_docs = sum(len(t) > sample_chars for t in texts)
            mb = sum(len(t.encode()) for t in texts) / 1e6
            print(
                f"sample {sample_chars} chars | {name}: {len(texts)} docs ({long_docs} sampled), "
                f"kept whole {kept_a}, kept sampled {kept_b}, decisions that differ {sum(flips.values())} "
                f"{dict(flips)}; fastText+rules {mb / (t1 - t0):.1f} MB/s whole vs "
                f"{mb / (t2 - t1):.1f} MB/s sampled"
            )


if __name__ == "__main__":
    main()
