"""The questions every target answers (see :mod:`airflow_provider_flink_k8s.targets`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

__all__ = ["ClusterTarget", "TargetName"]

TargetName = Literal["standalone", "operator"]
"""The targets a spec may name."""


class ClusterTarget(ABC):
    """How one target runs a Flink cluster: who controls its jobs, how jobs are
    submitted and rescaled, what a wait reads. Stateless; one instance per target."""

    name: TargetName
    """The spec's ``target`` value."""
    renders_workloads: bool
    """Whether the provider renders the Deployments and Services that run Flink's
    processes (Flink's standalone entry points, its configuration file), instead of
    handing a spec to a controller that does."""
    controller: str
    """What reconciles the cluster's objects, for messages (``the Flink Kubernetes
    Operator``; ``Kubernetes`` for the provider's own Deployments)."""
    reads_status_object: bool
    """Whether the cluster's readiness is the status of one custom object (the
    FlinkDeployment) that a wait reads and watches, instead of the Deployments, pods and
    Flink's REST API."""
    session_jobs_as_objects: bool
    """Whether a session cluster's jobs are Kubernetes objects (``FlinkSessionJob``) the
    controller submits, instead of jobs the task submits through Flink's REST API; a
    teardown deletes those objects first."""
    uploads_jars: bool
    """Whether a submitted job's jar is uploaded from the Airflow worker (a local file, or
    an uploaded ``jar_id``), instead of fetched by the controller from a URI."""
    rescales_by_patching: bool
    """Whether a rescale changes the cluster's spec and lets the controller carry it out,
    instead of acting on Flink (its REST API and the TaskManager Deployment) step by step."""

    @abstractmethod
    def controls_job(self, mode: str) -> bool:
        """Whether the controller owns the lifecycle of the cluster's job in ``mode``
        (``application`` or ``session``): a savepoint is asked of it, and a teardown
        suspends the cluster through it, rather than stopping the job through Flink's
        REST API."""

    @abstractmethod
    def session_job_jar(self, jar_uri: str) -> str:
        """The jar to submit for a FlinkSessionJob manifest's ``spec.job.jarURI``.

        :raises ValueError: naming the field and the rule, when this target cannot use it.
        """

    def jar_rule(self, *, jar: str | None, jar_id: str | None) -> tuple[str, str] | None:
        """A target's own rule a job's ``jar``/``jar_id`` breaks, as ``(argument, rule)``;
        ``None`` when they suit it. The rules every target shares (one of the two, a
        local file that exists) are the caller's."""
        return None
