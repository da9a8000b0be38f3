"""Names of the objects a cluster spec renders to, in one place for every later layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["DEFAULT_OPERATOR_SERVICE_ACCOUNT", "ObjectNames", "object_names"]

DEFAULT_OPERATOR_SERVICE_ACCOUNT = "flink"
"""The service account the Flink Kubernetes Operator's Helm chart creates in each watched
namespace, and the one its examples use."""


@dataclass(frozen=True)
class ObjectNames:
    """Names of one cluster's objects.

    The standalone target renders all but ``flink_deployment``. The operator target
    renders only ``flink_deployment``; the operator then creates Flink's native objects
    (JobManager Deployment ``<name>``, Services ``<name>`` and ``<name>-rest``), so
    ``rest_service`` names the REST Service in both targets.
    """

    config_map: str
    """ConfigMap with ``config.yaml`` and the logging files: ``<name>-config``."""
    jobmanager: str
    """JobManager Deployment and its ClusterIP Service: ``<name>-jobmanager``."""
    taskmanager: str
    """TaskManager Deployment: ``<name>-taskmanager``."""
    rest_service: str
    """Service exposing the REST API / web UI: ``<name>-rest``."""
    rbac: str
    """Role and RoleBinding for Kubernetes HA, and the ServiceAccount when the spec names
    none: ``<name>``."""
    flink_deployment: str
    """The FlinkDeployment of the operator target: ``<name>``."""


def object_names(cluster: FlinkCluster) -> ObjectNames:
    """The names of ``cluster``'s objects (all fit in 63 characters: names are <= 45)."""
    name = cluster.name
    return ObjectNames(
        config_map=f"{name}-config",
        jobmanager=f"{name}-jobmanager",
        taskmanager=f"{name}-taskmanager",
        rest_service=f"{name}-rest",
        rbac=name,
        flink_deployment=name,
    )
