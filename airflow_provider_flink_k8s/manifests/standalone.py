"""The standalone target: Flink's standalone Kubernetes layout, no operator needed.

Objects, in apply order (RBAC first so pods never start without their account, the
ConfigMap before the pods that mount it, Services before the pods they front):

* with Kubernetes HA: ServiceAccount ``<name>`` (unless the spec names one), Role and
  RoleBinding ``<name>`` (ConfigMaps in the namespace);
* ConfigMap ``<name>-config``: ``config.yaml`` and the logging files;
* Service ``<name>-jobmanager`` (ClusterIP: rpc 6123, blob-server 6124, webui 8081), the
  address ``config.yaml`` gives TaskManagers and clients;
* Service ``<name>-rest`` of the spec's type (port ``rest`` 8081);
* Deployment ``<name>-jobmanager`` and Deployment ``<name>-taskmanager``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.manifests.configfiles import config_checksum, config_files
from airflow_provider_flink_k8s.manifests.containers import pod_template
from airflow_provider_flink_k8s.manifests.labels import (
    Component,
    cluster_labels,
    component_labels,
    object_metadata,
    selector_labels,
)
from airflow_provider_flink_k8s.manifests.names import object_names
from airflow_provider_flink_k8s.manifests.rbac import render_rbac
from airflow_provider_flink_k8s.resources.configuration import JOBMANAGER_PORTS

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.resources.plan import ClusterPlan
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "render_config_map",
    "render_deployment",
    "render_jobmanager_service",
    "render_rest_service",
    "render_standalone",
]


def _strategy(component: Component) -> dict[str, Any]:
    if component == "jobmanager":
        # Two JobManagers must never overlap without HA (both would answer on the Service
        # and run the job): the old pod goes before the new one starts.
        return {"type": "Recreate"}
    # TaskManagers roll one at a time and never beyond the planned count, so a rollout
    # fits wherever the planned cluster fit.
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}


def render_config_map(cluster: FlinkCluster, files: dict[str, str]) -> dict[str, Any]:
    """The ConfigMap mounted at ``/opt/flink/conf`` by every pod of the cluster."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_metadata(
            cluster, object_names(cluster).config_map, cluster_labels(cluster)
        ),
        "data": dict(files),
    }


def _service(
    cluster: FlinkCluster,
    name: str,
    service_spec: dict[str, Any],
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_metadata(
            cluster, name, component_labels(cluster, "jobmanager"), annotations
        ),
        "spec": {**service_spec, "selector": selector_labels(cluster, "jobmanager")},
    }


def render_jobmanager_service(cluster: FlinkCluster) -> dict[str, Any]:
    """The JobManager's ClusterIP Service: ``jobmanager.rpc.address`` and ``rest.address``
    of the configuration, so TaskManagers and clients reach the JobManager by name."""
    ports = [
        {"name": name, "port": port, "targetPort": port, "protocol": "TCP"}
        for name, port in JOBMANAGER_PORTS.items()
    ]
    return _service(
        cluster, object_names(cluster).jobmanager, {"type": "ClusterIP", "ports": ports}
    )


def render_rest_service(cluster: FlinkCluster) -> dict[str, Any]:
    """The Service exposing the REST API and web UI, of the spec's type."""
    rest = cluster.rest_service
    port: dict[str, Any] = {
        "name": "rest",
        "port": JOBMANAGER_PORTS["webui"],
        "targetPort": JOBMANAGER_PORTS["webui"],
        "protocol": "TCP",
    }
    if rest.node_port is not None and rest.type != "ClusterIP":
        port["nodePort"] = rest.node_port
    return _service(
        cluster,
        object_names(cluster).rest_service,
        {"type": rest.type, "ports": [port]},
        annotations=rest.annotations,
    )


def render_deployment(
    cluster: FlinkCluster, plan: ClusterPlan, component: Component, checksum: str
) -> dict[str, Any]:
    """The Deployment of the JobManager(s) or the TaskManagers.

    The JobManager is a Deployment even in application mode (Flink's examples use a
    batch Job): a Deployment restarts it whatever its exit code, and lets the provider
    treat both roles alike -- scale, patch, wait for rollout, delete.

    :param checksum: the config files' checksum, stamped on the pod template.
    """
    names = object_names(cluster)
    if component == "jobmanager":
        name, replicas = names.jobmanager, plan.jobmanager.replicas
    else:
        name, replicas = names.taskmanager, plan.taskmanager.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_metadata(cluster, name, component_labels(cluster, component)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector_labels(cluster, component)},
            "strategy": _strategy(component),
            "template": pod_template(cluster, plan, component, checksum),
        },
    }


def render_standalone(cluster: FlinkCluster, plan: ClusterPlan) -> list[dict[str, Any]]:
    """Every object of a standalone cluster, in apply order (see the module docstring).

    :param cluster: a validated spec with ``target == "standalone"``.
    :param plan: its resource plan, from
        :func:`~airflow_provider_flink_k8s.resources.plan.plan_cluster`.
    """
    files = config_files(cluster, plan.flink_configuration)
    checksum = config_checksum(files)
    return [
        *render_rbac(cluster),
        render_config_map(cluster, files),
        render_jobmanager_service(cluster),
        render_rest_service(cluster),
        render_deployment(cluster, plan, "jobmanager", checksum),
        render_deployment(cluster, plan, "taskmanager", checksum),
    ]
