"""The demo's output bytes stay what they were: a guard for refactors that must not change behaviour.

`corpus-tool demo` runs the whole pipeline on the sample corpus embedded in the package. This test runs it
and compares the sha256 of every output file (document and rejected shards, token files, dedup work files,
trained models) with tests/fixtures/demo_golden.json. Files that record when, where or how long something
ran are left out: manifests, task records, logs, the report and the pipeline config the demo writes.

After an output change made on purpose (say in the commit which bytes changed and why), regenerate with:

    PYTHONPATH=. python tests/test_demo_golden.py --regenerate        (or CORPUS_TOOL_REGENERATE_GOLDEN=1)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from corpus_tool.stages.train_lm import kenlm_binaries_available

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "fixtures" / "demo_golden.json"

# Parts of the demo folder that hold timings, host names or absolute paths rather than corpus bytes.
SKIPPED_DIRS = {"manifests", "logs", ".pipeline", "report", "slurm"}
FIXED = "/tmp/corpus-tool-golden-demo"  # where the package copy runs from
SKIPPED_FILES = {"pipeline.yaml", "manifest.json", "model.json", "card.json"}  # card.json: created, seconds


def demo_hashes(out: Path) -> dict[str, str]:
    """sha256 of every corpus-bearing file under a demo output folder, by relative path."""
    hashes = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or SKIPPED_DIRS & set(rel.parts[:-1]) or rel.name in SKIPPED_FILES:
            continue
        hashes[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def run_demo(out: Path) -> None:
    """Run the demo from a copy of the package at a fixed path: documents record their source file's path
    (the embedded sample's), which must not depend on where the checkout is."""
    with open(f"{FIXED}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one golden demo at a time on this machine
        shutil.rmtree(FIXED, ignore_errors=True)
        shutil.copytree(REPO / "corpus_tool", Path(FIXED) / "corpus_tool",
                        ignore=shutil.ignore_patterns("__pycache__"))
        env = dict(os.environ, PYTHONPATH=FIXED)
        proc = subprocess.run([sys.executable, "-m", "corpus_tool", "demo", "-o", str(out), "--workers", "2"],
                              capture_output=True, text=True, env=env, timeout=1200, cwd=FIXED)
        shutil.rmtree(FIXED, ignore_errors=True)
    if proc.returncode != 0:
        raise AssertionError(f"corpus-tool demo exited {proc.returncode}:\n{proc.stderr[-4000:]}")



@pytest.mark.skipif(not kenlm_binaries_available(),
                    reason="the demo trains a KenLM model: needs lmplz and build_binary")
def test_demo_output_bytes_match_the_golden_file(tmp_path):
    run_demo(tmp_path / "demo")
    got = demo_hashes(tmp_path / "demo")
    if os.environ.get("CORPUS_TOOL_REGENERATE_GOLDEN") == "1":
        _write(got)
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))["files"]
    assert len(got) > 20, f"the demo wrote only {sorted(got)}"
    changed = sorted(k for k in want.keys() & got.keys() if want[k] != got[k])
    assert not changed and got.keys() == want.keys(), (
        f"demo output differs from {GOLDEN.name}: changed {changed}; new {sorted(got.keys() - want.keys())}; "
        f"missing {sorted(want.keys() - got.keys())}. If on purpose, regenerate (see this file's docstring) "
        "and say which bytes changed and why"
    )


def _write(hashes: dict[str, str]) -> None:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    doc = {"about": "sha256 of corpus-tool demo's output files; tests/test_demo_golden.py", "files": hashes}
    GOLDEN.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--regenerate" not in sys.argv[1:]:
        sys.exit("usage: python tests/test_demo_golden.py --regenerate")
    with tempfile.TemporaryDirectory() as tmp:
        run_demo(Path(tmp) / "demo")
        _write(demo_hashes(Path(tmp) / "demo"))
    print(f"wrote {GOLDEN}")
