"""langid on real web pages: the Chinese news pages of ../shared/devdata/html (gne, trafilatura, goose3) and
the non-Chinese controls there, extracted with resiliparse (main content, and the whole page).

    .venv/bin/python benchmarks/eval_langid_webpages.py
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree

from corpus_tool.stages import textstats as ts
from corpus_tool.stages.langid import LangIdStage

HTML = Path(__file__).resolve().parents[1] / "../shared/devdata/html"


def main() -> None:
    ours = LangIdStage()
    alone = LangIdStage(script_evidence=False, fold_varieties=False)
    files = sorted(HTML.glob("gne/**/*.html")) + sorted(HTML.glob("trafilatura/*.html")) + sorted(
        HTML.glob("goose3/*.html")
    )
    tally: Counter = Counter()
    for f in files:
        raw = f.read_bytes()
        html = bytes_to_str(raw, detect_encoding(raw))
        for main_content in (True, False):
            text = extract_plain_text(HTMLTree.parse(html), main_content=main_content)
            counts = ts.class_counts([text])[0]
            a, b = ours.decide(text, counts), alone.decide(text, counts)
            mode = "main content" if main_content else "whole page"
            tally[(mode, a.reason or "kept", b.reason or "kept")] += 1
            if "gne" not in f.parts or a.reason or b.reason:
                print(f"{mode:12s} {f.name[:40]:40s} {len(text):6d} chars  corpus-tool {a.lang} "
                      f"{a.score:.2f} {a.reason or 'kept'} | lid.176 alone {b.lang} {b.score:.2f} "
                      f"{b.reason or 'kept'}")
    print("\n(mode, corpus-tool, lid.176 alone): pages")
    for key, n in sorted(tally.items()):
        print(f"  {key}: {n}")


if __name__ == "__main__":
    main()
