"""Clean text kept and junk rejected by the default filter rules, on ../shared/devdata.

    .venv/bin/python benchmarks/eval_filter_retention.py [--work /tmp/eval-filter] [--rules FILE] [-v]

Clean sets (run as a user would: `ingest` -> `normalize` -> filter):
- zhwiki: the 100 Chinese Wikipedia articles (text/zhwiki);
- debian-zh-cn, debian-zh-tw: the Debian Reference in both scripts (HTML, our ingest);
- tables+lists: 40 documents made of real zhwiki sentences laid out the way manuals, man pages and news
  articles lay out tables and lists: box-drawing tables (├────┼────┤), ----- / _____ / ===== separator
  lines, Markdown pipe tables, bullet and numbered lists of short items without end punctuation.
Junk sets (generated here; devdata holds no spam):
- keyword pages (44): keyword stuffing built from real zhwiki words (no function words), SEO title
  chains joined by _ | , and spaces, city x product grids;
- spam pages (12): gambling and porn ads, navigation-only pages, one line repeated, a separator page, an
  ASR-style loop of one phrase.
Prints documents kept per set and every clean document rejected, with its rule and detail.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from devcorpus import SHARED

from corpus_tool.stages import filter as flt

SETS = {"zhwiki": "text/zhwiki", "debian-zh-cn": "text/debian-reference-zh-cn",
        "debian-zh-tw": "text/debian-reference-zh-tw"}


def ingest_normalize(name: str, src: Path, work: Path) -> list[str]:
    out = work / f"norm-{name}"
    if not out.exists():
        for cmd in (["ingest", str(src), "-o", str(work / f"ing-{name}")],
                    ["normalize", str(work / f"ing-{name}"), "-o", str(out)]):
            subprocess.run([sys.executable, "-m", "corpus_tool", *cmd, "--overwrite"], check=True,
                           capture_output=True)
    return [t for p in sorted(out.glob("*.parquet")) for t in pq.read_table(p, columns=["text"]).column(0)
            .to_pylist()]


def sentences(rng: random.Random) -> list[str]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((SHARED / "text/zhwiki").glob("*.txt")))
    out = [s.strip() + "。" for s in text.replace("\n", "。").split("。") if 8 <= len(s.strip()) <= 60]
    rng.shuffle(out)
    return out


def tables_and_lists(rng: random.Random, sents: list[str], n: int = 40) -> list[str]:
    docs = []
    for i in range(n):
        intro = "".join(sents[rng.randrange(len(sents))] for _ in range(rng.randint(3, 8)))
        outro = "".join(sents[rng.randrange(len(sents))] for _ in range(rng.randint(2, 6)))
        cells = [sents[rng.randrange(len(sents))][: rng.randint(4, 14)] for _ in range(rng.randint(6, 24))]
        kind = i % 4
        if kind == 0:  # box-drawing table
            w = max(len(c) for c in cells) * 2 + 2
            rows = ["┌" + "─" * w + "┬" + "─" * w + "┐"]
            for a, b in zip(cells[::2], cells[1::2], strict=False):
                rows += [f"│ {a} │ {b} │", "├" + "─" * w + "┼" + "─" * w + "┤"]
            rows[-1] = "└" + "─" * w + "┴" + "─" * w + "┘"
            body = "\n".join(rows)
        elif kind == 1:  # separator lines between sections
            sep = rng.choice(["-", "_", "=", "*", "~"]) * rng.randint(25, 80)
            body = f"\n{sep}\n".join("".join(sents[rng.randrange(len(sents))] for _ in range(3)) for _ in range(4))
        elif kind == 2:  # pipe table
            body = "| 项目 | 说明 |\n|" + "-" * 24 + "|" + "-" * 24 + "|\n" + "\n".join(
                f"| {a} | {b} |" for a, b in zip(cells[::2], cells[1::2], strict=False))
        else:  # list of short items
            body = "\n".join(f"{rng.choice(['-', '*', '•', f'{k + 1}.'])} {c}" for k, c in enumerate(cells))
        docs.append(f"{intro}\n{body}\n{outro}")
    return docs


def keyword_pages(rng: random.Random, sents: list[str], n: int = 44) -> list[str]:
    import jieba

    words = [w for s in sents[:3000] for w in jieba.lcut(s) if 2 <= len(w) <= 4 and all(
        "\u4e00" <= ch <= "\u9fff" for ch in w)]
    stop = {"的", "是", "在", "和", "了", "有", "为", "也", "而", "由", "与", "中", "被", "他", "人"}
    words = [w for w in words if not set(w) & stop]
    cities = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "重庆", "西安", "苏州", "天津"]
    docs = []
    for i in range(n):
        kind = i % 4
        if kind == 0:  # keyword stuffing with spaces
            docs.append("\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(8, 20)))
                                  for _ in range(rng.randint(4, 15))))
        elif kind == 1:  # SEO title chains
            sep = rng.choice(["_", "|", "-", "，", "、"])
            docs.append("\n".join(sep.join(rng.choice(words) for _ in range(rng.randint(5, 12)))
                                  for _ in range(rng.randint(6, 20))))
        elif kind == 2:  # city x product grid
            prods = rng.sample(words, 4)
            docs.append("\n".join(" ".join(f"{c}{p}" for c in cities) for p in prods for _ in range(2)))
        else:  # tag cloud
            docs.append("热门标签：" + " ".join(rng.choice(words) for _ in range(rng.randint(60, 200))))
    return docs


def spam_pages(rng: random.Random) -> list[str]:
    return [
        "澳门新葡京娱乐城，真人百家乐，注册送彩金，首存送百分之百，稳赚不赔，提现秒到账。\n" * 6,
        ("北京赛车pk10计划群，时时彩精准计划，重庆时时彩开奖直播，加微信送彩金。\n"
         "六合彩特码资料大全，香港六合彩开奖结果。\n") * 4,
        "首页\n新闻中心\n产品展示\n登录\n注册\n联系我们\n关于我们\n版权所有 © 2024 某某公司\n返回顶部\n网站地图\n" * 2,
        "点击这里查看更多精彩内容 " * 40,
        "=" * 400 + "\n" + "欢迎光临本站" + "\n" + "=" * 400,
        "\n".join(["今天天气很好我们一起去公园玩吧"] * 200),
        "成人视频在线观看，免费黄色网站，激情视频，美女直播，一夜情交友，同城约炮。\n" * 5,
        "代开发票，代办证件，专业刷单，信用卡套现，网贷秒批，联系QQ：12345678。\n" * 5,
        "\n".join(f"{k}. 点击下载 高清电影 免费观看 在线播放 第{k}集" for k in range(1, 60)),
        "哈" * 500,
        "\n".join(["┼" * 60, "│ 广告位招租 │", "┼" * 60] * 10),
        "友情链接：" + " | ".join(f"网站{k}" for k in range(200)),
    ]


def evaluate(rules: list, docs: list[str]) -> tuple[int, list[tuple[int, str, str]]]:
    verdicts = flt.judge_batch(rules, docs)
    rejected = [(i, v.reason, v.detail) for i, v in enumerate(verdicts) if v.reason is not None]
    return len(docs) - len(rejected), rejected


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/eval-filter")
    ap.add_argument("--rules", default=None)
    ap.add_argument("-v", "--verbose", action="store_true", help="print the junk kept too")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rules, where = flt.load_rules(args.rules)
    rng = random.Random(20261202)
    sents = sentences(rng)
    clean = {name: ingest_normalize(name, SHARED / rel, work) for name, rel in SETS.items()}
    clean["tables+lists"] = tables_and_lists(rng, sents)
    junk = {"keyword pages": keyword_pages(rng, sents), "spam pages": spam_pages(rng)}
    print(f"rules: {where}")
    totals = Counter()
    for group, sets in (("clean", clean), ("junk", junk)):
        for name, docs in sets.items():
            kept, rejected = evaluate(rules, docs)
            totals[f"{group}_kept"] += kept
            totals[f"{group}_docs"] += len(docs)
            reasons = Counter(r for _, r, _ in rejected)
            print(f"{group:5s} {name:14s} kept {kept:4d}/{len(docs):<4d} ({kept / len(docs):6.1%})  "
                  f"rejected by {dict(reasons)}")
            if group == "clean":
                for i, r, d in rejected:
                    print(f"      #{i}: {r}: {d}  | {docs[i][:60]!r}")
            elif args.verbose:
                kept_idx = set(range(len(docs))) - {i for i, _, _ in rejected}
                for i in sorted(kept_idx):
                    print(f"      kept #{i}: {docs[i][:80]!r}")
    for group in ("clean", "junk"):
        k, n = totals[f"{group}_kept"], totals[f"{group}_docs"]
        print(f"{group}: {k}/{n} documents kept ({k / n:.1%})")


if __name__ == "__main__":
    main()
