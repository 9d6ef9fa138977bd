"""Markdown (front matter to meta, markup to nothing) and RSS 2.0 / RSS 1.0 / Atom 1.0 and 0.3 feeds in
Big5 and GB2312 (one document per item)."""

from __future__ import annotations

import json

import pytest

from corpus_tool.stages.ingest.markdown import to_text
from tests.ingest_helpers import ARTICLE, ARTICLE_TW, manifest, read_docs, read_rejected

YAML_MD = """---
title: 用 Python 分析日志
date: 2026-11-02
tags: [python, 日志]
author: 小李
---
# 先看看日志长什么样

这是**重要**的一段，见[官方文档](https://docs.python.org/3/ "文档")和 <https://example.com/raw>。
![服务器照片](https://img.example.com/a.png)
<div class="note">注意：<b>不要</b>删除原始日志</div>

- 第一项
- [ ] 第二项
1. 第三项

> 引用的话

```python
print("代码里的字")
```

| 列一 | 列二 |
|---|---|
| 甲 | 乙 |

[ref]: https://example.com/ref
"""
TOML_MD = (
    '+++\ntitle = "TOML 标题"\ndate = 2026-01-02T03:04:05Z\ntags = ["笔记"]\nweight = 3\n+++\n\n'
    "正文里的 snake_case_name 和 *斜体*。\n![](x.png)\n"
)


def test_markdown_front_matter_and_markup():
    text, meta = to_text(YAML_MD)
    assert meta == {"title": "用 Python 分析日志", "date": "2026-11-02", "tags": ["python", "日志"],
                    "front_matter": {"author": "小李"}}
    assert "---" not in text and "title:" not in text and "小李" not in text
    assert "http" not in text and "服务器照片" not in text and "<" not in text and "**" not in text
    for words in ("先看看日志长什么样", "这是重要的一段，见官方文档和 。", "注意：不要删除原始日志", "第一项", "第二项",
                  "第三项", "引用的话", 'print("代码里的字")', "列一 列二", "甲 乙"):
        assert words in text.split("\n"), words
    text, meta = to_text(TOML_MD)
    assert meta == {"title": "TOML 标题", "date": "2026-01-02T03:04:05+00:00", "tags": ["笔记"],
                    "front_matter": {"weight": 3}}
    assert text.strip() == "正文里的 snake_case_name 和 斜体。"


