#!/usr/bin/env bash
# The test command (README: `make test`; .ci/run runs exactly that).
set -euo pipefail
VENV=${1:-.venv}
[ $# -gt 0 ] && shift  # the rest are pytest arguments
cd "$(dirname "$0")/.."
# Slurm's daemons from Debian, for the real array-job tests (they start and stop the daemons themselves).
if ! command -v slurmctld >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null) \
      || echo "WARNING: could not install Slurm from Debian's packages; the Slurm tests will be SKIPPED" >&2
  else
    echo "WARNING: Slurm is not installed and cannot be installed here; the Slurm tests will be SKIPPED" >&2
  fi
fi
# Chromium, so that the report's HTML is opened in a real headless browser by the tests.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      chromium >/dev/null) \
    || echo "WARNING: could not install chromium; the headless-browser report test will be SKIPPED" >&2
fi
"$VENV/bin/ruff" check corpus_tool tests benchmarks
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
