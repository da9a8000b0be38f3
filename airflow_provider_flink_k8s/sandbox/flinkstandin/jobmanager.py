"""A simulated Flink JobManager container: which containers get one, and starting it.

A container gets the stand-in REST API when its image runs Flink
(:func:`..runtime.flinkpods.is_flink_image`) and its arguments are the official image's
``jobmanager`` (a session cluster) or ``standalone-job`` (an application cluster: its job
is submitted at start, with the id ``--job-id`` gives -- else Flink's fixed
``00000000000000000000000000000000`` of a non-HA application -- from ``--fromSavepoint``;
unlike Flink, the JobManager keeps serving after that job ends); the simulated runtime then serves
:class:`.server.StandInServer` on the configured ``rest.port`` instead of its plain HTTP
stub. TaskManager containers (``taskmanager``) are recorded so the JobManager can count
them (:mod:`.membership`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import metadata

from airflow_provider_flink_k8s.sandbox.flink.arguments import parse_entrypoint_args
from airflow_provider_flink_k8s.sandbox.flinkstandin.cluster import StandInCluster
from airflow_provider_flink_k8s.sandbox.flinkstandin.membership import (
    TaskManagerContainers,
    registered_taskmanagers,
)
from airflow_provider_flink_k8s.sandbox.flinkstandin.server import StandInServer
from airflow_provider_flink_k8s.sandbox.flinkstandin.views import RegisteredTaskManager
from airflow_provider_flink_k8s.sandbox.runtime.base import ClusterView, ContainerSpec
from airflow_provider_flink_k8s.sandbox.runtime.flinkpods import (
    FLINK_IMAGES,
    is_flink_image,
    read_pod_configuration,
)

__all__ = ["flink_role", "flink_version_of", "start_standin_jobmanager"]

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
