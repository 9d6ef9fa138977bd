#!/usr/bin/env python
"""Summarise an ingest output directory: documents, rejections, encodings and mojibake left in kept text.

    corpus-tool ingest ../shared/devdata/html -o /tmp/dev-html
    .venv/bin/python benchmarks/ingest_devdata_report.py /tmp/dev-html

Mojibake here = U+FFFD and C1 control characters in kept documents, and the classic GBK-read-as-UTF-8 and
UTF-8-read-as-GBK marks (锟斤拷, 鈥, 銆, 锛, 鐨, 浣犲ソ), counted per document.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

MARKS = re.compile(
    "锟斤拷|鈥[\u0080-\uffff]|銆[\u0080-\uffff]|锛[\u0080-\uffff]|鐨|浣犲ソ|ï¿½|Ã[\u0080-\u00bf]"
)  # noqa: E501
BAD = re.compile("[\ufffd\u0080-\u009f]")


def main() -> None:
    out = Path(sys.argv[1])
    docs = rejected = bad_docs = bad_chars = mark_docs = 0
    reasons: Counter[str] = Counter()
    stats: Counter[str] = Counter()
    for m in sorted((out / "manifests").glob("*.json")):
        man = json.loads(m.read_text(encoding="utf-8"))
        reasons.update(man["rejected_by_reason"])
        stats.update({k: v for k, v in man["stats"].items() if isinstance(v, int)})
        rejected += man["docs"]["rejected"]
        for row in pq.read_table(out / f"{man['shard']}.parquet", columns=["text", "source"]).to_pylist():
            docs += 1
            n = len(BAD.findall(row["text"]))
            bad_chars += n
            bad_docs += n > 0
            if MARKS.search(row["text"]):
                mark_docs += 1
                print("mojibake marks:", row["source"], MARKS.search(row["text"]).group(), file=sys.stderr)
            if n:
                print(f"{n} U+FFFD/C1 characters:", row["source"], file=sys.stderr)
    print(f"kept {docs}, rejected {rejected} {dict(reasons)}")
    print(f"kept docs with U+FFFD/C1: {bad_docs} ({bad_chars} characters); with mojibake marks: {mark_docs}")
    print("stats:", dict(sorted(stats.items())))


if __name__ == "__main__":
    main()
