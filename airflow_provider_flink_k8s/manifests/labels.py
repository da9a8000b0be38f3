"""Labels and annotations: how the provider finds, selects and marks a cluster's objects.

Every object of a cluster carries :func:`cluster_labels`, so one label selector
(:func:`cluster_selector`) finds all of them for teardown. Pods and Services select each
other with :func:`selector_labels`; those are written into Deployment selectors, which
Kubernetes never lets change, so they hold nothing but the cluster's identity and role.

The keys are the ones :data:`~airflow_provider_flink_k8s.spec.validation.MANAGED_LABELS`
reserves (users may not set them): Flink's own ``app``/``component`` pair, which Flink's
Kubernetes HA ConfigMaps and native pods also use (``app`` = cluster id), and the
recommended ``app.kubernetes.io/*`` set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = [
    "CONFIG_CHECKSUM_ANNOTATION",
    "COMPONENTS",
    "Component",
    "MANAGED_BY",
    "cluster_annotations",
    "cluster_labels",
    "cluster_selector",
    "component_labels",
    "label_selector",
    "managed_labels",
    "object_metadata",
    "selector_labels",
]

Component = Literal["jobmanager", "taskmanager"]
COMPONENTS: tuple[Component, ...] = ("jobmanager", "taskmanager")

MANAGED_BY = "airflow-provider-flink-k8s"
"""Value of ``app.kubernetes.io/managed-by`` on everything this provider renders."""

CONFIG_CHECKSUM_ANNOTATION = "airflow-provider-flink-k8s/config-checksum"
"""Pod-template annotation holding the checksum of the mounted configuration files.

A changed ConfigMap alone does not restart a pod (Flink reads its configuration once at
start), but a changed pod template does: the checksum ties the two together.
"""


def _sorted(mapping: Mapping[str, str]) -> dict[str, str]:
    # Sorted maps make the rendering byte-identical however the spec's dicts were built.
    return dict(sorted(mapping.items()))


def cluster_selector(cluster: FlinkCluster) -> dict[str, str]:
    """Labels that select every object the provider rendered for ``cluster``.

    ``managed-by`` keeps objects of another tool that happen to use the same instance name
    (for instance a Flink native cluster's pods, labelled ``app=<name>``) out of a teardown.
    """
    return _sorted(
        {"app.kubernetes.io/instance": cluster.name, "app.kubernetes.io/managed-by": MANAGED_BY}
    )


def managed_labels(cluster: FlinkCluster, component: Component | None = None) -> dict[str, str]:
    """The labels the provider owns on an object: no template or user label overrides them.

    :param component: the role of a JobManager/TaskManager object, or ``None`` for an
        object of the whole cluster (ConfigMap, RBAC, FlinkDeployment).
    """
    labels = {
        "app": cluster.name,
        "app.kubernetes.io/name": "flink",
        **cluster_selector(cluster),
    }
    if component is not None:
        # Flink's own examples select on app/component; app.kubernetes.io/component is
        # the recommended twin, used in the (immutable) selectors.
        labels["component"] = component
        labels["app.kubernetes.io/component"] = component
    return _sorted(labels)


def cluster_labels(cluster: FlinkCluster) -> dict[str, str]:
    """Labels of every object of the cluster: the user's labels plus the managed ones."""
    # Validation refuses user labels with managed keys; the managed ones win regardless.
    return _sorted({**cluster.labels, **managed_labels(cluster)})


def selector_labels(cluster: FlinkCluster, component: Component) -> dict[str, str]:
    """Labels a Deployment and the Services use to select one role's pods.

    They are immutable once a Deployment exists, so they never include user labels.
    """
    return _sorted({**cluster_selector(cluster), "app.kubernetes.io/component": component})


def component_labels(cluster: FlinkCluster, component: Component) -> dict[str, str]:
    """Labels of one role's objects and pods: the user's labels plus the managed ones
    (a superset of :func:`selector_labels`)."""
    return _sorted({**cluster.labels, **managed_labels(cluster, component)})


def cluster_annotations(
    cluster: FlinkCluster, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The spec's annotations, plus ``extra`` (which wins), sorted."""
    return _sorted({**cluster.annotations, **(extra or {})})


def object_metadata(
    cluster: FlinkCluster,
    name: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``metadata`` of a namespaced object; ``annotations`` is left out when empty."""
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": cluster.namespace,
        "labels": _sorted(labels),
    }
    merged = cluster_annotations(cluster, annotations)
    if merged:
        metadata["annotations"] = merged
    return metadata


def label_selector(labels: Mapping[str, str]) -> str:
    """The string form of an equality selector (``a=b,c=d``), as list calls take it."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
