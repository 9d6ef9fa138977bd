"""SRT and WebVTT transcripts to plain text: cue numbers, timestamps, settings, NOTE/STYLE/REGION blocks and
inline tags are dropped; cue lines are joined into paragraphs.

A new paragraph starts when the speaker changes (VTT `<v Name>`), after a pause of `PAUSE_S` seconds or
more between cues, at a sentence end once the paragraph is `PARAGRAPH_CHARS` long, or at any cue boundary
once it is `MAX_PARAGRAPH_CHARS` long (unpunctuated ASR). Cue lines are joined without a space between CJK
characters and with one space otherwise. In SRT/VTT, a cue line repeating the previous one (rolling ASR
captions) is kept once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

PAUSE_S = 2.0
PARAGRAPH_CHARS = 300
MAX_PARAGRAPH_CHARS = 1000

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <i>, <c.x>, <00:00:01.000>, {\an8}
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_SENTENCE_END = tuple('。！？!?…」』”".')
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


class Cue(NamedTuple):
    start: float | None
    end: float | None
    speaker: str | None
    text: str


def seconds(h: str | None, m: str, s: str, ms: str | None = None) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int((ms or "0").ljust(3, "0")[:3]) / 1000


def parse_cues(text: str) -> list[Cue]:
    """(start, end, speaker, text) for every cue of an SRT or VTT file."""
    cues = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        head = lines[0].strip()
        # A header block may run straight into a cue with no blank line: skip it only if it has no timing.
        has_timing = any(TIMING.match(x) for x in lines)
        if head.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) and not has_timing:
            continue
        for i, line in enumerate(lines):
            m = TIMING.match(line)
            if m:
                start = seconds(*m.groups()[0:4])
                end = seconds(*m.groups()[4:8])
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
            cues.append(Cue(start, end, speaker, join(parts)))
    return cues


def join(parts: list[str]) -> str:
    """Fragments of one utterance as one string: no space between CJK characters, one between words."""
    out = parts[0]
    for p in parts[1:]:
        if not p:
            continue
        sep = "" if out and _CJK.match(out[-1]) and _CJK.match(p[0]) else " "
        out = out + sep + p if out else p
    return out


def cues_to_text(cues: list[Cue], drop_repeats: bool = True) -> str:
    """Paragraphs (separated by a blank line) of a list of cues; see the module's docstring."""
    paragraphs: list[list[str]] = []
    prev_end = None
    prev_speaker = None
    prev_line = None
    for start, end, speaker, line in cues:
        if drop_repeats and line == prev_line:
            prev_end = end
            continue
        current = paragraphs[-1] if paragraphs else None
        length = sum(len(x) for x in current) if current else 0
        new_paragraph = (
            current is None
            or (speaker is not None and speaker != prev_speaker)
            or (prev_end is not None and start is not None and start - prev_end >= PAUSE_S)
            or (length >= PARAGRAPH_CHARS and current[-1].endswith(_SENTENCE_END))
            or length >= MAX_PARAGRAPH_CHARS
        )
        if new_paragraph:
            paragraphs.append([line])
        else:
            current.append(line)
        prev_end, prev_speaker, prev_line = end, speaker if speaker is not None else prev_speaker, line
    return "\n\n".join(join(p) for p in paragraphs)


def speakers_of(cues: list[Cue]) -> list[str]:
    """The speakers named in the cues, in order of first appearance."""
    return list(dict.fromkeys(c.speaker for c in cues if c.speaker))


def subtitles_to_text(text: str) -> str:
    """Plain text of a transcript: paragraphs separated by a blank line."""
    return cues_to_text(parse_cues(text))
