"""Documents for the dedup tests, made here (no ../shared): pseudo-Chinese text from a fixed pool of common
Han characters, real sentences written for these tests, and edits of them."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Real Chinese prose written for these tests (Simplified). It has many characters whose Traditional form
# differs (这/這, 们/們, 发/發, 业/業, 门/門 ...), so s2t changes much of it.
ARTICLE = (
    "这座城市的图书馆在去年秋天重新开放。经过两年的改建，馆内增加了一个儿童阅读区和一间电脑教室，"
    "开放时间也延长到每天晚上九点。馆长说，过去很多年轻人觉得图书馆离他们的生活很远，"
    "现在他们希望这里能成为大家愿意停留的地方。开馆第一周，来访的读者超过三万人，"
    "不少家长带着孩子来参加周末的讲故事活动。有一位退休的老师每天上午都来报纸阅览室，"
    "他说这里的环境安静，服务人员也很热情。图书馆还和附近的学校合作，为学生提供课后辅导和写作课程。"
    "明年，馆方计划开设更多关于历史、艺术和科学的讲座，并把部分珍贵的地方文献做成数字版本，"
    "让更多的人可以在网上阅读。市政府表示，将继续支持公共文化设施的发展，"
    "让每一个区都有一座设备完善的图书馆。"
)

_POOL = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 20000, 7))[:2500]
_PUNCT = "，。、；：？！"


def pseudo_text(rng: random.Random, chars: int) -> str:
    """Unrelated documents: random common Han characters with punctuation every 8-20 characters."""
    out, run = [], rng.randint(8, 20)
    for _ in range(chars):
        out.append(rng.choice(_POOL))
        run -= 1
        if run == 0:
            out.append(rng.choice(_PUNCT))
            run = rng.randint(8, 20)
    return "".join(out)


def edit_chars(rng: random.Random, text: str, rate: float) -> str:
    """Replace `rate` of the characters by random ones (typos, OCR errors, small rewrites)."""
    chars = list(text)
    for i in rng.sample(range(len(chars)), int(len(chars) * rate)):
        chars[i] = rng.choice(_POOL)
    return "".join(chars)


def write_shard(path: Path, rows: list[tuple[str, str]]) -> None:
    """rows: (id, text). Source is file#row, as ingest writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({
        "id": [r[0] for r in rows],
        "text": [r[1] for r in rows],
        "source": [f"{path.name}#{i}" for i in range(len(rows))],
    }), path, compression="zstd")
