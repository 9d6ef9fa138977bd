#!/usr/bin/env python
# ruff: noqa: E501  (HTML templates with CJK text; CJK characters count double in line width)
"""Generate the sample corpus embedded in the package (corpus_tool/data/sample/).

    .venv/bin/python scripts/make_sample.py            # rewrite corpus_tool/data/sample
    .venv/bin/python scripts/make_sample.py --out DIR  # somewhere else

The output is deterministic (fixed dates, record ids and gzip headers), so rerunning gives the same bytes.
What is in it, and why (later stages and the demo rely on each kind):

- crawl.warc.gz: per-record gzipped WARC with warcinfo, request, response and metadata records. Responses
  carry HTTP headers; some lie about the charset (GBK bytes labelled utf-8, UTF-8 labelled gb2312, Big5
  labelled nothing or utf-8). Non-200 responses and non-HTML payloads are there to be skipped.
- *.html: loose pages (a second portal's copy of a WARC article, a Big5 Traditional copy of a Simplified
  article with no charset at all, a GBK page, a navigation-only page).
- export.jsonl.zst: a user's JSONL export with ids, urls and other fields (carried into `meta`), one row
  without an id, near and exact duplicates, junk and other languages.
- blog.md, essay.txt, lecture.srt, interview.vtt: Markdown, plain text (Traditional), subtitles.

Content: invented Chinese prose (scripts/sample_texts.py) in news, encyclopedia, forum and product page
templates with navigation, ads and footers; junk (gambling ads, SEO keyword stuffing, nav-only page,
repeated characters, a run of '/', mojibake); near-duplicate pairs across files; exact duplicates; English,
Japanese and Korean pages; short ambiguous lines.
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import sys
import uuid
from pathlib import Path

import opencc
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sample_texts import (  # noqa: E402
    ARTICLES,
    ENGLISH_ARTICLE,
    ESSAY_TW,
    GAMBLING_AD,
    JAPANESE_ARTICLE,
    JSONL_ARTICLES,
    KOREAN_ARTICLE,
    MARKDOWN,
    MORE_ARTICLES,
    SEO_KEYWORDS,
    SRT_CUES,
    VTT_CUES,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "corpus_tool" / "data" / "sample"
ART = {a[0]: a for a in ARTICLES + MORE_ARTICLES + JSONL_ARTICLES}
S2TW = opencc.OpenCC("s2twp")

# ------------------------------------------------------------------------------------------ boilerplate

NAV_A = ["首页", "要闻", "国内", "国际", "财经", "科技", "体育", "娱乐", "汽车", "房产", "教育", "健康",
         "旅游", "美食", "视频", "图片", "评论", "专题", "直播", "客户端"]
HOT_A = ["本周末气温骤降 最低气温或跌破零度", "多所中小学启用新校区 今年秋季开学", "城区三条道路今晚起封闭施工",
         "全市新增公园绿地面积创新高", "地铁站内便民服务点增至四十个", "冬季供暖本月十五日启动 居民可提前报修",
         "老字号糕点铺搬迁新址 排队人潮不减", "电动自行车新规下月起实施", "第二届城市读书节闭幕",
         "机场新增多条国际航线"]
NAV_B = ["资讯", "本地", "民生", "政务", "文化", "生活", "房产", "汽车", "问政", "社区"]
HOT_B = ["市民热线十月受理诉求两万件", "江滨公园夜景灯光改造完成", "今年首场寒潮将至 注意添衣",
         "菜篮子价格总体平稳", "这些旅游景点冬季门票半价"]
NAV_TW = ["首頁", "即時", "政治", "社會", "生活", "國際", "財經", "娛樂", "體育", "地方", "旅遊", "影音"]
HOT_TW = ["立冬後首波冷氣團報到 北部低溫下探十四度", "捷運新路線明年通車 沿線房價看漲",
          "年輕人返鄉務農 打造有機米品牌", "跨年煙火確定施放 交通管制一次看"]


def _script_blob(site: str) -> str:
    """An inline ad/analytics configuration of a few KB, as real portals have (extraction must drop it)."""
    slots = ",".join(
        f'{{"slot":"{site}-{i:03d}","size":[{300 + 10 * (i % 7)},{250 - 5 * (i % 5)}],"lazy":{str(i % 2 == 0).lower()},'
        f'"targeting":{{"channel":"news","pos":"p{i}","kw":["本地","资讯","{site}"]}}}}'
        for i in range(24)
    )
    return (
        f'<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",'
        f'"publisher":{{"@type":"Organization","name":"{site}"}}}}</script>'
        f"<script>window.__AD_CONFIG__={{\"slots\":[{slots}]}};"
        "(function(w,d){var s=d.createElement('script');s.async=true;s.src='//static.example.com/ads.js';"
        "d.getElementsByTagName('head')[0].appendChild(s);})(window,document);</script>"
    )


def _links(items: list[str], href: str = "/news/") -> str:
    return "".join(f'<li><a href="{href}{i}.html">{html.escape(t)}</a></li>' for i, t in enumerate(items))


def _paras(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def page_portal_a(title: str, paragraphs: list[str], meta_charset: str | None, date: str) -> str:
    """滨江新闻网: div soup with class names, top bar, ad banner, sidebar, related links, footer."""
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">' if meta_charset else ""
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head>{meta}
<title>{html.escape(title)}_滨江新闻网</title>
<meta name="keywords" content="滨江,新闻,本地,资讯">
<script type="text/javascript">var _hmt = _hmt || []; (function() {{ var hm = document.createElement("script");
hm.src = "//stat.example.com/hm.js?1a2b3c"; document.head.appendChild(hm); }})();</script>
<style>.nav li{{float:left;margin:0 8px}} .ad{{background:#fee}}</style>
{_script_blob("binjiang")}
</head><body>
<div class="top-bar">欢迎访问滨江新闻网 | <a href="/login">登录</a> | <a href="/reg">注册</a> | <a href="/m">手机版</a></div>
<div class="header"><a href="/" class="logo"><img src="/logo.png" alt="滨江新闻网"></a>
<form class="search"><input type="text" name="q" placeholder="请输入关键词"><button>搜索</button></form></div>
<div class="nav" id="nav"><ul>{_links(NAV_A, "/channel/")}</ul></div>
<div class="ad ad-banner"><a href="http://ad.example.com/click?id=77">双十一家电狂欢 满3000减500 点击抢购</a></div>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/news/">新闻</a> &gt; 正文</div>
<div class="wrap"><div class="main-left"><div class="article">
<h1>{html.escape(title)}</h1>
<div class="info"><span>{date}</span> <span>来源：滨江日报</span> <span>编辑：王敏</span></div>
<div class="article-content" id="content">
{_paras(paragraphs)}
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="editor">【责任编辑：王敏】</div>
</div>
<div class="related"><h3>相关阅读</h3><ul>{_links(HOT_A[:5])}</ul></div>
</div>
<div class="sidebar"><div class="hot"><h3>热点排行</h3><ol>{_links(HOT_A)}</ol></div>
<div class="ad ad-side"><a href="http://ad.example.com/click?id=78">驾校报名 包过拿证</a></div></div></div>
<div class="footer"><p><a href="/about">关于我们</a> | <a href="/contact">联系我们</a> | <a href="/ads">广告服务</a> |
<a href="/jobs">招聘信息</a> | <a href="/map">网站地图</a></p>
<p>Copyright © 2016-2026 滨江新闻网 版权所有 未经授权禁止转载</p><p>浙ICP备12345678号 浙公网安备33010202000001号</p></div>
<script>document.write('<div class="float-ad">在线客服</div>');</script>
</body></html>
"""


