"""`python -m corpus_tool.executors.record RECORD_FILE ARGS...`: write a task record after a task succeeded.

Slurm task scripts call this (the local executor calls `write_task_record` directly), so that both
executors leave the same record that `Plan.is_done` checks on a rerun.
"""

from __future__ import annotations

import sys
from pathlib import Path

from corpus_tool.pipeline import write_task_record


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: python -m corpus_tool.executors.record RECORD_FILE SECONDS ARGS...", file=sys.stderr)
        return 2
    write_task_record(Path(argv[0]), argv[2:], seconds=float(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
