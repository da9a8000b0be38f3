"""Read a cluster's observed state: the requests, and the raw JSON -> :class:`ClusterSnapshot`.

Which objects belong to a cluster depends on the target:

==========  ===========================================  =====================================
target      Deployments and pods                         also
==========  ===========================================  =====================================
standalone  the cluster's labels (``cluster_selector``)  --
operator    Flink's native labels ``app=<name>``,        the FlinkDeployment ``<name>`` (absent
            ``type=flink-native-kubernetes``             while its CRD is not installed)
==========  ===========================================  =====================================

Events are read with field selectors, only about the pods that are not Ready (the
classifiers explain those with them: scheduling failures, warnings, the autoscaler), so a
healthy cluster costs no Events request and a busy namespace's other Events are never
read. The snapshot also carries, when asked, the last log lines of the containers
:meth:`ClusterSnapshot.log_sources` names (an observer asks only once a wait failed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from airflow_provider_flink_k8s.exceptions import KubernetesApiError
from airflow_provider_flink_k8s.kube.requests import (
    Flow,
    fetch_or_none,
    get_request,
    list_items,
    list_request,
    log_request,
)
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT, EVENT, FLINK_DEPLOYMENT, POD
from airflow_provider_flink_k8s.manifests import cluster_selector, label_selector
from airflow_provider_flink_k8s.observation import ClusterSnapshot
from airflow_provider_flink_k8s.observation.workloads import EventRecord, component_of
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = [
    "DeployTarget",
    "cluster_label_selector",
    "events_flow",
    "log_tails_flow",
    "logs_flow",
    "observe_flow",
    "pod_events_selector",
    "split_deployments",
    "workload_selector",
]

DeployTarget = Literal["standalone", "operator"]
"""Where a cluster runs: the provider's own Deployments, or a FlinkDeployment."""


@dataclass(frozen=True)
class _ClusterName:
    name: str


def cluster_label_selector(cluster_name: str) -> str:
    """The selector of every object the provider rendered for the cluster ``cluster_name``
    (:func:`~airflow_provider_flink_k8s.manifests.cluster_selector`, as a string)."""
    # cluster_selector() reads nothing but the cluster's name.
    named = cast("FlinkCluster", _ClusterName(cluster_name))
    return label_selector(cluster_selector(named))


def workload_selector(cluster_name: str, target: DeployTarget) -> str:
    """The selector of a cluster's Deployments and pods (see the module's table)."""
    if target_of(target).reads_status_object:  # the operator's native-mode pods
        return label_selector({"app": cluster_name, "type": "flink-native-kubernetes"})
    return cluster_label_selector(cluster_name)


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def split_deployments(
    deployments: Iterable[Mapping[str, Any]],
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The JobManager and TaskManager Deployments, by their component label (the first of
    each, by name)."""
    found: dict[str, Mapping[str, Any]] = {}
    for deployment in sorted(deployments, key=_name):
        component = component_of(deployment.get("metadata") or {})
        if component is not None:
            found.setdefault(component, deployment)
    return found.get("jobmanager"), found.get("taskmanager")


def pod_events_selector(pod: str) -> str:
    """The field selector of the Events about the pod ``pod``."""
    return f"involvedObject.kind=Pod,involvedObject.name={pod}"


def log_tails_flow(namespace: str, snapshot: ClusterSnapshot, lines: int) -> Flow[dict[str, str]]:
    """The last ``lines`` log lines of each container the snapshot names, by pod.

    A log that cannot be read (the pod went away, the container never started) is left out:
    tails explain a verdict, they never fail an observation.
    """
    tails: dict[str, str] = {}
    for source in snapshot.log_sources():
        request = log_request(
            namespace,
            source.pod,
            container=source.container,
            tail_lines=lines,
            previous=source.previous,
        )
        try:
            response = yield request
        except KubernetesApiError:
            continue
        tails[source.pod] = response.text()
    return tails


def observe_flow(
    cluster_name: str, namespace: str, *, target: DeployTarget, log_lines: int = 50
) -> Flow[ClusterSnapshot]:
    """Read the cluster's Deployments, pods (and FlinkDeployment), the Events of the pods
    that are not Ready, then its log tails.

    :param log_lines: lines of each log tail; ``0`` reads no logs.
    """
    selector = workload_selector(cluster_name, target)
    deployments = yield from list_items(
        list_request(DEPLOYMENT, namespace, label_selector=selector)
    )
    pods = yield from list_items(list_request(POD, namespace, label_selector=selector))
    flink_deployment = None
    if target_of(target).reads_status_object:
        request = get_request(FLINK_DEPLOYMENT, namespace, cluster_name)
        flink_deployment = yield from fetch_or_none(request)
    jobmanager, taskmanager = split_deployments(deployments)
    snapshot = ClusterSnapshot.from_k8s(
        name=cluster_name,
        jobmanager_deployment=jobmanager,
        taskmanager_deployment=taskmanager,
        pods=pods,
        flink_deployment=flink_deployment,
    )
    events: list[Mapping[str, Any]] = []
    for pod in snapshot.active_pods:
        if not pod.ready:
            request = list_request(EVENT, namespace, field_selector=pod_events_selector(pod.name))
            events.extend((yield from list_items(request)))
    if events:
        parsed = tuple(EventRecord.from_k8s(event) for event in events)
        snapshot = snapshot.model_copy(update={"events": parsed})
    if log_lines <= 0:
        return snapshot
    tails = yield from log_tails_flow(namespace, snapshot, log_lines)
    return snapshot.with_log_tails(tails) if tails else snapshot


def logs_flow(
    pod: str,
    namespace: str,
    *,
    container: str | None = None,
    tail_lines: int | None = 100,
    previous: bool = False,
) -> Flow[str]:
    """A container's log (the last ``tail_lines`` lines; all of it for ``None``)."""
    request = log_request(
        namespace, pod, container=container, tail_lines=tail_lines, previous=previous
    )
    response = yield request
    text: str = response.text()
    return text


def _event_time(event: Mapping[str, Any]) -> str:
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        value = event.get(key)
        if isinstance(value, str) and value:
            return value
    return str((event.get("metadata") or {}).get("creationTimestamp") or "")


def events_flow(
    namespace: str, *, involved_object: str | None = None, kind: str | None = None
) -> Flow[list[dict[str, Any]]]:
    """The namespace's Events (about one object when ``involved_object`` is given, of
    ``kind`` when given too), oldest first."""
    fields = []
    if involved_object:
        fields.append(f"involvedObject.name={involved_object}")
    if kind:
        fields.append(f"involvedObject.kind={kind}")
    request = list_request(EVENT, namespace, field_selector=",".join(fields) or None)
    events = yield from list_items(request)
    return sorted(events, key=_event_time)
