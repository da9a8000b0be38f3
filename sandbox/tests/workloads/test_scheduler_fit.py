"""The scheduler's fit rules and its Unschedulable message (pure)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flink_k8s_sandbox.scheduler import (
    node_reasons,
    pod_requests,
    unschedulable_message,
)

NODE = {
    "metadata": {"name": "n1", "labels": {"disk": "ssd"}},
    "spec": {},
    "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "3"}},
}


def _pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"spec": {"containers": list(containers), **spec}}


def _resources(
    requests: dict[str, str] | None = None, limits: dict[str, str] | None = None
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return {"name": "c", "resources": resources}


def test_pod_requests_sum_containers_default_to_limits_and_cover_init_containers() -> None:
    pod = _pod(
        _resources({"cpu": "500m"}),
        _resources(limits={"cpu": "1", "memory": "1Gi"}),
        initContainers=[_resources({"cpu": "3"})],
    )
    assert pod_requests(pod) == {"cpu": Decimal(3), "memory": Decimal(1024**3)}


@pytest.mark.parametrize(
    ("pod", "used", "reasons"),
    [
        (_pod(_resources({"cpu": "2"})), {}, []),
        (_pod(_resources({"cpu": "2"})), {"cpu": Decimal(3)}, ["Insufficient cpu"]),
        (
            _pod(_resources({"cpu": "5", "memory": "20Gi"})),
            {},
            ["Insufficient cpu", "Insufficient memory"],
        ),
        (_pod(_resources({"nvidia.com/gpu": "1"})), {}, ["Insufficient nvidia.com/gpu"]),
        (_pod(), {"pods": Decimal(3)}, ["Too many pods"]),
        (
            _pod(nodeSelector={"disk": "hdd"}),
            {},
            ["node(s) didn't match Pod's node affinity/selector"],
        ),
        (_pod(nodeSelector={"disk": "ssd"}), {}, []),
    ],
)
def test_node_reasons(pod: dict[str, Any], used: dict[str, Decimal], reasons: list[str]) -> None:
    assert node_reasons(NODE, pod, pod_requests(pod), used) == reasons


def test_unschedulable_and_tainted_nodes() -> None:
    cordoned = {**NODE, "spec": {"unschedulable": True}}
    assert node_reasons(cordoned, _pod(), {}, {}) == ["node(s) were unschedulable"]
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    tainted = {**NODE, "spec": {"taints": [taint]}}
    assert node_reasons(tainted, _pod(), {}, {}) == [
        "node(s) had untolerated taint {dedicated: gpu}"
    ]
    tolerant = _pod(tolerations=[{"key": "dedicated", "operator": "Exists"}])
    assert node_reasons(tainted, tolerant, {}, {}) == []


def test_unschedulable_messages() -> None:
    assert unschedulable_message(0, {}) == "no nodes available to schedule pods"
    reasons = {
        "n1": ["Insufficient cpu"],
        "n2": ["Insufficient cpu", "Insufficient memory"],
        "n3": ["node(s) didn't match Pod's node affinity/selector"],
    }
    assert unschedulable_message(3, reasons) == (  # histograms sorted as strings, as in Go
        "0/3 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node "
        "affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: "
        "1 Preemption is not helpful for scheduling, 2 No preemption victims found for "
        "incoming pod."
    )
