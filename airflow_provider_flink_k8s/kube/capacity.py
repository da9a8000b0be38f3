"""Read what a placement pre-flight needs: nodes, the pods bound to them, the quotas.

The deploy task asks before it creates anything; the answer (raw JSON) goes to the pure
:func:`~airflow_provider_flink_k8s.resources.placement.free_capacity` and
:func:`~airflow_provider_flink_k8s.resources.placement.check_placement`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_flink_k8s.kube.requests import Flow, list_items, list_request
from airflow_provider_flink_k8s.kube.resources import POD, ResourceRef

__all__ = ["CapacityInputs", "NODE", "RESOURCE_QUOTA", "capacity_flow"]

NODE = ResourceRef("", "v1", "nodes", "Node", namespaced=False)
RESOURCE_QUOTA = ResourceRef("", "v1", "resourcequotas", "ResourceQuota")

_UNFINISHED = "status.phase!=Succeeded,status.phase!=Failed"


@dataclass(frozen=True)
class CapacityInputs:
    """Raw Nodes, unfinished Pods of every namespace, and one namespace's ResourceQuotas."""

    nodes: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    quotas: list[dict[str, Any]]


def capacity_flow(namespace: str) -> Flow[CapacityInputs]:
    """List what :class:`CapacityInputs` holds (three requests)."""
    nodes = yield from list_items(list_request(NODE, None))
    pods = yield from list_items(list_request(POD, None, field_selector=_UNFINISHED))
    quotas = yield from list_items(list_request(RESOURCE_QUOTA, namespace))
    return CapacityInputs(nodes, pods, quotas)
