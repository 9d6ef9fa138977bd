"""The rule-kind registry. A kind is a factory: the rule's params in, a checker out.

A checker is `check(doc, signals=None) -> None | str | Cleaned`: None passes, a string rejects (it says the
measured value against the threshold and becomes `reason_detail`), a `Cleaned` rewrites the text. With a
`signals` dict (annotate mode), the checker writes everything it measured into it and does not stop at
its first failing measure, so that `select` can later threshold any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from corpus_tool.stages.filter.docview import Cleaned, DocView


class Checker(Protocol):
    def __call__(self, doc: DocView, signals: dict[str, Any] | None = None) -> None | str | Cleaned: ...


RULE_KINDS: dict[str, Callable[..., Checker]] = {}


def rule_kind(name: str) -> Callable[[Callable[..., Checker]], Callable[..., Checker]]:
    """Register a rule kind: a function of the rule's params that returns a checker."""

    def register(factory: Callable[..., Checker]) -> Callable[..., Checker]:
        RULE_KINDS[name] = factory
        return factory

    return register


@dataclass
class Rule:
    name: str
    kind: str
    params: dict[str, Any]
    why: str
    check: Checker
    skip_kinds: frozenset[str] = field(default_factory=frozenset)  # document kinds the rule leaves alone
    only_kinds: frozenset[str] | None = None  # when set, the only document kinds the rule judges

    @property
    def judges_every_kind(self) -> bool:
        return not self.skip_kinds and self.only_kinds is None

    def applies_to(self, kind: str | None) -> bool:
        if kind in self.skip_kinds:
            return False
        return self.only_kinds is None or kind in self.only_kinds


def first_failure(failures: list[str], signals: dict[str, Any] | None, msg: str | None) -> bool:
    """Record a failing measure; True when the checker should stop now (not annotating)."""
    if msg is not None:
        failures.append(msg)
        return signals is None
    return False
