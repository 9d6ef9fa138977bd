"""Short fuzz runs over the new text readers: transcript detection, Markdown, feeds and charset decoding
never raise on arbitrary input (a feed that is not one raises FeedError only) and never put a NUL in text."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tool.stages.ingest import charset, feeds, markdown, transcripts

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PIECES = st.sampled_from(["主持人", "嘉宾", " ", "\n", "10:23", "1:02:03", "[00:00.000 --> 00:05.000]",
                          "[00:00:00,000 -> 00:00:02,160]", "00:01:02", "：", "。", "---", "+++", "![a](b)",
                          "[t](u)", "<b>", "```", "# ", "- ", "|", "大家好", "abc", "-->", "\r"])
TEXTS = st.one_of(st.text(max_size=400), st.lists(PIECES, max_size=60).map("".join))


@FUZZ
@given(TEXTS)
def test_transcript_detection_and_markdown_never_raise(text):
    found = transcripts.detect(text)
    if found is not None:
        assert isinstance(found.text, str) and all(isinstance(s, str) for s in found.speakers)
    out, meta = markdown.to_text(text)
    assert isinstance(out, str) and isinstance(meta, dict)


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.lists(PIECES, max_size=40).map(lambda p: "".join(p).encode())))
def test_decoding_and_feed_parsing_never_raise(data):
    for html in (True, False):
        d = charset.decode(data, None, html=html)
        assert isinstance(d.text, str)
    xml = b'<?xml version="1.0"?><rss><channel><item><title>' + data + b"</title></item></channel></rss>"
    try:
        _, _, items = feeds.parse(charset.decode(xml, feeds.declared_encoding(xml), html=False).text)
    except feeds.FeedError:
        return
    assert len(items) == 1
