"""The scheduler: placement by requests against allocatable, and why a pod stays Pending."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from workload_support import condition, eventually, fast_sandbox, pod

from flink_k8s_sandbox import SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    yield from fast_sandbox()  # three nodes of 4 CPU and 16Gi


def _requesting(name: str, cpu: str = "100m", memory: str = "64Mi", **spec: Any) -> dict[str, Any]:
    resources = {"requests": {"cpu": cpu, "memory": memory}}
    return pod(name, container={"resources": resources}, **spec)


def _scheduled(core: client.CoreV1Api, namespace: str, name: str) -> Any:
    def check() -> Any:
        found = core.read_namespaced_pod(name, namespace)
        return found if condition(found.status, "PodScheduled") else None

    return eventually(check, what=f"pod {name} tried")


def _unschedulable(core: client.CoreV1Api, namespace: str, name: str) -> str:
    found = _scheduled(core, namespace, name)
    scheduled = condition(found.status, "PodScheduled")
    assert (found.status.phase, found.spec.node_name) == ("Pending", None)
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    return str(scheduled.message)


def test_pods_without_requests_spread_over_the_nodes(
    core: client.CoreV1Api, namespace: str
) -> None:
    for index in range(3):
        core.create_namespaced_pod(namespace, pod(f"small-{index}"))
    nodes = {_scheduled(core, namespace, f"small-{i}").spec.node_name for i in range(3)}
    assert len(nodes) == 3  # the first test: no other pod weighs on any node


def test_too_large_a_pod_stays_pending_with_the_schedulers_reasons(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_pod(namespace, _requesting("huge", cpu="5"))
    message = _unschedulable(core, namespace, "huge")
    assert message == (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    )
    selector = "involvedObject.name=huge,involvedObject.kind=Pod,type=Warning"
    events = eventually(
        lambda: core.list_namespaced_event(namespace, field_selector=selector).items
    )
    assert [(e.reason, e.message, e.source.component) for e in events] == [
        ("FailedScheduling", message, "default-scheduler")
    ]


def test_mixed_reasons_are_counted_per_node(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _requesting("greedy", cpu="6", memory="20Gi"))
    assert _unschedulable(core, namespace, "greedy") == (
        "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory. preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )
    core.create_namespaced_pod(namespace, pod("picky", nodeSelector={"disk": "ssd"}))
    assert _unschedulable(core, namespace, "picky") == (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )


def test_a_pending_pod_is_placed_once_room_frees_up(core: client.CoreV1Api, namespace: str) -> None:
    for index in range(3):
        core.create_namespaced_pod(namespace, _requesting(f"big-{index}", cpu="3"))
    nodes = {_scheduled(core, namespace, f"big-{i}").spec.node_name for i in range(3)}
    assert nodes == {"sandbox-node-1", "sandbox-node-2", "sandbox-node-3"}
    core.create_namespaced_pod(namespace, _requesting("late", cpu="2"))
    assert _unschedulable(core, namespace, "late").startswith(
        "0/3 nodes are available: 3 Insufficient cpu."
    )
    freed = core.read_namespaced_pod("big-1", namespace).spec.node_name
    core.delete_namespaced_pod("big-1", namespace, grace_period_seconds=0)

    def placed() -> Any:
        found = core.read_namespaced_pod("late", namespace)
        return found if found.spec.node_name else None

    late = eventually(placed, what="late pod scheduled")
    assert late.spec.node_name == freed
    scheduled = condition(late.status, "PodScheduled")
    assert (scheduled.status, scheduled.reason, scheduled.message) == ("True", None, None)
    selector = "involvedObject.name=late,reason=Scheduled"
    (event,) = eventually(
        lambda: core.list_namespaced_event(namespace, field_selector=selector).items
    )
    assert event.message == f"Successfully assigned {namespace}/late to {freed}"
