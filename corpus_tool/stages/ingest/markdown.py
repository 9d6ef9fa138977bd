"""Markdown to plain text: front matter to meta, markup to nothing, words kept.

- YAML (`---` ... `---`) and TOML (`+++` ... `+++`) front matter leave the text; `title`, `date` and `tags`
  go to meta as themselves, every other key under `front_matter`;
- image embeds (`![alt](url)`, `![alt][ref]`, `<img>`) are dropped; a link keeps its text and loses its URL
  (`[text](url)`, `[text][ref]`; bare `<https://...>` autolinks and `[ref]: url` definitions go);
- inline HTML tags and comments are stripped;
- headings, list items, block quotes, tables and code blocks keep their words (their markers, fences and
  table rules go); emphasis and inline-code marks go.
"""

from __future__ import annotations

import json
import re
from typing import Any

_YAML_FM = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_TOML_FM = re.compile(r"\A\ufeff?\+\+\+[ \t]*\n(.*?)\n\+\+\+[ \t]*(?:\n|\Z)", re.S)
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)")
_IMAGE = re.compile(r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_LINK = re.compile(r"\[([^\]\n]*)\]\((?:[^()\n]|\([^)\n]*\))*\)|\[([^\]\n]+)\]\[[^\]\n]*\]")
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto):[^>\s]*>")
_REF_DEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:\s*\S+.*$", re.M)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^[ ]{0,3}(?:=+|-+)[ \t]*$")
_RULE = re.compile(r"^[ ]{0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_LIST = re.compile(r"^([ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?")
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_EMPHASIS = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
META_KEYS = ("title", "date", "tags")


def front_matter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """(fields, the text after the front matter, an error message if the block did not parse)."""
    for pattern, kind in ((_YAML_FM, "YAML"), (_TOML_FM, "TOML")):
        m = pattern.match(text)
        if not m:
            continue
        import tomllib  # noqa: PLC0415 - only for files with front matter (start-up time of every ingest)

        import yaml  # noqa: PLC0415

        parse = yaml.safe_load if kind == "YAML" else tomllib.loads
        try:
            data = parse(m.group(1))
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as e:
            return {}, text[m.end() :], f"{kind} front matter does not parse ({type(e).__name__})"
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return {}, text[m.end() :], f"{kind} front matter is not a mapping"
        return json.loads(json.dumps(data, ensure_ascii=False, default=_jsonable)), text[m.end() :], None
    return {}, text, None


def _jsonable(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def front_matter_meta(fields: dict[str, Any]) -> dict[str, Any]:
    """meta entries for front matter fields: title/date/tags as themselves, the rest under front_matter."""
    meta = {k: fields[k] for k in META_KEYS if k in fields}
    if isinstance(meta.get("tags"), str):
        meta["tags"] = [t.strip() for t in re.split(r"[,，]", meta["tags"]) if t.strip()]
    rest = {k: v for k, v in fields.items() if k not in META_KEYS}
    if rest:
        meta["front_matter"] = rest
    return meta


def _inline(line: str) -> str:
    line = _IMAGE.sub("", line)
    line = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), line)
    line = _AUTOLINK.sub("", line)
    line = _HTML_TAG.sub("", line)
    line = _CODE_SPAN.sub(lambda m: m.group(2).strip(), line)
    for _ in range(2):  # nested emphasis: ***x***
        line = _EMPHASIS.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(3), line)
    return line


def _block_line(line: str) -> str | None:
    """One line outside code blocks without its block markup; None for a line that is markup only."""
    if _SETEXT.match(line) or _RULE.match(line) or _TABLE_RULE.match(line):
        return None
    line = _QUOTE.sub("", line)
    h = _HEADING.match(line)
    if h:
        line = h.group(1)
    line = _LIST.sub("", line)
    if "|" in line and line.strip().startswith("|"):
        line = " ".join(c.strip() for c in line.strip().strip("|").split("|"))
    return _inline(line)


def to_text(markdown: str) -> tuple[str, dict[str, Any]]:
    """(plain text, meta entries) of a Markdown document."""
    fields, body, error = front_matter(markdown.replace("\r\n", "\n").replace("\r", "\n"))
    meta = front_matter_meta(fields)
    if error:
        meta["front_matter_error"] = error
    body = _REF_DEF.sub("", _HTML_COMMENT.sub("", body))
    out: list[str] = []
    fence = None
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if m and m.group(1).startswith(fence[0]) and len(m.group(1)) >= len(fence):
                fence = None
            else:
                out.append(line)
            continue
        clean = _block_line(line)
        if clean is not None:
            out.append(clean)
    return "\n".join(out), meta
