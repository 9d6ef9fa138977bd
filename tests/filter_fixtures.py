"""Generated documents for the filter's golden-output test: prose from the packaged reference text, cut and
mixed with every kind of junk and with edge characters, deterministic for a seed.

The golden hashes in tests/test_filter_golden.py were taken from the filter before its speed work; any later
change that alters a verdict, a detail string or a cleaned text changes a hash.
"""

from __future__ import annotations

import hashlib
import json
import random
from importlib import resources

JUNK = [
    "澳门新葡京娱乐城，真人百家乐，注册送彩金，首存送百分之百，北京赛车pk10计划群，稳赚不赔，提现秒到账。",
    "深圳SEO优化_网站优化_关键词排名_百度快照_整站优化_快速排名_网站推广_网络推广_外链_蜘蛛池",
    "首页\n新闻中心\n登录\n注册\n联系我们\n版权所有 © 2024\n返回顶部\n上一篇\n下一篇\n网站地图",
    "哈" * 200 + "太好笑了",
    "/" * 300,
    "二手车 二手车报价 二手车交易 二手车市场 二手车估价 二手车网",
    "Cheap flights, hotels and car rental. Book now and save up to 50% on your next trip!",
    "| 410 | 2019-09-09 21:38:04 |\n|---|---|\n| 12 | 3 |",
    "├────┼────┤\n│ 名称 │ 数量 │\n└────┴────┘",
    "今天天气很好 今天天气很好 今天天气很好 今天天气很好 今天天气很好",
]

EDGE = ["々", "〇", "\u200b", "\u200d", "\ufeff", "😀", "𠀀", "ा", "①", "Ⅻ", "゠", "～", "—", "\u00ad", "𝐀",
        "\t", "\u3000", "ｶ", "한", "ꀀ", "·", "™", "$", "_", "^", "\x07"]


def reference_paragraphs() -> list[str]:
    base = resources.files("corpus_tool") / "data" / "reference"
    paras: list[str] = []
    for p in sorted(base.iterdir(), key=lambda x: x.name):
        if p.name.endswith(".txt"):
            paras += [s for s in p.read_text(encoding="utf-8").split("\n") if s.strip()]
    return paras


def documents(n: int = 400, seed: int = 20261202) -> list[str]:
    """`n` documents: prose, prose with junk lines, junk alone, and prose sprinkled with edge characters."""
    rng = random.Random(seed)
    paras = reference_paragraphs()
    docs: list[str] = []
    for i in range(n):
        k = rng.randint(1, 12)
        start = rng.randrange(len(paras))
        body = paras[start:start + k] or paras[:k]
        kind = i % 5
        if kind == 1:  # article wrapped in junk lines
            lines = list(body)
            for _ in range(rng.randint(1, 6)):
                junk = rng.choice(JUNK)
                lines.insert(rng.randint(0, len(lines)), junk if rng.random() < 0.5 else junk[:rng.randint(2, 30)])
            docs.append("\n".join(lines))
        elif kind == 2:  # junk alone, repeated
            docs.append("\n".join([rng.choice(JUNK)] * rng.randint(1, 12)))
        elif kind == 3:  # edge characters inside prose
            text = list("\n".join(body))
            for _ in range(rng.randint(1, 30)):
                text.insert(rng.randint(0, len(text)), rng.choice(EDGE) * rng.choice([1, 1, 2, 3, 25]))
            docs.append("".join(text))
        elif kind == 4:  # repeated paragraphs and short lines
            lines = body + [rng.choice(body) for _ in range(rng.randint(0, 8))]
            rng.shuffle(lines)
            docs.append("\n".join(lines))
        else:
            docs.append("\n".join(body))
    return docs


def verdict_digest(verdicts: list) -> str:
    """sha256 of every verdict's reason, detail, text and cleaned list, in order."""
    h = hashlib.sha256()
    for v in verdicts:
        h.update(json.dumps([v.reason, v.detail, v.text, v.cleaned], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()
