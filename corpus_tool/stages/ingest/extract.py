"""Main-content extraction: the article text of a page, without navigation, ads, scripts and footers, with
paragraph breaks kept (one blank line between paragraphs, one line per list item or short block).

The default extractor is resiliparse's `extract_plain_text(main_content=True)`, then, on Chinese text, the
article run of its lines (`trim_chinese_boilerplate`: a line-level text and punctuation density scorer);
`resiliparse-untrimmed` leaves the trimming out; trafilatura is available
as an alternative (`--extractor trafilatura`, needs the `bench` extra). docs/ingest.md has the
measurements that chose the default (benchmarks/eval_extraction.py reproduces them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from corpus_tool.errors import MissingDependencyError

_OTHER_SPACES = ("\t", "\u00a0", "\u3000")  # each becomes a space, then a run of spaces becomes one
# Line breaks that are not \n or \r: a form feed (a page break in text from PDFs and word processors), a
# vertical tab, and Unicode's line and paragraph separators. Each becomes \n; the control characters would
# otherwise be removed later and glue the lines on either side together ("end.Next" from "end.\fNext").
# U+0085 is left alone: in web text it is far more often a mis-decoded Windows-1252 "…" than a line break,
# and the mojibake check counts it.
_OTHER_BREAKS = ("\x0b", "\x0c", "\u2028", "\u2029")


# resiliparse's main-content pass is quadratic in nesting depth (10,000 nested <div> take 2 s, 50,000 take
# 90 s), so pages with a long run of opening tags get the linear all-text extraction instead.
DEEP_RUN = 500
_DEEP = re.compile(rf"(?:<[a-zA-Z][^<>]*+>[^<]*+){{{DEEP_RUN}}}")
_WINDOW = 4096


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    html_lang: str | None
    deeply_nested: bool = False
    fallback: str | None = None  # "all-text" or "trafilatura" when the main-content pass found nothing


def looks_deeply_nested(html: str) -> bool:
    """True when `html` has a run of `DEEP_RUN` opening tags with no closing tag between them. A cheap
    window count (about 250 MB/s) finds candidate pages; only those get the exact regex."""
    for start in range(0, len(html), _WINDOW):
        opens = html.count("<", start, start + _WINDOW)
        if opens >= 300 and html.count("</", start, start + _WINDOW) * 20 < opens:
            return _DEEP.search(html) is not None
    return False


def tidy_python(text: str) -> str:
    """One form of whitespace for every extractor and input: \\n line ends (\\r\\n, \\r, form feeds,
    vertical tabs and U+2028/U+2029 become \\n), no trailing spaces, at most one blank line between
    paragraphs, no leading or trailing blank lines.

    The same result as the regexes `[ \\t\\u00a0\\u3000]+` -> " ", each line stripped, then `\\n{3,}` ->
    "\\n\\n" (tests/test_ingest_tidy.py compares them), with `str.replace`, which scans at memory speed
    where `re` walks the text a character at a time: 0.11 s against 0.3-0.4 s on 30 MB of Chinese text."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    for brk in _OTHER_BREAKS:
        if brk in text:
            text = text.replace(brk, "\n")
    for space in _OTHER_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:  # a run of n spaces is one after about log2(n) passes
        text = text.replace("  ", " ")
    text = "\n".join([line.strip() for line in text.split("\n")])
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


try:  # the same in one compiled pass (built by `pip install`): 0.11-0.19 -> 0.04 s on 30 MB of Chinese text
    from corpus_tool.stages._textscan import tidy
except ImportError:  # a source tree that was never built
    tidy = tidy_python


def _page_facts(tree: HTMLTree) -> tuple[str | None, str | None]:
    title = tree.title.strip() if tree.title else None
    html_el = tree.document.query_selector("html") if tree.document else None
    lang = html_el.getattr("lang") if html_el is not None else None
    return title or None, (lang.strip() or None) if lang else None


_RESILIPARSE_OPTS = dict(
    preserve_formatting=True,
    list_bullets=False,
    alt_texts=False,
    links=False,
    form_fields=False,
    noscript=False,
    comments=True,
)
# When the main-content pass finds (almost) nothing on a page that has plenty of text (3 of the 60 GNE news
# pages, all from one site, and list pages), the page is extracted again: by default as all visible text
# (linear, the filter stage removes boilerplate lines), or by trafilatura (better text, about 30x slower per
# page), or not at all. meta.extractor_fallback records it.
FALLBACKS = ("all-text", "trafilatura", "none")
FALLBACK_MAIN_CHARS = 50
FALLBACK_ALL_CHARS = 500


def _trafilatura_text(html: str) -> str | None:
    try:
        import trafilatura
    except ImportError:
        return None
    return trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False) or ""


def extract_resiliparse(html: str, fallback: str = "all-text", trim: bool = True) -> Extracted:
    tree = HTMLTree.parse(html)
    title, lang = _page_facts(tree)
    deep = looks_deeply_nested(html)
    text = tidy(extract_plain_text(tree, main_content=not deep, **_RESILIPARSE_OPTS))
    used = None
    if len(text) < FALLBACK_MAIN_CHARS and not deep and fallback != "none":
        all_text = tidy(extract_plain_text(tree, main_content=False, **_RESILIPARSE_OPTS))
        if len(all_text) >= FALLBACK_ALL_CHARS:
            better = _trafilatura_text(html) if fallback == "trafilatura" else None
            if better is not None and len(better) > len(text):
                text, used = tidy(better), "trafilatura"
            elif better is None:
                text, used = all_text, "all-text"
    if trim:
        text = trim_chinese_boilerplate(text)
    return Extracted(text, title, lang, deep, used)


