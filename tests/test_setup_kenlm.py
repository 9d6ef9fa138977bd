"""`corpus-tool setup kenlm`: the real build runs in `make test` (scripts/build_kenlm.sh calls it, and the
perplexity tests use its lmplz); here its checks: what is missing is named with the packages to install."""

from __future__ import annotations

import os
import stat

import pytest

from corpus_tool import setup_kenlm as sk
from corpus_tool.errors import MissingDependencyError


def test_missing_build_tools_are_named_with_the_apt_packages(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no cmake, no c++
    assert {"cmake", "c++"} <= set(sk.missing_build_tools())
    with pytest.raises(MissingDependencyError, match=r"needs cmake, c\+\+.*apt-get install cmake g\+\+"):
        sk.setup_kenlm(tmp_path / "bin")
    assert not (tmp_path / "bin").exists()


def test_binaries_already_there_are_kept(tmp_path, run_cli):
    for name in sk.BINARIES:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    proc = run_cli("setup", "kenlm", "--bin-dir", str(tmp_path), env={"PATH": os.environ["PATH"]})
    assert b"already in" in proc.stderr