def page_portal_b(title: str, paragraphs: list[str], meta_charset: str | None, date: str) -> str:
    """东方资讯网: HTML5 landmarks (header/nav/main/article/aside/footer) and a comment box."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return f"""<!doctype html>
<html lang="zh"><head>{meta}<title>{html.escape(title)} - 东方资讯网</title>
<link rel="stylesheet" href="/static/site.css">{_script_blob("dfzx")}</head>
<body><header class="site-header"><div class="logo">东方资讯网</div>
<nav class="main-nav"><ul>{_links(NAV_B, "/c/")}</ul></nav></header>
<main><article class="post">
<header><h1 class="post-title">{html.escape(title)}</h1>
<p class="byline">{date} · 东方资讯网综合报道 · 阅读 3.2万</p></header>
<div class="post-body">
{_paras(paragraphs)}
</div>
<footer class="post-footer">声明：本文转载自合作媒体，仅供参考，版权归原作者所有。</footer>
</article>
<section class="comments"><h3>网友评论（26）</h3>
<div class="comment">快乐的小鱼：支持！希望越来越好。</div>
<div class="comment">路过的风：已阅。</div></section>
<aside class="sidebar"><h3>24小时热闻</h3><ul>{_links(HOT_B)}</ul>
<div class="advert">【广告】装修贷款 低至3.5% 立即申请</div></aside></main>
<footer class="site-footer">© 2026 东方资讯网 | 举报电话：12345 | 粤ICP备87654321号</footer>
</body></html>
"""


def page_encyclopedia(title: str, paragraphs: list[str], meta_charset: str | None) -> str:
    """知识百科: infobox, table of contents, sections; edit links and a reference list around them."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    sections = []
    for p in paragraphs:
        head, sep, rest = p.partition("：")
        if sep and len(head) <= 6:
            sections.append(f'<h2>{html.escape(head)}<span class="edit">[编辑]</span></h2><p>{html.escape(rest)}</p>')
        else:
            sections.append(f"<p>{html.escape(p)}</p>")
    return f"""<!DOCTYPE html><html lang="zh-Hans"><head>{meta}<title>{html.escape(title)} - 知识百科</title></head>
<body><div id="top-nav"><a href="/">知识百科</a> <a href="/random">随便看看</a> <a href="/edit">参与编辑</a>
<a href="/help">帮助</a> <a href="/login">登录</a></div>
<div id="content"><h1 class="lemma-title">{html.escape(title)}</h1>
<div class="lemma-summary">本词条由知识百科编辑团队审核 · 浏览次数 128,406 · 编辑次数 37</div>
<table class="infobox"><tr><th>中文名</th><td>{html.escape(title)}</td></tr><tr><th>类别</th><td>中国传统文化</td></tr></table>
<div class="toc"><b>目录</b><ol><li>概述</li><li>历史</li><li>相关条目</li></ol></div>
<div class="lemma-body">
{"".join(sections)}
</div>
<div class="references"><h2>参考资料</h2><ol><li>《中国传统工艺全集》，2004年。</li><li>地方志编纂委员会编，2011年。</li></ol></div>
</div>
<div id="footer">本站内容采用知识共享署名-相同方式共享协议授权 · <a href="/privacy">隐私政策</a> · <a href="/about">关于知识百科</a></div>
</body></html>
"""


