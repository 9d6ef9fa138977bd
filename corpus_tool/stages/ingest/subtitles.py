"""SRT and WebVTT transcripts to plain text: cue numbers, timestamps, settings, NOTE/STYLE/REGION blocks and
inline tags are dropped; cue lines are joined into paragraphs.

A new paragraph starts when the speaker changes (VTT `<v Name>`), after a pause of `PAUSE_S` seconds or
more between cues, or at a sentence end once the paragraph is `PARAGRAPH_CHARS` long. Cue lines are joined
without a space between CJK characters and with one space otherwise. A cue line repeating the previous one
(rolling ASR captions) is kept once.
"""

from __future__ import annotations

import re

PAUSE_S = 2.0
PARAGRAPH_CHARS = 300

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <i>, <c.x>, <00:00:01.000>, {\an8}
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_SENTENCE_END = tuple('。！？!?…」』”".')
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def parse_cues(text: str) -> list[tuple[float, float, str | None, str]]:
    """(start, end, speaker, text) for every cue of an SRT or VTT file."""
    cues = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        head = lines[0].strip()
        # A header block may run straight into a cue with no blank line: skip it only if it has no timing.
        has_timing = any(_TIMING.match(x) for x in lines)
        if head.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) and not has_timing:
            continue
        for i, line in enumerate(lines):
            m = _TIMING.match(line)
            if m:
                start = _seconds(*m.groups()[0:4])
                end = _seconds(*m.groups()[4:8])
                body = lines[i + 1 :]
                break
        else:
            continue
        speaker = None
        parts = []
        for line in body:
            v = _VOICE.search(line)
            if v:
                speaker = v.group(1).strip()
            clean = _TAG.sub("", line).strip()
            if clean:
                parts.append(clean)
        if parts:
            cues.append((start, end, speaker, _join(parts)))
    return cues


def _join(parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        sep = "" if _CJK.match(out[-1]) and _CJK.match(p[0]) else " "
        out += sep + p
    return out


def subtitles_to_text(text: str) -> str:
    """Plain text of a transcript: paragraphs separated by a blank line."""
    paragraphs: list[list[str]] = []
    prev_end = None
    prev_speaker = None
    prev_line = None
    for start, end, speaker, line in parse_cues(text):
        if line == prev_line:
            prev_end = end
            continue
        current = paragraphs[-1] if paragraphs else None
        length = sum(len(x) for x in current) if current else 0
        new_paragraph = (
            current is None
            or (speaker is not None and speaker != prev_speaker)
            or (prev_end is not None and start - prev_end >= PAUSE_S)
            or (length >= PARAGRAPH_CHARS and current[-1].endswith(_SENTENCE_END))
        )
        if new_paragraph:
            paragraphs.append([line])
        else:
            current.append(line)
        prev_end, prev_speaker, prev_line = end, speaker if speaker is not None else prev_speaker, line
    return "\n\n".join(_join(p) for p in paragraphs)
