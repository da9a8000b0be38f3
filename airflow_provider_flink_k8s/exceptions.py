"""The provider's exceptions: one tree, caught at the depth a caller needs.

::

    FlinkK8sError                 root of everything this provider raises
    ├── SpecError                 a cluster spec breaks a rule (lists every problem)
    ├── FlinkConfigurationError   Flink would refuse this configuration (also a ValueError)
    ├── DeploymentFailed          a cluster or job reached a failed state (``reason`` says why)
    └── DeploymentTimeout         a wait gave up while the cluster or job was still progressing

Later layers (hooks, sensors) add their branches here, so a DAG author can catch
``FlinkK8sError`` and know nothing from the transport leaks through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DeploymentFailed",
    "DeploymentTimeout",
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


class DeploymentFailed(FlinkK8sError):
    """Raised when a cluster or job failed; ``reason`` is a cause from
    :class:`~airflow_provider_flink_k8s.observation.verdict.Reason` (``CrashLoopBackOff``,
    ``JobFailed``...) and ``message`` says what happened, for a person."""

    def __init__(
        self, reason: str, message: str, *, details: Mapping[str, Any] | None = None
    ) -> None:
        self.reason = reason
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{reason}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the fields through pickling (BaseException would pass only the text).
        return (_rebuild_failed, (self.reason, self.message, self.details))


class DeploymentTimeout(FlinkK8sError):
    """Raised when a wait gave up before the cluster or job got where it was going;
    ``reason`` is the last cause it was still waiting on (``TaskManagersMissing``...)."""

    def __init__(
        self, message: str, *, reason: str | None = None, waited_seconds: float | None = None
    ) -> None:
        self.message = message
        self.reason = reason
        self.waited_seconds = waited_seconds
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_timeout, (self.message, self.reason, self.waited_seconds))


def _rebuild_failed(reason: str, message: str, details: dict[str, Any]) -> DeploymentFailed:
    return DeploymentFailed(reason, message, details=details)


def _rebuild_timeout(
    message: str, reason: str | None, waited_seconds: float | None
) -> DeploymentTimeout:
    return DeploymentTimeout(message, reason=reason, waited_seconds=waited_seconds)
