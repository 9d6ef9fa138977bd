"""The one YAML loader: safe (no object construction), and every failure a usage error naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from corpus_tool.errors import UsageError


def load(path: str | Path, what: str = "file") -> Any:
    """The YAML document in `path`; unreadable, non-UTF-8 or invalid YAML is a UsageError (exit 2)."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
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
