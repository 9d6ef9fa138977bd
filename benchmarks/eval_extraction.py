#!/usr/bin/env python
"""Measure main-content extractors on real Chinese pages (../shared/devdata/html), to choose ingest's default.

    .venv/bin/python benchmarks/eval_extraction.py [--devdata ../shared/devdata]

Prints, per extractor:
- trafilatura's human `with`/`without` snippet checks (trafilatura_evaldata_subset.json): snippets that must
  appear in the extracted text / must not appear; all 10 pages, and the 5 Chinese ones;
- GNE's 64 pages (60 news + 4 list pages, several with a gb2312 meta tag on UTF-8 bytes): replacement and
  C1 control characters left after decoding and after extraction (must be zero), plus agreement with GNE's
  own extraction output on the 20 pages it has (5-character shingle recall / precision; GNE is a tool,
  not gold, so this is agreement, not accuracy);
- the goose3 BBC Chinese page against its expected cleaned text (recall / precision);
- throughput in MB of HTML per second on one core (GNE pages, decoding included).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus_tool.stages.ingest import charset  # noqa: E402
from corpus_tool.stages.ingest.extract import EXTRACTORS, tidy  # noqa: E402


def resiliparse_variant(**opts):
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    def run(html: str) -> str:
        return tidy(extract_plain_text(HTMLTree.parse(html), **opts))

    return run


def trafilatura_variant(**opts):
    import trafilatura

    def run(html: str) -> str:
        return tidy(trafilatura.extract(html, **opts) or "")

    return run


VARIANTS = {
    "ingest default (resiliparse, all-text fallback, Chinese trim)": lambda html: EXTRACTORS["resiliparse"](html).text,
    "resiliparse, all-text fallback, untrimmed (ingest before)": lambda html: EXTRACTORS["resiliparse-untrimmed"](
        html
    ).text,
    "resiliparse, trafilatura fallback": lambda html: EXTRACTORS["resiliparse"](html, "trafilatura").text,
    "resiliparse main_content, no fallback": resiliparse_variant(
        preserve_formatting=True,
        main_content=True,
        list_bullets=False,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        comments=True,
    ),
    "resiliparse comments=False": resiliparse_variant(
        preserve_formatting=True, main_content=True, list_bullets=False, alt_texts=False, comments=False
    ),
    "resiliparse all text (no main_content)": resiliparse_variant(
        preserve_formatting=True, main_content=False
    ),
    "trafilatura default": trafilatura_variant(),
    "trafilatura favor_recall": trafilatura_variant(favor_recall=True),
    "trafilatura favor_precision": trafilatura_variant(favor_precision=True),
    "trafilatura fast (no fallback)": trafilatura_variant(fast=True),
}

_WS = re.compile(r"\s+")


def shingles(text: str, k: int = 5) -> set[str]:
    t = _WS.sub("", text)
    return {t[i : i + k] for i in range(max(len(t) - k + 1, 0))}


def overlap(got: str, ref: str) -> tuple[float, float]:
    g, r = shingles(got), shingles(ref)
    if not r:
        return 0.0, 0.0
    inter = len(g & r)
    return inter / len(r), (inter / len(g) if g else 0.0)


def decode_file(path: Path) -> tuple[str, charset.Decoded]:
    d = charset.decode(path.read_bytes())
    return d.text, d


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--devdata", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "devdata"
    )
    ap.add_argument("--only", nargs="*", help="variant names to run")
    args = ap.parse_args()
    html_dir = args.devdata / "html"

    traf_dir = html_dir / "trafilatura"
    gold = json.loads((traf_dir / "trafilatura_evaldata_subset.json").read_text(encoding="utf-8"))
    traf_pages = []
    for item in gold.values():
        f = traf_dir / item["file"]
        if not f.exists():  # the rp.pl page is stored under a shorter name
            f = next(traf_dir.glob("rp.pl*.html"))
        text, _ = decode_file(f)
        snippets = "".join(item["with"])
        # Chinese: Han in the expected snippets and no kana (the NHK page is Japanese: Han with kana)
        chinese = any("\u4e00" <= c <= "\u9fff" for c in snippets) and not any(
            "\u3040" <= c <= "\u30ff" for c in snippets)
        traf_pages.append((f.name, text, item["with"], item["without"], chinese))

    gne_files = sorted((html_dir / "gne").rglob("*.html"))
    gne_ref: dict[str, str] = {}
    ref_text = (html_dir / "gne" / "gne_result_reference.txt").read_text(encoding="utf-8")
    for m in re.finditer(r">{5,}(\S+?)>{5,}\n(\{.*?\n\})", ref_text, re.S):
        try:
            gne_ref[m.group(1)] = json.loads(m.group(2))["content"]
        except (json.JSONDecodeError, KeyError):
            continue
    gne_pages = []
    decode_bad = 0
    for f in gne_files:
        text, d = decode_file(f)
        decode_bad += charset.bad_char_count(text)
        rel = str(f.relative_to(html_dir / "gne"))
        gne_pages.append((rel, text, f.stat().st_size))
    goose = json.loads((html_dir / "goose3" / "test_bbc_chinese.json").read_text(encoding="utf-8"))
    goose_html, _ = decode_file(html_dir / "goose3" / "test_bbc_chinese.html")

    print(
        f"GNE pages: {len(gne_pages)}, decoded with {decode_bad} replacement/C1 characters; "
        f"GNE reference outputs matched: {sum(1 for r, *_ in gne_pages if r in gne_ref)}"
    )
    for name, fn in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        w_ok = w_n = wo_ok = wo_n = 0
        zw_ok = zw_n = zwo_ok = zwo_n = 0
        misses = []
        for fname, html, with_, without, chinese in traf_pages:
            out = fn(html)
            for s in with_:
                ok = s in out
                w_ok += ok
                w_n += 1
                zw_ok += ok and chinese
                zw_n += chinese
                if not ok:
                    misses.append(f"missing {s!r} ({fname})")
            for s in without:
                ok = s not in out
                wo_ok += ok
                wo_n += 1
                zwo_ok += ok and chinese
                zwo_n += chinese
                if not ok:
                    misses.append(f"kept {s!r} ({fname})")
        bad_after = 0
        empty = 0
        recalls, precisions = [], []
        fn(gne_pages[0][1])  # warm up: imports (trafilatura for the fallback) are not extraction time
        t0 = time.perf_counter()
        nbytes = 0
        for rel, html, size in gne_pages:
            out = fn(html)
            nbytes += size
            bad_after += charset.bad_char_count(out)
            empty += not out.strip()
            if rel in gne_ref:
                r, p = overlap(out, gne_ref[rel])
                recalls.append(r)
                precisions.append(p)
        secs = time.perf_counter() - t0
        gr, gp = overlap(fn(goose_html), goose["expected"]["cleaned_text"])
        print(f"\n== {name}")
        print(
            f"  trafilatura checks, all pages: with {w_ok}/{w_n}, without {wo_ok}/{wo_n}, "
            f"total {(w_ok + wo_ok) / (w_n + wo_n):.1%}"
        )
        print(
            f"  trafilatura checks, Chinese pages: with {zw_ok}/{zw_n}, without {zwo_ok}/{zwo_n}, "
            f"total {(zw_ok + zwo_ok) / max(zw_n + zwo_n, 1):.1%}"
        )
        print(
            f"  GNE pages: bad chars after extraction {bad_after}, "
            f"empty extractions {empty}/{len(gne_pages)}; "
            f"agreement with GNE output ({len(recalls)} pages): recall {sum(recalls) / len(recalls):.3f}, "
            f"precision {sum(precisions) / len(precisions):.3f}"
        )
        print(f"  goose3 BBC page: recall {gr:.3f}, precision {gp:.3f}")
        print(
            f"  speed: {nbytes / 1e6 / secs:.1f} MB/s of HTML on one core "
            f"({len(gne_pages) / secs:.0f} pages/s)"
        )
        for m in misses:
            print(f"    {m}")


if __name__ == "__main__":
    main()
