"""Compressed streams, in one place: gzip sniffing, JSONL opened plain/.gz/.zst/stdin, bounded line reading,
and the zstd frame walker that tells a truncated .zst from a complete one."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
from collections.abc import Iterator

from corpus_tool import shards

GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_SUFFIXES = (".zst", ".zstd")


def is_gzip(path: str) -> bool:
    """True when the file starts with a gzip (deflate) member header."""
    with open(path, "rb") as fh:
        return fh.read(3) == GZIP_MAGIC


def is_zstd_path(path: str) -> bool:
    return path != shards.STDIN and path.lower().endswith(ZSTD_SUFFIXES)


def open_jsonl(path: str):
    """A binary line iterator (a context manager) over a JSONL file (plain, .gz or .zst, whatever its name
    says about gzip) or stdin."""
    if path == shards.STDIN:
        return contextlib.nullcontext(sys.stdin.buffer)
    low = path.lower()
    if low.endswith(ZSTD_SUFFIXES):
        import zstandard

        fh = open(path, "rb")  # noqa: SIM115 - closed by the wrapper below
        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader)
    if low.endswith(".gz") or is_gzip(path):
        return gzip.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115


def zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError


class LineTooLong(Exception):
    """A line so long that skipping it costs more than reading the file is worth: the rest is not read."""


# Skipping an over-long line reads it to its end; a decompression bomb's "line" may never end, so beyond
# this many times --max-record-bytes the rest of the file is given up (and reported).
SKIP_LIMIT_FACTOR = 20


def bounded_lines(fh, limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, line, bytes) of a binary stream, never holding more than `limit` + 1 MB of one line:
    a longer line comes back as (number, None, bytes read) after being read past without keeping it."""
    lineno = 0
    while True:
        raw = fh.readline(limit + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield lineno, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = fh.readline(1 << 20)
            if not raw:
                break
            size += len(raw)
            if size > SKIP_LIMIT_FACTOR * limit:
                raise LineTooLong(
                    f"line {lineno} is longer than {size:,} bytes ({SKIP_LIMIT_FACTOR} x "
                    "--max-record-bytes); the rest of the file was not read"
                )
        yield lineno, None, size


def zstd_truncation(path: str) -> str | None:
    """What is wrong if the last zstd frame of `path` is cut short, else None. zstandard's stream reader
    ends silently at a truncated frame, so the frames' block headers are walked (no decompression)."""
    import zstandard

    size = os.path.getsize(path)
    pos = 0
    with open(path, "rb") as fh:
        while pos < size:
            fh.seek(pos)
            head = fh.read(18)
            magic = int.from_bytes(head[:4], "little")
            if 0x184D2A50 <= magic <= 0x184D2A5F and len(head) >= 8:  # skippable frame
                pos += 8 + int.from_bytes(head[4:8], "little")
                continue
            try:
                params = zstandard.get_frame_parameters(head)
                pos += zstandard.frame_header_size(head)
            except zstandard.ZstdError:
                return f"not a complete zstd frame at byte {pos:,}"
            while True:
                fh.seek(pos)
                block = fh.read(3)
                if len(block) < 3:
                    return f"truncated zstd stream: the frame ends at byte {size:,} inside a block header"
                v = int.from_bytes(block, "little")
                pos += 3 + (1 if (v >> 1) & 3 == 1 else v >> 3)
                if v & 1:
                    break
            pos += 4 if params.has_checksum else 0
            if pos > size:
                return f"truncated zstd stream: the file ends at byte {size:,}, inside a frame"
    return None
