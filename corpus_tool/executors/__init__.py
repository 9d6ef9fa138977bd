"""Executors run a plan's task command lines: on this machine (local) or as Slurm array jobs (slurm).

They know nothing about stages beyond the command lines and the finished-task check the plan gives them.
"""

from enum import StrEnum


class Start(StrEnum):
    """How the local executor starts a task process."""

    fork = "fork"  # a child forked from `corpus-tool run`, with the libraries already imported
    spawn = "spawn"  # a fresh `corpus-tool` process, as a Slurm array task is
