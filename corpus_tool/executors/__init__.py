"""Executors run a plan's task command lines: on this machine (local) or as Slurm array jobs (slurm).

They know nothing about stages beyond the command lines and the finished-task check the plan gives them.
"""

from enum import StrEnum


class Start(StrEnum):
    """How the local executor starts a task process."""

    pool = "pool"  # long-lived workers forked from `corpus-tool run` once, each running task after task
    fork = "fork"  # a child forked from `corpus-tool run` per task, with the libraries already imported
    spawn = "spawn"  # a fresh `corpus-tool` process, as a Slurm array task is


HANDOFF_MB = 256  # `run --handoff-mb`: what a worker keeps in memory of the files it writes (local.py)
