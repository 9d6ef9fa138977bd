"""Speech transcripts recognised by their content, whatever the file is called.

Forms (`Transcript.form`):

- `subtitles`: SRT or WebVTT (a `-->` timing line per cue), also without the .srt/.vtt suffix;
- `asr-bracket`: one cue per line, `[00:00:00,000 -> 00:00:02,160] text` or the whisper CLI's
  `[00:00.000 --> 00:05.000] text`;
- `asr-prefix`: one cue per line after a `hh:mm:ss` / `mm:ss` (optionally bracketed, with milliseconds)
  stamp, optionally `Name: text`;
- `speaker-stamps`: podcast/meeting exports where a recurring short name and a m:ss/mm:ss/hh:mm:ss stamp
  open each turn, with or without line breaks (`……这里。主持人 10:23 好的，……嘉宾 10:41 我觉得……`).

The timing goes; speaker turns (and pauses of 2 s or more) become paragraphs; speaker names go to
`speakers`, not to the text. Cue fragments of one utterance are joined without a space between Han
characters and with one between Latin words (subtitles.join). Everything said is kept: no line is dropped
except a rolling-caption repeat in SRT/VTT.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from corpus_tool.stages.ingest import subtitles
from corpus_tool.stages.ingest.subtitles import Cue, cues_to_text, seconds

MIN_CUES = 3
MIN_LINE_SHARE = 0.6  # cue lines among the non-empty lines

_T = r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?"
_BRACKET = re.compile(rf"^\s*\[\s*{_T}\s*-{{1,2}}>\s*{_T}\s*\]\s?(.*)$")
_PREFIX = re.compile(rf"^\s*[\[(]?{_T}[\])]?(?:\s+|$)(.*)$")
_NAME_CHARS = r"\u4e00-\u9fffA-Za-z0-9_·"
_COLON_NAME = re.compile(rf"^([{_NAME_CHARS}][{_NAME_CHARS} ]{{0,11}}?)\s*[:：]\s*(.*)$")
_STAMP = re.compile(r"(?<![\d:.,])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_NAME_CHAR = re.compile(rf"[{_NAME_CHARS}]")
MAX_NAME = 12


@dataclass(frozen=True)
class Transcript:
    text: str
    form: str
    speakers: list[str]


def detect(text: str) -> Transcript | None:
    """The transcript in `text`, or None when `text` is not one of the known transcript forms."""
    lines = [x for x in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if x.strip()]
    if not lines:
        return None
    timing = sum(1 for x in lines if subtitles.TIMING.match(x))
    if timing >= 2 and timing * 5 >= len(lines) and not _BRACKET.match(lines[0]):
        cues = subtitles.parse_cues(text)
        if cues:
            return Transcript(cues_to_text(cues), "subtitles", subtitles.speakers_of(cues))
    for form, parse in (("asr-bracket", _bracket_cues), ("asr-prefix", _prefix_cues)):
        cues = parse(lines)
        if cues is not None:
            return Transcript(cues_to_text(cues, drop_repeats=False), form, subtitles.speakers_of(cues))
    return _speaker_stamps(text)


def _bracket_cues(lines: list[str]) -> list[Cue] | None:
    matches = [_BRACKET.match(x) for x in lines]
    if sum(m is not None for m in matches) < max(2, MIN_LINE_SHARE * len(lines)):
        return None
    cues = []
    for line, m in zip(lines, matches, strict=True):
        if m is None:  # a line continuing the previous cue
            if cues:
                cues[-1] = cues[-1]._replace(text=subtitles.join([cues[-1].text, line.strip()]))
            continue
        g = m.groups()
        cues.append(Cue(seconds(*g[0:4]), seconds(*g[4:8]), None, g[8].strip()))
    return _with_speakers([c for c in cues if c.text])


def _prefix_cues(lines: list[str]) -> list[Cue] | None:
    matches = [_PREFIX.match(x) for x in lines]
    if sum(m is not None for m in matches) < max(MIN_CUES, MIN_LINE_SHARE * len(lines)):
        return None
    cues = []
    for line, m in zip(lines, matches, strict=True):
        if m is None:
            if cues:
                cues[-1] = cues[-1]._replace(text=subtitles.join([cues[-1].text, line.strip()]))
            continue
        g = m.groups()
        cues.append(Cue(seconds(*g[0:3]), None, None, g[4].strip()))
    # No end times: a pause is the gap between starts minus nothing, so pauses never split; speakers do.
    return _with_speakers([c for c in cues if c.text])


def _with_speakers(cues: list[Cue]) -> list[Cue]:
    """Cues whose text starts with `Name:` for a name that recurs get the name as their speaker, when such
    cues are at least half of them (so that a `注意：` said twice stays in the text)."""
    names: Counter[str] = Counter()
    found = []
    for c in cues:
        m = _COLON_NAME.match(c.text)
        found.append(m)
        if m:
            names[m.group(1).strip()] += 1
    if sum(n for n in names.values() if n >= 2) * 2 < len(cues):
        return cues
    out = []
    speaker = None
    for c, m in zip(cues, found, strict=True):
        if m and names[m.group(1).strip()] >= 2:
            speaker = m.group(1).strip()
            c = c._replace(speaker=speaker, text=m.group(2).strip())
        elif speaker is not None:
            c = c._replace(speaker=speaker)
        if c.text:
            out.append(c)
    return out


def _name_run(text: str, end: int) -> str:
    """The name-like characters ending at `end` (after skipping spaces), at most MAX_NAME + 3 of them."""
    i = end
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    j = i
    while j > 0 and i - j < MAX_NAME + 3:
        ch = text[j - 1]
        if not (_NAME_CHAR.match(ch) or (ch == " " and j > 1 and text[j - 2].isalpha() and text[j].isdigit())):
            break
        j -= 1
    return text[j:i].lstrip()


def _speaker_stamps(text: str) -> Transcript | None:
    stamps = list(_STAMP.finditer(text))
    if len(stamps) < MIN_CUES:
        return None
    runs = [_name_run(text, m.start()) for m in stamps]
    counts: Counter[str] = Counter()
    left: dict[str, set[str]] = {}  # the characters seen just before each candidate ("^": none, a boundary)
    for run in runs:
        for n in range(1, min(len(run), MAX_NAME) + 1):
            counts[run[-n:]] += 1
            left.setdefault(run[-n:], set()).add(run[-n - 1] if n < len(run) else "^")

    def name_of(run: str) -> str | None:
        """The longest recurring suffix of the run that is a name: seen after a boundary or after different
        characters (not a phrase that happens to repeat), and not much rarer than its own last part."""
        for n in range(min(len(run), MAX_NAME), 0, -1):
            s = run[-n:]
            if not s.strip() or s.strip().isdigit() or counts[s] < 2:
                continue
            if left[s] != {"^"} and len(left[s]) < 2:
                continue
            shorter = counts[run[-n + 1 :]] if n > 1 else 0
            if counts[s] * 2 >= shorter:
                return s.strip()
        return None

    names = [name_of(r) for r in runs]
    named = sum(n is not None for n in names)
    times = [seconds(None, a, b) if c is None else seconds(a, b, c) for a, b, c in (m.groups() for m in stamps)]
    rising = sum(b >= a for a, b in zip(times, times[1:], strict=False))
    if named < max(MIN_CUES, 0.8 * len(stamps)) or rising < 0.8 * (len(stamps) - 1):
        return None
    cues: list[Cue] = []
    pos = 0
    for m, name in zip(stamps, names, strict=True):
        start = m.start() - len(_name_tail(text, m.start(), name))
        if start > pos:
            _append(cues, text[pos:start])
        cues.append(Cue(None, None, name, ""))
        pos = m.end()
    _append(cues, text[pos:])
    speakers = subtitles.speakers_of(cues)
    paragraphs = (subtitles.join([x.strip() for x in c.text.split("\n") if x.strip()] or [""]) for c in cues)
    body = "\n\n".join(p for p in paragraphs if p)
    return Transcript(body, "speaker-stamps", speakers)


def _name_tail(text: str, stamp_start: int, name: str | None) -> str:
    """The text between the start of the speaker's name and the stamp (the name and any spaces)."""
    if name is None:
        return ""
    i = stamp_start
    while i > 0 and text[i - 1] in " \t":
        i -= 1
    return text[i - len(name) : stamp_start] if text[i - len(name) : i] == name else text[i:stamp_start]


def _append(cues: list[Cue], piece: str) -> None:
    piece = piece.strip()
    if not piece:
        return
    if cues:
        cues[-1] = cues[-1]._replace(text=cues[-1].text + "\n" + piece if cues[-1].text else piece)
    else:
        cues.append(Cue(None, None, None, piece))
