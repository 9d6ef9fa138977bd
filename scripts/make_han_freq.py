#!/usr/bin/env python
"""Write corpus_tool/data/han_freq.tsv: how often each Han character occurs, for ingest's choice between
CJK codecs that all decode a file cleanly (charset.plausibility).

Counts come from jieba's dictionary (a word-frequency list of Simplified Chinese, a runtime dependency):
each character gets the summed frequency of the words it occurs in. Each character's Traditional form
(OpenCC s2t, one character at a time) gets the same count when it has none of its own, so that correct
Big5 text scores as well as correct GB text. The top characters are kept; rerunning gives the same bytes.

    .venv/bin/python scripts/make_han_freq.py
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import jieba
import opencc

KEEP = 8000

counts: Counter[str] = Counter()
with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
    for line in fh:
        parts = line.split()
        if len(parts) < 2:
            continue
        word, freq = parts[0], int(parts[1])
        for ch in word:
            if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
                counts[ch] += freq
top = counts.most_common(KEEP)
table = dict(top)
s2t = opencc.OpenCC("s2t")
for ch, n in top:
    t = s2t.convert(ch)
    if len(t) == 1 and t != ch and table.get(t, 0) < n:
        table[t] = n
out = Path(__file__).resolve().parents[1] / "corpus_tool" / "data" / "han_freq.tsv"
rows = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))
out.write_text("".join(f"{ch}\t{n}\n" for ch, n in rows), encoding="utf-8")
print(f"wrote {out}: {len(rows)} characters ({out.stat().st_size:,} bytes)")
