#!/usr/bin/env bash
# Build KenLM's lmplz and build_binary (on no package index; only `train-lm` needs them) into VENV/bin.
# The build itself is `corpus-tool setup kenlm` (corpus_tool/setup_kenlm.py); this script first installs
# the Debian build packages it needs when it runs as root (make test, CI).
set -euo pipefail
VENV=${1:-.venv}
if [ -x "$VENV/bin/lmplz" ] && [ -x "$VENV/bin/build_binary" ]; then
  exit 0
fi
need_apt=0
for pkg in cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
           zlib1g-dev libbz2-dev liblzma-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt=1
done
if [ "$need_apt" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake g++ \
    libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
    zlib1g-dev libbz2-dev liblzma-dev >/dev/null
fi
"$VENV/bin/corpus-tool" setup kenlm --bin-dir "$VENV/bin"
