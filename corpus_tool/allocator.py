"""glibc malloc settings for batch work on large numpy arrays.

Every stage works batch by batch on arrays of a few MB (code points, classes, n-gram hashes). glibc serves
each of them with a fresh mmap and unmaps it on free, so every batch faults its pages in again and the kernel
zeroes them: a third of dedup signatures' CPU was system time. Keeping such blocks in the heap
(M_MMAP_THRESHOLD) and not trimming it after every batch (M_TRIM_THRESHOLD) reuses the pages. Peak RSS does
not grow: freed blocks are reused before the heap grows.

Settings a user gives glibc through its environment variables (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)
win; on other C libraries this does nothing.
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 << 20  # blocks up to this size come from the heap
TRIM_THRESHOLD = 512 << 20  # free memory at the heap's top kept for the next batch


def tune_malloc() -> bool:
    """Apply the settings above; True when glibc took them."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: glibc's, where it is the C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
