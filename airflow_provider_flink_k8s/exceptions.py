"""The provider's exceptions: one tree, caught at the depth a caller needs.

::

    FlinkK8sError                 root of everything this provider raises
    ├── SpecError                 a cluster spec breaks a rule (lists every problem)
    └── FlinkConfigurationError   Flink would refuse this configuration (also a ValueError)

Later layers (hooks, sensors) add their branches here, so a DAG author can catch
``FlinkK8sError`` and know nothing from the transport leaks through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FlinkConfigurationError",
    "FlinkK8sError",
    "SpecError",
    "SpecProblem",
]


class FlinkK8sError(Exception):
    """Root of every error this provider raises on purpose."""


@dataclass(frozen=True)
class SpecProblem:
    """One broken rule: which field (dotted path) and the rule it breaks."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class SpecError(FlinkK8sError, ValueError):
    """Raised when a cluster spec is refused; ``problems`` lists every broken rule."""

    def __init__(self, problems: Iterable[SpecProblem], *, subject: str = "cluster spec") -> None:
        self.problems: tuple[SpecProblem, ...] = tuple(problems)
        self.subject = subject
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {subject} ({count} {noun}):\n{lines}")


class FlinkConfigurationError(FlinkK8sError, ValueError):
    """Raised when Flink itself would refuse a configuration; the message is Flink's reason."""
