"""The resource plan: how many pods of which size a cluster spec asks for.

:func:`plan_cluster` turns a validated spec into numbers every later step reuses: the
TaskManager count, each container's requests and limits as Kubernetes quantities that
equal Flink's process sizes, the Flink configuration that makes Flink agree with
Kubernetes, the memory breakdown Flink will compute, and the cluster's totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.resources.configuration import flink_configuration
from airflow_provider_flink_k8s.resources.memory import (
    JobManagerMemory,
    TaskManagerMemory,
    jobmanager_memory,
    taskmanager_memory,
)
from airflow_provider_flink_k8s.resources.sizing import taskmanagers_for
from airflow_provider_flink_k8s.units import (
    format_cpu,
    format_k8s_memory,
    format_memory_for_display,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["ClusterPlan", "ContainerResources", "RolePlan", "plan_cluster"]


@dataclass(frozen=True)
class ContainerResources:
    """One container's requests and limits: CPU in cores, memory in bytes."""

    cpu_request: float
    cpu_limit: float
    memory_request: int
    memory_limit: int

    def to_k8s(self) -> dict[str, dict[str, str]]:
        """The Kubernetes ``resources`` block (``{"requests": {...}, "limits": {...}}``)."""
        return {
            "requests": {
                "cpu": format_cpu(self.cpu_request),
                "memory": format_k8s_memory(self.memory_request),
            },
            "limits": {
                "cpu": format_cpu(self.cpu_limit),
                "memory": format_k8s_memory(self.memory_limit),
            },
        }


@dataclass(frozen=True)
class RolePlan:
    """All pods of one role (JobManager or TaskManager): how many, and each one's size."""

    replicas: int
    resources: ContainerResources

    @property
    def cpu_requests(self) -> float:
        """CPU requested by all replicas together."""
        return self.replicas * self.resources.cpu_request

    @property
    def memory_requests(self) -> int:
        """Memory (bytes) requested by all replicas together."""
        return self.replicas * self.resources.memory_request

    @property
    def cpu_limits(self) -> float:
        """CPU limit of all replicas together."""
        return self.replicas * self.resources.cpu_limit

    @property
    def memory_limits(self) -> int:
        """Memory limit (bytes) of all replicas together."""
        return self.replicas * self.resources.memory_limit


