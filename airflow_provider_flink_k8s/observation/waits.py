"""What a wait is for, as a value: the one decision sensors, triggers and operators share.

A :class:`WaitFor` names a cluster and what it must reach -- the cluster ready, a job in
one of ``target_states``, a savepoint written, the cluster gone... -- and carries the
thresholds of the fail-fast rules. It is plain JSON (:meth:`WaitFor.to_dict`), so an
operator can hand it to a trigger as kwargs and the trigger re-validates it;
:attr:`WaitFor.fetches` says what an observer must read for it, and
:meth:`WaitFor.decide` applies the right classifier to the :class:`ClusterSnapshot`:

====================  ==========  ====================================================
kind                  target      classifier (what the snapshot holds)
====================  ==========  ====================================================
cluster               standalone  :func:`classify_cluster` (Deployments, pods, REST)
job                   standalone  :func:`classify_cluster_job` (the same, and the jobs)
cluster, job          operator    :func:`classify_operator_deployment`
tasks_running         any         :func:`classify_tasks_running` (the jobs)
savepoint             any         :func:`classify_savepoint` (the trigger, the jobs)
operator_savepoint    operator    :func:`classify_operator_savepoint` (FlinkDeployment)
suspended             operator    :func:`classify_suspend` (FlinkDeployment)
session_job           operator    :func:`classify_session_job` (the FlinkSessionJob)
session_jobs_deleted  operator    :func:`classify_deletion` (the cluster's session jobs)
deleted               any         :func:`classify_deletion` (the cluster's objects)
parallelism           any         :func:`classify_parallelism` (the job's details)
metrics               any         :func:`classify_metrics` (the job's details, its
                                  vertices' load metrics)
slots_released        any         :func:`classify_slots_released` (the overview)
====================  ==========  ====================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from airflow_provider_flink_k8s.observation._base import FrozenModel
from airflow_provider_flink_k8s.observation.cluster import classify_cluster
from airflow_provider_flink_k8s.observation.deletion import classify_deletion
from airflow_provider_flink_k8s.observation.flinkdeployment import classify_operator_deployment
from airflow_provider_flink_k8s.observation.job import (
    JobSighting,
    classify_cluster_job,
    job_states,
    select_job,
)
from airflow_provider_flink_k8s.observation.operatorjob import classify_session_job
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
)
from airflow_provider_flink_k8s.observation.savepoints import (
    classify_operator_savepoint,
    classify_savepoint,
    classify_suspend,
    classify_tasks_running,
)
from airflow_provider_flink_k8s.observation.scaling import (
    classify_metrics,
    classify_parallelism,
    classify_slots_released,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Verdict
from airflow_provider_flink_k8s.targets import TargetName, target_of

__all__ = ["FETCHES", "WaitFor", "WaitKind"]

WaitKind = Literal[
    "cluster",
    "job",
    "tasks_running",
    "savepoint",
    "operator_savepoint",
    "suspended",
    "session_job",
    "session_jobs_deleted",
    "deleted",
    "parallelism",
    "slots_released",
    "metrics",
]
FETCHES = frozenset(
    {
        "workloads",
        "overview",
        "jobs",
        "job_details",
        "metrics",
        "savepoint",
        "flink_deployment",
        "session_job",
        "session_jobs",
        "remaining",
    }
)
"""What an observer can read for a wait (see :attr:`WaitFor.fetches`)."""
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "tasks_running": ("job_id",),
    "savepoint": ("job_id", "trigger_id"),
    "operator_savepoint": ("savepoint_nonce",),
    "session_job": ("session_job",),
    "parallelism": ("job_id", "vertex_parallelism"),
    "metrics": ("job_id",),
}
_OPERATOR_ONLY = ("operator_savepoint", "suspended", "session_job", "session_jobs_deleted")
_FIXED_FETCHES: Mapping[str, frozenset[str]] = {
    "tasks_running": frozenset({"jobs"}),
    "savepoint": frozenset({"savepoint", "jobs"}),
    "operator_savepoint": frozenset({"flink_deployment"}),
    "suspended": frozenset({"flink_deployment"}),
    "session_job": frozenset({"session_job"}),
    "session_jobs_deleted": frozenset({"session_jobs"}),
    "deleted": frozenset({"remaining"}),
    "parallelism": frozenset({"job_details"}),
    "slots_released": frozenset({"overview"}),
    # The job's details name its vertices; then each vertex's load metrics.
    "metrics": frozenset({"job_details", "metrics"}),
}


class WaitFor(FrozenModel):
    """One wait: which cluster, what it must reach, and when to give up early.

    :param kind: ``cluster`` (ready: rolled out, REST answering, TaskManagers and slots
        registered; for the operator target, the FlinkDeployment READY and DEPLOYED or
        STABLE), ``job`` (a job in one of ``target_states``), ``tasks_running`` (every
        task of ``job_id`` running: ready for a savepoint), ``savepoint`` (the savepoint
        ``trigger_id`` of ``job_id`` written), ``operator_savepoint`` (the FlinkDeployment's
        savepoint for ``savepoint_nonce``), ``suspended`` (the FlinkDeployment suspended
        with a savepoint at ``generation``), ``session_job`` (the FlinkSessionJob
        ``session_job``'s job in one of ``target_states``), ``session_jobs_deleted`` (no
        FlinkSessionJob on the cluster left), ``deleted`` (none of the cluster's
        objects left), ``parallelism`` (every vertex of ``job_id`` RUNNING at
        ``vertex_parallelism``), ``slots_released`` (at most ``expected_slots`` task
        slots registered: a scale-down's TaskManagers gone) or ``metrics`` (every vertex
        of ``job_id`` reporting its load metrics: what ``parallelism="auto"`` reads).
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
    :param trigger_id: the savepoint trigger a ``savepoint`` wait follows.
    :param savepoint_nonce: the ``savepointTriggerNonce`` an ``operator_savepoint`` wait
        follows.
    :param generation: the FlinkDeployment generation a ``suspended`` wait needs reconciled.
    :param session_job: the FlinkSessionJob a ``session_job`` wait follows.
    :param keep: the ``Kind/name`` of an object a ``deleted`` wait lets remain (the
        anchor a teardown deletes last, once everything else is gone).
    :param vertex_parallelism: the parallelism each vertex (by id) must run at, for a
        ``parallelism`` wait.
    """

    kind: WaitKind = "cluster"
    name: str = Field(min_length=1)
    namespace: str = Field(default="default", min_length=1)
    target: TargetName = "standalone"
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
    trigger_id: str | None = None
    savepoint_nonce: int | None = None
    generation: int | None = None
    session_job: str | None = None
    keep: str | None = None
    vertex_parallelism: dict[str, int] | None = None

    @model_validator(mode="after")
    def _kind_has_its_fields(self) -> WaitFor:
        missing = [name for name in _REQUIRED.get(self.kind, ()) if not getattr(self, name)]
        if missing:
            raise ValueError(f"a {self.kind} wait needs {' and '.join(missing)}")
        if self.kind in _OPERATOR_ONLY and not target_of(self.target).reads_status_object:
            raise ValueError(f"a {self.kind} wait is about the operator target")
        return self

    @field_validator("target_states", mode="before")
    @classmethod
    def _known_states(cls, value: Any) -> tuple[str, ...]:
        return job_states(value, field="target_states")

    @property
    def fetches(self) -> frozenset[str]:
        """What an observer reads for this wait (a subset of :data:`FETCHES`):
        ``workloads`` (Deployments, pods, their Events; the FlinkDeployment of the
        operator target), ``overview``, ``jobs`` and ``job_details`` (of ``job_id``;
        Flink's REST API), ``metrics`` (the load metrics of each vertex of ``job_id``'s
        details), ``savepoint`` (the trigger's status), ``flink_deployment``,
        ``session_job`` (by name), ``session_jobs`` (those on the cluster), ``remaining``
        (the cluster's objects)."""
        fixed = _FIXED_FETCHES.get(self.kind)
        if fixed is not None:
            return fixed
        if target_of(self.target).reads_status_object:
            return frozenset({"workloads"})  # the FlinkDeployment is in the workloads
        if self.kind == "job":
            return frozenset({"workloads", "overview", "jobs"})
        return frozenset({"workloads", "overview"})

    @property
    def needs_rest(self) -> bool:
        """Whether the decision reads Flink's REST API (the operator target's cluster and
        job waits read the FlinkDeployment's status instead)."""
        return bool(self.fetches & {"overview", "jobs", "job_details", "metrics", "savepoint"})

    @property
    def description(self) -> str:
        """What is awaited, for log lines: ``Flink cluster ns/name ready``."""
        what = f"{self.namespace}/{self.name}"
        job = f"job {self.job_id}" if self.job_id else "the job"
        states = " or ".join(self.target_states)
        descriptions = {
            "cluster": f"Flink cluster {what} ready",
            "job": f"{job} of Flink cluster {what} {states}",
            "tasks_running": f"every task of {job} of Flink cluster {what} running",
            "savepoint": f"savepoint {self.trigger_id} of {job} of Flink cluster {what}",
            "operator_savepoint": (
                f"the savepoint of FlinkDeployment {what} (nonce {self.savepoint_nonce})"
            ),
            "suspended": f"FlinkDeployment {what} suspended with a savepoint",
            "session_job": f"FlinkSessionJob {self.namespace}/{self.session_job} {states}",
            "session_jobs_deleted": f"the FlinkSessionJobs of {what} deleted",
            "deleted": f"every object of Flink cluster {what} deleted",
            "parallelism": f"every vertex of {job} of Flink cluster {what} rescaled",
            "slots_released": (
                f"at most {self.expected_slots} task slots registered in Flink cluster {what}"
            ),
            "metrics": f"every vertex of {job} of Flink cluster {what} reporting its load metrics",
        }
        return descriptions[self.kind]

    def decide(self, snapshot: ClusterSnapshot, now: datetime) -> Verdict:
        """Classify ``snapshot`` for this wait (see the module's table).

        :raises ValueError: if ``now`` is naive.
        """
        special = self._decide_special(snapshot)
        if special is not None:
            return special
        grace = timedelta(seconds=self.unschedulable_grace_seconds)
        if target_of(self.target).reads_status_object:
            return classify_operator_deployment(
                snapshot,
                target="job" if self.kind == "job" else "cluster",
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
        if self.kind != "job" or target_of(self.target).reads_status_object:
            return self
        seen = JobSighting.after(snapshot, self.job_id, self.job_seen)
        return self if seen == self.job_seen else self.model_copy(update={"job_seen": seen})

    def _decide_special(self, snapshot: ClusterSnapshot) -> Verdict | None:
        """The decision of the kinds other than ``cluster`` and ``job``."""
        job = select_job(snapshot.jobs, self.job_id) if self.job_id else None
        label = f"cluster {self.namespace}/{self.name}"
        if self.kind == "tasks_running":
            return classify_tasks_running(
                job, job_id=str(self.job_id), rest_error=snapshot.rest_error
            )
        if self.kind == "savepoint":
            return classify_savepoint(
                snapshot.savepoint,
                job,
                job_id=str(self.job_id),
                trigger_id=str(self.trigger_id),
                rest_error=snapshot.rest_error,
            )
        if self.kind == "operator_savepoint":
            nonce = int(self.savepoint_nonce or 0)
            return classify_operator_savepoint(
                snapshot.flink_deployment, nonce=nonce, name=self.name
            )
        if self.kind == "suspended":
            return classify_suspend(
                snapshot.flink_deployment, generation=self.generation, name=self.name
            )
        if self.kind == "session_job":
            found = next(
                (sj for sj in snapshot.session_jobs if _name_of(sj) == self.session_job), None
            )
            return classify_session_job(
                found, target_states=self.target_states, name=self.session_job
            )
        if self.kind == "session_jobs_deleted":
            left = tuple(f"FlinkSessionJob/{_name_of(sj)}" for sj in snapshot.session_jobs)
            return classify_deletion(left, what=f"the FlinkSessionJobs of {label}")
        if self.kind == "parallelism":
            return classify_parallelism(
                job,
                job_id=str(self.job_id),
                targets=self.vertex_parallelism or {},
                rest_error=snapshot.rest_error,
            )
        if self.kind == "metrics":
            return classify_metrics(
                job,
                job_id=str(self.job_id),
                reported=snapshot.reported_metrics,
                rest_error=snapshot.rest_error,
            )
        if self.kind == "slots_released":
            return classify_slots_released(
                snapshot.overview,
                expected_slots=self.expected_slots,
                rest_error=snapshot.rest_error,
            )
        if self.kind == "deleted":
            # "Kind/name (finalizers: ...)": the object is the first word.
            left = tuple(obj for obj in snapshot.remaining if obj.split(" ", 1)[0] != self.keep)
            return classify_deletion(left, what=label)
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (trigger kwargs): every field, so a reader needs no defaults."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitFor:
        """The inverse of :meth:`to_dict`.

        :raises pydantic.ValidationError: naming the field and the rule.
        """
        return cls.model_validate(dict(data))


def _name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")
