#!/usr/bin/env bash
# Build KenLM's lmplz and build_binary (not on PyPI) from the kenlm sdist and put them in VENV/bin.
set -euo pipefail
VENV=${1:-.venv}
if [ -x "$VENV/bin/lmplz" ] && [ -x "$VENV/bin/build_binary" ]; then
  exit 0
fi
need_apt=0
for pkg in cmake libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev \
           zlib1g-dev libbz2-dev liblzma-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt=1
done
if [ "$need_apt" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake libboost-program-options-dev \
      libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev >/dev/null
  else
    echo "build_kenlm: need cmake and Boost (program_options, system, thread, test) plus zlib/bz2/lzma headers;" >&2
    echo "build_kenlm: install them (e.g. apt-get install cmake libboost-all-dev zlib1g-dev libbz2-dev liblzma-dev)" >&2
    exit 1
  fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: "kenlm==0.3.0" -d "$work"
tar -xzf "$work"/kenlm-*.tar.gz -C "$work"
src=$(find "$work" -maxdepth 1 -type d -name 'kenlm-*' | head -1)
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$src/build" -j"$(nproc)" --target lmplz build_binary >/dev/null
cp "$src/build/bin/lmplz" "$src/build/bin/build_binary" "$VENV/bin/"
echo "build_kenlm: installed lmplz and build_binary in $VENV/bin"
