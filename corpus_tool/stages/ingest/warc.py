"""WARC/WET reading that survives corrupt and truncated records.

A Common Crawl `.warc.gz` is one gzip member per record, so a bad member is skipped by resuming at the next
gzip member; an uncompressed `.warc` resumes at the next `WARC/1.` header line. Each record's bytes are
parsed by fastwarc (WARC and HTTP headers). Records are bounded: a record whose declared or decompressed size
exceeds `max_record_bytes` is reported as too large, and its body is skipped without being held in memory.
A whole-file gzip (one member holding many records) cannot be split this way and is streamed by fastwarc
instead (a corrupt byte then ends the file, reported with its offset).

Every problem is yielded as a `WarcProblem(offset, reason, detail)`, never raised: the caller turns it into
a rejected row, and the rest of the file is still read.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from fastwarc.warc import ArchiveIterator, WarcRecord

from corpus_tool.stages.ingest.streams import GZIP_MAGIC, is_gzip

_CHUNK = 1 << 20
_HEADER_LIMIT = 64 << 10
_WARC_LINE = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")


def _find_warc_line(data: bytes, start: int = 0) -> int:
    """Index of the next `WARC/1.0` or `WARC/1.1` line at or after `start`, or -1. (bytes.find is ~10x faster
    than a regex that starts with an alternation.)"""
    i = data.find(b"WARC/1.", start)
    while i != -1:
        if (
            (i == 0 or data[i - 1] == 0x0A)
            and data[i + 7 : i + 8] in (b"0", b"1")
            and data[i + 8 : i + 9]
            in (
                b"\r",
                b"\n",
            )
        ):
            return i
        i = data.find(b"WARC/1.", i + 1)
    return -1


_GLUED_HEADERS = (b"WARC/1.0\r\nWARC-", b"WARC/1.1\r\nWARC-")


def _find_record_start(data: bytes, start: int = 0) -> int:
    """`_find_warc_line`, or a record header glued to the end of a cut-short line (a truncated record, or
    junk without a line break, directly followed by the next record): `WARC/1.x` CRLF `WARC-` anywhere."""
    i = _find_warc_line(data, start)
    for glued in _GLUED_HEADERS:
        j = data.find(glued, start)
        if j != -1 and (i == -1 or j < i):
            i = j
    return i


@dataclass
class WarcProblem:
    offset: int
    reason: str  # corrupt_record | record_too_large
    detail: str
    headers: dict | None = None


@dataclass
class WarcItem:
    offset: int  # byte offset of the record (of its gzip member, for .gz files)
    record: WarcRecord
    raw_length: int  # bytes of the record block
    payload: bytes | None = None  # read for response/resource/conversion records only


def iter_warc(path: str, max_record_bytes: int) -> Iterator[WarcItem | WarcProblem]:
    """Records and problems of one WARC/WET file, in file order."""
    if is_gzip(path):
        yield from _iter_gzip_members(path, max_record_bytes)
    else:
        with open(path, "rb") as fh:
            yield from _iter_plain(fh, 0, max_record_bytes, resync=True)


# ------------------------------------------------------------------------------------- uncompressed


def _parse_headers(head: bytes) -> dict[str, str]:
    headers = {}
    for line in head.split(b"\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            headers[name.strip().decode("latin-1").lower()] = value.strip().decode("utf-8", "replace")
    return headers


def _iter_plain(fh, base: int, max_record_bytes: int, resync: bool) -> Iterator[WarcItem | WarcProblem]:
    """Split an uncompressed WARC stream into records. `base` is added to offsets (member offset for .gz)."""
    while True:
        pos = fh.tell()
        line = fh.readline(_HEADER_LIMIT)
        if not line:
            return
        if not line.strip():
            continue
        if not line.startswith(b"WARC/1."):
            yield WarcProblem(
                base + pos, "corrupt_record", "no WARC/1.x header line where a record should start"
            )
            if not (resync and _seek_next_header(fh, pos + 1)):
                return
            continue
        head = [line]
        cut_at = None
        while True:
            line_at = fh.tell()
            h = fh.readline(_HEADER_LIMIT)
            if not h or not h.strip():
                break
            at = h.find(b"WARC/1.")
            if at != -1 and h[at:].rstrip() in (b"WARC/1.0", b"WARC/1.1"):
                cut_at = line_at + at  # the header was cut short and the next record begins here
                break
            head.append(h)
            if sum(len(x) for x in head) > _HEADER_LIMIT:
                break
        if cut_at is not None:
            yield WarcProblem(base + pos, "corrupt_record", "truncated record: its WARC header is cut short")
            fh.seek(cut_at)
            continue
        head_bytes = b"".join(head)
        headers = _parse_headers(head_bytes.replace(b"\r\n", b"\n"))
        try:
            length = int(headers.get("content-length", ""))
        except ValueError:
            yield WarcProblem(
                base + pos, "corrupt_record", "WARC record without a valid Content-Length", headers
            )
            if not (resync and _seek_next_header(fh, pos + 1)):
                return
            continue
        if length > max_record_bytes:
            yield WarcProblem(
                base + pos,
                "record_too_large",
                f"record block of {length:,} bytes exceeds --max-record-bytes {max_record_bytes:,}",
                headers,
            )
            block_start = fh.tell()
            try:  # a lying Content-Length may point past the end of the file, or past any possible offset
                fh.seek(length, io.SEEK_CUR)
                beyond = resync and fh.tell() > os.fstat(fh.fileno()).st_size
            except (OSError, OverflowError, ValueError):  # ValueError: larger than any file offset
                beyond = True
            if beyond and not (resync and _seek_next_header(fh, block_start)):
                return
            continue
        block_start = fh.tell()
        block = fh.read(length)
        if len(block) < length:
            yield WarcProblem(
                base + pos,
                "corrupt_record",
                f"truncated record: Content-Length {length:,} but only {len(block):,} bytes left",
                headers,
            )
            return
        # A record cut short and followed by the next one: the block swallowed the next header.
        cut = _find_record_start(block, 1)
        if cut != -1 and headers.get("warc-type") != "resource":
            yield WarcProblem(
                base + pos,
                "corrupt_record",
                f"truncated record: a new WARC header starts {cut:,} bytes into its {length:,}-byte block",
                headers,
            )
            fh.seek(block_start + cut)
            continue
        record_bytes = head_bytes + (b"\r\n" if head_bytes.endswith(b"\r\n") else b"\n") + block + b"\r\n\r\n"
        item = _parse_record(record_bytes, max_record_bytes)
        if isinstance(item, str):
            yield WarcProblem(base + pos, "corrupt_record", item, headers)
            continue
        item.offset = base + pos
        item.raw_length = length
        yield item


def _seek_next_header(fh, start: int) -> bool:
    """Move `fh` to the next line starting with WARC/1. at or after `start`; False at end of file."""
    fh.seek(start)
    carry = b""
    offset = start
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return False
        data = carry + chunk
        i = _find_record_start(data)
        if i != -1:
            fh.seek(offset - len(carry) + i)
            return True
        carry = data[-16:]
        offset += len(chunk)


def _parse_record(record_bytes: bytes, max_bytes: int) -> WarcItem | str:
    """fastwarc's parse of one record, with its payload read (Content- and Transfer-Encoding decoded, at most
    `max_bytes + 1` bytes); an error message if it cannot be parsed."""
    try:
        for rec in ArchiveIterator(
            io.BytesIO(record_bytes), parse_http=True, stream_detect=False, auto_decode="all"
        ):
            return WarcItem(0, rec, len(record_bytes), _read_payload(rec, max_bytes))
    except Exception as e:  # noqa: BLE001 - fastwarc raises OSError/ValueError on malformed records
        return f"fastwarc could not parse the record ({e})"
    return "fastwarc could not parse the record"


def _read_payload(rec: WarcRecord, max_bytes: int) -> bytes | None:
    """The payload of records that can be documents; None for the others (requests, metadata...)."""
    if str(rec.record_type).rsplit(".", 1)[-1] not in ("response", "resource", "conversion"):
        return None
    try:
        return rec.reader.read(max_bytes + 1)
    except Exception as e:  # noqa: BLE001 - e.g. a broken gzip Content-Encoding
        raise ValueError(f"unreadable payload: {e}") from e


# ----------------------------------------------------------------------------------------- gzipped


def _iter_gzip_members(path: str, max_record_bytes: int) -> Iterator[WarcItem | WarcProblem]:
    with open(path, "rb") as fh:
        pos = 0
        first = True
        while True:
            fh.seek(pos)
            member = _read_member(fh, max_record_bytes)
            if member is None:
                return
            data, compressed_len, error = member
            if compressed_len is None:  # a decompression bomb: not inflated to its end
                headers = _parse_headers(data[: data.find(b"\r\n\r\n")].replace(b"\r\n", b"\n"))
                yield WarcProblem(
                    pos,
                    "record_too_large",
                    f"gzip member decompresses to more than {BOMB_FACTOR} x --max-record-bytes "
                    f"{max_record_bytes:,}; not inflated further",
                    headers,
                )
                nxt = _find_next_member(fh, pos + 1)
                if nxt is None:
                    return
                pos = nxt
                first = False
                continue
            if error == "too_large":
                if first and len(_WARC_LINE.findall(data[: 1 << 20])) > 1:
                    # One gzip stream for the whole file: let fastwarc stream it.
                    yield from _iter_streamed(path, max_record_bytes)
                    return
                headers = _parse_headers(data[: data.find(b"\r\n\r\n")].replace(b"\r\n", b"\n"))
                yield WarcProblem(
                    pos,
                    "record_too_large",
                    f"gzip member decompresses to more than --max-record-bytes {max_record_bytes:,}",
                    headers,
                )
            elif error is not None:
                yield WarcProblem(pos, "corrupt_record", error)
                nxt = _find_next_member(fh, pos + 1)
                if nxt is None:
                    return
                pos = nxt
                first = False
                continue
            else:
                # A record split over several gzip members (allowed, if unusual): join the members.
                while _ends_inside_a_record(data) and len(data) <= max_record_bytes:
                    fh.seek(pos + compressed_len)
                    more = _read_member(fh, max_record_bytes - len(data))
                    if more is None or more[2] is not None or more[0].startswith(b"WARC/1."):
                        break  # (a member that starts a record never continues a lying Content-Length)
                    data += more[0]
                    compressed_len += more[1]
                yield from _iter_plain(io.BytesIO(data), pos, max_record_bytes, resync=False)
            pos += compressed_len
            first = False


_CONTENT_LENGTH = re.compile(rb"\ncontent-length:[ \t]*(\d+)", re.I)


def _ends_inside_a_record(data: bytes) -> bool:
    """True when the last WARC record in `data` is cut short (its block continues in the next member)."""
    i = 0
    while True:
        while data.startswith((b"\r\n", b"\n"), i):
            i += 2 if data.startswith(b"\r\n", i) else 1
        if i >= len(data) or not data.startswith(b"WARC/1.", i):
            return False
        head_end = data.find(b"\r\n\r\n", i)
        if head_end == -1:
            return True
        m = _CONTENT_LENGTH.search(data, i, head_end + 2)
        if m is None:
            return False
        i = head_end + 4 + int(m.group(1))
        if i > len(data):
            return True


# An over-large member is inflated to its end (to find where the next member starts) only up to this many
# times --max-record-bytes; past that it is a decompression bomb, and the next member is found by scanning.
BOMB_FACTOR = 20


def _read_member(fh, max_bytes: int) -> tuple[bytes, int | None, str | None] | None:
    """(decompressed bytes, compressed length, error) of the gzip member at the file position; None at EOF.

    Stops keeping output past `max_bytes` (error "too_large", the member is still consumed to its end)."""
    d = zlib.decompressobj(31)
    out: list[bytes] = []
    size = 0
    fed = 0
    too_large = False
    started = False
    read_size = 1 << 15  # most members are one small record: read little first, then more
    while not d.eof:
        chunk = d.unconsumed_tail or fh.read(read_size)
        read_size = min(read_size * 4, _CHUNK)
        if not d.unconsumed_tail:
            fed += len(chunk)
        if not chunk:
            if not started:
                return None
            return b"".join(out), fed, "truncated gzip member (the file ends inside it)"
        started = True
        try:
            piece = d.decompress(chunk, _CHUNK)
        except zlib.error as e:
            return b"".join(out), fed, f"corrupt gzip member ({e})"
        if not too_large:
            out.append(piece)
            size += len(piece)
            if size > max_bytes:
                too_large = True
        else:
            size += len(piece)
            if size > BOMB_FACTOR * max_bytes:
                return b"".join(out), None, "too_large"
    return b"".join(out), fed - len(d.unused_data), ("too_large" if too_large else None)


def _find_next_member(fh, start: int) -> int | None:
    """Offset of the next gzip member at or after `start` that decompresses to a WARC record start."""
    fh.seek(start)
    offset = start
    carry = b""
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            return None
        data = carry + chunk
        base = offset - len(carry)
        i = data.find(GZIP_MAGIC)
        while i != -1:
            cand = base + i
            if _looks_like_record(fh, cand):
                return cand
            i = data.find(GZIP_MAGIC, i + 1)
        carry = data[-2:]
        offset += len(chunk)
        fh.seek(offset)


def _looks_like_record(fh, at: int) -> bool:
    here = fh.tell()
    fh.seek(at)
    try:
        head = zlib.decompressobj(31).decompress(fh.read(4096), 16)
    except zlib.error:
        return False
    finally:
        fh.seek(here)
    return head.startswith(b"WARC/1.")


def _iter_streamed(path: str, max_record_bytes: int) -> Iterator[WarcItem | WarcProblem]:
    """Whole-file gzip: fastwarc streams it; a failure ends the file and is reported where it happened."""
    last = 0
    try:
        for rec in ArchiveIterator(path, parse_http=True, auto_decode="all"):
            last = rec.stream_pos
            if rec.content_length > max_record_bytes:
                yield WarcProblem(
                    rec.stream_pos,
                    "record_too_large",
                    f"record of {rec.content_length:,} bytes exceeds --max-record-bytes",
                )
                continue
            try:
                payload = _read_payload(rec, max_record_bytes)
            except ValueError as e:
                yield WarcProblem(rec.stream_pos, "corrupt_record", str(e))
                continue
            yield WarcItem(rec.stream_pos, rec, rec.content_length, payload)
    except OSError as e:
        yield WarcProblem(
            last, "corrupt_record", f"unreadable after the record at decompressed offset {last} ({e})"
        )
