"""Which Kubernetes objects a cluster spec becomes: pure functions, spec + plan -> dicts.

:func:`render_manifests` is the entry point. The ``standalone`` target renders Flink's
standalone Kubernetes layout (:mod:`.standalone`); the ``operator`` target one
FlinkDeployment (:mod:`.operator`). The helpers later layers need -- object names,
label selectors, the config checksum -- are exported here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.manifests.configfiles import (
    CONFIG_FILE,
    config_checksum,
    config_files,
    config_yaml,
)
from airflow_provider_flink_k8s.manifests.labels import (
    CONFIG_CHECKSUM_ANNOTATION,
    MANAGED_BY,
    cluster_labels,
    cluster_selector,
    component_labels,
    label_selector,
    managed_labels,
    selector_labels,
)
from airflow_provider_flink_k8s.manifests.names import ObjectNames, object_names
from airflow_provider_flink_k8s.manifests.operator import (
    flink_version_enum,
    render_flink_deployment,
)
from airflow_provider_flink_k8s.manifests.podtemplate import MAIN_CONTAINER, merge_pod_templates
from airflow_provider_flink_k8s.manifests.rbac import service_account_name
from airflow_provider_flink_k8s.manifests.standalone import render_standalone
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.resources.plan import ClusterPlan
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "CONFIG_CHECKSUM_ANNOTATION",
    "CONFIG_FILE",
    "MAIN_CONTAINER",
    "MANAGED_BY",
    "ObjectNames",
    "cluster_labels",
    "cluster_selector",
    "component_labels",
    "config_checksum",
    "config_files",
    "config_yaml",
    "flink_version_enum",
    "label_selector",
    "managed_labels",
    "merge_pod_templates",
    "object_names",
    "render_flink_deployment",
    "render_manifests",
    "render_standalone",
    "selector_labels",
    "service_account_name",
]


def render_manifests(
    cluster: FlinkCluster, *, plan: ClusterPlan | None = None
) -> list[dict[str, Any]]:
    """Render every Kubernetes object of a cluster, in the order to apply them.

    Deterministic: the same spec gives byte-identical objects (maps sorted where the spec
    supplied them), and the returned dicts share nothing with the spec.

    :param cluster: a validated spec.
    :param plan: its resource plan, when the caller already has it; computed otherwise.
    :return: standalone target -- optional ServiceAccount, Role, RoleBinding, then the
        ConfigMap, JobManager and REST Services, JobManager and TaskManager Deployments;
        operator target -- one FlinkDeployment. Delete in reverse order.
    """
    plan = plan if plan is not None else plan_cluster(cluster)
    if target_of(cluster).renders_workloads:
        return render_standalone(cluster, plan)
    return [render_flink_deployment(cluster, plan)]
