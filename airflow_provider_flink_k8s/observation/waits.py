"""What a wait is for, as a value: the one decision sensors, triggers and operators share.

A :class:`WaitFor` names a cluster and what it must reach -- the cluster ready, or a job
in one of ``target_states`` -- and carries the thresholds of the fail-fast rules. It is
plain JSON (:meth:`WaitFor.to_dict`), so an operator can hand it to a trigger as kwargs
and the trigger re-validates it; :meth:`WaitFor.decide` applies the right classifier to
a :class:`ClusterSnapshot`:

==========  ========  ========================================================
target      for       classifier
==========  ========  ========================================================
standalone  cluster   :func:`classify_cluster` (Deployments, pods, REST, slots)
standalone  job       :func:`classify_cluster_job`
operator    cluster   :func:`classify_operator_deployment` (``target="cluster"``)
operator    job       :func:`classify_operator_deployment` (``target="job"``)
==========  ========  ========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator

from airflow_provider_flink_k8s.observation._base import FrozenModel
from airflow_provider_flink_k8s.observation.cluster import classify_cluster
from airflow_provider_flink_k8s.observation.flinkdeployment import classify_operator_deployment
from airflow_provider_flink_k8s.observation.job import JOB_STATES, JobSighting, classify_cluster_job
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Verdict

__all__ = ["WaitFor"]


class WaitFor(FrozenModel):
    """One wait: which cluster, what it must reach, and when to give up early.

    :param kind: ``cluster`` (ready: rolled out, REST answering, TaskManagers and slots
        registered; for the operator target, the FlinkDeployment READY and DEPLOYED or
        STABLE) or ``job`` (a job in one of ``target_states``).
    :param name: the cluster's name.
    :param namespace: its namespace.
    :param target: ``standalone`` (the provider's Deployments) or ``operator`` (a
        FlinkDeployment).
    :param expected_taskmanagers: TaskManagers that must be registered (standalone cluster).
    :param expected_slots: task slots that must be registered (standalone cluster).
    :param job_id: the job to follow (``None``: the latest job of the cluster).
    :param target_states: Flink ``JobStatus`` values that end a job wait.
    :param progress_deadline_seconds: fail a standalone wait after this long without
        progress; ``None``: only Kubernetes' own progress deadline applies.
    :param crashloop_restarts: restarts after which a crash-looping container fails the wait.
    :param unschedulable_grace_seconds: how long a pod may stay unschedulable.
    :param job_seen: the job wait's memory: which JobManager last listed the job
        (:meth:`remember` keeps it; a lost job fails the wait as ``JobLost``).
    """

    kind: Literal["cluster", "job"] = "cluster"
    name: str = Field(min_length=1)
    namespace: str = Field(default="default", min_length=1)
    target: Literal["standalone", "operator"] = "standalone"
    expected_taskmanagers: int = Field(default=1, ge=0)
    expected_slots: int = Field(default=1, ge=0)
    job_id: str | None = None
    target_states: tuple[str, ...] = ("RUNNING",)
    progress_deadline_seconds: float | None = Field(default=None, gt=0)
    crashloop_restarts: int = Field(default=DEFAULT_CRASHLOOP_RESTARTS, ge=0)
    unschedulable_grace_seconds: float = Field(
        default=DEFAULT_UNSCHEDULABLE_GRACE.total_seconds(), ge=0
    )
    job_seen: JobSighting | None = None

    @field_validator("target_states", mode="before")
    @classmethod
    def _known_states(cls, value: Any) -> tuple[str, ...]:
        states = (value,) if isinstance(value, str) else tuple(value)
        upper = tuple(str(state).upper() for state in states)
        unknown = [state for state in upper if state not in JOB_STATES]
        if unknown or not upper:
            raise ValueError(
                f"target_states must name Flink job states ({', '.join(JOB_STATES)}); "
                f"got {', '.join(map(str, states)) or 'none'}"
            )
        return upper

    @property
    def needs_rest(self) -> bool:
        """Whether the decision reads Flink's REST API (the operator target reads the
        FlinkDeployment's status instead)."""
        return self.target == "standalone"

    @property
    def description(self) -> str:
        """What is awaited, for log lines: ``cluster ns/name ready``."""
        what = f"{self.namespace}/{self.name}"
        if self.kind == "cluster":
            return f"Flink cluster {what} ready"
        job = f"job {self.job_id}" if self.job_id else "the job"
        return f"{job} of Flink cluster {what} {' or '.join(self.target_states)}"

    def decide(self, snapshot: ClusterSnapshot, now: datetime) -> Verdict:
        """Classify ``snapshot`` for this wait (see the module's table).

        :raises ValueError: if ``now`` is naive.
        """
        grace = timedelta(seconds=self.unschedulable_grace_seconds)
        if self.target == "operator":
            return classify_operator_deployment(
                snapshot,
                target=self.kind,
                now=now,
                crashloop_restarts=self.crashloop_restarts,
                unschedulable_grace=grace,
            )
        if self.kind == "job":
            return classify_cluster_job(
                snapshot,
                now=now,
                job_id=self.job_id,
                target_states=self.target_states,
                crashloop_restarts=self.crashloop_restarts,
                unschedulable_grace=grace,
                seen=self.job_seen,
            )
        deadline = self.progress_deadline_seconds
        return classify_cluster(
            snapshot,
            expected_taskmanagers=self.expected_taskmanagers,
            expected_slots=self.expected_slots,
            now=now,
            progress_deadline=None if deadline is None else timedelta(seconds=deadline),
            crashloop_restarts=self.crashloop_restarts,
            unschedulable_grace=grace,
        )

    def remember(self, snapshot: ClusterSnapshot) -> WaitFor:
        """This wait with what ``snapshot`` adds to its memory (:meth:`JobSighting.after`):
        a wait loop decides each snapshot, then carries the result to the next one."""
        if self.kind != "job" or self.target != "standalone":
            return self
        seen = JobSighting.after(snapshot, self.job_id, self.job_seen)
        return self if seen == self.job_seen else self.model_copy(update={"job_seen": seen})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (trigger kwargs): every field, so a reader needs no defaults."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitFor:
        """The inverse of :meth:`to_dict`.

        :raises pydantic.ValidationError: naming the field and the rule.
        """
        return cls.model_validate(dict(data))
