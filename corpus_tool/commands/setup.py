"""CLI for `corpus-tool setup kenlm`: build the tools that no package index ships."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

SETUP_EPILOG = """\b
Examples:
  corpus-tool setup kenlm                      # into this environment's bin/
  corpus-tool setup kenlm --bin-dir ~/bin --source kenlm-0.3.0.tar.gz
\b
Builds KenLM's lmplz and build_binary (needed by train-lm only) from the
kenlm sdist with the system's cmake, C++ compiler and Boost; about 1.5 min."""


def register(app: typer.Typer) -> None:
    setup_app = typer.Typer(help="Build tools that no package index ships (KenLM's lmplz).",
                            no_args_is_help=True)

    @setup_app.command("kenlm", epilog=SETUP_EPILOG)
    def kenlm_cmd(
        bin_dir: Annotated[Path | None, typer.Option(help="Where to put them; default: this environment's bin/.")]
        = None,
        source: Annotated[Path | None, typer.Option(help="A kenlm sdist (.tar.gz) or unpacked source folder "
                                                          "instead of downloading it with pip.", exists=True)]
        = None,
        force: Annotated[bool, typer.Option("--force", help="Rebuild even if they are already there.")] = False,
    ) -> None:
        """Build KenLM's lmplz and build_binary into the environment (train-lm needs them)."""
        from corpus_tool.setup_kenlm import setup_kenlm

        setup_kenlm(bin_dir, source=source, force=force, log=lambda m: print(m, file=sys.stderr))

    app.add_typer(setup_app, name="setup")
