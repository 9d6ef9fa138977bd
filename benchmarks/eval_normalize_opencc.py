"""How the normalize stage's OpenCC step compares with plain OpenCC, on OpenCC's own test cases and real text.

    .venv/bin/python benchmarks/eval_normalize_opencc.py

Prints, for every config with test cases in ../shared/devdata/traditional/opencc (testcases.json, strict
copy): cases passed by plain OpenCC (one convert call) and by the stage (normalize_texts), and how many of
the stage's outputs are unchanged by a second normalization. Then, on real text: the 100 Simplified zhwiki
articles (how many does each leave unchanged under t2s), and the Traditional Debian Reference (zh-tw)
paragraphs (how many the stage converts differently from plain OpenCC).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import opencc

from corpus_tool.stages.normalize import OpenCCConverter, normalize_texts

SHARED = Path(__file__).resolve().parents[1] / "../shared/devdata"


def main() -> None:
    path = SHARED / "traditional/opencc/testcases.trailing-commas-removed.json"
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    configs = sorted({cfg for c in cases for cfg in c["expected"]})
    print("| config | cases | plain OpenCC | corpus-tool normalize | idempotent |")
    print("|---|---:|---:|---:|---:|")
    for cfg in configs:
        sel = [c for c in cases if cfg in c["expected"]]
        cc = opencc.OpenCC(cfg)
        plain = sum(cc.convert(c["input"]) == c["expected"][cfg] for c in sel)
        conv = OpenCCConverter(cfg)
        out, _ = normalize_texts([c["input"] for c in sel], conv)
        again, _ = normalize_texts(out, conv)
        ours = sum(o == c["expected"][cfg] for o, c in zip(out, sel, strict=True))
        idem = sum(a == b for a, b in zip(out, again, strict=True))
        print(f"| {cfg} | {len(sel)} | {plain} | {ours} | {idem} |")
        if cfg == "t2s":
            failed = [c["id"] for o, c in zip(out, sel, strict=True) if o != c["expected"][cfg]]
    print("\nt2s cases the stage fails:", ", ".join(failed))

    t2s = opencc.OpenCC("t2s")
    conv = OpenCCConverter("t2s")
    zh = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "text/zhwiki").glob("*.txt"))]
    plain_same = sum(t2s.convert(t) == t for t in zh)
    out, _ = normalize_texts(zh, conv)
    # compare the OpenCC step only: normalize the others without OpenCC first
    base, _ = normalize_texts(zh, None)
    print(f"\nzhwiki (Simplified), t2s: plain OpenCC leaves {plain_same}/{len(zh)} articles unchanged; "
          f"the stage's OpenCC step leaves {sum(a == b for a, b in zip(out, base, strict=True))}/{len(zh)}")

    with gzip.open(SHARED / "text/debian-reference-zh-tw/debian-reference.zh-tw.txt.gz", "rt") as fh:
        tw = fh.read()
    paras = [p.strip() for p in tw.split("\n\n") if p.strip()]
    base, _ = normalize_texts(paras, None)
    for cfg in ("t2s", "tw2sp"):
        cc = opencc.OpenCC(cfg)
        plain = [cc.convert(p) for p in base]
        ours, _ = normalize_texts(base, OpenCCConverter(cfg))
        diff = [(a, b) for a, b in zip(plain, ours, strict=True) if a != b]
        chars = sum(sum(x != y for x, y in zip(a, b, strict=False)) for a, b in diff)
        print(f"Debian Reference zh-tw, {len(paras)} paragraphs, {cfg}: the stage differs from plain "
              f"OpenCC on {len(diff)} paragraphs ({chars} characters)")


if __name__ == "__main__":
    main()