def extract_resiliparse_untrimmed(html: str, fallback: str = "all-text") -> Extracted:
    """resiliparse's main content as it comes, without the Chinese article trimming."""
    return extract_resiliparse(html, fallback, trim=False)


def extract_trafilatura(html: str) -> Extracted:
    tree = HTMLTree.parse(html)
    title, lang = _page_facts(tree)
    text = _trafilatura_text(html)
    if text is None:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "--extractor trafilatura needs trafilatura and lxml_html_clean: pip install 'corpus-tool[bench]'"
        )
    return Extracted(tidy(text), title, lang)


EXTRACTORS: dict[str, Callable[..., Extracted]] = {
    "resiliparse": extract_resiliparse,
    "resiliparse-untrimmed": extract_resiliparse_untrimmed,
    "trafilatura": extract_trafilatura,
}
DEFAULT_EXTRACTOR = "resiliparse"


def extract_fragment(html: str) -> str:
    """All visible text of an HTML fragment that is content already (a feed item's body), with paragraph
    breaks: no main-content pass, which is made for whole pages and may drop a short article."""
    if "<" not in html:
        return tidy(html)
    return tidy(extract_plain_text(HTMLTree.parse(html), main_content=False, **_RESILIPARSE_OPTS))


# ------------------------------------------------------------------------- Chinese article trimming
# resiliparse's main-content pass keeps short furniture lines around a Chinese article (纠错, 关注我们, 热门推荐,
# bylines, related-headline lists). On Chinese text the article is the densest run of lines that read as prose:
# long enough and carrying sentence punctuation. Each line weighs its Han characters when it reads as prose
# and a penalty otherwise; the run with the largest total (a maximum-subarray pass, linear) is kept.
_SENT_PUNCT = re.compile("[。！？；]")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")  # runs, not characters: far fewer matches to count
_KANA_HANGUL_RUN = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]+")
TRIM_MIN_HAN_FRACTION = 0.3
TRIM_PROSE_CHARS = 12
TRIM_PENALTY = 12
TRIM_KEEP_BLOCK = 40  # besides the best run, every run of prose weighing this much is kept
# Trimming never turns a page into a fragment: when less than this survives (a table of contents with one
# sentence, a navigation page), the page stays as extracted and the filter judges it.
TRIM_MIN_KEEP = 100


def _weights(lines: list[str]) -> list[int]:
    """Each line's weight: its CJK (non-ASCII) characters when it reads as prose, a penalty otherwise. Counting
    non-ASCII characters (a C-speed encode) instead of Han ones keeps this pass a few % of extraction time."""
    out = []
    for line in lines:
        n = len(line)
        if n < TRIM_PROSE_CHARS:
            out.append(-(TRIM_PENALTY + n // 2) if n else 0)
            continue
        wide = n - len(line.encode("ascii", "ignore"))
        if wide >= TRIM_PROSE_CHARS and (
            _SENT_PUNCT.search(line) or line.count("，") + line.count("、") >= 2
        ):
            out.append(wide)
        else:
            out.append(-(TRIM_PENALTY + n // 2))
    return out


def trim_chinese_boilerplate(text: str) -> str:
    """The article run of a Chinese page's extracted text (see above); other text (not mostly Han, or
    Japanese/Korean: kana or hangul) is returned unchanged."""
    han = sum(map(len, _HAN_RUN.findall(text)))
    if han < TRIM_MIN_HAN_FRACTION * len(text):
        return text
    if _KANA_HANGUL_RUN.search(text) and sum(map(len, _KANA_HANGUL_RUN.findall(text))) * 20 > han:
        return text
    lines = text.split("\n")
    segments = maximal_segments(_weights(lines))
    if not segments:
        return text
    top = max(score for score, _, _ in segments)
    keep = [(a, b) for score, a, b in segments if score >= min(top, TRIM_KEEP_BLOCK)]
    # Runs start and end with prose lines and the text was tidy already: joining them keeps it tidy.
    trimmed = "\n\n".join("\n".join(lines[a:b]) for a, b in keep)
    return trimmed if len(trimmed) >= TRIM_MIN_KEEP else text


def maximal_segments(weights: list[int]) -> list[tuple[int, int, int]]:
    """(score, start, end) of every maximal scoring run of `weights` (Ruzzo and Tompa, 1999): disjoint runs
    with a positive sum that no longer run containing them beats."""
    segs: list[list[int]] = []  # [start, end, cumulative sum before start, cumulative sum at end]
    cum = 0
    for i, x in enumerate(weights):
        if x > 0:
            new = [i, i + 1, cum, cum + x]
            while True:
                j = len(segs) - 1
                while j >= 0 and segs[j][2] >= new[2]:
                    j -= 1
                if j < 0 or segs[j][3] >= new[3]:
                    segs.append(new)
                    break
                new = [segs[j][0], new[1], segs[j][2], new[3]]
                del segs[j:]
        cum += x
    return [(r - left, a, b) for a, b, left, r in segs]
