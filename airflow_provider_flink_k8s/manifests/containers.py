"""The Flink container and pod template of a standalone JobManager or TaskManager.

The containers run the official image's ``docker-entrypoint.sh`` with Flink's standalone
Kubernetes arguments: ``jobmanager`` (session), ``standalone-job ...`` (application) and
``taskmanager``. The image's ``/opt/flink/conf`` is replaced by the cluster's ConfigMap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_flink_k8s.manifests.labels import (
    CONFIG_CHECKSUM_ANNOTATION,
    Component,
    cluster_annotations,
    component_labels,
    managed_labels,
)
from airflow_provider_flink_k8s.manifests.names import object_names
from airflow_provider_flink_k8s.manifests.podtemplate import (
    MAIN_CONTAINER,
    merge_objects,
    merge_pod_templates,
)
from airflow_provider_flink_k8s.manifests.rbac import service_account_name
from airflow_provider_flink_k8s.resources.configuration import (
    JOBMANAGER_PORTS,
    TASKMANAGER_PORTS,
    ha_enabled,
)

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.resources.plan import ClusterPlan
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster, JobSpec

__all__ = [
    "CONFIG_VOLUME",
    "FLINK_CONF_DIR",
    "FLINK_USER_ID",
    "USER_JAR_DIRS",
    "container_env",
    "flink_container",
    "jobmanager_args",
    "pod_template",
    "taskmanager_args",
]

FLINK_CONF_DIR = "/opt/flink/conf"
CONFIG_VOLUME = "flink-config-volume"
FLINK_USER_ID = 9999
"""The ``flink`` user of the official image (Flink's Kubernetes examples run as it)."""

USER_JAR_DIRS = ("/opt/flink/usrlib/", "/opt/flink/lib/")
"""Directories whose jars the standalone entrypoints already put on the classpath:
``usrlib`` (user code, scanned by ``standalone-job``) and ``lib`` (system classpath)."""

# Overrides jobmanager.rpc.address with the pod's own IP: with HA, TaskManagers find the
# leader through the HA services, and standby JobManagers must not all claim the
# Service's name. A dynamic property works on Flink 1.x and 2.x alike (Flink 2 removed
# the entrypoints' --host argument; the Flink Kubernetes Operator passes the same).
_HA_ADDRESS_ARG = "-Djobmanager.rpc.address=$(POD_IP)"


def _jar_args(jar_uri: str) -> list[str]:
    """Put the job's jar on the classpath of ``standalone-job``, which only scans
    ``/opt/flink/usrlib`` by itself."""
    parts = urlsplit(jar_uri)
    if parts.scheme in ("", "local", "file"):
        path = parts.path
        if path.startswith(USER_JAR_DIRS):
            return []
        # The Flink Kubernetes Operator's standalone mode does the same: local:// -> file://.
        return [f"-Dpipeline.classpaths=file://{path}"]
    # A remote jar (s3://, https://, ...) is fetched before the cluster starts (Flink >= 1.19,
    # FLINK-28915); its file system plugin, or user.artifacts.raw-http-enabled, must be set up.
    return ["--jars", jar_uri]


def _application_args(job: JobSpec, ha: bool) -> list[str]:
    """Arguments of the image's ``standalone-job`` command, in the operator's order.

    The job's own arguments come last, after ``--``: the entrypoint's parser (commons-cli)
    would otherwise read a job argument that looks like one of its options -- ``-s``, or
    any prefix such as ``--job`` -- as that option.
    """
    args = ["standalone-job"]
    if job.entry_class:
        args += ["--job-classname", job.entry_class]
    if job.allow_non_restored_state:
        args.append("--allowNonRestoredState")
    if job.initial_savepoint:
        args += ["--fromSavepoint", job.initial_savepoint]
    if ha:
        args.append(_HA_ADDRESS_ARG)
    args += _jar_args(job.jar_uri)
    return [*args, "--", *job.args] if job.args else args


def jobmanager_args(cluster: FlinkCluster) -> list[str]:
    """Container arguments of the JobManager.

    Session: ``jobmanager``. Application: ``standalone-job`` with the job's class,
    savepoint options, jar and arguments. With HA, the JobManager advertises its pod IP.
    """
    ha = ha_enabled(cluster)
    if cluster.mode == "application" and cluster.job is not None:
        return _application_args(cluster.job, ha)
    return ["jobmanager", _HA_ADDRESS_ARG] if ha else ["jobmanager"]


def taskmanager_args(cluster: FlinkCluster) -> list[str]:
    """Container arguments of a TaskManager (the same in both modes)."""
    return ["taskmanager"]


def container_env(cluster: FlinkCluster, component: Component) -> list[dict[str, Any]]:
    """Environment of a Flink container: what the image's entrypoint needs, then the
    spec's ``env`` (an entry of the same name replaces the provider's)."""
    # When the entrypoint can write the configuration, it sets jobmanager.rpc.address
    # from this variable (default: the pod's host name) and the slots from the next
    # (default: the node's CPU count); pinning both keeps it in line with config.yaml.
    env: list[dict[str, Any]] = [
        {"name": "JOB_MANAGER_RPC_ADDRESS", "value": object_names(cluster).jobmanager}
    ]
    if component == "taskmanager":
        env.append(
            {"name": "TASK_MANAGER_NUMBER_OF_TASK_SLOTS", "value": str(cluster.taskmanager.slots)}
        )
    elif ha_enabled(cluster):
        env.append(
            {
                "name": "POD_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            }
        )
    merged: list[dict[str, Any]] = merge_objects(env, cluster.env, "env")
    return merged


def _ports(component: Component) -> list[dict[str, Any]]:
    ports = JOBMANAGER_PORTS if component == "jobmanager" else TASKMANAGER_PORTS
    return [
        {"name": name, "containerPort": port, "protocol": "TCP"} for name, port in ports.items()
    ]


def _probes(component: Component) -> dict[str, Any]:
    """Liveness on the RPC port (as Flink's examples); readiness on the REST API for the
    JobManager (what the REST Service routes to) and on the RPC port for TaskManagers."""
    if component == "jobmanager":
        rpc = JOBMANAGER_PORTS["rpc"]
        ready: dict[str, Any] = {
            "httpGet": {"path": "/overview", "port": JOBMANAGER_PORTS["webui"]}
        }
    else:
        rpc = TASKMANAGER_PORTS["rpc"]
        ready = {"tcpSocket": {"port": rpc}}
    return {
        "livenessProbe": {
            "tcpSocket": {"port": rpc},
            "initialDelaySeconds": 30,
            "periodSeconds": 60,
        },
        "readinessProbe": {**ready, "initialDelaySeconds": 5, "periodSeconds": 10},
    }


def flink_container(
    cluster: FlinkCluster, plan: ClusterPlan, component: Component
) -> dict[str, Any]:
    """The generated ``flink-main-container`` of a JobManager or TaskManager pod.

    Requests are Flink's process size and CPU, limits the requests times the limit
    factors -- both straight from the plan, so Kubernetes and Flink agree on the size.
    """
    role = plan.jobmanager if component == "jobmanager" else plan.taskmanager
    args = jobmanager_args(cluster) if component == "jobmanager" else taskmanager_args(cluster)
    return {
        "name": MAIN_CONTAINER,
        "image": cluster.effective_image,
        "imagePullPolicy": cluster.image_pull_policy,
        "args": args,
        "env": container_env(cluster, component),
        "ports": _ports(component),
        "resources": role.resources.to_k8s(),
        **_probes(component),
        "volumeMounts": [{"name": CONFIG_VOLUME, "mountPath": FLINK_CONF_DIR}],
        "securityContext": {"runAsUser": FLINK_USER_ID},
    }


def pod_template(
    cluster: FlinkCluster, plan: ClusterPlan, component: Component, checksum: str
) -> dict[str, Any]:
    """The PodTemplateSpec of a role: the generated pod, then the spec's ``pod_template``
    and the role's ``pod_template`` merged over it.

    :param checksum: the config files' checksum; a new value rolls the pods.
    """
    spec: dict[str, Any] = {
        "containers": [flink_container(cluster, plan, component)],
        "volumes": [
            {"name": CONFIG_VOLUME, "configMap": {"name": object_names(cluster).config_map}}
        ],
    }
    account = service_account_name(cluster)
    if account:
        spec["serviceAccountName"] = account
    owned_annotations = {CONFIG_CHECKSUM_ANNOTATION: checksum}
    base = {
        "metadata": {
            "labels": component_labels(cluster, component),
            # kubectl logs/exec pick the Flink container even when templates add sidecars.
            "annotations": cluster_annotations(
                cluster, {"kubectl.kubernetes.io/default-container": MAIN_CONTAINER}
            ),
        },
        "spec": spec,
    }
    role_template = (
        cluster.jobmanager.pod_template
        if component == "jobmanager"
        else cluster.taskmanager.pod_template
    )
    return merge_pod_templates(
        base,
        cluster.pod_template,
        role_template,
        owned_labels=managed_labels(cluster, component),
        owned_annotations=owned_annotations,
    )
