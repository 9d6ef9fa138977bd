"""Main-content extraction: the article text of a page, without navigation, ads, scripts and footers, with
paragraph breaks kept (one blank line between paragraphs, one line per list item or short block).

The default extractor is resiliparse's `extract_plain_text(main_content=True)`; trafilatura is available
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

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None
    html_lang: str | None


def tidy(text: str) -> str:
    """One form of whitespace for every extractor and input: \\n line ends, no trailing spaces, at most one
    blank line between paragraphs, no leading or trailing blank lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _page_facts(tree: HTMLTree) -> tuple[str | None, str | None]:
    title = tree.title.strip() if tree.title else None
    html_el = tree.document.query_selector("html") if tree.document else None
    lang = html_el.getattr("lang") if html_el is not None else None
    return title or None, (lang.strip() or None) if lang else None


def extract_resiliparse(html: str) -> Extracted:
    tree = HTMLTree.parse(html)
    title, lang = _page_facts(tree)
    text = extract_plain_text(
        tree,
        preserve_formatting=True,
        main_content=True,
        list_bullets=False,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        comments=True,
    )
    return Extracted(tidy(text), title, lang)


def extract_trafilatura(html: str) -> Extracted:
    try:
        import trafilatura
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "--extractor trafilatura needs trafilatura and lxml_html_clean: pip install 'corpus-tool[bench]'"
        ) from e
    tree = HTMLTree.parse(html)
    title, lang = _page_facts(tree)
    text = trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False) or ""
    return Extracted(tidy(text), title, lang)


EXTRACTORS: dict[str, Callable[[str], Extracted]] = {
    "resiliparse": extract_resiliparse,
    "trafilatura": extract_trafilatura,
}
DEFAULT_EXTRACTOR = "resiliparse"
