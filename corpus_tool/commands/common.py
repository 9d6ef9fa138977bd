"""Commands built from declared options (corpus_tool/specs), `-c config.yaml` handling, the summary line.

`stage_command` turns an Options class into a typer command: one flag per field (help, bounds, panel from the
field), the runner's shared options the class names, `-c/--config`. Configs follow dolma's style: a YAML
file of option values (names with dashes or underscores), flat or under the command's section (its stage's
name: ingest, dedup, train_lm...); options given on the command line win over the file.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from corpus_tool.errors import UsageError
from corpus_tool.specs import RunOptions, section_names
from corpus_tool.specs.base import Options
from corpus_tool.yamlfile import load_mapping

INPUTS_HELP = "Input shards: Parquet files, globs or directories; '-' reads JSONL from stdin."
OUTPUT_HELP = "Output directory ('-' writes kept documents as JSONL to stdout)."
_CONFIG = Annotated[
    Path | None,
    typer.Option("-c", "--config", help="YAML file of option values; command-line options win.",
                 exists=True, dir_okay=False),
]


def inputs_arg(help: str = INPUTS_HELP, required: bool = True) -> inspect.Parameter:
    """The INPUT... positional argument."""
    kind = Annotated[list[str] if required else list[str] | None, typer.Argument(help=help, show_default=False)]
    return param("inputs", kind, inspect.Parameter.empty if required else None)


def output_opt(help: str = OUTPUT_HELP, required: bool = True) -> inspect.Parameter:
    """The -o/--output option."""
    kind = Annotated[str if required else str | None, typer.Option("-o", "--output", help=help)]
    return param("output", kind, inspect.Parameter.empty if required else None)


def work_arg() -> inspect.Parameter:
    help = "The dedup work directory (written by `dedup signatures`)."
    return param("work", Annotated[str, typer.Argument(help=help, show_default=False)], inspect.Parameter.empty)


def param(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def option_params(cls: type[Options], names: list[str] | None = None,
                  defaults: dict[str, Any] | None = None) -> list[inspect.Parameter]:
    """One typer option per declared field of `cls` (or the fields in `names`)."""
    types = cls.types()
    out = []
    for f in cls.fields():
        if names is not None and f.name not in names:
            continue
        m = f.metadata
        info = typer.Option(*m.get("flags", ()), help=m.get("help"), min=m.get("min"), max=m.get("max"),
                            rich_help_panel=m.get("panel"))
        default = (defaults or {}).get(f.name, f.default)
        out.append(param(f.name, Annotated[types[f.name], info],
                          inspect.Parameter.empty if default is MISSING else default))
    return out


@dataclass
class Call:
    """One invocation of a declared command: its options, the runner's options, and the other parameters."""

    options: Any
    run: RunOptions
    params: dict[str, Any]

    @property
    def inputs(self) -> list[str]:
        return self.params.get("inputs") or []

    @property
    def output(self) -> str:
        return self.params.get("output")


def stage_command(app: typer.Typer, cls: type[Options], body: Callable[[Call], Any], *, name: str | None = None,
                  io: list[inspect.Parameter] | None = None, extra: list[inspect.Parameter] | None = None,
                  **command_kwargs: Any) -> None:
    """Register `name` (default: the last word of cls.command) on `app`: `io` parameters (default INPUT...
    and -o), the options of `cls`, `extra` parameters that are no stage setting (e.g. --show-rules), the
    runner's options `cls.shared`, -c/--config. `body` gets a Call with everything resolved."""
    shared_defaults = {**{f.name: f.default for f in RunOptions.fields()}, **cls.shared_defaults}
    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *(io if io is not None else [inputs_arg(), output_opt()]),
        *option_params(cls),
        *(extra or []),
        *option_params(RunOptions, list(cls.shared), shared_defaults),
        param("config", _CONFIG, None),
    ]

    def command(ctx: typer.Context, **_: Any) -> Any:
        p = resolve(ctx, cls.section)
        options = cls(**{n: p[n] for n in cls.names()})
        run = RunOptions(**{n: p.get(n, shared_defaults[n]) for n in RunOptions.names()})
        return body(Call(options, run, p))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = body.__doc__
    command.__name__ = body.__name__
    app.command(name or cls.command.split()[-1], **command_kwargs)(command)


def resolve(ctx: typer.Context, section: str) -> dict[str, Any]:
    """The command's parameters with values from `-c FILE` filled in where the command line gave none.

    A key of the section that is another command's option of the same section (dedup's steps share one) is
    skipped; a mapping is another command's section; any other unknown key is an error."""
    params = dict(ctx.params)
    config_path = params.get("config")
    if not config_path:
        return params
    data = load_mapping(Path(config_path), "a mapping of option names to values")
    sections = {str(k).replace("-", "_"): v for k, v in data.items()}
    if isinstance(sections.get(section), dict):
        data = sections[section]
    siblings = section_names(section)
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in params or name == "config":
            if isinstance(value, dict) or name in siblings:
                continue
            command = ctx.command_path.removeprefix("corpus-tool ")
            raise UsageError(f"{config_path}: unknown option {key!r} for {command}")
        source = ctx.get_parameter_source(name)
        # Compared by name: typer >= 0.2x vendors its own click, with its own ParameterSource enum.
        if source is None or getattr(source, "name", "") in ("DEFAULT", "DEFAULT_MAP"):
            params[name] = _coerce(ctx, name, value, f"{config_path}: option {key!r}")
    return params


def _coerce(ctx: typer.Context, name: str, value: Any, where: str) -> Any:
    """A config value converted and checked exactly as the same value given on the command line."""
    param = next((p for p in ctx.command.params if p.name == name), None)
    if param is None:
        return value
    if isinstance(value, str) and (param.multiple or param.nargs != 1):
        value = [value]
    try:
        return param.process_value(ctx, value)
    except Exception as e:  # noqa: BLE001 - click's and typer's BadParameter are distinct classes
        raise UsageError(f"{where}: {getattr(e, 'message', None) or e}") from e


def report(summary) -> None:
    """Print the one-line summary to stderr."""
    print(summary.line(), file=sys.stderr)
