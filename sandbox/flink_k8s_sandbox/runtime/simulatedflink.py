"""The simulated runtime's Flink pods: which containers are standalone Flink JobManagers
and TaskManagers, and the Flink REST stand-in (:mod:`..flinkstandin`) each JobManager
serves.

A container gets the stand-in when its image runs Flink
(:func:`.flinkpods.is_flink_image`) and its arguments are the official image's
``jobmanager`` (a session cluster) or ``standalone-job`` (an application cluster: its job
is submitted at start, with the id ``--job-id`` gives -- else Flink's fixed
``00000000000000000000000000000000`` of a non-HA application -- from
``--fromSavepoint``; unlike Flink, the JobManager keeps serving after that job ends). The
simulated runtime serves it on the configured ``rest.port`` instead of its plain HTTP
stub.

Which TaskManagers a JobManager has: the simulated TaskManager containers
(``taskmanager``) whose ``jobmanager.rpc.address``/``.port`` lead to it, while their pod
is Ready. A real TaskManager resolves that address (a Service name, as rendered) through
the cluster DNS and kube-proxy and registers once its process runs; the pod is Ready
when its probe passes on the running process. The sandbox resolves the address as the
``local`` runtime does (:func:`.flinkpods.resolve_address`: Service -> Endpoints -> pod
-> the port the JobManager container exposes) and counts a TaskManager from the moment
its pod's ``Ready`` condition turned true.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from importlib import metadata
from typing import Any

from flink_k8s_sandbox.flink.arguments import parse_entrypoint_args
from flink_k8s_sandbox.flinkstandin import (
    RegisteredTaskManager,
    StandInCluster,
    StandInServer,
    taskmanager_memory,
)
from flink_k8s_sandbox.runtime.base import ClusterView, ContainerSpec
from flink_k8s_sandbox.runtime.flinkpods import (
    FLINK_IMAGES,
    is_flink_image,
    read_pod_configuration,
    resolve_address,
)

__all__ = [
    "TaskManagerContainers",
    "flink_role",
    "flink_version_of",
    "registered_taskmanagers",
    "rest_port",
    "rpc_port",
    "start_standin_jobmanager",
]

_ENTRYPOINTS = ("/docker-entrypoint.sh", "docker-entrypoint.sh")
_VERSION = re.compile(r"^(\d+\.\d+(?:\.\d+)?)")
_FIXED_JOB_ID = "$internal.pipeline.job-id"
_ZERO_JOB_ID = "0" * 32


def flink_role(spec: ContainerSpec, images: Sequence[str] = FLINK_IMAGES) -> str | None:
    """``jobmanager`` (also for ``standalone-job``) or ``taskmanager`` for a standalone
    Flink container, else ``None``."""
    if spec.init or not is_flink_image(spec.image, images):
        return None
    if spec.command and spec.command[0] not in _ENTRYPOINTS:
        return None
    args = (*spec.command[1:], *spec.args)
    if not args or args[0] not in ("jobmanager", "taskmanager", "standalone-job"):
        return None
    try:
        role = parse_entrypoint_args(args).role
    except ValueError:
        return None
    return "taskmanager" if role == "taskmanager" else "jobmanager"


def flink_version_of(image: str) -> str:
    """The Flink version an image's tag names (``flink:2.3-java17`` -> ``2.3``), else the
    version of the Flink jars installed with the sandbox, else ``unknown``."""
    tag = image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]
    found = _VERSION.match(tag)
    if found:
        return found.group(1)
    try:
        return metadata.version("apache-flink-libraries")
    except metadata.PackageNotFoundError:
        return "unknown"


def rest_port(spec: ContainerSpec) -> int:
    """The container port Flink's REST API listens on (``rest.port``, default 8081)."""
    conf = read_pod_configuration(spec.files, spec.env).configuration
    return int(str(conf.get("rest.port", "8081")).split("-")[0])


def rpc_port(spec: ContainerSpec) -> int:
    """The JobManager's RPC container port (``jobmanager.rpc.port``, default 6123)."""
    conf = read_pod_configuration(spec.files, spec.env).configuration
    return int(conf.get("jobmanager.rpc.port", "6123"))


async def start_standin_jobmanager(
    spec: ContainerSpec,
    cluster: ClusterView,
    taskmanagers: TaskManagerContainers,
    rpc_address: tuple[str, int] | None,
    *,
    step: float,
) -> StandInServer:
    """Serve the stand-in REST API of the JobManager container ``spec``.

    :param rpc_address: where the container's RPC port is exposed on this machine (what a
        TaskManager's resolved ``jobmanager.rpc.address`` must lead to); ``None``: no
        TaskManager can reach it.
    :param step: seconds between a job's or a savepoint's transitions.
    :raises ValueError: for an unreadable configuration.
    """
    configuration = read_pod_configuration(spec.files, spec.env).configuration
    entrypoint = parse_entrypoint_args((*spec.command[1:], *spec.args))
    configuration.update(entrypoint.properties())

    def registered() -> list[RegisteredTaskManager]:
        if rpc_address is None:
            return []
        return registered_taskmanagers(cluster, rpc_address, taskmanagers.specs())

    state = StandInCluster(
        configuration, registered, flink_version=flink_version_of(spec.image), step=step
    )
    if entrypoint.role == "standalone-job":
        job_id = entrypoint.option("job-id") or configuration.get(_FIXED_JOB_ID, _ZERO_JOB_ID)
        name = entrypoint.job_classname or "Flink Streaming Job"
        state.submit(job_id.lower(), name, None, restored_from=entrypoint.from_savepoint)
    server = StandInServer(state)
    await server.start()
    return server


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


def _ready_since(pod: Mapping[str, Any]) -> int | None:
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


def _register(
    conf: Mapping[str, str], spec: ContainerSpec, pod: Mapping[str, Any], since: int
) -> RegisteredTaskManager | None:
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
        try:
            conf = read_pod_configuration(spec.files, spec.env).configuration
            port = int(conf.get("jobmanager.rpc.port", "6123"))
        except ValueError:
            continue  # Flink would not start with this configuration
        host = str(conf.get("jobmanager.rpc.address", "localhost"))
        if resolve_address(cluster, spec.namespace, host, port) != jobmanager_rpc:
            continue
        pod = cluster.lookup("pods", spec.namespace, spec.pod_name)
        if pod is None or (pod.get("metadata") or {}).get("uid") != spec.pod_uid:
            continue
        since = _ready_since(pod)
        if since is None:
            continue
        registered = _register(conf, spec, pod, since)
        if registered is not None:
            found.append(registered)
    return sorted(found, key=lambda tm: tm.registered_ms)
