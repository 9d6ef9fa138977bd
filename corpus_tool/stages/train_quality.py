"""`corpus-tool train-quality`: train the fastText quality classifier on what the user calls good and bad.

Memory stays bounded: documents are read one at a time (by ingest's readers, so shards, WARC, JSONL, HTML
and text all work), prepared, and appended to a per-class temporary file; only byte offsets stay in memory
(8 bytes per document, at most `max_docs` per class, chosen by a seeded reservoir). The training file is
then written in a seeded shuffled order, the smaller class repeated (`oversample`) or the larger one cut
(`undersample`) so that both weigh the same.

Repeatable training: fastText 0.9.3 initializes only `thread`/10 of its input matrix (the rest is whatever
malloc returned, hence its random "Encountered NaN"), and with several threads its lock-free updates race.
Training therefore runs in a child process started with MALLOC_PERTURB_=255, which makes that memory zeros,
and with one thread by default: the same inputs, seed and settings then give a byte-identical model.bin.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from corpus_tool import __version__, schema, shards
from corpus_tool.errors import UsageError
from corpus_tool.modeldir import replace_dir_atomically
from corpus_tool.stages.quality_model import (
    CARD_FILE,
    CARD_FORMAT,
    MODEL_FILE,
    NEGATIVE,
    POSITIVE,
    QualityModel,
    TextPreparation,
    binary_figures,
)

BALANCE = ("oversample", "undersample", "none")
HYPER_DEFAULTS: dict[str, Any] = {
    "epoch": 20, "lr": 0.2, "dim": 32, "word_ngrams": 2, "min_count": 1, "bucket": 200_000, "threads": 1,
}


class ClassData:
    """One class's prepared documents in a temporary file: offsets of training and validation lines."""

    def __init__(self, label: str, path: Path):
        self.label = label
        self.path = path
        self.train = array("q")
        self.valid = array("q")
        self.read = 0
        self.empty = 0
        self.sampled_out = 0


def input_files(inputs: list[str]) -> list[dict[str, Any]]:
    """Every file the inputs name (as ingest lists them), with its size and sha256, for the card."""
    from corpus_tool.stages.ingest import formats  # noqa: PLC0415

    found, _ = formats.list_ingest_shards(inputs, 1000)
    paths = sorted({p for s in found for p in s.paths if p != shards.STDIN})
    return [shards.describe_file(p) for p in paths]


def iter_documents(inputs: list[str], batch_size: int = 256):
    """Texts of the documents ingest keeps from `inputs` (its readers, its rejections of empty/mojibake)."""
    from corpus_tool.stages.ingest.stage import IngestStage  # noqa: PLC0415

    reader = IngestStage()
    for shard in reader.list_shards(inputs):
        reader.begin_shard(shard)
        for kept, _rejected in reader.process_shard(shard, batch_size):
            yield from kept.column(schema.TEXT).to_pylist()


def collect(inputs: list[str], data: ClassData, prepare: TextPreparation, *, valid_fraction: float,
            max_docs: int, rng: random.Random) -> None:
    """Prepare every document of one class into `data.path`; split train/valid; reservoir-cap training."""
    seen_train = 0
    with open(data.path, "wb") as fh:
        for text in iter_documents(inputs):
            data.read += 1
            line = prepare(text)
            if not line.strip():
                data.empty += 1
                continue
            offset = fh.tell()
            fh.write(line.encode("utf-8") + b"\n")
            kept = data.read - data.empty  # exact, stratified and spread: every 1/fraction-th document
            if int(kept * valid_fraction) > int((kept - 1) * valid_fraction):
                data.valid.append(offset)
                continue
            seen_train += 1
            if len(data.train) < max_docs:
                data.train.append(offset)
            else:
                j = rng.randrange(seen_train)
                data.sampled_out += 1
                if j < max_docs:
                    data.train[j] = offset


def _read_line(fh, offset: int) -> str:
    fh.seek(offset)
    return fh.readline().decode("utf-8").rstrip("\n")


def write_training_file(path: Path, classes: list[ClassData], balance: str, rng: random.Random
                        ) -> dict[str, int]:
    """The fastText training file, shuffled; returns the number of lines per label after balancing."""
    sizes = [len(c.train) for c in classes]
    target = max(sizes) if balance == "oversample" else min(sizes) if balance == "undersample" else None
    order: list[np.ndarray] = []
    np_rng = np.random.default_rng(rng.randrange(2**32))
    per_label: dict[str, int] = {}
    for k, c in enumerate(classes):
        idx = np.arange(len(c.train), dtype=np.int64)
        if target is not None and target != len(idx):
            if target > len(idx):  # repeat whole copies, then a random part of one more
                reps, extra = divmod(target, len(idx))
                idx = np.concatenate([np.tile(idx, reps), np_rng.choice(idx, extra, replace=False)])
            else:
                idx = np.sort(np_rng.choice(idx, target, replace=False))
        per_label[c.label] = int(idx.size)
        order.append(np.stack([np.full(idx.size, k, dtype=np.int64), idx], axis=1))
    rows = np.concatenate(order)
    rows = rows[np_rng.permutation(len(rows))]
    handles = [open(c.path, "rb") for c in classes]  # noqa: SIM115 - closed below
    try:
        with open(path, "w", encoding="utf-8") as out:
            for k, i in rows:
                c = classes[int(k)]
                out.write(f"{c.label} {_read_line(handles[int(k)], c.train[int(i)])}\n")
    finally:
        for h in handles:
            h.close()
    return per_label


