"""Model directories (train-lm, train-quality) are built beside their final place and swapped in whole.

A reader never sees a half-written model, a failed training leaves the previous model as it was, and a
folder that is not one of our models is never replaced.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus_tool.errors import OutputError


def remove_stale_work_dirs(out: Path) -> None:
    """Delete the work directories a killed training (SIGKILL, OOM kill) left beside `out`: never complete,
    never read, but disk space, and clutter that a rerun would otherwise leave for good. (The directory
    twin of shards.remove_temporaries, whose policy it follows: every one of `out`'s, whatever its PID.)"""
    for stale in out.parent.glob(f".{glob.escape(out.name)}.tmp-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)


@contextmanager
def replace_dir_atomically(out: Path, marker: str) -> Iterator[Path]:
    """Yield a fresh work directory beside `out`; on success it becomes `out` (an old model there is
    replaced), on any failure it is deleted. `marker` is the file that says a folder is our model."""
    if out.exists() and not (out / marker).exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out}: exists and is not a corpus-tool model directory; not overwriting it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_work_dirs(out)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        work.chmod(0o777 & ~umask)  # mkdtemp makes it 0700; a model is shared like any output
    except OSError as e:
        raise OutputError(f"{out}: cannot create the model directory ({e.strerror or e})") from e
    try:
        yield work
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            work.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
