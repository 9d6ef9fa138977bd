"""Train a KenLM n-gram model with KenLM's own `lmplz` and `build_binary`.

A model is a directory: `model.bin` (KenLM binary) and `model.json` (how its text was tokenized, the order
and the training data), so that `perplexity` tokenizes the way the model was trained. lmplz is on no package
index; `corpus-tool setup kenlm` (corpus_tool/setup_kenlm.py) builds it from the kenlm sdist into the environment.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from corpus_tool import __version__, shards
from corpus_tool.errors import BadInputError, MissingDependencyError, UsageError
from corpus_tool.modeldir import replace_dir_atomically

MODEL_FILE = "model.bin"
META_FILE = "model.json"
TOKENIZERS = ("char", "jieba")
TEXT_SUFFIXES = (".txt", ".md")

_HOW_TO_GET = (
    "KenLM's lmplz and build_binary are on no package index; build them into this environment with "
    "`corpus-tool setup kenlm` (about 1.5 minutes; needs cmake, a C++ compiler and Boost: apt-get install "
    "cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev "
    "zlib1g-dev libbz2-dev liblzma-dev)"
)


def find_kenlm_binary(name: str) -> str:
    """`name` on PATH or next to the running Python (the virtualenv's bin/), else a clear error."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise MissingDependencyError(f"{name}: not found on PATH or in {beside.parent}. {_HOW_TO_GET}")


def kenlm_binaries_available() -> bool:
    """Whether both `lmplz` and `build_binary` can be found (the demo trains its LM only then)."""
    try:
        find_kenlm_binary("lmplz")
        find_kenlm_binary("build_binary")
    except MissingDependencyError:
        return False
    return True


# ------------------------------------------------------------------------------------------- tokenizing


def tokenize_line(line: str, tokenizer: str) -> str:
    """One line as space-separated tokens: characters (whitespace dropped) or jieba words."""
    if tokenizer == "char":
        return " ".join("".join(line.split()))
    import jieba  # noqa: PLC0415
    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" chatter on stderr

    return " ".join(w for w in jieba.cut("".join(line.split()), HMM=True) if w.strip())


# ---------------------------------------------------------------------------------------------- inputs


def list_training_files(inputs: list[str]) -> list[str]:
    """Text (.txt, .md) and Parquet files named by `inputs` (directories are searched recursively, leaving
    out our rejected/ and manifests/ folders)."""
    found: list[str] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in (shards.REJECTED_DIR, shards.MANIFEST_DIR)
                                 and not d.startswith("."))
                found.extend(str(Path(root) / f) for f in sorted(files)
                             if f.endswith((*TEXT_SUFFIXES, shards.PARQUET_SUFFIX)) and not f.startswith("."))
        elif p.is_file():
            found.append(str(p))
        else:
            matches = shards.expand_inputs([item], (*TEXT_SUFFIXES, shards.PARQUET_SUFFIX))
            found.extend(matches)
    if not found:
        raise UsageError(f"no .txt, .md or .parquet training files in {' '.join(inputs)}")
    return found


def iter_texts(paths: list[str], batch_size: int = 512) -> Iterator[str]:
    """Document texts: a text file is one document; a Parquet shard gives its `text` column."""
    for path in paths:
        if path.endswith(shards.PARQUET_SUFFIX):
            for batch in shards.iter_document_batches(path, batch_size):
                for t in batch.column("text").to_pylist():
                    if t:
                        yield t
        else:
            try:
                yield Path(path).read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise BadInputError(path, f"byte {e.start}", "not UTF-8 text") from e
            except OSError as e:
                raise BadInputError(path, None, f"cannot read ({e.strerror or e})") from e


# ------------------------------------------------------------------------------------------------ train


def train_lm(
    inputs: list[str],
    output: str | Path,
    *,
    order: int = 5,
    tokenizer: str = "char",
    memory: str = "512M",
    temp_dir: str | None = None,
    prune: str | None = None,
    discount_fallback: bool = True,
) -> dict[str, Any]:
    """Tokenize the inputs, run lmplz and build_binary, and write OUTPUT/model.bin + model.json.

    The output directory is replaced as a whole, atomically (a new one is built beside it and renamed).
    """
    if tokenizer not in TOKENIZERS:
        raise UsageError(f"--tokenizer must be one of {', '.join(TOKENIZERS)}, not {tokenizer!r}")
    if not 2 <= order <= 9:
        raise UsageError(f"--order must be between 2 and 9 (lmplz's compiled maximum), not {order}")
    lmplz = find_kenlm_binary("lmplz")
    build_binary = find_kenlm_binary("build_binary")
    out = Path(output)
    files = list_training_files(inputs)
    started = time.perf_counter()
    with replace_dir_atomically(out, META_FILE) as work:
        corpus = work / "corpus.txt"
        n_docs = n_lines = n_tokens = 0
        with open(corpus, "w", encoding="utf-8") as fh:
            for text in iter_texts(files):
                n_docs += 1
                for line in text.split("\n"):
                    toks = tokenize_line(line, tokenizer)
                    if toks:
                        fh.write(toks + "\n")
                        n_lines += 1
                        n_tokens += toks.count(" ") + 1
        if n_tokens == 0:
            raise UsageError(f"no text to train on in {' '.join(inputs)}")
        arpa = work / "model.arpa"
        tmp = temp_dir or str(work)
        cmd = [lmplz, "-o", str(order), "-S", memory, "-T", tmp, "--text", str(corpus), "--arpa", str(arpa)]
        if discount_fallback:
            cmd.append("--discount_fallback")
        if prune:
            cmd += ["--prune", *prune.split()]
        _run(cmd, "lmplz")
        _run([build_binary, str(arpa), str(work / MODEL_FILE)], "build_binary")
        arpa.unlink()
        corpus.unlink()
        meta = {
            "format": "kenlm-binary",
            "tokenizer": tokenizer,
            "order": order,
            "lmplz_args": cmd[1:3] + ["-S", memory] + (["--discount_fallback"] if discount_fallback else [])
            + (["--prune", *prune.split()] if prune else []),
            "trained_on": files,
            "documents": n_docs,
            "lines": n_lines,
            "tokens": n_tokens,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "tool_version": __version__,
        }
        (work / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    meta["seconds"] = round(time.perf_counter() - started, 2)
    return meta


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise UsageError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")


def load_model_meta(model: str | Path) -> tuple[Path, dict[str, Any]]:
    """(path of the KenLM file, metadata) for a model directory, or for a bare .bin/.arpa file (which is
    then assumed to use character tokens, the default)."""
    p = Path(model)
    if p.is_dir():
        meta_path, bin_path = p / META_FILE, p / MODEL_FILE
        if not meta_path.exists() or not bin_path.exists():
            raise UsageError(f"{p}: not a model directory (needs {MODEL_FILE} and {META_FILE}; make one with "
                             "`corpus-tool train-lm TEXT... -o DIR`)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise UsageError(f"{meta_path}: unreadable model metadata ({e})") from e
        if meta.get("tokenizer") not in TOKENIZERS:
            raise UsageError(f"{meta_path}: unknown tokenizer {meta.get('tokenizer')!r}")
        return bin_path, meta
    if p.is_file():
        side = p.with_suffix(".json")
        meta = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {"tokenizer": "char"}
        return p, meta
    raise UsageError(f"{p}: no such model (train one with `corpus-tool train-lm TEXT... -o {p}`)")
