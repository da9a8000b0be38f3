"""Decisions as values: the lifecycle enum, a verdict, and the event protocol built on it.

A classifier returns a :class:`Verdict`: where the cluster or job is in its
:class:`Lifecycle`, the :class:`Reason` (a short CamelCase cause from a known set) and a
message for a person. A trigger turns its last verdict into an :class:`Outcome`, yields
:meth:`Outcome.to_event` (plain JSON), and the operator or sensor reads it back with
:meth:`Outcome.from_event` and :meth:`Outcome.raise_for_failure`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

from airflow_provider_flink_k8s.exceptions import DeploymentFailed, DeploymentTimeout
from airflow_provider_flink_k8s.observation._base import format_duration

__all__ = ["Lifecycle", "Outcome", "Reason", "Verdict"]


class Lifecycle(Enum):
    """Where a cluster or job is; the value is the event's ``status``."""

    PROGRESSING = "progressing"
    """On its way: keep waiting."""
    READY = "ready"
    """Got where it was going (cluster up; job in a target state)."""
    FAILED = "failed"
    """Cannot get there without a change: stop waiting and report ``reason``."""
    MISSING = "missing"
    """Nothing deployed (not created yet, or already removed). Not terminal: a wait for
    readiness keeps waiting; a wait for deletion is done."""
    DELETED = "deleted"
    """Being deleted, or deleted under the wait."""

    @property
    def terminal(self) -> bool:
        """Whether a wait for readiness ends here (READY, FAILED, DELETED)."""
        return self in (Lifecycle.READY, Lifecycle.FAILED, Lifecycle.DELETED)


class Reason(str, Enum):
    """Why a verdict is what it is: the known causes, CamelCase like Kubernetes reasons.

    Pod-level reasons keep Kubernetes' spelling; a reason may come with more than one
    lifecycle (``CrashLoopBackOff`` is PROGRESSING below the restart threshold).
    """

    READY = "Ready"
    NOT_DEPLOYED = "NotDeployed"
    DELETED = "Deleted"
    # Kubernetes: pods and Deployments.
    CRASH_LOOP_BACK_OFF = "CrashLoopBackOff"
    CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
    CREATE_CONTAINER_ERROR = "CreateContainerError"
    ERR_IMAGE_PULL = "ErrImagePull"
    FAILED_CREATE = "FailedCreate"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    INVALID_IMAGE_NAME = "InvalidImageName"
    OOM_KILLED = "OOMKilled"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    RUN_CONTAINER_ERROR = "RunContainerError"
    UNSCHEDULABLE = "Unschedulable"
    ROLLOUT_IN_PROGRESS = "RolloutInProgress"
    PODS_NOT_READY = "PodsNotReady"
    # Flink: the JobManager's REST API and jobs.
    REST_UNAVAILABLE = "RestUnavailable"
    TASK_MANAGERS_MISSING = "TaskManagersMissing"
    SLOTS_MISSING = "SlotsMissing"
    SLOTS_SURPLUS = "SlotsSurplus"
    METRICS_PENDING = "MetricsPending"
    JOB_NOT_FOUND = "JobNotFound"
    JOB_LOST = "JobLost"
    JOB_PENDING = "JobPending"
    JOB_FAILED = "JobFailed"
    JOB_CANCELED = "JobCanceled"
    JOB_FINISHED = "JobFinished"
    # The Flink Kubernetes Operator.
    RECONCILING = "Reconciling"
    DEPLOYING = "Deploying"
    FLINK_DEPLOYMENT_ERROR = "FlinkDeploymentError"
    ROLLED_BACK = "RolledBack"
    SUSPENDED = "Suspended"
    # Savepoints and deletions.
    SAVEPOINT_PENDING = "SavepointPending"
    SAVEPOINT_FAILED = "SavepointFailed"
    DELETING = "Deleting"
    # The observer itself.
    OBSERVATION_FAILED = "ObservationFailed"


