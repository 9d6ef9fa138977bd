"""`pip install corpus-tool` gives no lmplz (no package index ships it): the demo still runs every stage,
scoring with the shipped reference model, and says in one line how to get lmplz. train-lm itself keeps
its clear error and exit code 4."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from corpus_tool.commands import pipeline as pipeline_cmd
from corpus_tool.pipeline import load_config, make_plan

# Runs the real CLI in a subprocess with lmplz hidden from the demo's check (it sits beside this Python).
HIDE_LMPLZ = ("import sys; from corpus_tool.stages import train_lm; "
              "train_lm.kenlm_binaries_available = lambda: False; "
              "from corpus_tool.cli import main; main(sys.argv[1:])")


def test_demo_config_without_lmplz_uses_the_shipped_model(tmp_path):
    config = tmp_path / "pipeline.yaml"
    pipeline_cmd.write_config(config, "out", shipped_lm=True)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert "train-lm" not in [s["stage"] for s in data["stages"]]
    plan = make_plan(load_config(config))
    assert not plan.missing
    ppl = next(s for s in plan.steps if s.command == "perplexity")
    assert str(pipeline_cmd.SHIPPED_LM.replace("{data}", "")).strip("/") in " ".join(ppl.args)


def test_demo_without_lmplz_runs_every_stage(tmp_path):
    out = tmp_path / "d"
    proc = subprocess.run([sys.executable, "-c", HIDE_LMPLZ, "demo", "-o", str(out)], capture_output=True,
                          text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "lmplz not found" in proc.stderr and "corpus-tool setup kenlm" in proc.stderr
    assert "NOT RUN" not in proc.stdout and "audit: all" in proc.stdout
    assert (out / "06-perplexity" / "manifests").is_dir() and not (out / "models" / "lm").exists()


def test_train_lm_without_lmplz_still_exits_4(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))
    code = ("import sys; sys.executable = sys.argv.pop(1); from corpus_tool.cli import main; main(sys.argv[1:])")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "python"), "train-lm", str(tmp_path),
                           "-o", str(tmp_path / "lm")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 4, proc.stderr
    assert "lmplz: not found" in proc.stderr and "corpus-tool setup kenlm" in proc.stderr
