"""Input formats ingest reads, how they are recognised, and how inputs become shards.

Shard naming (docs/ingest.md): each container file (WARC, WET, JSONL, Parquet) is one shard named after the
file; loose small files (HTML, txt, md, srt, vtt, feeds) found in a directory are grouped, in sorted path order,
into shards of up to `files_per_shard` files named `<dirname>-00000`, `<dirname>-00001`, ... (files in a
subdirectory `sub/` of the input directory `dir/` get `dir.sub-00000`, so nested trees do not collide); a
loose file named directly on the command line is its own shard, named after the file.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from corpus_tool import shards
from corpus_tool.errors import UsageError
from corpus_tool.shards import InputShard
from corpus_tool.stages.ingest import charset
from corpus_tool.stages.ingest.streams import GZIP_MAGIC

WARC = "warc"
JSONL = "jsonl"
PARQUET = "parquet"
HTML = "html"
TEXT = "text"
SUBTITLES = "subtitles"
MARKDOWN = "markdown"
FEED = "feed"
LOOSE = (HTML, TEXT, SUBTITLES, MARKDOWN, FEED)

CONTAINERS = {WARC, JSONL, PARQUET}

_SUFFIXES: list[tuple[str, str]] = [
    (".warc.gz", WARC),
    (".warc", WARC),
    (".wet.gz", WARC),
    (".wet", WARC),
    (".warc.wet.gz", WARC),
    (".arc.gz", "arc"),
    (".arc", "arc"),
    (".jsonl", JSONL),
    (".jsonl.gz", JSONL),
    (".jsonl.zst", JSONL),
    (".jsonl.zstd", JSONL),
    (".json.gz", JSONL),
    (".ndjson", JSONL),
    (".ndjson.gz", JSONL),
    (".ndjson.zst", JSONL),
    (".parquet", PARQUET),
    (".html", HTML),
    (".htm", HTML),
    (".xhtml", HTML),
    (".shtml", HTML),
    (".txt", TEXT),
    (".md", MARKDOWN),
    (".markdown", MARKDOWN),
    (".text", TEXT),
    (".srt", SUBTITLES),
    (".vtt", SUBTITLES),
    (".rss", FEED),
    (".atom", FEED),
    (".rdf", FEED),
    (".xml", FEED),
]
KNOWN_SUFFIXES = tuple(s for s, _ in _SUFFIXES)


def format_of(path: str) -> str | None:
    """The input format from the file name (longest matching suffix), or None."""
    name = path.lower()
    best = None
    for suffix, fmt in _SUFFIXES:
        if name.endswith(suffix) and (best is None or len(suffix) > len(best[0])):
            best = (suffix, fmt)
    return best[1] if best else None


def sniff_format(path: str) -> str | None:
    """The format of a file whose name says nothing (e.g. `crawl.warc.gz.bad`), from its first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror or e})") from e
    if head[:3] == GZIP_MAGIC:
        try:
            with gzip.open(path, "rb") as g:
                head = g.read(4096)
        except (OSError, EOFError):
            return None
        if head.startswith(b"WARC/1."):
            return WARC
        return JSONL if head.lstrip().startswith(b"{") else None
    if head.startswith(b"WARC/1."):
        return WARC
    if head.startswith(b"PAR1"):
        return PARQUET
    wide = charset.sniff_wide(head) or next((enc for bom, enc in charset.BOMS if head.startswith(bom)), None)
    if wide:  # UTF-16/32: look at the characters, not the bytes
        head = head.decode(wide, "ignore").encode("utf-8")
    low = head.lower()
    if b"<rss" in low or b"<feed" in low or b"<rdf:rdf" in low:
        return FEED
    if b"<html" in low or b"<!doctype html" in low:
        return HTML
    if head.lstrip().startswith(b"{"):
        return JSONL
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT") or b" --> " in head:
        return SUBTITLES
    return TEXT


def loose_shard_name(path: str) -> str:
    """Shard name of a loose file given on the command line: its name without the format suffix."""
    name = os.path.basename(path)
    low = name.lower()
    for suffix, _ in sorted(_SUFFIXES, key=lambda s: -len(s[0])):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


def container_shard_name(path: str) -> str:
    """A container file's shard name: `corpus_tool.shards.shard_name` (CC's x.warc.gz -> x, x.warc.wet.gz ->
    x.warc, so a WARC and its WET do not collide)."""
    return shards.shard_name(path)


def loose_group_name(top: Path, directory: Path) -> str:
    """Base name of the shards of loose files in `directory`, found under the input directory `top`: the
    directory's name, with the path below `top` joined by dots for subdirectories (html/a/b -> html.a.b)."""
    top_name = top.resolve().name or "files"
    rel = directory.relative_to(top).parts
    return ".".join((top_name, *rel))


def _walk(directory: Path) -> list[Path]:
    """Files under `directory` (recursively; hidden entries and our own output folders skipped), sorted."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in (shards.REJECTED_DIR, shards.MANIFEST_DIR)
        )
        found.extend(Path(root) / f for f in sorted(files) if not f.startswith("."))
    return sorted(found)


def list_ingest_shards(inputs: list[str], files_per_shard: int) -> tuple[list[InputShard], list[str]]:
    """(shards, skipped files) for ingest. Files in directories with unknown suffixes are skipped (and
    reported); a file named directly is sniffed when its suffix says nothing."""
    result: list[InputShard] = []
    skipped: list[str] = []
    for item in shards.expand_globs(inputs):
        if item == shards.STDIN:
            result.append(InputShard("stdin", (shards.STDIN,), {"format": JSONL}))
            continue
        p = Path(item)
        if p.is_dir():
            groups: dict[Path, list[Path]] = {}
            for f in _walk(p):
                fmt = format_of(str(f))
                if fmt in CONTAINERS:
                    result.append(InputShard(container_shard_name(str(f)), (str(f),), {"format": fmt}))
                elif fmt in LOOSE:
                    groups.setdefault(f.parent, []).append(f)
                else:
                    skipped.append(str(f))
            for parent, files in groups.items():
                base = loose_group_name(p, parent)
                for i in range(0, len(files), files_per_shard):
                    chunk = files[i : i + files_per_shard]
                    result.append(
                        InputShard(
                            f"{base}-{i // files_per_shard:05d}",
                            tuple(str(f) for f in chunk),
                            {"format": "loose"},
                        )
                    )
            continue
        fmt = format_of(item) or sniff_format(item)
        if fmt == "arc":
            raise UsageError(f"{item}: ARC files are not supported; convert them to WARC first (e.g. warcio)")
        if fmt in CONTAINERS:
            result.append(InputShard(container_shard_name(item), (item,), {"format": fmt}))
        elif fmt is not None:
            result.append(InputShard(loose_shard_name(item), (item,), {"format": "loose"}))
        else:
            raise UsageError(f"{item}: cannot tell the input format from its name or its first bytes")
    return shards.unique_names(result), skipped
