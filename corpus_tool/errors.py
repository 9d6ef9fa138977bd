"""Errors a user sees, and the exit codes a pipeline can trust.

Every failure that reaches the command line is a `CorpusToolError`: it carries a message that names the
file and, where it applies, the record or byte offset, and an exit code from `ExitCode`. The CLI prints the
message on one line (no traceback unless `CORPUS_TOOL_DEBUG=1`) and exits with the code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented in docs/cli.md. 0 means every selected shard is finished."""

    OK = 0
    FAILURE = 1  # unexpected internal error (a bug): the message says so
    USAGE = 2  # bad command line, missing input, bad config
    BAD_INPUT = 3  # an input file or record is corrupt and the stage was not told to skip it
    MISSING_DEPENDENCY = 4  # a model, binary or package the stage needs is not there
    OUTPUT = 5  # the output cannot be written (disk full, permissions, would overwrite)
    INTERRUPTED = 130  # Ctrl-C / SIGTERM: nothing half-written is left visible


class CorpusToolError(Exception):
    """An error with a message meant for the user and an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, exit_code: ExitCode | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CorpusToolError):
    exit_code = ExitCode.USAGE


class BadInputError(CorpusToolError):
    """A corrupt input. `path` and `locator` (record number or byte offset) say where."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, path: str, locator: str | int | None, problem: str):
        where = f"{path}" if locator is None else f"{path} at {locator}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.locator = locator
        self.problem = problem


class MissingDependencyError(CorpusToolError):
    exit_code = ExitCode.MISSING_DEPENDENCY


class OutputError(CorpusToolError):
    exit_code = ExitCode.OUTPUT
