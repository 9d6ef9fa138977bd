"""An HTML page (bytes or already decoded text) to its main-content text, with the decisions in `meta`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpus_tool.stages.ingest import charset

if TYPE_CHECKING:
    from corpus_tool.stages.ingest.stage import IngestStage

Result = tuple[str, str | None, tuple[str, str | None] | None]  # (text, html_lang, rejection)


def record_encoding(stage: IngestStage, decoded: charset.Decoded, meta: dict) -> None:
    meta["encoding"] = decoded.encoding
    meta["encoding_by"] = decoded.how
    if decoded.declared_meta:
        meta["meta_charset"] = decoded.declared_meta
    if decoded.label_overruled:
        meta["charset_label_overruled"] = True
        stage.counters["charset_label_overruled"] += 1
    stage.counters[f"encoding.{decoded.encoding}"] += 1


def html_doc(stage: IngestStage, data: bytes, http_charset: str | None, meta: dict) -> Result:
    """(text, html_lang, rejection) of an HTML payload; `meta` gets the encoding decisions."""
    decoded = charset.decode(data, http_charset)
    record_encoding(stage, decoded, meta)
    stage.counters["html_bytes"] += len(data)
    if decoded.undecodable:
        return "", None, ("undecodable", decoded.undecodable)
    return extract_page(stage, decoded.text, meta)


def extract_page(stage: IngestStage, html: str, meta: dict) -> Result:
    """(text, html_lang, rejection) of decoded HTML; `meta` gets the title and the extractor's decisions."""
    try:
        if stage.extractor_name.startswith("resiliparse"):
            ex = stage.extract(html, stage.extraction_fallback)
        else:
            ex = stage.extract(html)
    except RecursionError:
        return "", None, ("extraction_failed", "HTML nested too deeply")
    except Exception as e:  # noqa: BLE001 - any parser failure on one page rejects that page only
        return "", None, ("extraction_failed", f"{type(e).__name__}: {e}")
    if ex.title and "title" not in meta:
        meta["title"] = ex.title
    if ex.fallback:
        meta["extractor_fallback"] = ex.fallback
        stage.counters[f"extractor_fallback.{ex.fallback}"] += 1
    if ex.deeply_nested:
        meta["deeply_nested_html"] = True
        stage.counters["deeply_nested_html"] += 1
    return ex.text, ex.html_lang, None
