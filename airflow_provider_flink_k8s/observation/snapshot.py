"""One observation of a cluster: what a hook saw at one moment, as plain data.

A hook reads the objects and asks the JobManager's REST API, then builds a
:class:`ClusterSnapshot` with :meth:`ClusterSnapshot.from_k8s` from the raw JSON it got
(the preferred form: ``_preload_content=False`` responses or custom objects; the
``kubernetes`` client's ``to_dict()`` output is read too). The classifiers take the
snapshot and a time; triggers carry it as primitives with :meth:`ClusterSnapshot.to_dict`
and :meth:`ClusterSnapshot.from_dict`.

Log tails are the one thing a hook fetches *after* looking: :meth:`ClusterSnapshot.log_sources`
names the pods (and whether to read the previous container's log) whose logs explain a
failure, and :meth:`ClusterSnapshot.with_log_tails` adds what was read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from airflow_provider_flink_k8s.observation._base import FrozenModel, get_str
from airflow_provider_flink_k8s.observation.flink import (
    FlinkDeploymentState,
    FlinkJob,
    FlinkOverview,
    SavepointState,
)
from airflow_provider_flink_k8s.observation.workloads import (
    ContainerStatus,
    DeploymentState,
    EventRecord,
    PodState,
)

__all__ = ["ClusterSnapshot", "LogSource"]

_UNDATED = datetime.min.replace(tzinfo=timezone.utc)


class LogSource(FrozenModel):
    """A container whose log explains a failure: what a hook should tail."""

    pod: str
    container: str
    previous: bool
    """Read the terminated previous instance (``previous=True``): a crash-looping
    container's current instance has not logged anything useful yet."""


