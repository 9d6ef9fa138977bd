#!/usr/bin/env python
# ruff: noqa: E501  (CJK word lists)
"""Generate the negative examples the demo quality model is trained on (corpus_tool/data/quality/negative/).

    .venv/bin/python scripts/make_quality_data.py            # rewrite corpus_tool/data/quality/negative
    .venv/bin/python scripts/make_quality_data.py --out DIR  # somewhere else

The demo trains its classifier with `corpus-tool train-quality --positive {data}/reference --negative
{data}/quality/negative`: the reference prose (original essays) is the good side, and this folder is the
bad side: the kinds of page text that web crawls are full of and a pretraining corpus does not want
(keyword-stuffed SEO pages, navigation and footer blocks, product listings, gambling and scam ads, comment
spam, tag clouds). Everything is generated here from word lists written for this script; nothing is copied
from the sample corpus (scripts/sample_texts.py), so the demo's separation of the sample's pages is not
memorised. Deterministic: the same seed gives the same files.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "corpus_tool" / "data" / "quality" / "negative"

TOPICS = ["装修公司", "英语培训", "减肥方法", "手机维修", "搬家公司", "婚纱摄影", "驾校报名", "租房信息", "少儿编程",
          "考研辅导", "空调清洗", "宠物医院", "月嫂服务", "网站建设", "翻译公司", "会计培训", "钢琴培训", "管道疏通"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "天津", "苏州", "长沙", "郑州"]
SUFFIX = ["哪家好", "排名", "价格", "多少钱", "电话", "地址", "推荐", "前十名", "收费标准", "官网", "怎么样", "靠谱吗",
          "口碑", "附近", "24小时", "上门", "优惠", "联系方式"]
MENU = ["首页", "网站首页", "关于我们", "公司简介", "新闻动态", "行业资讯", "产品中心", "解决方案", "成功案例", "服务支持",
        "在线咨询", "联系我们", "人才招聘", "留言反馈", "网站地图", "下载专区", "会员中心", "常见问题", "隐私政策", "English"]
FOOTER = ["上一篇：", "下一篇：", "相关阅读", "热门推荐", "猜你喜欢", "热门标签", "分享到：", "扫一扫关注我们",
          "本站部分内容来源于网络，如有侵权请联系删除", "免责声明", "投诉建议", "返回顶部", "收藏本站", "设为首页"]
BRANDS = ["星辰", "优品", "悦家", "极客", "睿智", "乐活", "嘉禾", "蓝海", "晨光", "万象"]
GOODS = ["无线蓝牙耳机", "智能手环", "保温杯", "电动牙刷", "空气炸锅", "加湿器", "充电宝", "机械键盘", "运动鞋", "羽绒服",
         "扫地机器人", "电饭煲", "行李箱", "台灯", "剃须刀"]
SPECS = ["颜色分类", "尺码", "型号", "产地", "材质", "保修期", "库存", "发货地", "重量", "包装清单"]
ADS = ["高额返利", "提款秒到账", "新人首充返水", "棋牌游戏", "老虎机", "体育投注", "彩金天天送", "代理招募", "日结工资",
       "无需押金", "快速放款", "黑户可贷", "足不出户月入过万", "内部渠道", "稳赚不赔", "扫码进群", "限时福利", "点击领取"]
COMMENTS = ["沙发", "顶", "顶一下", "楼主好人", "mark一下", "支持", "路过", "前排", "感谢分享", "已收藏", "同问", "占楼",
            "不明觉厉", "学习了", "围观", "+1", "求资源", "私信我", "加群"]
TAGS = ["热门", "最新", "排行榜", "专题", "精选", "大全", "图片", "视频", "下载", "攻略", "教程", "资讯", "百科", "问答"]


def seo_page(rng: random.Random) -> str:
    topic = rng.choice(TOPICS)
    lines = [f"{rng.choice(CITIES)}{topic}{rng.choice(SUFFIX)}_{topic}{rng.choice(SUFFIX)}_{topic}网"]
    for _ in range(rng.randint(8, 20)):
        words = [f"{rng.choice(CITIES) if rng.random() < 0.5 else ''}{topic}{rng.choice(SUFFIX)}"
                 for _ in range(rng.randint(4, 10))]
        lines.append(" ".join(words))
    lines.append(f"咨询热线：400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}")
    return "\n".join(lines)


def navigation_page(rng: random.Random) -> str:
    lines = [" | ".join(rng.sample(MENU, rng.randint(6, 12)))]
    for _ in range(rng.randint(6, 16)):
        r = rng.random()
        if r < 0.4:
            lines.append(rng.choice(FOOTER) + rng.choice(TOPICS) + rng.choice(SUFFIX))
        elif r < 0.7:
            lines.append(" ".join(rng.sample(TAGS, rng.randint(4, 9))))
        else:
            lines.append(" | ".join(rng.sample(MENU, rng.randint(3, 6))))
    lines.append(f"Copyright © {rng.randint(2008, 2025)} {rng.choice(BRANDS)}科技有限公司 版权所有 "
                 f"备案号：{rng.choice(['京', '沪', '粤', '浙'])}ICP备{rng.randint(10**7, 10**8 - 1)}号")
    return "\n".join(lines)


def product_page(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(3, 8)):
        good, brand = rng.choice(GOODS), rng.choice(BRANDS)
        lines.append(f"{brand}{good} {rng.choice(['新款', '爆款', '正品', '旗舰款'])} {rng.choice(['包邮', '现货', '秒发'])}")
        lines.append(f"￥{rng.randint(9, 2999)}.{rng.choice(['00', '90', '99'])} 已售{rng.randint(1, 99)}万+ "
                     f"好评率{rng.randint(90, 99)}%")
        lines.extend(f"{s}：{rng.choice(['黑色', '白色', '标准版', 'L', 'XL', '一年', '500克', '广东'])}"
                     for s in rng.sample(SPECS, rng.randint(2, 5)))
        lines.append("立即购买 加入购物车 领券 收藏")
    return "\n".join(lines)


def ad_page(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(5, 14)):
        words = rng.sample(ADS, rng.randint(3, 7))
        if rng.random() < 0.5:
            words.append(f"微信{rng.randint(10**5, 10**6 - 1)}")
        lines.append(" ".join(words) + rng.choice(["！", "！！", "", "→"]))
    return "\n".join(lines)


def comment_page(rng: random.Random) -> str:
    lines = []
    for i in range(rng.randint(10, 30)):
        lines.append(f"{i + 1}楼 用户{rng.randint(1000, 99999)} {rng.choice(COMMENTS)}"
                     + (rng.choice(["", "！", "~", "。。。", "哈哈"])))
    return "\n".join(lines)


KINDS = {"seo": seo_page, "nav": navigation_page, "product": product_page, "ad": ad_page, "comments": comment_page}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--per-kind", type=int, default=16)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.txt"):
        old.unlink()
    for kind, make in KINDS.items():
        for i in range(args.per_kind):
            (args.out / f"{kind}_{i:02d}.txt").write_text(make(rng) + "\n", encoding="utf-8")
    print(f"wrote {len(KINDS) * args.per_kind} files to {args.out}")


if __name__ == "__main__":
    main()