@dataclass(frozen=True)
class ClusterPlan:
    """What a cluster needs, decided from its spec alone."""

    parallelism: int | None
    """Default parallelism of the job; ``None`` for a session cluster."""
    max_parallelism: int | None
    slots_per_taskmanager: int
    jobmanager: RolePlan
    taskmanager: RolePlan
    jobmanager_memory: JobManagerMemory
    taskmanager_memory: TaskManagerMemory
    flink_configuration: Mapping[str, str]
    """The full Flink configuration (sorted), as the standalone ``config.yaml`` holds it."""

    @property
    def total_slots(self) -> int:
        """Task slots of all TaskManagers."""
        return self.taskmanager.replicas * self.slots_per_taskmanager

    @property
    def cpu_requests(self) -> float:
        """CPU requested by the whole cluster."""
        return self.jobmanager.cpu_requests + self.taskmanager.cpu_requests

    @property
    def memory_requests(self) -> int:
        """Memory (bytes) requested by the whole cluster."""
        return self.jobmanager.memory_requests + self.taskmanager.memory_requests

    @property
    def cpu_limits(self) -> float:
        """CPU limit of the whole cluster."""
        return self.jobmanager.cpu_limits + self.taskmanager.cpu_limits

    @property
    def memory_limits(self) -> int:
        """Memory limit (bytes) of the whole cluster."""
        return self.jobmanager.memory_limits + self.taskmanager.memory_limits

    def summary(self) -> str:
        """A short table for people (logs, the demo, a notebook): pods, CPU and memory
        requests/limits and the JVM sizes of each role, then slots, parallelism and
        totals. :meth:`to_dict` has the same facts as plain JSON."""
        rows = [
            ("", "pods", "cpu req/lim", "memory req/lim", "heap", "off-heap", "managed", "meta"),
            _role_row("JobManager", self.jobmanager, self.jobmanager_memory),
            _role_row("TaskManager", self.taskmanager, self.taskmanager_memory),
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]
        parallelism = (
            "session cluster (no job)"
            if self.parallelism is None
            else (
                f"parallelism {self.parallelism}"
                + (f" (max {self.max_parallelism})" if self.max_parallelism else "")
            )
        )
        lines.append(
            f"slots: {self.slots_per_taskmanager} per TaskManager, {self.total_slots} in all; "
            + parallelism
        )
        lines.append(
            f"total: requests {format_cpu(self.cpu_requests)} CPU, "
            f"{format_memory_for_display(self.memory_requests)}; "
            f"limits {format_cpu(self.cpu_limits)} CPU, "
            f"{format_memory_for_display(self.memory_limits)}"
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON (the deploy task's XCom ``plan``)."""
        return {
            "parallelism": self.parallelism,
            "max_parallelism": self.max_parallelism,
            "taskmanagers": self.taskmanager.replicas,
            "slots_per_taskmanager": self.slots_per_taskmanager,
            "total_slots": self.total_slots,
            "jobmanager": {
                "replicas": self.jobmanager.replicas,
                "resources": self.jobmanager.resources.to_k8s(),
                "jvm_args": self.jobmanager_memory.jvm_args(),
                "memory_bytes": _memory_components(self.jobmanager_memory),
            },
            "taskmanager": {
                "replicas": self.taskmanager.replicas,
                "resources": self.taskmanager.resources.to_k8s(),
                "jvm_args": self.taskmanager_memory.jvm_args(),
                "memory_bytes": _memory_components(self.taskmanager_memory),
            },
            "totals": {
                "requests": {
                    "cpu": format_cpu(self.cpu_requests),
                    "memory": format_k8s_memory(self.memory_requests),
                },
                "limits": {
                    "cpu": format_cpu(self.cpu_limits),
                    "memory": format_k8s_memory(self.memory_limits),
                },
            },
        }


def _role_row(
    role: str, pods: RolePlan, memory: JobManagerMemory | TaskManagerMemory
) -> tuple[str, ...]:
    """One role's row of :meth:`ClusterPlan.summary`: a JobManager's off-heap is Flink's
    ``jobmanager.memory.off-heap.size``, a TaskManager's its JVM direct memory limit."""
    res = pods.resources
    off_heap = memory.off_heap if isinstance(memory, JobManagerMemory) else memory.direct
    managed = memory.managed if isinstance(memory, TaskManagerMemory) else 0
    return (
        role,
        str(pods.replicas),
        f"{format_cpu(res.cpu_request)}/{format_cpu(res.cpu_limit)}",
        f"{format_memory_for_display(res.memory_request)}/"
        f"{format_memory_for_display(res.memory_limit)}",
        format_memory_for_display(memory.heap),
        format_memory_for_display(off_heap),
        format_memory_for_display(managed) if managed else "-",
        format_memory_for_display(memory.jvm_metaspace),
    )


def _memory_components(memory: JobManagerMemory | TaskManagerMemory) -> dict[str, int]:
    """The byte-sized components of a memory breakdown, by Flink's names."""
    return {
        name: value
        for name, value in vars(memory).items()
        if isinstance(value, int) and not isinstance(value, bool) and name != "slots"
    }


def _job_parallelism(cluster: FlinkCluster) -> int | None:
    if cluster.job is None:
        return None
    if cluster.job.parallelism is not None:
        return cluster.job.parallelism
    if cluster.taskmanager.replicas is not None:
        return cluster.taskmanager.replicas * cluster.taskmanager.slots
    return 1


def _factor(conf: Mapping[str, str], key: str) -> float:
    return float(conf.get(key, "1.0"))


def _container(cpu: float, memory: int, conf: Mapping[str, str], role: str) -> ContainerResources:
    """Requests equal Flink's sizes; limits apply Flink's Kubernetes limit factors."""
    cpu_factor = _factor(conf, f"kubernetes.{role}.cpu.limit-factor")
    memory_factor = _factor(conf, f"kubernetes.{role}.memory.limit-factor")
    return ContainerResources(
        cpu_request=cpu,
        cpu_limit=cpu * cpu_factor,
        memory_request=memory,
        # Flink's native Kubernetes integration truncates the product to whole bytes too.
        memory_limit=int(memory * memory_factor),
    )


def plan_cluster(cluster: FlinkCluster) -> ClusterPlan:
    """Plan the pods of a validated cluster spec.

    TaskManager replicas are ``taskmanager.replicas`` when pinned, else
    ``ceil(parallelism / slots)`` for an application cluster and 1 for a session cluster.
    Each container requests exactly Flink's total process memory and its CPU; limits are
    the requests times ``kubernetes.<role>.{cpu,memory}.limit-factor`` (default 1.0).
    """
    conf = flink_configuration(cluster)
    parallelism = _job_parallelism(cluster)
    slots = cluster.taskmanager.slots
    if cluster.taskmanager.replicas is not None:
        tm_replicas = cluster.taskmanager.replicas
    elif parallelism is not None:
        tm_replicas = taskmanagers_for(parallelism, slots)
    else:
        tm_replicas = 1
    tm_memory = taskmanager_memory(conf)
    jm_memory = jobmanager_memory(conf)
    return ClusterPlan(
        parallelism=parallelism,
        max_parallelism=cluster.job.max_parallelism if cluster.job else None,
        slots_per_taskmanager=slots,
        jobmanager=RolePlan(
            replicas=cluster.jobmanager.replicas,
            resources=_container(
                cluster.jobmanager.cpu, jm_memory.total_process, conf, "jobmanager"
            ),
        ),
        taskmanager=RolePlan(
            replicas=tm_replicas,
            resources=_container(
                cluster.taskmanager.cpu, tm_memory.total_process, conf, "taskmanager"
            ),
        ),
        jobmanager_memory=jm_memory,
        taskmanager_memory=tm_memory,
        flink_configuration=MappingProxyType(dict(conf)),
    )
