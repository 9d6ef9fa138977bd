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


# More real prose written for these tests (Simplified), one topic per paragraph: documents made of several of
# them, cut, overlapped and edited, have real text's repeated characters and n-grams (unlike pseudo_text).
PARAGRAPHS = (
    ARTICLE,
    "今年夏天雨水偏多，南方不少地区出现了连续的强降雨。气象部门提醒，山区和河流沿岸的居民要注意防范山洪和"
    "泥石流，外出时尽量避开低洼路段。农业专家建议，农户应及时疏通田间的排水沟，防止农作物长时间泡在水里，"
    "雨停以后还要注意病虫害的防治。一些城市的地铁站在暴雨期间临时关闭了部分出入口，市民出行前最好先查看"
    "交通部门发布的最新消息。",
    "小王大学毕业以后回到了家乡的小镇，和几个同学一起开了一家网店，专门卖当地的茶叶和手工竹编。刚开始的时候"
    "订单很少，他们每天晚上都在研究怎样拍出更好看的商品照片，怎样写出让人愿意读下去的介绍。半年以后，"
    "店里的回头客越来越多，镇上的一些老人也开始把自己编的篮子交给他们代卖。小王说，最让他高兴的不是赚了"
    "多少钱，而是家乡的东西被更多的人看到了。",
    "医生提醒，冬季是心脑血管疾病的高发季节，老年人早上起床不要太急，最好先在床上躺一会儿再慢慢坐起来。"
    "饮食方面要少吃油腻和过咸的食物，多吃新鲜的蔬菜和水果，每天保持适量的运动，比如散步或者打太极拳。"
    "如果出现胸闷、头晕、说话不清楚等情况，应当马上到医院就诊，不要自己随便吃药，以免耽误治疗。",
    "这本小说讲的是一个普通家庭三代人的故事。作者用平实的语言写出了上世纪七十年代到今天的社会变化：从凭票"
    "买粮到网上购物，从挤公共汽车到开上自己的汽车。书中的奶奶一辈子没有离开过村子，孙女却去了国外读书。"
    "很多读者说，他们在书里看到了自己父母的影子。评论家认为，这部作品最难得的地方在于它没有刻意煽情，"
    "而是让人物自己说话。",
    "学校今年开设了一门新的选修课，教学生怎样在网上辨别真假信息。老师会拿出一些流传很广的文章和图片，"
    "让学生自己去查找原始的出处，比较不同来源的说法，判断哪些内容是经过剪辑或者夸大的。一个学期下来，"
    "不少学生表示，现在看到耸人听闻的标题，第一反应不再是马上转发，而是先想一想这件事是不是真的。",
    "周末的早市总是特别热闹。天刚亮，卖菜的摊主就已经把新鲜的青菜、萝卜和西红柿摆得整整齐齐，旁边的早点"
    "铺子飘出油条和豆浆的香味。来买菜的大多是附近小区的老人，他们一边挑选，一边和熟悉的摊主聊着家常。"
    "有人说，现在网上买菜很方便，可是早市这种人和人之间的热闹，是手机里找不到的。",
    "为了减少塑料垃圾，这个城市从明年一月开始，商场和超市将不再免费提供塑料袋，餐馆的外卖也要逐步改用"
    "可以降解的餐盒。环保组织的调查显示，一个三口之家每个月平均要扔掉一百多个塑料袋，其中大部分只用过"
    "一次。有关部门表示，会在社区增加分类回收的设施，并通过积分奖励的办法，鼓励居民把可回收的垃圾分开投放。",
    "老张在这条街上修了三十年的自行车。他的铺子很小，只放得下一张工作台和几个装零件的木箱，可是街坊们都"
    "信得过他。不管是补胎还是换链条，他都收得很便宜，遇到学生没带钱，他就说下次再给。这几年骑共享单车的人"
    "多了，来修车的人少了，老张就顺便帮人修修电动车和婴儿车。他说，只要还有人需要，他就会一直干下去。",
)
