"""Build a labelled near-duplicate set from real Chinese text (../shared/devdata/text), for docs/dedup.md.

Originals are chunks (600-2,500 characters, on paragraph boundaries) of the 100 zhwiki articles and the
Simplified Debian Reference. A sample of them gets one edited copy per edit kind:

    ads          1-3 ad / boilerplate lines inserted at random line positions
    shuffle      the paragraphs in a random order
    chars2/5/10  2%, 5%, 10% of the characters replaced, deleted or doubled (typos, OCR, light rewrites)
    truncate     only the first 60-85% kept
    traditional  converted to Traditional script (OpenCC s2t); dedup sees it after `normalize --opencc t2s`
    combo        ads + shuffle + 2% character edits

Hard negatives: 80 other originals wrapped in one site's navigation header and footer (about 250
characters each), which must not be merged with each other.

Writes OUT/raw/part-0000N.parquet (documents) and OUT/labels.json ({id: {"family": ..., "kind": ...}}).
Usage: .venv/bin/python benchmarks/make_neardup_set.py -o /tmp/neardup [--per-kind 150] [--seed 1]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# ../shared/devdata next to the checkout, or next to any folder above it (a worktree under wt/): as devcorpus.py
SHARED = next((p / "shared/devdata/text" for p in Path(__file__).resolve().parents if (p / "shared/devdata").is_dir()),
              Path(__file__).resolve().parents[1].parent / "shared" / "devdata" / "text")
ADS = [
    "【广告】限时特价！全场商品五折起，点击立即抢购>>",
    "关注我们的微信公众号，获取更多精彩内容。",
    "本文来源于网络，如有侵权请联系删除。",
    "责任编辑：王小明",
    "扫描下方二维码，下载官方App，新用户注册即送100元红包！",
    "更多新闻请访问我们的网站首页。",
    "免责声明：本站内容仅供参考，不构成任何投资建议。",
    "分享到：微博 微信 QQ空间",
    "热门推荐：夏季新品上市，点击查看详情",
    "版权所有，未经授权禁止转载。",
]
SITE_HEADER = ("首页 | 新闻 | 财经 | 科技 | 体育 | 娱乐 | 教育 | 健康 | 旅游 | 房产 | 汽车 | 视频 | "
               "图片 | 论坛\n"
               "您现在的位置：首页 > 资讯中心 > 正文    字号：大 中 小    打印本页 关闭窗口\n"
               "热门搜索：人工智能 新能源 高考 房价 世界杯 天气预报\n")
SITE_FOOTER = ("\n上一篇：暂无  下一篇：暂无\n相关阅读：\n分享到：微博 微信 QQ空间 豆瓣\n"
               "关于我们 | 联系方式 | 广告服务 | 招聘信息 | 网站地图 | 法律声明 | 友情链接\n"
               "Copyright © 2005-2024 示例资讯网 All Rights Reserved. 京ICP备12345678号 "
               "京公网安备11010502000000号\n"
               "本站所有内容均来自互联网，如有侵权请联系我们删除。客服热线：400-000-0000\n")
KINDS = ["ads", "shuffle", "chars2", "chars5", "chars10", "truncate", "traditional", "combo"]
HAN = [chr(c) for c in range(0x4E00, 0x9FA6)]


def paragraphs() -> list[str]:
    out = []
    for p in sorted((SHARED / "zhwiki").glob("*.txt")):
        out.extend(x.strip() for x in p.read_text(encoding="utf-8").split("\n") if len(x.strip()) > 20)
    with gzip.open(SHARED / "debian-reference-zh-cn" / "debian-reference.zh-cn.txt.gz", "rt",
                   encoding="utf-8") as deb:
        text = deb.read()
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        if len(block) > 40 and sum("\u4e00" <= c <= "\u9fff" for c in block) > len(block) * 0.3:
            out.append(block)
    return out


def originals(paras: list[str], rng: random.Random) -> list[str]:
    """Consecutive paragraphs grouped into documents of 600-2,500 characters."""
    docs, cur, target = [], [], rng.randint(600, 2500)
    for p in paras:
        cur.append(p)
        if sum(len(x) for x in cur) >= target:
            docs.append("\n".join(cur))
            cur, target = [], rng.randint(600, 2500)
    return docs


def edit_chars(text: str, rate: float, rng: random.Random) -> str:
    out = []
    for ch in text:
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(HAN))  # replace
        elif r < 2 * rate / 3:
            continue  # delete
        elif r < rate:
            out.append(ch + rng.choice(HAN))  # insert
        else:
            out.append(ch)
    return "".join(out)


def add_ads(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        lines.insert(rng.randint(0, len(lines)), rng.choice(ADS))
    return "\n".join(lines)


def shuffle(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    if len(lines) < 3:  # split long single paragraphs at sentence ends so there is something to shuffle
        lines = [s for s in re.split(r"(?<=[。！？])", text) if s]
    rng.shuffle(lines)
    return "\n".join(lines)


def make_edit(kind: str, text: str, rng: random.Random, s2t) -> str:
    if kind == "ads":
        return add_ads(text, rng)
    if kind == "shuffle":
        return shuffle(text, rng)
    if kind.startswith("chars"):
        return edit_chars(text, int(kind[5:]) / 100, rng)
    if kind == "truncate":
        return text[: int(len(text) * rng.uniform(0.60, 0.85))]
    if kind == "traditional":
        return s2t.convert(text)
    if kind == "combo":
        return edit_chars(shuffle(add_ads(text, rng), rng), 0.02, rng)
    raise ValueError(kind)


def build(out: Path, per_kind: int = 150, seed: int = 1, shards: int = 4) -> dict:
    import opencc

    rng = random.Random(seed)
    docs = originals(paragraphs(), rng)
    rng.shuffle(docs)
    s2t = opencc.OpenCC("s2t")
    rows: list[tuple[str, str]] = []
    labels: dict[str, dict] = {}
    n_edit = min(per_kind, len(docs) // 2)
    for i, text in enumerate(docs):
        fam = f"o{i:04d}"
        if len(docs) - 80 <= i:  # hard negatives: same site template, different articles
            rows.append((f"site-{fam}", SITE_HEADER + text + SITE_FOOTER))
            labels[f"site-{fam}"] = {"family": fam, "kind": "site"}
            continue
        rows.append((fam, text))
        labels[fam] = {"family": fam, "kind": "original"}
        if i < n_edit:
            for kind in KINDS:
                vid = f"{fam}-{kind}"
                rows.append((vid, make_edit(kind, text, rng, s2t)))
                labels[vid] = {"family": fam, "kind": kind}
    rng.shuffle(rows)  # duplicates land in other shards than their originals
    (out / "raw").mkdir(parents=True, exist_ok=True)
    for s in range(shards):
        part = rows[s::shards]
        pq.write_table(pa.table({
            "id": [r[0] for r in part], "text": [r[1] for r in part],
            "source": [f"neardup-{s}#{k}" for k in range(len(part))],
        }), out / "raw" / f"part-{s:05d}.parquet", compression="zstd")
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    return {"docs": len(rows), "originals": len(docs), "edited_per_kind": n_edit}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--per-kind", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    print(build(Path(a.output), a.per_kind, a.seed))


if __name__ == "__main__":
    main()