@dataclass(frozen=True)
class Verdict:
    """A classifier's decision about one observation."""

    lifecycle: Lifecycle
    reason: Reason
    message: str
    """What is going on, for a person (names the pod, the numbers, the cause's text)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """Plain-JSON facts behind the decision (pod, container, counts...)."""

    @property
    def terminal(self) -> bool:
        """Whether a wait for readiness ends with this verdict."""
        return self.lifecycle.terminal

    @classmethod
    def ready(cls, message: str, **details: Any) -> Verdict:
        """A READY verdict (reason ``Ready``)."""
        return cls(Lifecycle.READY, Reason.READY, message, details)

    @classmethod
    def failed(cls, reason: Reason, message: str, **details: Any) -> Verdict:
        """A FAILED verdict."""
        return cls(Lifecycle.FAILED, reason, message, details)

    @classmethod
    def progressing(cls, reason: Reason, message: str, **details: Any) -> Verdict:
        """A PROGRESSING verdict."""
        return cls(Lifecycle.PROGRESSING, reason, message, details)


_EVENT_KEYS = ("status", "reason", "message", "details", "job_id", "waited_seconds")


@dataclass(frozen=True)
class Outcome:
    """How a wait ended, as a trigger reports it: the last verdict, and whether it gave up.

    The event is ``{"status": <Lifecycle value>, "reason": <Reason value>, "message": str,
    "details": {...}, "job_id": str | None, "waited_seconds": float | None}``;
    ``waited_seconds`` is set only when the wait gave up (timed out).
    """

    verdict: Verdict
    job_id: str | None = None
    waited_seconds: float | None = None

    @classmethod
    def timeout(cls, last: Verdict, *, waited: timedelta, job_id: str | None = None) -> Outcome:
        """The outcome of a wait that gave up after ``waited``, ``last`` being its last verdict."""
        return cls(last, job_id=job_id, waited_seconds=waited.total_seconds())

    @classmethod
    def from_error(cls, error: Exception, *, job_id: str | None = None) -> Outcome:
        """The outcome of a wait that could not observe (an API error in a trigger)."""
        message = f"{type(error).__name__}: {error}"
        verdict = Verdict.failed(Reason.OBSERVATION_FAILED, message, error=type(error).__name__)
        return cls(verdict, job_id=job_id)

    @property
    def timed_out(self) -> bool:
        """Whether the wait gave up."""
        return self.waited_seconds is not None

    def to_event(self) -> dict[str, Any]:
        """The trigger event payload (plain JSON)."""
        return {
            "status": self.verdict.lifecycle.value,
            "reason": self.verdict.reason.value,
            "message": self.verdict.message,
            "details": dict(self.verdict.details),
            "job_id": self.job_id,
            "waited_seconds": self.waited_seconds,
        }

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Outcome:
        """Read an event built by :meth:`to_event`.

        :raises ValueError: on an unknown ``status`` or ``reason``, or a malformed event.
        """
        if not isinstance(event, Mapping):
            raise ValueError(f"an outcome event is a mapping, not {type(event).__name__}")
        unknown = sorted(set(event) - set(_EVENT_KEYS))
        if unknown:
            raise ValueError(f"unknown outcome event keys: {', '.join(map(str, unknown))}")
        lifecycle = _member(Lifecycle, event.get("status"), "status")
        reason = _member(Reason, event.get("reason"), "reason")
        message, details = event.get("message", ""), event.get("details", {})
        job_id, waited = event.get("job_id"), event.get("waited_seconds")
        if not isinstance(message, str) or not isinstance(details, Mapping):
            raise ValueError("an outcome event's message is a string and details a mapping")
        if job_id is not None and not isinstance(job_id, str):
            raise ValueError(f"an outcome event's job_id is a string, not {job_id!r}")
        if waited is not None and (
            isinstance(waited, bool) or not isinstance(waited, (int, float))
        ):
            raise ValueError(f"an outcome event's waited_seconds is a number, not {waited!r}")
        verdict = Verdict(lifecycle, reason, message, dict(details))
        return cls(verdict, job_id=job_id, waited_seconds=None if waited is None else float(waited))

    def raise_for_failure(self, *, success: Collection[Lifecycle] = (Lifecycle.READY,)) -> Outcome:
        """Return this outcome if the wait reached ``success``; raise otherwise.

        :param success: the lifecycles the wait was for (a deletion waits for
            ``(Lifecycle.MISSING, Lifecycle.DELETED)``).
        :raises DeploymentTimeout: if the wait gave up, or ended short of ``success``
            without a failure.
        :raises DeploymentFailed: if the verdict is FAILED, or DELETED when not wanted.
        :return: ``self``, so a caller can chain ``.job_id``.
        """
        verdict = self.verdict
        if self.waited_seconds is not None:
            waited = format_duration(timedelta(seconds=self.waited_seconds))
            raise DeploymentTimeout(
                f"gave up after {waited}, still {verdict.lifecycle.value}: {verdict.message}",
                reason=verdict.reason.value,
                waited_seconds=self.waited_seconds,
            )
        if verdict.lifecycle in success:
            return self
        if verdict.lifecycle in (Lifecycle.FAILED, Lifecycle.DELETED):
            raise DeploymentFailed(verdict.reason.value, verdict.message, details=verdict.details)
        raise DeploymentTimeout(
            f"the wait ended while still {verdict.lifecycle.value}: {verdict.message}",
            reason=verdict.reason.value,
        )


_E = TypeVar("_E", Lifecycle, Reason)


def _member(enum: type[_E], value: Any, key: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown outcome {key} {value!r}; expected one of: {known}") from None
