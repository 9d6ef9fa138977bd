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


# ------------------------------------------------------------------------------------ mixed-script corpus
def _html_paragraphs(paths: list[Path]) -> list[str]:
    """The main text of HTML pages (the ingest stage's extractor), split into non-empty paragraphs."""
    from corpus_tool.stages.ingest.extract import extract_resiliparse

    paras: list[str] = []
    for p in paths:
        raw = p.read_bytes()
        try:
            html = raw.decode("utf-8")
        except UnicodeDecodeError:
            html = raw.decode("gb18030", "replace")
        paras += [q for q in extract_resiliparse(html).text.split("\n") if len(q.strip()) >= 8]
    return paras


def mixed_script_pools(seed: int = 0) -> tuple[list[str], list[str]]:
    """Two pools of real paragraphs: Simplified (zhwiki, the Debian Reference zh-cn, 左传, the news pages'
    text) and Traditional (the Debian Reference zh-tw, OpenCC's Traditional test inputs, and a third of the
    zhwiki paragraphs converted with OpenCC s2tw)."""
    import json

    import opencc

    rng = random.Random(seed)
    wiki = [q for p in sorted((SHARED / "text/zhwiki").glob("*.txt"))
            for q in p.read_text(encoding="utf-8").split("\n") if q.strip()]
    if not wiki:
        sys.exit(f"no zhwiki articles under {SHARED}/text/zhwiki")
    simp = list(wiki)
    simp += _html_paragraphs(sorted((SHARED / "text/debian-reference-zh-cn").glob("*.html")))
    simp += [q for q in (SHARED / "traditional/opencc/zuozhuan.txt").read_text(encoding="utf-8").split("\n")
             if q.strip()]
    simp += _html_paragraphs(sorted((SHARED / "html").rglob("*.html")))
    trad = _html_paragraphs(sorted((SHARED / "text/debian-reference-zh-tw").glob("*.html")))
    cases = json.loads((SHARED / "traditional/opencc/testcases.trailing-commas-removed.json").read_text())
    for case in cases.get("cases", []) if isinstance(cases, dict) else []:
        inp = case.get("input", "") if isinstance(case, dict) else ""
        if isinstance(inp, str) and inp.strip() and any(k.endswith(("2s", "2sp")) for k in case.get("expected", {})):
            trad.append(inp)
    s2tw = opencc.OpenCC("s2tw")
    trad += [s2tw.convert(q) for q in wiki if rng.random() < 0.33]
    return simp, trad


def mixed_script_documents(target_bytes: int, seed: int = 0) -> list[str]:
    """Documents of real paragraphs mixing both scripts until `target_bytes` of UTF-8: 70% mostly
    Simplified, 30% mostly Traditional; each paragraph comes from the other script's pool with probability
    0.2, and one paragraph in 10 of a Simplified document has a Traditional sentence spliced in (a quotation).
    Documents draw 3-40 distinct paragraphs at random, so the same paragraph recurs across documents (about
    20 times at 100 MB) but no two documents are alike."""
    rng = random.Random(seed)
    simp, trad = mixed_script_pools(seed)
    docs: list[str] = []
    total = 0
    while total < target_bytes:
        major, minor = (simp, trad) if rng.random() < 0.7 else (trad, simp)
        paras = []
        for _ in range(rng.randint(3, 40)):
            para = rng.choice(major if rng.random() < 0.8 else minor)
            if major is simp and rng.random() < 0.1:
                quote = rng.choice(trad)
                cut = rng.randint(0, len(para))
                para = f"{para[:cut]}「{quote[:120]}」{para[cut:]}"
            paras.append(para)
        doc = "\n".join(paras) if rng.random() < 0.5 else "\n\n".join(paras)
        docs.append(doc)
        total += len(doc.encode("utf-8"))
    return docs


def mixed_script_jsonl(target_mb: float, seed: int = 0, folder: str = "/tmp/corpus-tool-bench") -> Path:
    """A JSONL file of `mixed_script_documents` ({"id", "text"} per line) of at least `target_mb` MB of text,
    built once and reused (named by size and seed) under `folder`, never inside the repository."""
    import json

    path = Path(folder) / f"mixed-script-{target_mb:g}MB-seed{seed}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    docs = mixed_script_documents(int(target_mb * 1e6), seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i, d in enumerate(docs):
            fh.write(json.dumps({"id": f"mix{i}", "text": d}, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


def read_jsonl_texts(path: Path) -> list[str]:
    import json

    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]
