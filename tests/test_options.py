"""One declaration per option: for every command, the flags in --help, the keys a `-c config.yaml` and a
pipeline `options:` accept, and the keys of the manifest's `config` are the same set (corpus_tool/specs)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import typer

from corpus_tool import specs
from corpus_tool.cli import app
from corpus_tool.errors import UsageError
from corpus_tool.pipeline import accepted_options
from corpus_tool.specs.base import RunOptions

COMMANDS = specs.all_options()
IO = {"inputs", "output", "work", "config"}  # positional/-o parameters and -c itself: no stage setting
ACTIONS = {"filter": {"show_rules"}}  # flags that do something else instead of running the stage


def click_command(words: str):
    cmd = typer.main.get_command(app)
    for word in words.split():
        cmd = cmd.commands[word]  # type: ignore[attr-defined]
    return cmd


def help_options(words: str) -> set[str]:
    """The names of the command's options, read from its --help text (as a user sees them)."""
    from click.testing import CliRunner

    result = CliRunner().invoke(typer.main.get_command(app), [*words.split(), "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    boxed = "\n".join(line for line in result.output.splitlines() if line.startswith("│"))  # not the epilog
    flags = set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]*)(?![\w-])", boxed))
    return {f.replace("-", "_") for f in flags} - {"help"}


@pytest.mark.parametrize("cls", COMMANDS, ids=[c.command for c in COMMANDS])
def test_help_config_and_pipeline_keys_are_the_declared_options(cls, tmp_path):
    declared = set(cls.names())
    shared = set(cls.shared)
    io = IO - declared
    params = {p.name for p in click_command(cls.command).params} - io - ACTIONS.get(cls.command, set())
    assert params == declared | shared
    negations = accepted_options(cls) - declared - shared  # --no-NAME of a boolean --NAME
    assert {n.removeprefix("no_") for n in negations} <= declared | shared
    assert help_options(cls.command) - io - ACTIONS.get(cls.command, set()) == declared | shared | negations
    # -c config: every declared key is accepted; an undeclared one is refused, naming the file and key.
    assert specs.section_names(cls.section) >= declared | shared
    bad = tmp_path / "c.yaml"
    bad.write_text(f"{cls.section}:\n  not_an_option_of_anything: 1\n", encoding="utf-8")
    io_names = {p.name for p in click_command(cls.command).params} - declared
    # a command whose inputs are options (train-quality: --positive/--negative) has no positional argument
    io_args = ["x"] if "work" in io_names else (["x"] if "inputs" in io_names else []) + ["-o", "y"]
    required = [a for f in cls.fields() if f.default is dataclasses.MISSING for a in (f"--{f.name}", "v")]
    from click.testing import CliRunner

    out = CliRunner().invoke(typer.main.get_command(app), [*cls.command.split(), *io_args, *required, "-c", str(bad)])
    assert isinstance(out.exception, UsageError), out.output
    assert f"{bad}: unknown option 'not_an_option_of_anything'" in str(out.exception)


def test_a_stage_manifest_config_holds_exactly_its_declared_options(tmp_path, run_cli):
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a", "text": "今天天气很好，我们去公园散步吧。"}) + "\n",
                                       encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text("langid:\n  threshold: 0.25\n  min-letters: 2\n", encoding="utf-8")
    run_cli("ingest", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "docs"))
    run_cli("langid", str(tmp_path / "docs"), "-o", str(tmp_path / "lid"), "-c", str(config), "--sample-chars", "99")
    for stage, cls in (("docs", specs.ingest.IngestOptions), ("lid", specs.langid.LangIdOptions)):
        manifest = json.loads(next((tmp_path / stage / "manifests").glob("*.json")).read_text(encoding="utf-8"))
        assert set(manifest["config"]) == set(cls.names())
    assert (manifest["config"]["threshold"], manifest["config"]["min_letters"]) == (0.25, 2)
    assert manifest["config"]["sample_chars"] == 99  # the command line wins over nothing; -c over defaults


def test_run_options_are_declared_once():
    assert set(RunOptions.names()) == set(specs.base.SHARD_RUN)


@pytest.mark.parametrize("command", [["run"], ["langid", "x", "-o", "y", "-c"]])
def test_a_config_that_is_not_utf8_is_a_usage_error(tmp_path, run_cli, command):
    config = tmp_path / "cfg.yaml"
    config.write_bytes("input: x\noutput: o\nstages: [langid]\n# 中文\n".encode("gb18030"))
    proc = run_cli(*command, str(config), check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"{config}: the " in proc.stderr.decode() and "not UTF-8 text" in proc.stderr.decode()


def test_the_planner_and_the_stages_do_not_import_the_cli(tmp_path):
    """Nothing below the command layer imports corpus_tool.cli (or typer), planning a pipeline included:
    no import loop, and the planner reads declarations, not the CLI."""
    import subprocess
    import sys

    from corpus_tool.pipeline import DATA_DIR

    config = tmp_path / "p.yaml"
    config.write_text((DATA_DIR / "pipeline.yaml").read_text(encoding="utf-8").replace("__OUTPUT__", "out"),
                      encoding="utf-8")
    code = ("import sys, corpus_tool.pipeline as p, corpus_tool.runner, corpus_tool.executors.local, "
            "corpus_tool.executors.slurm; plan = p.make_plan(p.load_config(sys.argv[1])); "
            "assert len(plan.steps) == 14; "
            "print(sorted(m for m in sys.modules if m in ('corpus_tool.cli', 'typer', 'click') "
            "or m.startswith('corpus_tool.commands')))")
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_dedup_stage_routes_each_option_to_the_steps_that_declare_it(tmp_path):
    from corpus_tool.pipeline import load_config, make_plan

    config = tmp_path / "p.yaml"
    head = "input: [in]\noutput: out\nstages:\n  - stage: dedup\n    options: "
    config.write_text(head + "{ngram: 3, verify_threshold: 0.7, band_tasks: 5, pairs: {partitions: 2}, "
                      "filter: {batch_size: 64}}\n", encoding="utf-8")
    steps = {s.command: s for s in make_plan(load_config(config)).steps}
    assert steps["dedup signatures"].args[-2:] == ["--ngram", "3"]
    assert steps["dedup pairs"].args[-4:] == ["--verify-threshold", "0.7", "--partitions", "2"]
    assert steps["dedup pairs"].count == 5 and steps["dedup clusters"].count == 1
    assert steps["dedup filter"].args[-2:] == ["--batch-size", "64"]
    config.write_text(head + "{ngrams: 3}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"options\.signatures\.ngrams: this command has no option --ngrams"):
        make_plan(load_config(config))


def test_a_command_task_killed_after_writing_its_output_is_redone_on_rerun(tmp_path, run_cli):
    """train-tokenizer killed between writing tokenizer.json and its task record: the rerun redoes it
    (the task passes --overwrite) instead of failing on 'exists; pass --overwrite'."""
    config = tmp_path / "p.yaml"
    config.write_text('input: [x]\noutput: out\nstages:\n  - stage: train-tokenizer\n    inputs: ["{data}/reference"]\n'
                      "    output: models/tok\n    options: {vocab_size: 400}\n", encoding="utf-8")
    left = tmp_path / "out" / "models" / "tok" / "tokenizer.json"
    left.parent.mkdir(parents=True)
    left.write_text("{}", encoding="utf-8")  # what the killed task left, with no task record
    proc = run_cli("run", str(config), "--executor", "local", check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert json.loads(left.read_text(encoding="utf-8"))["model"]["type"] == "BPE"