def page_forum(title: str, paragraphs: list[str], meta_charset: str | None) -> str:
    """水木家园论坛: a thread; the opening post is the non-reply paragraphs, each reply its own post."""
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">' if meta_charset else ""
    opening = [p for p in paragraphs if not p.startswith(("回复", "楼主回复"))]
    replies = [p for p in paragraphs if p.startswith(("回复", "楼主回复"))]
    users = ["青山不改", "阳台种菜的猫", "老王不在家", "风吹麦浪", "一只小小鸟"]
    posts = [f'<div class="post"><div class="author">楼主：青山不改</div><div class="post-content">{_paras(opening)}</div>'
             '<div class="sig">—— 生活不止眼前的苟且</div><div class="actions">举报 | 引用 | 回复</div></div>']
    for i, r in enumerate(replies):
        posts.append(f'<div class="post"><div class="author">{users[(i + 1) % len(users)]} · {i + 2}楼</div>'
                     f'<div class="post-content"><p>{html.escape(r)}</p></div><div class="actions">举报 | 引用 | 回复</div></div>')
    return f"""<html><head>{meta}<title>{html.escape(title)} - 家居生活 - 水木家园论坛</title></head>
<body><div class="forum-nav"><a href="/">论坛首页</a> &gt; <a href="/f/12">家居生活</a> &gt; 帖子详情
<span class="right"><a href="/login">登录</a> <a href="/register">注册</a></span></div>
<div class="notice">【公告】论坛将于本周六凌晨进行系统维护，届时暂停访问两小时。</div>
<div class="thread"><h1>{html.escape(title)}</h1><div class="stats">查看：5621 | 回复：{len(replies)}</div>
{"".join(posts)}
</div>
<div class="pager"><a href="?p=1">1</a> <a href="?p=2">2</a> <a href="?p=3">下一页</a></div>
<div class="footer">水木家园论坛 © 2008-2026 | 京ICP备00000000号 | 联系管理员</div></body></html>
"""


def page_product(title: str, paragraphs: list[str], meta_charset: str | None, price: str) -> str:
    """优选商城: product page with price box, buttons, spec and reviews, shop footer."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return f"""<!DOCTYPE html><html lang="zh-CN"><head>{meta}<title>【优选商城】{html.escape(title)}</title></head>
