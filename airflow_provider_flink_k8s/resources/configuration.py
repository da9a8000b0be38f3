"""The Flink configuration a cluster spec implies.

Kubernetes and Flink must agree on every size: the container's memory request *is*
Flink's total process memory, its CPU is Flink's CPU, its slots are Flink's slots. This
module derives those keys from the spec (plus state directories, HA and, for the
standalone layout, the network settings the official image expects) and lays the user's
``flink_configuration`` over them. Keys a spec field owns may not be overridden there;
:func:`owned_key_conflicts` says which ones a spec sets twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.units import format_flink_memory

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "FLINK_JAVA_MODULE_OPTIONS",
    "JOBMANAGER_PORTS",
    "TASKMANAGER_PORTS",
    "checkpoint_dir_key",
    "flink_configuration",
    "ha_enabled",
    "operator_flink_configuration",
    "owned_key_conflicts",
    "savepoint_dir_key",
]

FLINK_JAVA_MODULE_OPTIONS: tuple[str, ...] = (
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.text=ALL-UNNAMED",
    "--add-opens=java.base/java.time=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED",
)
"""``env.java.opts.all`` of Flink's own default ``config.yaml`` (flink-dist 2.3): Java 17
closes the JDK's internals that Flink's serializers, its Netty and the table planner's
compiler need. A standalone cluster's ConfigMap replaces the image's ``config.yaml``, so
it must carry them (a test keeps this equal to the copy inside ``flink-dist``)."""

JOBMANAGER_PORTS = {"rpc": 6123, "blob-server": 6124, "webui": 8081}
"""The JobManager's ports in Flink's standalone Kubernetes layout."""

TASKMANAGER_PORTS = {"rpc": 6122}
"""The TaskManager's ports in Flink's standalone Kubernetes layout."""

_HA_TYPE_KEYS = ("high-availability.type", "high-availability")


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def checkpoint_dir_key(flink_version: str) -> str:
    """The checkpoint-directory key the given Flink version reads (renamed in 1.20)."""
    if _version_tuple(flink_version) >= (1, 20):
        return "execution.checkpointing.dir"
    return "state.checkpoints.dir"


def savepoint_dir_key(flink_version: str) -> str:
    """The savepoint-directory key the given Flink version reads (renamed in 1.20)."""
    if _version_tuple(flink_version) >= (1, 20):
        return "execution.checkpointing.savepoint-dir"
    return "state.savepoints.dir"


def ha_enabled(cluster: FlinkCluster) -> bool:
    """Whether the cluster runs Flink's HA services, from the spec block or raw config."""
    if cluster.high_availability.enabled:
        return True
    for key in _HA_TYPE_KEYS:
        value = cluster.flink_configuration.get(key, "").strip().lower()
        if value and value not in ("none", "false"):
            return True
    return False


def _owned_keys(cluster: FlinkCluster) -> dict[str, str]:
    """Keys a spec field sets, each mapped to the field that owns it."""
    owned = {
        "taskmanager.numberOfTaskSlots": "taskmanager.slots",
        "taskmanager.memory.process.size": "taskmanager.memory",
        "jobmanager.memory.process.size": "jobmanager.memory",
        "kubernetes.cluster-id": "name",
    }
    job = cluster.job
    if job is not None and job.parallelism is not None:
        owned["parallelism.default"] = "job.parallelism"
    if job is not None and job.max_parallelism is not None:
        owned["pipeline.max-parallelism"] = "job.max_parallelism"
    if cluster.checkpoint_dir:
        owned["execution.checkpointing.dir"] = "checkpoint_dir"
        owned["state.checkpoints.dir"] = "checkpoint_dir"
    if cluster.savepoint_dir:
        owned["execution.checkpointing.savepoint-dir"] = "savepoint_dir"
        owned["state.savepoints.dir"] = "savepoint_dir"
    if cluster.high_availability.storage_dir:
        owned["high-availability.storageDir"] = "high_availability.storage_dir"
    return owned


