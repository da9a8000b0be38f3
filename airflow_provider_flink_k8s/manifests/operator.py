"""The operator target: one ``FlinkDeployment`` for the Flink Kubernetes Operator.

The operator turns it into Flink's native Kubernetes objects. Sizes go in as
``resource`` blocks in Flink's memory syntax, which the operator maps to
``*.memory.process.size`` and ``kubernetes.*.cpu.amount`` -- the same numbers the plan
computed, so both targets run identical processes.

A spec read from a FlinkDeployment (``operator.spelling`` set) is written back as its
source wrote it (:mod:`.spelling`): same configuration keys and nesting, ``resource`` or
``resources``, quantities as written; and what the source left out and the spec leaves
unset (image, service account, job parallelism, TaskManager replicas) stays out, so the
operator applies its own defaults as it did to the source. ``operator.overrides`` (an
ingress, nonces...) is laid over the result in either case.
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
from airflow_provider_flink_k8s.manifests.spelling import (
    limit_factors,
    merge_overrides,
    spell_flink_configuration,
    spell_resources,
)
from airflow_provider_flink_k8s.resources.configuration import operator_flink_configuration
from airflow_provider_flink_k8s.spec.flinkdeployment import FLINK_DEPLOYMENT_KIND, ROLES
from airflow_provider_flink_k8s.spec.manifestreading import FLINK_API_VERSION
from airflow_provider_flink_k8s.units import format_flink_memory

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.resources.plan import ClusterPlan, RolePlan
    from airflow_provider_flink_k8s.spec.cluster import (
        FlinkCluster,
        JobManagerSpec,
        JobSpec,
        TaskManagerSpec,
    )

__all__ = [
    "FLINK_DEPLOYMENT_API_VERSION",
    "flink_version_enum",
    "render_flink_deployment",
]

FLINK_DEPLOYMENT_API_VERSION = FLINK_API_VERSION

# Labels the operator's pods get from the template besides the user's; Flink adds its own
# app=<name>, component and type labels.
_POD_IDENTITY_LABELS = ("app.kubernetes.io/instance", "app.kubernetes.io/name")

# A PodTemplateSpec has no type fields, but the operator's pod templates take a Pod's
# (its examples write them); kept when the spec's template has them.
_TEMPLATE_TYPE_FIELDS = ("apiVersion", "kind")


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
    merged = merge_pod_templates(base, cluster.pod_template, owned_labels=identity)
    return {**_type_fields(cluster.pod_template), **merged}


def _type_fields(template: Mapping[str, Any] | None) -> dict[str, Any]:
    fields = template or {}
    return {key: fields[key] for key in _TEMPLATE_TYPE_FIELDS if key in fields}


def _role_template(template: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # The operator merges a role's template over the shared one itself.
    if not template:
        return None
    return {**_type_fields(template), **merge_pod_templates({}, template)}


def _cores(cpu: float) -> float | int:
    """Whole cores as an integer, as FlinkDeployments usually write them (``cpu: 1``)."""
    return int(cpu) if cpu.is_integer() else cpu


def _role(
    cluster: FlinkCluster,
    crd: str,
    plan: RolePlan,
    spec: JobManagerSpec | TaskManagerSpec,
) -> dict[str, Any]:
    """``jobManager``/``taskManager``: replicas, size and the role's pod template."""
    role: dict[str, Any] = {}
    name = ROLES[crd]
    spelling = cluster.operator.spelling
    if spelling is None:
        # In native mode the operator lets TaskManager replicas override the job's
        # parallelism (parallelism = replicas x slots), so a derived count (a rounded-up
        # ceil) must not be written: only a pinned one, or the JobManager's.
        pinned = spec.replicas is not None or name == "jobmanager"
        if pinned or cluster.operator.deployment_mode == "standalone":
            role["replicas"] = plan.replicas
        role["resource"] = {
            "cpu": plan.resources.cpu_request,
            # Flink's syntax ("1728m" = 1728 MiB): the operator parses it with Flink's
            # MemorySize first, so the process size is exactly the plan's.
            "memory": format_flink_memory(plan.resources.memory_request),
        }
    else:
        # TaskManager replicas override the job's parallelism in the operator: only when
        # the spec pins them.
        if spec.replicas is not None:
            role["replicas"] = spec.replicas
        # The operator reads resource.memory as this provider does (Flink's syntax
        # first), so the text goes back as written.
        role["resource"] = {"cpu": _cores(spec.cpu), "memory": spec.memory}
    written = getattr(spelling, f"{name}_resources", None)
    if written is None and "resources" in cluster.operator.overrides.get(crd, {}):
        written = {}  # extra resources given: the ResourceRequirements form
    if written is not None:
        del role["resource"]
        role["resources"] = spell_resources(
            written, spec.cpu, spec.memory, limit_factors(cluster, name)
        )
    pod_template = _role_template(spec.pod_template)
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


def _flink_configuration(cluster: FlinkCluster) -> dict[str, Any]:
    configuration = operator_flink_configuration(cluster)
    spelling = cluster.operator.spelling
    if spelling is None:
        return configuration
    return spell_flink_configuration(cluster, spelling, configuration)


def render_flink_deployment(cluster: FlinkCluster, plan: ClusterPlan) -> dict[str, Any]:
    """The cluster as a ``flink.apache.org/v1beta1`` FlinkDeployment.

    :param cluster: a validated spec with ``target == "operator"``.
    :param plan: its resource plan; replicas and sizes come from it.
    :return: the custom resource; ``spec.job`` only in application mode.
    """
    spelled = cluster.operator.spelling is not None
    # The operator refuses a deployment without one; its Helm chart creates "flink".
    account = cluster.service_account or (None if spelled else DEFAULT_OPERATOR_SERVICE_ACCOUNT)
    spec: dict[str, Any] = {
        "image": cluster.image if spelled else cluster.effective_image,
        "imagePullPolicy": cluster.image_pull_policy,
        "flinkVersion": flink_version_enum(cluster.flink_version),
        "serviceAccount": account,
        "mode": cluster.operator.deployment_mode,
        "flinkConfiguration": _flink_configuration(cluster),
        "podTemplate": _pod_template(cluster),
        "jobManager": _role(cluster, "jobManager", plan.jobmanager, cluster.jobmanager),
        "taskManager": _role(cluster, "taskManager", plan.taskmanager, cluster.taskmanager),
    }
    spec = {key: value for key, value in spec.items() if value is not None}
    if cluster.log_configuration:
        spec["logConfiguration"] = dict(sorted(cluster.log_configuration.items()))
    if cluster.mode == "application" and cluster.job is not None:
        parallelism = cluster.job.parallelism if spelled else plan.parallelism
        spec["job"] = _job(cluster.job, parallelism)
    return {
        "apiVersion": FLINK_DEPLOYMENT_API_VERSION,
        "kind": FLINK_DEPLOYMENT_KIND,
        "metadata": object_metadata(
            cluster, object_names(cluster).flink_deployment, cluster_labels(cluster)
        ),
        "spec": merge_overrides(spec, cluster.operator.overrides),
    }
