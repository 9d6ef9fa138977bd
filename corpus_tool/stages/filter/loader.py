"""The rule-file loader: YAML in, validated `Rule`s out, every mistake named with the file and rule."""

from __future__ import annotations

import inspect
import re
from importlib import resources
from pathlib import Path
from typing import Any

from corpus_tool.errors import UsageError

# Importing the rule families registers their kinds.
from corpus_tool.stages.filter import rules_chars, rules_lines, rules_repetition, rules_words  # noqa: F401
from corpus_tool.stages.filter.registry import RULE_KINDS, Rule

RULE_KEYS = {"name", "kind", "params", "why", "enabled", "skip_kinds", "only_kinds"}


def default_rules_path() -> Any:
    return resources.files("corpus_tool") / "rules" / "zh_web.yaml"


def _kinds(at: str, key: str, value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{at}: `{key}` must be a list of document kinds (meta[\"kind\"]), e.g. [transcript]")
    return frozenset(value)


def load_rules(path: str | Path | None = None) -> tuple[list[Rule], str]:
    """Parse and validate a rule file (yaml.safe_load); returns the rules and the file's display name."""
    import yaml  # noqa: PLC0415

    src: Any = default_rules_path() if path is None else Path(path)
    where = str(src)
    try:
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"{where}: cannot read the rule file ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{where}: the rule file is not UTF-8 text (byte {e.start})") from e
    except yaml.YAMLError as e:
        raise UsageError(f"{where}: not valid YAML ({e})") from e
    items = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise UsageError(f"{where}: expected a list of rules (or a mapping with a `rules:` list)")
    base = src.parent
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        at = f"{where}: rule {i + 1}"
        if not isinstance(item, dict):
            raise UsageError(f"{at}: expected a mapping with name, kind, params, why")
        unknown = set(item) - RULE_KEYS
        if unknown:
            raise UsageError(f"{at}: unknown key(s) {sorted(unknown)}")
        name, kind = item.get("name"), item.get("kind")
        if not isinstance(name, str) or not name:
            raise UsageError(f"{at}: every rule needs a `name`")
        at = f"{where}: rule {name!r}"
        if name in seen:
            raise UsageError(f"{at}: the name is used twice")
        seen.add(name)
        if kind not in RULE_KINDS:
            raise UsageError(f"{at}: unknown kind {kind!r}; known kinds: {', '.join(sorted(RULE_KINDS))}")
        if item.get("enabled", True) is False:
            continue
        skip = _kinds(at, "skip_kinds", item["skip_kinds"]) if "skip_kinds" in item else frozenset()
        only = _kinds(at, "only_kinds", item["only_kinds"]) if "only_kinds" in item else None
        params = dict(item.get("params") or {})
        factory = RULE_KINDS[kind]
        call = dict(params)
        if "base" in inspect.signature(factory).parameters:
            call["base"] = base
        try:
            inspect.signature(factory).bind(**call)
            check = factory(**call)
        except TypeError as e:
            raise UsageError(f"{at}: bad params for kind {kind!r} ({e})") from e
        except (ValueError, re.error) as e:
            raise UsageError(f"{at}: {e}") from e
        rules.append(Rule(name, kind, params, str(item.get("why", "")), check, skip, only))
    return rules, where
