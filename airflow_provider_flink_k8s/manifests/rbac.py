"""The identity standalone Flink pods run as, and the RBAC Kubernetes HA needs.

Flink's Kubernetes HA services keep leader election and job metadata in ConfigMaps of
the cluster's namespace, so with HA the pods need a service account that may manage
ConfigMaps there (Flink's HA documentation). Without HA the pods need no API access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.manifests.labels import cluster_labels, object_metadata
from airflow_provider_flink_k8s.manifests.names import object_names

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["HA_CONFIGMAP_VERBS", "kubernetes_ha", "render_rbac", "service_account_name"]

HA_CONFIGMAP_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
"""What Flink's Kubernetes HA services do with ConfigMaps (leader election, job graphs,
checkpoint pointers, and cleanup when a job ends)."""


_KUBERNETES_HA_TYPES = (
    "kubernetes",
    "org.apache.flink.kubernetes.highavailability.kuberneteshaservicesfactory",
)


def kubernetes_ha(cluster: FlinkCluster) -> bool:
    """Whether the cluster uses Flink's *Kubernetes* HA services (the ones needing RBAC);
    ZooKeeper HA, set through ``flink_configuration``, needs no API access."""
    if cluster.high_availability.enabled:
        return True
    conf = cluster.flink_configuration
    kind = conf.get("high-availability.type", conf.get("high-availability", ""))
    return kind.strip().lower() in _KUBERNETES_HA_TYPES


def service_account_name(cluster: FlinkCluster) -> str | None:
    """The service account of the standalone pods.

    The spec's ``service_account`` if given; else, with Kubernetes HA, ``<name>`` (rendered by
    :func:`render_rbac`); else ``None`` -- the namespace's default account.
    """
    if cluster.service_account:
        return cluster.service_account
    if kubernetes_ha(cluster):
        return object_names(cluster).rbac
    return None


def _object(cluster: FlinkCluster, api_version: str, kind: str, **fields: Any) -> dict[str, Any]:
    """An RBAC object named ``<name>`` with the cluster's labels."""
    name = object_names(cluster).rbac
    metadata = object_metadata(cluster, name, cluster_labels(cluster))
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}


def render_rbac(cluster: FlinkCluster) -> list[dict[str, Any]]:
    """ServiceAccount (only when the spec names none), Role and RoleBinding for
    Kubernetes HA.

    :return: the objects in apply order; empty without Kubernetes HA.
    """
    if not kubernetes_ha(cluster):
        return []
    rbac = "rbac.authorization.k8s.io"
    rule = {"apiGroups": [""], "resources": ["configmaps"], "verbs": list(HA_CONFIGMAP_VERBS)}
    subject = {
        "kind": "ServiceAccount",
        "name": service_account_name(cluster),
        "namespace": cluster.namespace,
    }
    objects = [
        _object(cluster, f"{rbac}/v1", "Role", rules=[rule]),
        _object(
            cluster,
            f"{rbac}/v1",
            "RoleBinding",
            roleRef={"apiGroup": rbac, "kind": "Role", "name": object_names(cluster).rbac},
            subjects=[subject],
        ),
    ]
    if not cluster.service_account:
        objects.insert(0, _object(cluster, "v1", "ServiceAccount"))
    return objects
