"""Benchmark corpora built from ../shared/devdata (benchmarks may read it; tests may not)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

_HERE = Path(__file__).resolve()
# ../shared/devdata next to the checkout, or next to any folder above it (a worktree under wt/).
SHARED = next((p / "shared/devdata" for p in _HERE.parents if (p / "shared/devdata").is_dir()),
              _HERE.parents[1] / "../shared/devdata")


def zhwiki_documents(copies: int, rng: random.Random) -> list[str]:
    """The zhwiki articles cut at paragraph breaks into documents of 300-6000 characters, `copies` times over."""
    articles = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "text/zhwiki").glob("*.txt"))]
    if not articles:
        sys.exit(f"no zhwiki articles under {SHARED}/text/zhwiki")
    docs: list[str] = []
    for _ in range(copies):
        for art in articles:
            paras = [p for p in art.split("\n") if p.strip()]
            cur: list[str] = []
            target = rng.randint(300, 6000)
            for p in paras:
                cur.append(p)
                if sum(map(len, cur)) >= target:
                    docs.append("\n".join(cur))
                    cur, target = [], rng.randint(300, 6000)
            if cur:
                docs.append("\n".join(cur))
    return docs