def _fit_in_child(train_file: Path, model_file: Path, hyper: dict[str, Any], seed: int) -> None:
    """Run fastText training in a child process with malloc's fresh memory zeroed (see the module doc)."""
    args = {"input": str(train_file), "output": str(model_file), "seed": seed, **hyper}
    env = dict(os.environ, MALLOC_PERTURB_="255", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-m", "corpus_tool.stages.train_quality", json.dumps(args)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not model_file.is_file():
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise UsageError(f"fastText training failed (exit {proc.returncode}): {tail}")


def _child_main(spec: str) -> None:
    import fasttext  # noqa: PLC0415

    a = json.loads(spec)
    model = fasttext.train_supervised(
        input=a["input"], epoch=int(a["epoch"]), lr=float(a["lr"]), dim=int(a["dim"]),
        wordNgrams=int(a["word_ngrams"]), minCount=int(a["min_count"]), bucket=int(a["bucket"]),
        thread=int(a["threads"]), seed=int(a["seed"]), loss="softmax", verbose=0,
    )
    model.save_model(a["output"])


def validate(model_dir: Path, classes: list[ClassData]) -> dict[str, Any] | None:
    """Precision, recall and AUC on the held-back documents (already prepared, so scored as is)."""
    if not any(len(c.valid) for c in classes):
        return None
    model = QualityModel(model_dir)
    labels, scores = [], []
    for c in classes:
        with open(c.path, "rb") as fh:
            lines = [_read_line(fh, off) for off in c.valid]
        for start in range(0, len(lines), 1024):
            scores.append(model.scores_of_prepared(lines[start:start + 1024]))
        labels.append(np.full(len(lines), c.label == POSITIVE))
    return binary_figures(np.concatenate(labels), np.concatenate(scores) if scores else np.zeros(0))


def train_quality(
    positive: list[str],
    negative: list[str],
    output: str | Path,
    *,
    features: str = "char",
    max_chars: int = 2000,
    valid_fraction: float = 0.1,
    balance: str = "oversample",
    max_docs: int = 1_000_000,
    seed: int = 0,
    **hyper: Any,
) -> dict[str, Any]:
    """Train, validate and write OUTPUT/model.bin + card.json (the directory is replaced atomically)."""
    if not positive or not negative:
        raise UsageError("train-quality needs --positive and --negative inputs")
    if balance not in BALANCE:
        raise UsageError(f"--balance must be one of {', '.join(BALANCE)}, not {balance!r}")
    if not 0.0 <= valid_fraction < 1.0:
        raise UsageError(f"--valid-fraction must be in [0, 1), not {valid_fraction}")
    if max_docs < 1:
        raise UsageError(f"--max-docs must be positive, not {max_docs}")
    hp = {**HYPER_DEFAULTS, **{k: v for k, v in hyper.items() if v is not None}}
    unknown = set(hp) - set(HYPER_DEFAULTS)
    if unknown:
        raise UsageError(f"unknown hyper-parameter(s): {sorted(unknown)}")
    prepare = TextPreparation(features, max_chars)
    started = time.perf_counter()
    inputs = {"positive": input_files(positive), "negative": input_files(negative)}
    with replace_dir_atomically(Path(output), CARD_FILE) as work:
        rng = random.Random(seed)
        classes = [ClassData(POSITIVE, work / "positive.txt"), ClassData(NEGATIVE, work / "negative.txt")]
        for c, ins in zip(classes, (positive, negative), strict=True):
            collect(ins, c, prepare, valid_fraction=valid_fraction, max_docs=max_docs, rng=rng)
            if not c.train:
                side = "positive" if c.label == POSITIVE else "negative"
                raise UsageError(f"no {side} training document in {' '.join(ins)} (after --valid-fraction)")
        train_file = work / "train.txt"
        per_label = write_training_file(train_file, classes, balance, rng)
        _fit_in_child(train_file, work / MODEL_FILE, hp, seed)
        train_file.unlink()
        card: dict[str, Any] = {
            "format": CARD_FORMAT,
            "labels": {"positive": POSITIVE, "negative": NEGATIVE},
            "score": "quality_score = P(positive) from fastText's softmax, in [0, 1]",
            "inputs": {
                side: {"arguments": list(args), "files": inputs[side]}
                for side, args in (("positive", positive), ("negative", negative))
            },
            "documents": {
                side: {"read": c.read, "empty_after_preparation": c.empty, "train": len(c.train),
                       "train_sampled_out": c.sampled_out, "valid": len(c.valid),
                       "train_lines_after_balance": per_label[c.label]}
                for side, c in (("positive", classes[0]), ("negative", classes[1]))
            },
            "text_preparation": prepare.describe(),
            "balance": balance,
            "valid_fraction": valid_fraction,
            "max_docs_per_class": max_docs,
            "seed": seed,
            "hyperparameters": {**hp, "loss": "softmax"},
            "repeatable": hp["threads"] == 1,
            "tool_version": __version__,
            "fasttext_version": _fasttext_version(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (work / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        card["validation"] = validate(work, classes)
        for c in classes:
            c.path.unlink()
        card["seconds"] = round(time.perf_counter() - started, 2)
        (work / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return card


def _fasttext_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("fasttext")
    except PackageNotFoundError:
        return None


if __name__ == "__main__":  # the training child process (see _fit_in_child)
    _child_main(sys.argv[1])