RSS2 = f"""<?xml version="1.0" encoding="big5"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>地方新聞</title>
<item><title>颱風警報</title><link>https://news.example.tw/a/1</link>
<pubDate>Tue, 18 Nov 2026 08:00:00 +0800</pubDate><description>短摘要</description>
<content:encoded><![CDATA[<p>{ARTICLE_TW}</p><p>各縣市政府已陸續成立災害應變中心&nbsp;。</p>]]></content:encoded></item>
<item><title>第二則</title><link>https://news.example.tw/a/2</link>
<description>&lt;p&gt;花蓮、台東及宜蘭地區將首當其衝。&lt;/p&gt;&lt;img src="x.png"&gt;</description></item>
</channel></rss>"""
RSS1 = f"""<?xml version="1.0" encoding="gb2312"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://cn.example/"><title>滨江新闻</title></channel>
<item rdf:about="https://cn.example/1"><title>地铁开通</title><link>https://cn.example/1</link>
<dc:date>2026-11-18</dc:date><description>&lt;p&gt;{ARTICLE}&lt;/p&gt;</description></item>
</rdf:RDF>"""
ATOM03 = """<?xml version="1.0" encoding="gb2312"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>博客</title>
<entry><title>第一篇</title><link rel="alternate" type="text/html" href="https://blog.example/1"/>
<issued>2004-01-02T03:04:05Z</issued>
<content type="text/html" mode="escaped">&lt;p&gt;今天天气很好，我们去公园散步。&lt;/p&gt;
&lt;p&gt;第二段。&lt;/p&gt;</content></entry>
<entry><title>第二篇</title><link rel="alternate" href="https://blog.example/2"/><modified>2004-01-03T00:00:00Z</modified>
<content type="application/xhtml+xml" mode="xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>晚上下了一场雨。</p></div></content>
</entry>
<entry><title>第三篇</title><link rel="alternate" href="https://blog.example/3"/>
<content type="text/html" mode="base64">PHA+5Yeg5aSp5ZCO5Y+I5pm05LqG44CCPC9wPg==</content></entry>
</feed>"""
ATOM1 = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>站点</title>
<entry><title>新条目</title><link href="https://site.example/x"/><updated>2026-11-20T00:00:00Z</updated>
<summary>摘要</summary><content type="html">&lt;p&gt;完整的正文内容在这里。&lt;/p&gt;</content></entry></feed>"""


def test_feeds_through_the_cli(tmp_path, run_cli):
    src = tmp_path / "feeds"
    src.mkdir()
    (src / "tw.rss").write_bytes(RSS2.encode("big5"))
    (src / "cn.rdf").write_bytes(RSS1.encode("gb2312"))
    (src / "blog.atom").write_bytes(ATOM03.encode("gb2312"))
    (src / "site.xml").write_bytes(ATOM1.encode("utf-8"))
    (src / "sitemap.xml").write_text('<?xml version="1.0"?><urlset><url><loc>https://a/</loc></url></urlset>')
    (src / "broken.rss").write_text("<rss><channel><item><title>未闭合", encoding="utf-8")
    (src / "post.md").write_text(YAML_MD, encoding="utf-8")
    out = tmp_path / "out"
    run_cli("ingest", str(src), "-o", str(out))
    docs = {d["source"].rsplit("/", 1)[-1]: d for d in read_docs(out, "feeds-00000")}
    meta = {k: json.loads(d["meta"]) for k, d in docs.items()}
    assert sorted(docs) == ["blog.atom#1", "blog.atom#2", "blog.atom#3", "cn.rdf#1", "post.md#0", "site.xml#1",
                            "tw.rss#1", "tw.rss#2"]
    tw = docs["tw.rss#1"]
    assert tw["text"] == ARTICLE_TW + "\n\n各縣市政府已陸續成立災害應變中心 。" and tw["url"] == "https://news.example.tw/a/1"
    assert meta["tw.rss#1"]["title"] == "颱風警報" and meta["tw.rss#1"]["date"] == "2026-11-18T08:00:00+08:00"
    assert meta["tw.rss#1"]["encoding"] == "big5hkscs" and meta["tw.rss#1"]["feed_type"] == "rss2.0"
    assert docs["tw.rss#2"]["text"] == "花蓮、台東及宜蘭地區將首當其衝。"
    assert docs["cn.rdf#1"]["text"] == ARTICLE and meta["cn.rdf#1"]["feed_type"] == "rss1.0"
    assert meta["cn.rdf#1"]["encoding"] == "gb18030" and meta["cn.rdf#1"]["date"] == "2026-11-18"
    assert docs["blog.atom#1"]["text"] == "今天天气很好，我们去公园散步。\n\n第二段。"
    assert docs["blog.atom#2"]["text"] == "晚上下了一场雨。" and docs["blog.atom#3"]["text"] == "几天后又晴了。"
    assert meta["blog.atom#1"]["feed_type"] == "atom0.3" and meta["blog.atom#1"]["date"] == "2004-01-02T03:04:05Z"
    assert docs["blog.atom#2"]["url"] == "https://blog.example/2" and meta["blog.atom#1"]["feed_title"] == "博客"
    assert docs["site.xml#1"]["text"] == "完整的正文内容在这里。" and meta["site.xml#1"]["feed_type"] == "atom1.0"
    assert meta["post.md#0"]["title"] == "用 Python 分析日志" and meta["post.md#0"]["format"] == "markdown"
    rejected = {r["source"].rsplit("/", 1)[-1]: r for r in read_rejected(out, "feeds-00000")}
    reasons = {k: r["reason"] for k, r in rejected.items()}
    assert reasons == {"broken.rss#0": "invalid_feed", "sitemap.xml#0": "invalid_feed"}
    assert "<urlset>" in rejected["sitemap.xml#0"]["reason_detail"]
    assert manifest(out, "feeds-00000")["docs"] == {"in": 10, "kept": 8, "rejected": 2}


def test_each_feed_form_in_big5_and_gb2312():
    """RSS 2.0, RSS 1.0 and Atom 0.3, each written in Big5 and in GB2312 (with a matching declaration, and with
    a lying one): the bytes decide, every item comes back with its text, title and link."""
    import opencc

    from corpus_tool.stages.ingest import charset, feeds

    forms = {"rss2.0": RSS2.replace(ARTICLE_TW, ARTICLE), "rss1.0": RSS1, "atom0.3": ATOM03}
    for ftype, xml in forms.items():
        for enc, label in (("big5", "big5"), ("gb2312", "gb2312"), ("big5", "gb2312"), ("gb2312", "big5")):
            text = xml.replace('encoding="big5"', f'encoding="{label}"').replace('encoding="gb2312"',
                                                                                 f'encoding="{label}"')
            text = opencc.OpenCC("s2t" if enc == "big5" else "t2s").convert(text)  # what each charset has
            data = text.encode(enc)
            decoded = charset.decode(data, feeds.declared_encoding(data), html=False)
            assert decoded.text == text, (ftype, enc, label)
            got, _, items = feeds.parse(decoded.text)
            assert got == ftype and all(i.title and i.link and i.text for i in items), (ftype, enc, label)


def test_feeds_in_utf16_and_utf32_with_and_without_bom():
    from corpus_tool.stages.ingest import charset, feeds

    xml = ATOM1.replace('encoding="utf-8"', 'encoding="utf-16"')
    for enc in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        for bom in ("\ufeff", ""):
            data = (bom + xml).encode(enc)
            ftype, title, items = feeds.parse(charset.decode(data, feeds.declared_encoding(data), html=False).text)
            assert (ftype, title, items[0].text) == ("atom1.0", "站点", "<p>完整的正文内容在这里。</p>"), (enc, bom)


@pytest.mark.parametrize(("written", "stored"), [
    ("Tue, 18 Nov 2026 09:30:00 +0800", "2026-11-18T09:30:00+08:00"),  # RSS 2.0 (RFC 822)
    ("Tue, 18 Nov 2026 09:30:00 GMT", "2026-11-18T09:30:00+00:00"),
    ("18 Nov 2026 09:30 PST", "2026-11-18T09:30:00-08:00"),
    ("18 Nov 2026 09:30 -0000", "2026-11-18T09:30:00"),  # RFC 2822: no zone known
    ("2026-11-18", "2026-11-18"),  # dc:date, Atom: already ISO 8601, as written
    ("2004-01-02T03:04:05Z", "2004-01-02T03:04:05Z"),
    ("Tue, 31 Feb 2026 09:30:00 +0800", "Tue, 31 Feb 2026 09:30:00 +0800"),  # no such day: as written
    ("昨天 10:30", "昨天 10:30"),
    ("", ""),
])
def test_feed_dates_are_iso_8601(written, stored):
    from corpus_tool.stages.ingest.feeds import iso_date

    assert iso_date(written) == stored
