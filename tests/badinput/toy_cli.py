"""The real `corpus-tool` CLI plus one test-only command, `toy`, so that core faults (full disk, kill -9,
bad shards) are tested through the real runner and the real error handling before any stage exists.

`toy` runs badinput.toy_stage.Toy.

    python tests/badinput/toy_cli.py toy IN... -o OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataclasses import dataclass  # noqa: E402

from badinput.toy_stage import Toy  # noqa: E402
from corpus_tool import cli  # noqa: E402
from corpus_tool.commands.common import Call, report, stage_command  # noqa: E402
from corpus_tool.runner import run_stage  # noqa: E402
from corpus_tool.specs import Options  # noqa: E402


@dataclass(kw_only=True)
class ToyOptions(Options):
    command = "toy"
    section = "toy"


def toy(call: Call) -> None:
    """A test stage."""
    report(run_stage(Toy(), call.inputs, call.output, **call.run.runner_kwargs()))


stage_command(cli.app, ToyOptions, toy)


if __name__ == "__main__":
    cli.main()
