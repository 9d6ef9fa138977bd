"""The one YAML loader: safe (no object construction), and every failure a usage error naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from corpus_tool.errors import UsageError

# libyaml's parser (in PyYAML's wheels) reads a rule file or a config about 8x faster than the Python one
# (1 against 9 ms for the default rules, once per task); the Python parser reads what libyaml rejects, so
# a file that only it accepts still loads, and it writes the error message, with its line and caret.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def safe_load(text: str) -> Any:
    """yaml.safe_load(text), through libyaml when PyYAML has it."""
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def load(path: str | Path, what: str = "file") -> Any:
    """The YAML document in `path`; unreadable, non-UTF-8 or invalid YAML is a UsageError (exit 2)."""
    path = Path(path)
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read the {what} ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: the {what} is not UTF-8 text (byte {e.start})") from e
    except yaml.YAMLError as e:
        raise UsageError(f"{path}: not valid YAML ({e})") from e


def load_mapping(path: str | Path, expected: str, what: str = "config") -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one)."""
    data = load(path, what)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected {expected}")
    return data
