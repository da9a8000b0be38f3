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

from airflow_provider_flink_k8s.targets import target_of
from airflow_provider_flink_k8s.units import format_flink_memory

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "CHECKPOINT_DIR_KEYS",
    "CLUSTER_ID_KEY",
    "FLINK_JAVA_MODULE_OPTIONS",
    "HA_STORAGE_KEY",
    "HA_TYPE_KEYS",
    "MAX_PARALLELISM_KEY",
    "PARALLELISM_KEY",
    "PROCESS_SIZE_KEYS",
    "SAVEPOINT_DIR_KEYS",
    "SLOTS_KEY",
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

# Flink keys a spec field owns (Flink reads several under two names: the new one first).
SLOTS_KEY = "taskmanager.numberOfTaskSlots"
"""Owned by ``taskmanager.slots``."""
SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
"""Owned by ``savepoint_dir`` (the second is the name before Flink 1.20)."""
CHECKPOINT_DIR_KEYS = ("execution.checkpointing.dir", "state.checkpoints.dir")
"""Owned by ``checkpoint_dir`` (the second is the name before Flink 1.20)."""
HA_TYPE_KEYS = ("high-availability.type", "high-availability")
"""Owned by ``high_availability.enabled`` when they select Kubernetes HA."""
HA_STORAGE_KEY = "high-availability.storageDir"
"""Owned by ``high_availability.storage_dir`` (with Kubernetes HA)."""
MAX_PARALLELISM_KEY = "pipeline.max-parallelism"
"""Owned by ``job.max_parallelism`` (application mode)."""
PARALLELISM_KEY = "parallelism.default"
"""Owned by ``job.parallelism`` (application mode; the operator sets it from the job)."""
PROCESS_SIZE_KEYS = {
    "jobmanager": "jobmanager.memory.process.size",
    "taskmanager": "taskmanager.memory.process.size",
}
"""Owned by ``jobmanager.memory`` and ``taskmanager.memory``."""
CLUSTER_ID_KEY = "kubernetes.cluster-id"
"""Owned by ``name`` (the operator uses the deployment's name)."""


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def checkpoint_dir_key(flink_version: str) -> str:
    """The checkpoint-directory key the given Flink version reads (renamed in 1.20)."""
    new, old = CHECKPOINT_DIR_KEYS
    return new if _version_tuple(flink_version) >= (1, 20) else old


def savepoint_dir_key(flink_version: str) -> str:
    """The savepoint-directory key the given Flink version reads (renamed in 1.20)."""
    new, old = SAVEPOINT_DIR_KEYS
    return new if _version_tuple(flink_version) >= (1, 20) else old


def ha_enabled(cluster: FlinkCluster) -> bool:
    """Whether the cluster runs Flink's HA services, from the spec block or raw config."""
    if cluster.high_availability.enabled:
        return True
    for key in HA_TYPE_KEYS:
        value = cluster.flink_configuration.get(key, "").strip().lower()
        if value and value not in ("none", "false"):
            return True
    return False


def _owned_keys(cluster: FlinkCluster) -> dict[str, str]:
    """Keys a spec field sets, each mapped to the field that owns it."""
    owned = {
        SLOTS_KEY: "taskmanager.slots",
        PROCESS_SIZE_KEYS["taskmanager"]: "taskmanager.memory",
        PROCESS_SIZE_KEYS["jobmanager"]: "jobmanager.memory",
        CLUSTER_ID_KEY: "name",
    }
    job = cluster.job
    if job is not None and job.parallelism is not None:
        owned[PARALLELISM_KEY] = "job.parallelism"
    if job is not None and job.max_parallelism is not None:
        owned[MAX_PARALLELISM_KEY] = "job.max_parallelism"
    if cluster.checkpoint_dir:
        owned.update(dict.fromkeys(CHECKPOINT_DIR_KEYS, "checkpoint_dir"))
    if cluster.savepoint_dir:
        owned.update(dict.fromkeys(SAVEPOINT_DIR_KEYS, "savepoint_dir"))
    if cluster.high_availability.storage_dir:
        owned[HA_STORAGE_KEY] = "high_availability.storage_dir"
    return owned


def owned_key_conflicts(cluster: FlinkCluster) -> dict[str, str]:
    """Keys of ``flink_configuration`` that a spec field already sets: key -> field."""
    owned = _owned_keys(cluster)
    return {key: owned[key] for key in cluster.flink_configuration if key in owned}


def _common_keys(cluster: FlinkCluster) -> dict[str, str]:
    """Keys both targets need in the Flink configuration itself."""
    conf = {SLOTS_KEY: str(cluster.taskmanager.slots)}
    job = cluster.job
    if job is not None:
        parallelism = job.parallelism
        if parallelism is None and cluster.taskmanager.replicas is not None:
            parallelism = cluster.taskmanager.replicas * cluster.taskmanager.slots
        conf[PARALLELISM_KEY] = str(parallelism or 1)
        if job.max_parallelism is not None:
            conf[MAX_PARALLELISM_KEY] = str(job.max_parallelism)
    if cluster.checkpoint_dir:
        conf[checkpoint_dir_key(cluster.flink_version)] = cluster.checkpoint_dir
    if cluster.savepoint_dir:
        conf[savepoint_dir_key(cluster.flink_version)] = cluster.savepoint_dir
    if cluster.high_availability.enabled:
        conf["high-availability.type"] = "kubernetes"
        conf[HA_STORAGE_KEY] = str(cluster.high_availability.storage_dir)
    return conf


def flink_configuration(cluster: FlinkCluster) -> dict[str, str]:
    """The complete Flink configuration of the cluster's processes, sorted by key.

    This is what a standalone cluster's ``config.yaml`` holds, and what the memory model
    and the resource plan are computed from for either target.
    """
    conf = {
        PROCESS_SIZE_KEYS["jobmanager"]: format_flink_memory(cluster.jobmanager.memory_bytes),
        PROCESS_SIZE_KEYS["taskmanager"]: format_flink_memory(cluster.taskmanager.memory_bytes),
        # Flink's resource profile of a TaskManager then matches its container.
        "taskmanager.cpu.cores": repr(float(cluster.taskmanager.cpu)),
    }
    conf.update(_common_keys(cluster))
    if target_of(cluster).renders_workloads:
        conf["env.java.opts.all"] = " ".join(FLINK_JAVA_MODULE_OPTIONS)
        conf.update(_standalone_network_keys(cluster))
        if cluster.mode == "application":
            # Keep the JobManager up once a bounded job finishes: otherwise it exits, the
            # Deployment restarts it, and the job runs again (the operator sets the same).
            conf["execution.shutdown-on-application-finish"] = "false"
    if ha_enabled(cluster):
        conf[CLUSTER_ID_KEY] = cluster.name
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
