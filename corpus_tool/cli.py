"""The `corpus-tool` command line: one subcommand per stage, plus the pipeline commands.

Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 bad input, 4 missing dependency,
5 cannot write output, 130 interrupted.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from typing import Any

import click
import typer

from corpus_tool import __version__
from corpus_tool.allocator import tune_malloc
from corpus_tool.errors import CorpusToolError, ExitCode

# Every stage is single-threaded (one task per core) and none uses BLAS, but OpenBLAS, which numpy loads,
# starts a thread per core that spins: 0.07 s of CPU per process for nothing. A value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:  # typer >= 0.2x vendors its own click, whose exceptions are classes distinct from click's
    from typer._click import exceptions as _typer_click_exceptions
except ImportError:  # pragma: no cover - older typer uses click itself
    _typer_click_exceptions = click.exceptions
_CLICK_ERRORS = (click.exceptions.ClickException, _typer_click_exceptions.ClickException)
_CLICK_ABORTS = (click.exceptions.Abort, getattr(_typer_click_exceptions, "Abort", click.exceptions.Abort),
                 getattr(typer, "Abort", click.exceptions.Abort))

app = typer.Typer(
    name="corpus-tool",
    help="Turn raw web crawls and text into a clean Chinese pretraining corpus, then into token shards.\n\n"
    "Every stage is `corpus-tool STAGE INPUT... -o OUTPUT_DIR` over zstd Parquet shards.",
    epilog="Start with: corpus-tool demo -o demo-out",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Command modules, in pipeline order; each has register(app).
COMMAND_MODULES = [
    "ingest",
    "langid",
    "normalize",
    "filter",
    "select",
    "perplexity",
    "quality",
    "dedup",
    "tokenize",
    "pipeline",
    "setup",
]


def _version(value: bool) -> None:
    if value:
        print(f"corpus-tool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Debug logging on stderr."),
) -> None:
    logging.getLogger("corpus_tool").setLevel(logging.DEBUG if verbose else logging.INFO)


for _name in COMMAND_MODULES:
    importlib.import_module(f"corpus_tool.commands.{_name}").register(app)


def _setup_logging() -> None:
    """One stderr handler, however often main() runs in this process (a task forked from `run` calls it
    again, and so do tests)."""
    root = logging.getLogger("corpus_tool")
    for old in [h for h in root.handlers if getattr(h, "corpus_tool_cli", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("corpus-tool: %(levelname)s: %(message)s"))
    handler.corpus_tool_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


@functools.cache
def _command() -> Any:  # typer's own (vendored) click command
    """The app as one click command, built once per process: typer builds it from every command's
    signature (about 0.06 s), and a task forked from `run` inherits the one `run` built for itself."""
    return typer.main.get_command(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and turn every failure into a one-line message and a documented exit code."""
    _setup_logging()
    tune_malloc()
    debug = os.environ.get("CORPUS_TOOL_DEBUG") == "1"
    try:
        rv = _command()(args=argv, standalone_mode=False, prog_name="corpus-tool")
    except _CLICK_ERRORS as e:
        e.show(file=sys.stderr)
        sys.exit(ExitCode.USAGE)
    except _CLICK_ABORTS:
        print("corpus-tool: interrupted", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except CorpusToolError as e:
        if debug:
            raise
        print(f"corpus-tool: error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except MemoryError as e:
        if debug:
            raise
        print(
            f"corpus-tool: error: out of memory ({type(e).__name__}: {e}); nothing half-written is visible. "
            "Lower --batch-size, or give the worker more memory (ulimit -v, Slurm --mem)",
            file=sys.stderr,
        )
        sys.exit(ExitCode.FAILURE)
    except KeyboardInterrupt:
        print("corpus-tool: interrupted; unfinished shards were not written", file=sys.stderr)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a bare traceback
        if debug or type(e).__name__ == "_Terminated":
            if type(e).__name__ == "_Terminated":
                print("corpus-tool: terminated; unfinished shards were not written", file=sys.stderr)
                sys.exit(ExitCode.INTERRUPTED)
            raise
        print(
            f"corpus-tool: internal error: {type(e).__name__}: {e}\n"
            "corpus-tool: this is a bug; rerun with CORPUS_TOOL_DEBUG=1 for the traceback and report it",
            file=sys.stderr,
        )
        sys.exit(ExitCode.FAILURE)
    sys.exit(rv if isinstance(rv, int) else ExitCode.OK)