class ClusterSnapshot(FrozenModel):
    """What a hook observed of one cluster at one moment."""

    name: str | None = None
    """The cluster's name, for messages."""
    jobmanager: DeploymentState | None = None
    """The JobManager Deployment, ``None`` when absent (or the operator target)."""
    taskmanager: DeploymentState | None = None
    pods: tuple[PodState, ...] = ()
    events: tuple[EventRecord, ...] = ()
    log_tails: dict[str, str] = Field(default_factory=dict)
    """The last log lines of a pod's Flink container, by pod name."""
    overview: FlinkOverview | None = None
    """``GET /overview``; ``None`` when the REST API did not answer (see ``rest_error``)."""
    jobs: tuple[FlinkJob, ...] = ()
    rest_error: str | None = None
    """Why the REST API did not answer (connection refused, HTTP 503...)."""
    flink_deployment: FlinkDeploymentState | None = None
    """The FlinkDeployment of the operator target."""
    savepoint: SavepointState | None = None
    """Flink's answer about the savepoint trigger a savepoint wait follows."""
    session_jobs: tuple[dict[str, Any], ...] = ()
    """Raw FlinkSessionJobs a wait follows (the one it submitted, or those on the cluster)."""
    remaining: tuple[str, ...] = ()
    """Objects of the cluster still there (``Kind/name``), for a deletion wait."""
    reported_metrics: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """For a metrics wait: the load metrics (names) Flink reported for each vertex of the
    awaited job, by vertex id (``GET /jobs/:jobid/vertices/:vertexid/subtasks/metrics``);
    a vertex read with none maps to ``()``."""

    @classmethod
    def from_k8s(
        cls,
        *,
        name: str | None = None,
        jobmanager_deployment: Mapping[str, Any] | None = None,
        taskmanager_deployment: Mapping[str, Any] | None = None,
        pods: Iterable[Mapping[str, Any]] = (),
        events: Iterable[Mapping[str, Any]] = (),
        log_tails: Mapping[str, str] | None = None,
        overview: Mapping[str, Any] | None = None,
        jobs: Iterable[Mapping[str, Any]] = (),
        job_exceptions: Mapping[str, Mapping[str, Any]] | None = None,
        rest_error: str | None = None,
        flink_deployment: Mapping[str, Any] | None = None,
    ) -> ClusterSnapshot:
        """Build a snapshot from raw API objects.

        :param name: the cluster's name, for messages.
        :param jobmanager_deployment: the JobManager Deployment, if it exists.
        :param taskmanager_deployment: the TaskManager Deployment, if it exists.
        :param pods: the cluster's pods; each one's role comes from its
            ``app.kubernetes.io/component`` or ``component`` label.
        :param events: recent Events about the cluster's objects.
        :param log_tails: the last log lines of a pod's Flink container, by pod name.
        :param overview: the body of ``GET /overview``; ``None`` if the REST API did not answer.
        :param jobs: entries of ``GET /jobs/overview`` (or ``/jobs``), or job details.
        :param job_exceptions: bodies of ``GET /jobs/:jobid/exceptions``, by job id.
        :param rest_error: why the REST API did not answer.
        :param flink_deployment: the FlinkDeployment (operator target).
        """
        exceptions = job_exceptions or {}
        parsed_jobs = [
            FlinkJob.from_rest(raw, exceptions.get(get_str(raw, "jid") or get_str(raw, "id") or ""))
            for raw in jobs
        ]
        return cls(
            name=name,
            jobmanager=_deployment(jobmanager_deployment, "jobmanager"),
            taskmanager=_deployment(taskmanager_deployment, "taskmanager"),
            pods=tuple(PodState.from_k8s(pod) for pod in pods),
            events=tuple(EventRecord.from_k8s(event) for event in events),
            log_tails=dict(log_tails or {}),
            overview=FlinkOverview.from_rest(overview) if overview is not None else None,
            jobs=tuple(parsed_jobs),
            rest_error=rest_error,
            flink_deployment=(
                FlinkDeploymentState.from_k8s(flink_deployment)
                if flink_deployment is not None
                else None
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as plain JSON (defaults left out), for trigger kwargs and events."""
        return self.model_dump(mode="json", exclude_defaults=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterSnapshot:
        """The inverse of :meth:`to_dict`.

        :raises pydantic.ValidationError: if ``data`` is not a snapshot.
        """
        return cls.model_validate(data)

    @property
    def deployments(self) -> tuple[DeploymentState, ...]:
        """The Deployments that exist, JobManager first."""
        return tuple(d for d in (self.jobmanager, self.taskmanager) if d is not None)

    @property
    def active_pods(self) -> tuple[PodState, ...]:
        """Pods that count, JobManagers first, then by name: neither terminating, nor
        finished, nor from a ReplicaSet their Deployment's rollout is replacing."""
        owners = {d.component: d for d in self.deployments}
        active = (
            pod
            for pod in self.pods
            if pod.active and not (pod.component in owners and owners[pod.component].outdated(pod))
        )
        return tuple(sorted(active, key=lambda pod: (_role_rank(pod.component), pod.name)))

    def events_for(self, kind: str, name: str) -> tuple[EventRecord, ...]:
        """Events about one object, oldest first (undated ones first)."""
        about = [e for e in self.events if e.object_kind == kind and e.object_name == name]
        return tuple(sorted(about, key=lambda e: e.last_seen or _UNDATED))

    def log_sources(self) -> tuple[LogSource, ...]:
        """The containers whose logs a hook should tail, at most one per role.

        Per role, the container restarted most (ties: by pod name) among those that
        terminated at least once; for the JobManager, otherwise its first running
        container (its log says why the REST API does not answer yet).
        """
        sources: list[LogSource] = []
        for component in ("jobmanager", "taskmanager"):
            pods = [pod for pod in self.active_pods if pod.component == component]
            crashed = [
                (pod, container)
                for pod in pods
                for container in pod.containers
                if container.restart_count > 0 and container.last_reason is not None
            ]
            if crashed:
                pod, container = min(crashed, key=lambda pc: (-pc[1].restart_count, pc[0].name))
                sources.append(LogSource(pod=pod.name, container=container.name, previous=True))
            elif component == "jobmanager":
                running = [(p, c) for p in pods for c in p.containers if _running(c)]
                if running:
                    pod, container = running[0]
                    sources.append(
                        LogSource(pod=pod.name, container=container.name, previous=False)
                    )
        return tuple(sources)

    def with_log_tails(self, tails: Mapping[str, str]) -> ClusterSnapshot:
        """A copy with ``tails`` (by pod name) added to :attr:`log_tails`."""
        return self.model_copy(update={"log_tails": {**self.log_tails, **tails}})


def _role_rank(component: str | None) -> int:
    """Sort key of a role: JobManager, then TaskManager, then anything else."""
    return {"jobmanager": 0, "taskmanager": 1}.get(component or "", 2)


def _running(container: ContainerStatus) -> bool:
    return container.state == "running" and not container.init


def _deployment(raw: Mapping[str, Any] | None, component: str) -> DeploymentState | None:
    return DeploymentState.from_k8s(raw, component=component) if raw is not None else None
