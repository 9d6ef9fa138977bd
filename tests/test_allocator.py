"""corpus_tool/allocator.py: freed numpy temporaries keep their pages, so the next batch does not fault them in
again (counted in page faults, not time)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# 48 MB arrays: above the largest mmap threshold glibc adapts to by itself (32 MB), so without the settings
# each one is mmapped and faulted in afresh; numpy's huge-page advice is off so that faults count 4 KB pages.
PROBE = """
import resource, sys
import numpy as np
from corpus_tool.allocator import tune_malloc
print(tune_malloc() if sys.argv[1] == "tune" else "untuned")
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(6 << 20); del a
before = faults()
for _ in range(10):
    a = np.ones(6 << 20)
    del a
print(faults() - before)
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")


def probe(mode: str, env_extra: dict[str, str] | None = None) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update({"NUMPY_MADVISE_HUGEPAGE": "0", **(env_extra or {})})
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env, check=True)
    took, faults = out.stdout.split()
    return took, int(faults)


@linux_only
def test_freed_batch_arrays_are_reused_not_faulted_in_again():
    took, tuned = probe("tune")
    _, untuned = probe("plain")
    assert took == "True"
    assert untuned > 100_000, untuned  # 10 x 12,288 pages
    assert tuned < untuned / 50, (tuned, untuned)


@linux_only
def test_settings_a_user_gave_glibc_win():
    took, faults = probe("tune", {"MALLOC_MMAP_THRESHOLD_": str(128 << 10)})  # glibc's default, but fixed
    assert took == "False"
    assert faults > 100_000, faults