def owned_key_conflicts(cluster: FlinkCluster) -> dict[str, str]:
    """Keys of ``flink_configuration`` that a spec field already sets: key -> field."""
    owned = _owned_keys(cluster)
    return {key: owned[key] for key in cluster.flink_configuration if key in owned}


def _common_keys(cluster: FlinkCluster) -> dict[str, str]:
    """Keys both targets need in the Flink configuration itself."""
    conf = {"taskmanager.numberOfTaskSlots": str(cluster.taskmanager.slots)}
    job = cluster.job
    if job is not None:
        parallelism = job.parallelism
        if parallelism is None and cluster.taskmanager.replicas is not None:
            parallelism = cluster.taskmanager.replicas * cluster.taskmanager.slots
        conf["parallelism.default"] = str(parallelism or 1)
        if job.max_parallelism is not None:
            conf["pipeline.max-parallelism"] = str(job.max_parallelism)
    if cluster.checkpoint_dir:
        conf[checkpoint_dir_key(cluster.flink_version)] = cluster.checkpoint_dir
    if cluster.savepoint_dir:
        conf[savepoint_dir_key(cluster.flink_version)] = cluster.savepoint_dir
    if cluster.high_availability.enabled:
        conf["high-availability.type"] = "kubernetes"
        conf["high-availability.storageDir"] = str(cluster.high_availability.storage_dir)
    return conf


def flink_configuration(cluster: FlinkCluster) -> dict[str, str]:
    """The complete Flink configuration of the cluster's processes, sorted by key.

    This is what a standalone cluster's ``config.yaml`` holds, and what the memory model
    and the resource plan are computed from for either target.
    """
    conf = {
        "jobmanager.memory.process.size": format_flink_memory(cluster.jobmanager.memory_bytes),
        "taskmanager.memory.process.size": format_flink_memory(cluster.taskmanager.memory_bytes),
        # Flink's resource profile of a TaskManager then matches its container.
        "taskmanager.cpu.cores": repr(float(cluster.taskmanager.cpu)),
    }
    conf.update(_common_keys(cluster))
    if cluster.target == "standalone":
        conf["env.java.opts.all"] = " ".join(FLINK_JAVA_MODULE_OPTIONS)
        conf.update(_standalone_network_keys(cluster))
        if cluster.mode == "application":
            # Keep the JobManager up once a bounded job finishes: otherwise it exits, the
            # Deployment restarts it, and the job runs again (the operator sets the same).
            conf["execution.shutdown-on-application-finish"] = "false"
    if ha_enabled(cluster):
        conf["kubernetes.cluster-id"] = cluster.name
        conf["kubernetes.namespace"] = cluster.namespace
    conf.update(cluster.flink_configuration)
    return dict(sorted(conf.items()))


def operator_flink_configuration(cluster: FlinkCluster) -> dict[str, str]:
    """The ``spec.flinkConfiguration`` of a FlinkDeployment for this cluster, sorted.

    The operator derives process sizes and CPU from ``jobManager``/``taskManager``
    ``resource`` and the cluster id from the resource name, so those keys are left out.
    """
    conf = _common_keys(cluster)
    conf.update(cluster.flink_configuration)
    return dict(sorted(conf.items()))


def _standalone_network_keys(cluster: FlinkCluster) -> dict[str, str]:
    """Addresses and ports of Flink's standalone Kubernetes layout."""
    return {
        "jobmanager.rpc.address": f"{cluster.name}-jobmanager",
        "jobmanager.rpc.port": str(JOBMANAGER_PORTS["rpc"]),
        "jobmanager.bind-host": "0.0.0.0",
        "blob.server.port": str(JOBMANAGER_PORTS["blob-server"]),
        "rest.port": str(JOBMANAGER_PORTS["webui"]),
        "rest.address": f"{cluster.name}-jobmanager",
        "rest.bind-address": "0.0.0.0",
        "taskmanager.rpc.port": str(TASKMANAGER_PORTS["rpc"]),
        "taskmanager.bind-host": "0.0.0.0",
    }