<body><div class="site-nav">优选商城 | <a href="/cart">购物车(0)</a> | <a href="/orders">我的订单</a> | <a href="/help">客户服务</a></div>
<div class="category-nav"><a href="/c/1">家用电器</a> <a href="/c/2">户外运动</a> <a href="/c/3">食品生鲜</a> <a href="/c/4">数码</a></div>
<div class="product"><h1 class="product-title">{html.escape(title)}</h1>
<div class="price-box">促销价 <em>{price}</em> 月销 2000+ 累计评价 8634</div>
<div class="buttons"><a class="btn">立即购买</a> <a class="btn">加入购物车</a></div>
<div class="promise">正品保障 · 七天无理由退货 · 极速退款</div>
<div class="detail">
{_paras(paragraphs)}
</div></div>
<div class="recommend"><h3>看了又看</h3><ul><li>便携保温杯 ¥59</li><li>不锈钢饭盒 ¥89</li><li>速干毛巾 ¥29</li></ul></div>
<div class="footer">优选商城 版权所有 © 2026 | 营业执照 | 增值电信业务经营许可证 沪B2-20260001</div></body></html>
"""


def page_portal_tw(title: str, paragraphs: list[str], meta_charset: str | None, date: str) -> str:
    """台灣即時新聞網 (Traditional)."""
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">' if meta_charset else ""
    return f"""<html lang="zh-TW"><head>{meta}<title>{html.escape(title)} | 台灣即時新聞網</title></head>
<body><div id="header"><div class="logo">台灣即時新聞網</div><ul class="menu">{_links(NAV_TW, "/list/")}</ul></div>
<div class="ad">《廣告》信用卡新戶首刷禮 最高回饋一千元</div>
<div id="story"><h1>{html.escape(title)}</h1><div class="date">{date} 記者 陳怡君／綜合報導</div>
<div class="story-body">
{_paras(paragraphs)}
</div></div>
<div class="more-news"><h3>熱門新聞</h3><ul>{_links(HOT_TW)}</ul></div>
<div id="footer">台灣即時新聞網 版權所有 不得轉載 © 2026 客服信箱 service@example.tw</div></body></html>
"""


def page_simple(title: str, paragraphs: list[str], lang: str, meta_charset: str | None) -> str:
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    return f"""<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{html.escape(title)}</title></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/contact">Contact</a></nav>
<article><h1>{html.escape(title)}</h1>
{_paras(paragraphs)}
</article><footer>(c) 2026 example.org</footer></body></html>
"""


def page_nav_only() -> str:
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>频道导航 - 滨江新闻网</title></head>
<body><div class="nav"><ul>{_links(NAV_A, "/channel/")}</ul></div>
<div class="sitemap"><h3>网站地图</h3><ul>{_links(NAV_B, "/c/")}</ul><ul>{_links(NAV_TW, "/tw/")}</ul></div>
<div class="footer">Copyright © 2026 滨江新闻网 浙ICP备12345678号</div></body></html>
"""


def page_gambling() -> str:
    blocks = "".join(f'<div class="promo"><a href="http://casino.example/{i}">{GAMBLING_AD}</a></div>' for i in range(12))
    return f"""<html><head><meta charset="utf-8"><title>澳门新葡京|真人娱乐|彩票开奖|注册送彩金</title></head>
<body>{blocks}<div>彩票开奖结果 双色球 大乐透 福彩3D 排列三 排列五 七星彩 七乐彩 中奖号码查询 开奖直播</div></body></html>
"""


def page_seo() -> str:
    body = "".join(f"<p>{SEO_KEYWORDS}</p>" for _ in range(20))
    return f"""<html><head><meta charset="utf-8"><title>二手车|二手车交易|二手车网|二手车价格|二手车市场</title>
<meta name="keywords" content="{SEO_KEYWORDS}"></head><body><h1>二手车 二手车交易 二手车网</h1>{body}</body></html>
"""


def page_replacement_chars() -> str:
    """A page a broken tool already saved with U+FFFD instead of the original characters: unrecoverable."""
    garbled = "\ufffd\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd, \ufffd\ufffd\ufffd\ufffd\ufffd\ufffd "
    paras = "".join(f"<p>{garbled * 6}2026-11-{10 + i}</p>" for i in range(8))
    return f"""<html><head><meta charset="utf-8"><title>\ufffd\ufffd\ufffd\ufffd</title></head>
<body><div class="content">{paras}</div></body></html>
"""


# -------------------------------------------------------------------------------------------- WARC


WARC_DATE = "2026-11-18T08:{:02d}:{:02d}Z"


