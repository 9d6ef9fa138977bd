"""Shared fixtures. Tests write their own fixtures; nothing here reads ../shared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def corpus_tool(*args: str, input: str | bytes | None = None, check: bool = True, env: dict | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess (as users do) and return the completed process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "corpus_tool", *args],
        input=input.encode() if isinstance(input, str) else input,
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"corpus-tool {' '.join(args)} exited {proc.returncode}\nstderr:\n{proc.stderr.decode(errors='replace')}"
        )
    return proc


@pytest.fixture
def run_cli():
    return corpus_tool
