"""Fixture builders for the ingest tests: WARC records, pages in lying charsets (all written here)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

ARTICLE = (
    "滨江市地铁五号线今日开通，沿线居民出行时间缩短近半。线路全长二十六公里，共设车站十九座，"
    "连接城市北部的高新园区与南部的老城片区。家住南湖小区的周先生说，过去去医院要换两趟公交，现在坐地铁四十分钟就到了。"
)
ARTICLE_TW = (
    "強颱風逼近東部海域，氣象局發布海上陸上颱風警報。颱風預計明天清晨在東部沿海登陸，花蓮、台東及宜蘭地區將首當其衝，"
    "各縣市政府已陸續成立災害應變中心，部分山區道路預防性封閉。"
)


def page(body: str, meta_charset: str | None = None, lang: str = "zh-CN", title: str = "新闻") -> str:
    """A news page with navigation and a footer around `body` (Traditional boilerplate for zh-TW)."""
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={meta_charset}">'
        if meta_charset
        else ""
    )
    paras = "".join(f"<p>{p}</p>" for p in body.split("\n") if p)
    tw = lang == "zh-TW"
    nav = ("首頁", "新聞", "體育") if tw else ("首页", "新闻", "体育")
    footer = "版權所有 2026 示例網" if tw else "版权所有 2026 示例网"
    title = "新聞" if tw and title == "新闻" else title
    return (
        f'<html lang="{lang}"><head>{meta}<title>{title}</title></head><body>'
        f'<div class="nav"><a href="/">{nav[0]}</a> <a href="/news">{nav[1]}</a> '
        f'<a href="/sports">{nav[2]}</a></div>'
        f'<div class="article"><h1>{title}</h1><div class="content">{paras}</div></div>'
        f'<div class="footer">{footer}</div></body></html>'
    )


def warc_record(wtype: str, uri: str, block: bytes, content_type: str, n: int) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {wtype}\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{n:012d}>\r\n"
        f"WARC-Date: 2026-11-18T08:00:{n % 60:02d}Z\r\nWARC-Target-URI: {uri}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def http_response(payload: bytes, content_type: str | None, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def response_records(responses: list[tuple[str, bytes, str | None, str]], start: int = 0) -> list[bytes]:
    """WARC records (request + response per page) for (uri, payload, content type, status) tuples."""
    out = []
    n = start
    for uri, payload, ctype, status in responses:
        req = f"GET / HTTP/1.1\r\nHost: {uri.split('/')[2]}\r\n\r\n".encode()
        out.append(warc_record("request", uri, req, "application/http; msgtype=request", n))
        out.append(
            warc_record(
                "response",
                uri,
                http_response(payload, ctype, status),
                "application/http; msgtype=response",
                n + 1,
            )
        )
        n += 2
    return out


def write_warc_gz(path: Path, records: list[bytes]) -> list[int]:
    """Per-record gzip; returns each record's byte offset."""
    offsets, data = [], b""
    for r in records:
        offsets.append(len(data))
        data += gzip.compress(r, mtime=0)
    path.write_bytes(data)
    return offsets


def read_docs(out: Path, shard: str) -> list[dict]:
    return pq.read_table(out / f"{shard}.parquet").to_pylist()


def read_rejected(out: Path, shard: str) -> list[dict]:
    return pq.read_table(out / "rejected" / f"{shard}.parquet").to_pylist()


def manifest(out: Path, shard: str) -> dict:
    return json.loads((out / "manifests" / f"{shard}.json").read_text(encoding="utf-8"))
