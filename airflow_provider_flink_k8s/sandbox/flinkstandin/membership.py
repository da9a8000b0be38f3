"""Which TaskManagers a stand-in JobManager has: the simulated TaskManager containers
whose ``jobmanager.rpc.address``/``.port`` lead to it, while their pod is Ready.

A real TaskManager resolves its JobManager's address (a Service name, as rendered)
through the cluster DNS and kube-proxy and registers once its process runs; the pod is
Ready when its probe passes on the running process. The sandbox resolves the address as
the ``local`` runtime does (:func:`..runtime.flinkpods.resolve_address`: Service ->
Endpoints -> pod -> the port the JobManager container exposes) and counts a TaskManager
from the moment its pod's ``Ready`` condition turned true.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from airflow_provider_flink_k8s.sandbox.flinkstandin.memory import taskmanager_memory
from airflow_provider_flink_k8s.sandbox.flinkstandin.views import RegisteredTaskManager
from airflow_provider_flink_k8s.sandbox.runtime.base import ClusterView, ContainerSpec
from airflow_provider_flink_k8s.sandbox.runtime.flinkpods import (
    read_pod_configuration,
    resolve_address,
)

__all__ = ["TaskManagerContainers", "registered_taskmanagers"]


class TaskManagerContainers:
    """The simulated runtime's running TaskManager containers, by container id."""

    def __init__(self) -> None:
        self._specs: dict[str, ContainerSpec] = {}

    def add(self, container_id: str, spec: ContainerSpec) -> None:
        self._specs[container_id] = spec

    def discard(self, container_id: str) -> None:
        self._specs.pop(container_id, None)

    def specs(self) -> list[ContainerSpec]:
        """In start order."""
        return list(self._specs.values())


def _ready_since(pod: dict[str, Any] | Any) -> int | None:
    """Epoch ms since when the pod is Ready; ``None`` if it is not."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            stamp = str(condition.get("lastTransitionTime") or "")
            try:
                moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                return 0
            return int(moment.timestamp() * 1000)
    return None


def _register(spec: ContainerSpec, pod: Any, since: int) -> RegisteredTaskManager | None:
    conf = read_pod_configuration(spec.files, spec.env).configuration
    try:
        memory = taskmanager_memory(conf)
        slots = int(conf.get("taskmanager.numberOfTaskSlots", "1"))
        cpu = float(conf.get("taskmanager.cpu.cores", str(slots)))
        rpc = str(conf.get("taskmanager.rpc.port", "6122")).split("-")[0]
        rpc_port = int(rpc) if rpc.isdigit() and int(rpc) else 6122
    except ValueError:
        return None  # Flink would not start with this configuration
    digest = hashlib.sha256(spec.pod_uid.encode()).hexdigest()
    address = str((pod.get("status") or {}).get("podIP") or spec.pod_ip)
    return RegisteredTaskManager(
        id=f"{address}:{rpc_port}-{digest[:6]}",
        address=address,
        rpc_port=rpc_port,
        data_port=32768 + int(digest[6:12], 16) % 28000,  # Flink picks a free one
        slots=slots,
        cpu_cores=cpu,
        memory=memory,
        registered_ms=since,
    )


def registered_taskmanagers(
    cluster: ClusterView, jobmanager_rpc: tuple[str, int], containers: Iterable[ContainerSpec]
) -> list[RegisteredTaskManager]:
    """The TaskManagers of ``containers`` registered with the JobManager whose RPC port is
    served at ``jobmanager_rpc`` (host, port), in registration order."""
    found: list[RegisteredTaskManager] = []
    for spec in containers:
        conf = read_pod_configuration(spec.files, spec.env).configuration
        host = str(conf.get("jobmanager.rpc.address", "localhost"))
        try:
            port = int(conf.get("jobmanager.rpc.port", "6123"))
        except ValueError:
            continue
        if resolve_address(cluster, spec.namespace, host, port) != jobmanager_rpc:
            continue
        pod = cluster.lookup("pods", spec.namespace, spec.pod_name)
        if pod is None or (pod.get("metadata") or {}).get("uid") != spec.pod_uid:
            continue
        since = _ready_since(pod)
        if since is None:
            continue
        registered = _register(spec, pod, since)
        if registered is not None:
            found.append(registered)
    return sorted(found, key=lambda tm: tm.registered_ms)
