"""Executors run a plan's task command lines: on this machine (local) or as Slurm array jobs (slurm).

They know nothing about stages beyond the command lines and the finished-task check the plan gives them.
"""
