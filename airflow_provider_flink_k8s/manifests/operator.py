"""The operator target: one ``FlinkDeployment`` for the Flink Kubernetes Operator.

The operator turns it into Flink's native Kubernetes objects. Sizes go in as
``resource`` blocks in Flink's memory syntax, which the operator maps to
``*.memory.process.size`` and ``kubernetes.*.cpu.amount`` -- the same numbers the plan
computed, so both targets run identical processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.manifests.labels import (
    cluster_annotations,
    cluster_labels,
    object_metadata,
)
from airflow_provider_flink_k8s.manifests.names import (
    DEFAULT_OPERATOR_SERVICE_ACCOUNT,
    object_names,
)
from airflow_provider_flink_k8s.manifests.podtemplate import (
    MAIN_CONTAINER,
    merge_pod_templates,
)
from airflow_provider_flink_k8s.resources.configuration import operator_flink_configuration
from airflow_provider_flink_k8s.units import format_flink_memory

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.resources.plan import ClusterPlan, RolePlan
    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster, JobSpec

__all__ = [
    "FLINK_DEPLOYMENT_API_VERSION",
    "flink_version_enum",
    "render_flink_deployment",
]

FLINK_DEPLOYMENT_API_VERSION = "flink.apache.org/v1beta1"

# Labels the operator's pods get from the template besides the user's; Flink adds its own
# app=<name>, component and type labels.
_POD_IDENTITY_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/name")


def flink_version_enum(version: str) -> str:
    """The CRD's ``flinkVersion`` for a spec version: ``"2.3"`` -> ``"v2_3"``."""
    return "v" + version.replace(".", "_")


def _pod_template(cluster: FlinkCluster) -> dict[str, Any]:
    """The shared ``podTemplate``: the spec's labels, annotations and env, then the
    spec's ``pod_template`` over them.

    The operator has no ``env`` field; environment reaches Flink through the
    ``flink-main-container`` of the template, which Flink merges into its own container.
    """
    # Not managed-by: the operator, not this provider, manages those pods, and a teardown
    # by cluster_selector() must find only the FlinkDeployment.
    identity = {key: cluster_labels(cluster)[key] for key in _POD_IDENTITY_LABELS}
    base: dict[str, Any] = {
        "metadata": {
            "labels": {**cluster.labels, **identity},
            "annotations": cluster_annotations(cluster),
        }
    }
    if cluster.env:
        base["spec"] = {"containers": [{"name": MAIN_CONTAINER, "env": list(cluster.env)}]}
    return merge_pod_templates(base, cluster.pod_template, owned_labels=identity)


def _role_template(template: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # The operator merges a role's template over the shared one itself.
    return merge_pod_templates({}, template) if template else None


def _role(plan: RolePlan, template: Mapping[str, Any] | None) -> dict[str, Any]:
    role: dict[str, Any] = {
        "replicas": plan.replicas,
        "resource": {
            "cpu": plan.resources.cpu_request,
            # Flink's syntax ("1728m" = 1728 MiB): the operator parses it with Flink's
            # MemorySize first, so the process size is exactly the plan's.
            "memory": format_flink_memory(plan.resources.memory_request),
        },
    }
    pod_template = _role_template(template)
    if pod_template:
        role["podTemplate"] = pod_template
    return role


def _job(job: JobSpec, parallelism: int | None) -> dict[str, Any]:
    rendered: dict[str, Any] = {"jarURI": job.jar_uri}
    if job.entry_class:
        rendered["entryClass"] = job.entry_class
    rendered["args"] = list(job.args)
    if parallelism is not None:
        rendered["parallelism"] = parallelism
    rendered["upgradeMode"] = job.upgrade_mode
    rendered["state"] = job.state
    if job.initial_savepoint:
        rendered["initialSavepointPath"] = job.initial_savepoint
    rendered["allowNonRestoredState"] = job.allow_non_restored_state
    return rendered


def render_flink_deployment(cluster: FlinkCluster, plan: ClusterPlan) -> dict[str, Any]:
    """The cluster as a ``flink.apache.org/v1beta1`` FlinkDeployment (native mode).

    :param cluster: a validated spec with ``target == "operator"``.
    :param plan: its resource plan; replicas and sizes come from it.
    :return: the custom resource; ``spec.job`` only in application mode.
    """
    spec: dict[str, Any] = {
        "image": cluster.effective_image,
        "imagePullPolicy": cluster.image_pull_policy,
        "flinkVersion": flink_version_enum(cluster.flink_version),
        # The operator refuses a deployment without one; its Helm chart creates "flink".
        "serviceAccount": cluster.service_account or DEFAULT_OPERATOR_SERVICE_ACCOUNT,
        "mode": "native",
        "flinkConfiguration": operator_flink_configuration(cluster),
        "podTemplate": _pod_template(cluster),
        "jobManager": _role(plan.jobmanager, cluster.jobmanager.pod_template),
        "taskManager": _role(plan.taskmanager, cluster.taskmanager.pod_template),
    }
    if cluster.log_configuration:
        spec["logConfiguration"] = dict(sorted(cluster.log_configuration.items()))
    if cluster.mode == "application" and cluster.job is not None:
        spec["job"] = _job(cluster.job, plan.parallelism)
    return {
        "apiVersion": FLINK_DEPLOYMENT_API_VERSION,
        "kind": "FlinkDeployment",
        "metadata": object_metadata(
            cluster, object_names(cluster).flink_deployment, cluster_labels(cluster)
        ),
        "spec": spec,
    }
