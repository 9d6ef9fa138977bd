"""The Chinese article trimming after resiliparse's main-content pass: furniture lines around the article go,
the article's prose stays, non-Chinese text is left alone."""

from __future__ import annotations

import random

from corpus_tool.stages.ingest.extract import extract_resiliparse, maximal_segments, trim_chinese_boilerplate
from tests.ingest_helpers import ARTICLE

PARAS = [
    ARTICLE,
    "据介绍，五号线采用全自动运行系统，高峰时段行车间隔三分钟，平峰时段五分钟，首末班车时间与其他线路衔接。",
    "市交通部门表示，下一步将优化沿线公交线路，方便乘客换乘，并在部分车站增设非机动车停放点。",
]
PAGE = (
    "<html><head><title>地铁五号线开通</title></head><body>"
    "<div>首页 | 新闻 | 体育 | 财经 | 登录</div><div>双十一家电狂欢 满3000减500 点击抢购</div>"
    "<h1>滨江市地铁五号线今日开通</h1><div>2026-11-18 10:32 来源：滨江日报 编辑：王敏</div>"
    + "".join(f"<p>{p}</p>" for p in PARAS)
    + "<div>【责任编辑：王敏】</div><div>纠错</div><div>关注我们</div><h3>热门推荐</h3><ul>"
    + "".join(f"<li><a href='/n/{i}'>相关新闻标题第{i}条 点击查看</a></li>" for i in range(8))
    + "</ul><div>版权所有 滨江新闻网 京ICP备12345678号</div></body></html>"
)


def test_furniture_goes_article_stays():
    untrimmed = extract_resiliparse(PAGE, trim=False).text
    text = extract_resiliparse(PAGE).text
    assert "纠错" in untrimmed or "热门推荐" in untrimmed or "满3000减500" in untrimmed  # what there is to trim
    assert text.split("\n\n") == PARAS
    for furniture in ("纠错", "关注我们", "热门推荐", "满3000减500", "责任编辑", "版权所有", "相关新闻"):
        assert furniture not in text


def test_a_second_block_of_prose_is_kept():
    second = "网友评论：这条线路开通以后，我每天上班节省了将近一个小时，早上可以多睡一会儿，真的太方便了。"
    furniture = ["相关新闻", "热门推荐", "点击查看更多", "分享到微博"]
    text = "\n".join(["首页 | 新闻", *PARAS, *furniture, second, "版权所有"])
    assert trim_chinese_boilerplate(text).split("\n\n") == ["\n".join(PARAS), second]


def test_other_languages_are_left_alone():
    for text in (
        "Home | News\nThe metro line opened today, cutting travel times in half.\nShare this",
        "ホーム\n子どもへの虐待をなくすための法律ができました。親が子どもを教育するためです。\nシェア",
        "短句\n没有标点的一行",
    ):
        assert trim_chinese_boilerplate(text) == text


def _brute_best(w: list[int]) -> int:
    return max([0] + [sum(w[a:b]) for a in range(len(w)) for b in range(a + 1, len(w) + 1)])


def test_maximal_segments_are_disjoint_and_include_the_best():
    rng = random.Random(7)
    for _ in range(300):
        w = [rng.randint(-30, 30) for _ in range(rng.randint(0, 25))]
        segs = maximal_segments(w)
        assert all(score == sum(w[a:b]) and score > 0 for score, a, b in segs)
        assert all(segs[i][2] <= segs[i + 1][1] for i in range(len(segs) - 1))  # disjoint, in order
        assert max([0] + [s for s, _, _ in segs]) == _brute_best(w)


def test_a_page_is_never_trimmed_to_a_fragment():
    toc = "\n".join(["Debian 参考手册", "摘要", "这本书是自由的；你可以在许可证的条款下重新分发和修改本书。", "目录"]
                    + [f"{i}. 第{i}章 标题" for i in range(1, 60)])
    assert trim_chinese_boilerplate(toc) == toc  # one sentence would survive: the filter judges the page