class WarcBuilder:
    """Writes a per-record gzipped WARC deterministically (gzip mtime 0, uuid5 record ids)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.n = 0

    def _record(self, wtype: str, uri: str | None, content_type: str, block: bytes, extra: dict | None = None) -> None:
        self.n += 1
        rid = uuid.uuid5(uuid.NAMESPACE_URL, f"{wtype}:{uri}:{self.n}")
        headers = [
            ("WARC-Type", wtype),
            ("WARC-Record-ID", f"<urn:uuid:{rid}>"),
            ("WARC-Date", WARC_DATE.format(self.n // 60, self.n % 60)),
        ]
        if uri:
            headers.append(("WARC-Target-URI", uri))
        headers += list((extra or {}).items())
        headers += [("Content-Type", content_type), ("Content-Length", str(len(block)))]
        head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        record = head.encode("utf-8") + block + b"\r\n\r\n"
        self.buf.write(gzip.compress(record, mtime=0))

    def warcinfo(self) -> None:
        body = b"software: corpus-tool make_sample.py\r\nformat: WARC File Format 1.0\r\nisPartOf: corpus-tool-sample\r\n"
        self._record("warcinfo", None, "application/warc-fields", body)

    def exchange(self, uri: str, status: str, content_type: str | None, payload: bytes,
                 extra_http: list[tuple[str, str]] | None = None, metadata: bool = False) -> None:
        host = uri.split("/")[2]
        path = "/" + uri.split("/", 3)[3] if uri.count("/") >= 3 else "/"
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: corpus-tool-sample/0.1\r\n"
               "Accept: text/html,*/*\r\n\r\n").encode()
        self._record("request", uri, "application/http; msgtype=request", req)
        lines = [f"HTTP/1.1 {status}", "Server: nginx"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        lines += [f"{k}: {v}" for k, v in (extra_http or [])]
        lines.append(f"Content-Length: {len(payload)}")
        http = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
        self._record("response", uri, "application/http; msgtype=response", http)
        if metadata:
            self._record("metadata", uri, "application/warc-fields", b"fetchTimeMs: 187\r\n")

    def getvalue(self) -> bytes:
        return self.buf.getvalue()


def big5(text: str) -> bytes:
    return text.encode("cp950", errors="xmlcharrefreplace")


def build_warc() -> bytes:
    w = WarcBuilder()
    w.warcinfo()
    a = ART
    d = "2026-11-18 10:32"
    # Lying charsets.
    t, p = a["metro"][2], a["metro"][3]
    w.exchange("http://news.binjiang.example/2026/1118/metro5.html", "200 OK", "text/html; charset=utf-8",
               page_portal_a(t, p, "utf-8", d).encode("gb18030"), metadata=True)  # GBK bytes, says utf-8
    t, p = a["grain"][2], a["grain"][3]
    w.exchange("http://news.binjiang.example/2026/1117/grain.html", "200 OK", "text/html; charset=gb2312",
               page_portal_a(t, p, "gb2312", "2026-11-17 16:05").encode("utf-8"))  # UTF-8, says gb2312
    t, p = a["taifeng_tw"][2], a["taifeng_tw"][3]
    w.exchange("http://www.twnews.example/story/7781.html", "200 OK", "text/html",
               big5(page_portal_tw(t, p, None, "2026/11/18 09:40")))  # Big5, says nothing
    t, p = a["yeshi_tw"][2], a["yeshi_tw"][3]
    w.exchange("http://www.twnews.example/story/7802.html", "200 OK", "text/html",
               big5(page_portal_tw(t, p, "utf-8", "2026/11/17 21:15")))  # Big5, meta says utf-8
    # Honest pages, several encodings.
    t, p = a["guji"][2], a["guji"][3]
    w.exchange("http://news.binjiang.example/2026/1116/guji.html", "200 OK", "text/html; charset=GBK",
               page_portal_a(t, p, "gbk", "2026-11-16 08:50").encode("gb18030"))
    t, p = a["lunch"][2], a["lunch"][3]
    w.exchange("http://www.dfzx.example/a/20261115/lunch.html", "200 OK", "text/html; charset=utf-8",
               page_portal_b(t, p, "utf-8", "2026-11-15").encode("utf-8"))
    zisha = page_encyclopedia(a["zisha"][2], a["zisha"][3], "utf-8").encode("utf-8")
    w.exchange("http://baike.zhishi.example/item/紫砂壶".replace("紫砂壶", "%E7%B4%AB%E7%A0%82%E5%A3%B6"),
               "200 OK", "text/html; charset=utf-8", zisha)
    w.exchange("http://baike-mirror.example/item/zisha.html", "200 OK", "text/html; charset=utf-8", zisha)  # exact dup
    w.exchange("http://baike.zhishi.example/item/huozi", "200 OK", "text/html; charset=gb18030",
               page_encyclopedia(a["huozi"][2], a["huozi"][3], "gb18030").encode("gb18030"))
    for key in ("zhuangxiu", "kaoyan"):
        w.exchange(f"http://bbs.shuimu.example/thread/{key}.html", "200 OK", "text/html; charset=utf-8",
                   page_forum(a[key][2], a[key][3], "utf-8").encode("utf-8"))
    w.exchange("http://item.youxuan.example/p/10086.html", "200 OK", "text/html;charset=UTF-8",
               page_product(a["kettle"][2], a["kettle"][3], "utf-8", "¥129.00").encode("utf-8"))
    w.exchange("http://item.youxuan.example/p/20471.html", "200 OK", "text/html; charset=gbk",
               page_product(a["backpack"][2], a["backpack"][3], "gbk", "¥399.00").encode("gb18030"))
    for key, day in (("hongshao", "14"), ("xihu", "13"), ("shuimian", "12")):
        w.exchange(f"http://www.dfzx.example/a/202611{day}/{key}.html", "200 OK", "text/html; charset=utf-8",
                   page_portal_b(a[key][2], a[key][3], "utf-8", f"2026-11-{day}").encode("utf-8"))
    # More pages (one more lying header: UTF-8 bytes labelled GBK).
    w.exchange("http://news.binjiang.example/2026/1111/library24h.html", "200 OK", "text/html; charset=utf-8",
               page_portal_a(a["tushuguan"][2], a["tushuguan"][3], "utf-8", "2026-11-11 07:45").encode("utf-8"))
    w.exchange("http://www.dfzx.example/a/20261110/xiqu.html", "200 OK", "text/html; charset=gb2312",
               page_portal_b(a["xiju"][2], a["xiju"][3], "gb2312", "2026-11-10").encode("gb18030"))
    w.exchange("http://news.binjiang.example/2026/1109/hsr.html", "200 OK", "text/html; charset=GBK",
               page_portal_a(a["gaotie"][2], a["gaotie"][3], None, "2026-11-09 15:20").encode("utf-8"))
    w.exchange("http://baike.zhishi.example/item/jiaozi", "200 OK", "text/html; charset=utf-8",
               page_encyclopedia(a["jiaozi"][2], a["jiaozi"][3], "utf-8").encode("utf-8"))
    w.exchange("http://bbs.shuimu.example/thread/shouji.html", "200 OK", "text/html; charset=gbk",
               page_forum(a["shouji"][2], a["shouji"][3], "gbk").encode("gb18030"))
    w.exchange("http://item.youxuan.example/p/30952.html", "200 OK", "text/html; charset=utf-8",
               page_product(a["chufang"][2], a["chufang"][3], "utf-8", "¥269.00").encode("utf-8"))
    w.exchange("http://www.twnews.example/story/7815.html", "200 OK", "text/html; charset=big5",
               big5(page_portal_tw(a["laojie_tw"][2], a["laojie_tw"][3], "big5", "2026/11/16 14:05")))
    w.exchange("http://www.twnews.example/story/7833.html", "200 OK", "text/html; charset=utf-8",
               page_portal_tw(a["youji_tw"][2], a["youji_tw"][3], "utf-8", "2026/11/15 10:30").encode("utf-8"))
    # Other languages.
    w.exchange("http://www.riverside-news.example/cycling-lanes", "200 OK", "text/html; charset=UTF-8",
               page_simple(ENGLISH_ARTICLE[0], ENGLISH_ARTICLE[1:], "en", "utf-8").encode("utf-8"))
    w.exchange("http://www.machi-news.example/akimatsuri.html", "200 OK", "text/html; charset=Shift_JIS",
               page_simple(JAPANESE_ARTICLE[0], JAPANESE_ARTICLE[1:], "ja", "shift_jis").encode("shift_jis"))
    w.exchange("http://news.dongne.example/library.html", "200 OK", "text/html; charset=euc-kr",
               page_simple(KOREAN_ARTICLE[0], KOREAN_ARTICLE[1:], "ko", "euc-kr").encode("euc-kr"))
    # Junk that ingest keeps or rejects, for later stages.
    w.exchange("http://www.xpj-casino.example/", "200 OK", "text/html; charset=utf-8", page_gambling().encode("utf-8"))
    w.exchange("http://www.ershouche-seo.example/", "200 OK", "text/html; charset=utf-8", page_seo().encode("utf-8"))
    w.exchange("http://old.forum.example/t/998.html", "200 OK", "text/html; charset=utf-8",
               page_replacement_chars().encode("utf-8"))
    w.exchange("http://news.binjiang.example/notice.txt", "200 OK", "text/plain; charset=utf-8",
               ("系统维护公告\n\n因机房电力设备检修，本站将于11月20日凌晨一点至五点暂停服务。检修期间，网站及客户端"
                "均无法访问，已发布的新闻内容不受影响。给您带来的不便，敬请谅解。\n\n滨江新闻网技术部\n").encode())
    # Records that are not documents: they must be skipped and counted.
    w.exchange("http://news.binjiang.example/2026/1101/gone.html", "404 Not Found", "text/html; charset=utf-8",
               page_simple("404 页面不存在", ["您访问的页面不存在或已被删除。"], "zh", "utf-8").encode("utf-8"))
    w.exchange("http://news.binjiang.example/old", "301 Moved Permanently", "text/html",
               b"<html><body>Moved</body></html>", extra_http=[("Location", "http://news.binjiang.example/")])
    w.exchange("http://bbs.shuimu.example/search?q=x", "500 Internal Server Error", "text/html",
               b"<html><body><h1>500 Internal Server Error</h1></body></html>")
    w.exchange("http://news.binjiang.example/logo.png", "200 OK", "image/png",
               b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    w.exchange("http://news.binjiang.example/static/app.js", "200 OK", "application/javascript",
               b"function init(){document.title='\xe6\xbb\xa8\xe6\xb1\x9f';}\n" * 20)
    w.exchange("http://news.binjiang.example/static/site.css", "200 OK", "text/css",
               b".nav li{float:left}\n" * 30)
    w.exchange("http://news.binjiang.example/report.pdf", "200 OK", "application/pdf", b"%PDF-1.4\n%fake\n" * 10)
    return w.getvalue()


# ------------------------------------------------------------------------------------------- loose


def lightly_edited(paragraphs: list[str]) -> list[str]:
    """A reposted copy: a few words changed, the last paragraph dropped, a sign-off added."""
    out = [p.replace("一百四十多名学生", "一百五十多名学生").replace("五年前", "几年前") for p in paragraphs[:-1]]
    out[1] = out[1].replace("聘请了三名厨师", "请了三位厨师")
    out.append("（本文转载自石门乡教育简报，有删改。）")
    return out


def build_jsonl() -> bytes:
    rows: list[dict] = []

    def article(key: str, **fields) -> dict:
        _, kind, title, paras = ART[key]
        return {"title": title, "text": title + "\n\n" + "\n\n".join(paras), "category": kind, **fields}

    for i, key in enumerate(("chongdian", "shitang", "bowuguan", "malasong", "caicha")):
        rows.append({"id": f"export-{i:04d}", **article(key, url=f"https://app.example.cn/share/{1000 + i}",
                                                         published="2026-11-0" + str(i + 1), likes=17 * i + 3)})
    rows.append(article("minsu", url="https://app.example.cn/share/1005"))  # no id: ingest generates one
    dup = dict(rows[4])
    dup["id"] = "export-0099"  # the same article exported twice (exact duplicate text)
    rows.append(dup)
    _, _, title, paras = ART["lunch"]
    rows.append({"id": "export-0100", "title": title, "text": title + "\n\n" + "\n\n".join(lightly_edited(paras)),
                 "category": "news", "url": "https://edu.shimen.example/jianbao/12"})
    rows.append({"id": "export-0101", "text": ENGLISH_ARTICLE[0] + "\n\n" + "\n\n".join(ENGLISH_ARTICLE[1:]),
                 "category": "news"})
    rows.append({"id": "export-0102", "text": "\n\n".join(JAPANESE_ARTICLE), "category": "news"})
    rows.append({"id": "export-0103", "text": "\n\n".join(KOREAN_ARTICLE), "category": "news"})
    # Short, ambiguous lines (zh or ja? zh-Hant or zh-Hans?).
    rows.append({"id": "export-0104", "text": "東京大学", "category": "comment"})
    rows.append({"id": "export-0105", "text": "OK 好的", "category": "comment"})
    rows.append({"id": "export-0106", "text": "這個", "category": "comment"})
    rows.append({"id": "export-0107", "text": "这个产品质量不错，物流也很快，推荐购买。", "category": "comment"})
    rows.append({"id": "export-0108", "text": "楼上说得对，我家也是这样装的，用了三年没出过问题。", "category": "comment"})
    # Junk.
    rows.append({"id": "export-0109", "text": "/" * 3000, "category": "misc"})
    rows.append({"id": "export-0110", "text": "哈" * 1200, "category": "comment"})
    rows.append({"id": "export-0111", "text": (GAMBLING_AD + "\n") * 15, "category": "ad"})
    rows.append({"id": "export-0112", "text": (SEO_KEYWORDS + "\n") * 20, "category": "misc"})
    gbk_as_latin1 = ("老旧小区装上充电桩，新能源车主不再找桩难。" * 12).encode("gb18030").decode("latin-1")
    rows.append({"id": "export-0113", "text": gbk_as_latin1, "category": "news"})  # classic mojibake
    rows.append({"id": "export-0114", "text": "", "category": "misc"})  # empty
    rows.append({"id": "export-0115", **article("hongshao", url="https://food.example.cn/recipe/88")})  # = WARC copy
    # A Traditional-script copy of a Simplified row (a Taiwan portal reposting it).
    _, _, title, paras = ART["shitang"]
    rows.append({"id": "export-0116", "title": S2TW.convert(title), "category": "news",
                 "text": S2TW.convert(title + "\n\n" + "\n\n".join(paras)), "url": "https://tw.example.com/n/5521"})
    # A lightly edited repost of another row.
    _, _, title, paras = ART["bowuguan"]
    edited = [p.replace("晚上九点", "晚上九点半").replace("刘先生", "刘女士") for p in paras[:-1]]
    rows.append({"id": "export-0117", "title": title, "category": "news",
                 "text": title + "\n\n" + "\n\n".join(edited + ["（来源：市文旅局公众号）"])})
    # The same essay as essay.txt, exported again: an exact duplicate across files.
    rows.append({"id": "export-0118", "text": ESSAY_TW.strip(), "category": "essay"})
    for i, review in enumerate(("收到了，包装很严实，杯子保温效果不错，早上装的热水到下午还是烫的。",
                                "尺码偏小，建议买大一号。客服态度很好，换货很顺利。",
                                "第二次回购了，家里老人很喜欢，就是快递有点慢，等了四天。")):
        rows.append({"id": f"export-02{i:02d}", "text": review, "category": "comment", "rating": 5 - i})
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    return zstandard.ZstdCompressor(level=19).compress(data)


def build_srt() -> str:
    out = []
    for i, text in enumerate(SRT_CUES):
        start, end = i * 3, i * 3 + 2
        out.append(f"{i + 1}\n00:{start // 60:02d}:{start % 60:02d},000 --> 00:{end // 60:02d}:{end % 60:02d},800\n{text}\n")
    return "\n".join(out)


def build_vtt() -> str:
    out = ["WEBVTT - 竹编手艺人访谈\n", "NOTE 本字幕由语音识别生成，经人工校对。\n",
           "STYLE\n::cue { color: yellow }\n"]
    for i, (who, text) in enumerate(VTT_CUES):
        s, e = i * 4, i * 4 + 3
        out.append(f"cue-{i + 1}\n00:00:{s:02d}.000 --> 00:00:{e:02d}.500 align:start position:10%\n<v {who}>{text}</v>\n")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "crawl.warc.gz": build_warc(),
        "export.jsonl.zst": build_jsonl(),
        # The metro article again, on another portal; UTF-8 bytes whose meta tag says gb2312 (as on GNE pages).
        "metro-dfzx.html": page_portal_b(ART["metro"][2], ART["metro"][3], "gb2312", "2026-11-18").encode("utf-8"),
        # A Traditional copy of the Simplified guji article, Big5 with no charset anywhere.
        "guji-tw.html": big5(page_portal_tw(S2TW.convert(ART["guji"][2]), [S2TW.convert(p) for p in ART["guji"][3]],
                                            None, "2026/11/17 11:20")),
        "jieqi.html": page_encyclopedia(ART["jieqi"][2], ART["jieqi"][3], "gbk").encode("gb18030"),
        "channels.html": page_nav_only().encode("utf-8"),
        "blog.md": MARKDOWN.encode("utf-8"),
        "essay.txt": ESSAY_TW.encode("utf-8"),
        "lecture.srt": build_srt().encode("utf-8"),
        "interview.vtt": build_vtt().encode("utf-8"),
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    total = sum(len(b) for b in files.values())
    print(f"wrote {len(files)} files, {total:,} bytes, to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
