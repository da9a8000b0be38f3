"""Will the planned pods fit? A pre-flight check against nodes and a ResourceQuota.

Kubernetes would answer the same question only after the objects exist -- with pods
stuck ``Pending`` -- so deploy tasks ask it first. Pods are placed first-fit-decreasing
(largest requests first, each on the first node with room), the way a scheduler fills a
cluster when nothing else moves; the quota is checked on the cluster's totals. The
answer is a value with every reason it does not fit, worded for a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.units import (
    QuantityError,
    format_k8s_memory,
    parse_k8s_quantity,
)

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.resources.plan import ClusterPlan

__all__ = [
    "NodeCapacity",
    "PlacementResult",
    "PodRequest",
    "QuotaStatus",
    "check_placement",
    "free_capacity",
    "pod_requests",
]


@dataclass(frozen=True)
class NodeCapacity:
    """What a node can still take: CPU cores, memory bytes and (optionally) pod count."""

    name: str
    cpu: float
    memory: int
    pods: int | None = None

    @classmethod
    def from_k8s(cls, node: Mapping[str, Any]) -> NodeCapacity | None:
        """Read a Node object's ``status.allocatable``; ``None`` if it takes no new pods
        (cordoned, or tainted ``NoSchedule``/``NoExecute``)."""
        spec = node.get("spec") or {}
        if spec.get("unschedulable"):
            return None
        if any(t.get("effect") in ("NoSchedule", "NoExecute") for t in spec.get("taints") or []):
            return None
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        pods = allocatable.get("pods")
        return cls(
            name=str((node.get("metadata") or {}).get("name", "?")),
            cpu=float(parse_k8s_quantity(allocatable.get("cpu", "0"))),
            memory=int(parse_k8s_quantity(allocatable.get("memory", "0"))),
            pods=int(parse_k8s_quantity(pods)) if pods is not None else None,
        )


@dataclass(frozen=True)
class QuotaStatus:
    """A namespace ResourceQuota's hard limits and current usage (resource name -> amount)."""

    name: str
    hard: Mapping[str, Decimal]
    used: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_k8s(cls, quota: Mapping[str, Any]) -> QuotaStatus:
        """Read a ResourceQuota object (``status.hard``/``status.used``, else ``spec.hard``)."""
        status = quota.get("status") or {}
        hard = status.get("hard") or (quota.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}

        def parse(values: Mapping[str, Any]) -> dict[str, Decimal]:
            parsed = {}
            for key, value in values.items():
                try:
                    parsed[str(key)] = parse_k8s_quantity(value)
                except QuantityError:
                    continue  # object-count quotas for other kinds, e.g. "count/jobs.batch"
            return parsed

        return cls(str((quota.get("metadata") or {}).get("name", "?")), parse(hard), parse(used))


@dataclass(frozen=True)
class PodRequest:
    """One pod to place: its role (``JobManager``/``TaskManager``), CPU and memory requests."""

    role: str
    cpu: float
    memory: int


@dataclass(frozen=True)
class PlacementResult:
    """The answer: does it fit, why not, and which node each pod would land on."""

    fits: bool
    reasons: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...]
    """(pod, node) pairs for the pods that found a node, pods named ``<role>-<n>``."""

    def __str__(self) -> str:
        return "fits" if self.fits else "does not fit: " + "; ".join(self.reasons)


def pod_requests(plan: ClusterPlan) -> list[PodRequest]:
    """The pods a plan asks for, one entry per replica."""
    pods = []
    for role, role_plan in (("JobManager", plan.jobmanager), ("TaskManager", plan.taskmanager)):
        res = role_plan.resources
        pods += [PodRequest(role, res.cpu_request, res.memory_request)] * role_plan.replicas
    return pods


def _fits(pod: PodRequest, free: list[float | int | None]) -> bool:
    cpu, memory, slots = free
    # Compare CPU in whole millicores: Kubernetes cannot see finer differences.
    return (
        round(pod.cpu * 1000) <= round(float(cpu or 0) * 1000)
        and pod.memory <= int(memory or 0)
        and (slots is None or slots >= 1)
    )


def _place(
    pods: Sequence[PodRequest], nodes: Sequence[NodeCapacity]
) -> tuple[list[tuple[str, str]], list[PodRequest]]:
    """First-fit-decreasing: largest pods first, each on the first node with room."""
    free: list[list[float | int | None]] = [[n.cpu, n.memory, n.pods] for n in nodes]
    counters: dict[str, int] = {}
    placed: list[tuple[str, str]] = []
    unplaced: list[PodRequest] = []
    for pod in sorted(pods, key=lambda p: (p.cpu, p.memory), reverse=True):
        index = counters[pod.role] = counters.get(pod.role, -1) + 1
        pod_name = f"{pod.role.lower()}-{index}"
        for node, room in zip(nodes, free, strict=True):
            if _fits(pod, room):
                room[0] = float(room[0] or 0) - pod.cpu
                room[1] = int(room[1] or 0) - pod.memory
                room[2] = None if room[2] is None else int(room[2]) - 1
                placed.append((pod_name, node.name))
                break
        else:
            unplaced.append(pod)
    return placed, unplaced


def _cores(cpu: float) -> str:
    """Cores as a person writes them: ``2``, ``1.5``, ``0.25`` (whole millicores)."""
    return f"{round(cpu, 3):.3f}".rstrip("0").rstrip(".")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _node_reasons(
    pods: Sequence[PodRequest], unplaced: Sequence[PodRequest], nodes: Sequence[NodeCapacity]
) -> list[str]:
    """Explain the pods left over, per role: too big for any node, or no room left."""
    if not nodes:
        return ["no node accepts new pods (none listed, or all cordoned or tainted)"]
    reasons = []
    largest_cpu = max(n.cpu for n in nodes)
    largest_memory = max(n.memory for n in nodes)
    for role in sorted({p.role for p in unplaced}):
        sample = next(p for p in pods if p.role == role)
        total = sum(1 for p in pods if p.role == role)
        left = sum(1 for p in unplaced if p.role == role)
        each = f"{_plural(total, role)} {'needs' if total == 1 else 'need'}"
        if round(sample.cpu * 1000) > round(largest_cpu * 1000):
            reasons.append(
                f"{each} {_cores(sample.cpu)} CPU each; the largest node has "
                f"{_cores(largest_cpu)} allocatable"
            )
        elif sample.memory > largest_memory:
            reasons.append(
                f"{each} {format_k8s_memory(sample.memory)} memory each; the largest "
                f"node has {format_k8s_memory(largest_memory)} allocatable"
            )
        else:
            reasons.append(
                f"{left} of {_plural(total, role)} ({_cores(sample.cpu)} CPU, "
                f"{format_k8s_memory(sample.memory)} each) {'finds' if left == 1 else 'find'} "
                f"no node with room left ({_plural(len(nodes), 'node')}: "
                f"{_cores(sum(n.cpu for n in nodes))} CPU, "
                f"{format_k8s_memory(sum(n.memory for n in nodes))} allocatable in total)"
            )
    return reasons


def _quota_reasons(plan: ClusterPlan, quota: QuotaStatus) -> list[str]:
    needs: dict[str, Decimal] = {
        "requests.cpu": Decimal(str(plan.cpu_requests)),
        "cpu": Decimal(str(plan.cpu_requests)),
        "requests.memory": Decimal(plan.memory_requests),
        "memory": Decimal(plan.memory_requests),
        "limits.cpu": Decimal(str(plan.cpu_limits)),
        "limits.memory": Decimal(plan.memory_limits),
        "pods": Decimal(plan.jobmanager.replicas + plan.taskmanager.replicas),
        "count/pods": Decimal(plan.jobmanager.replicas + plan.taskmanager.replicas),
    }
    reasons = []
    for resource, need in needs.items():
        if resource not in quota.hard:
            continue
        hard, used = quota.hard[resource], quota.used.get(resource, Decimal(0))
        if used + need > hard:
            show = (
                _show_cpu
                if "cpu" in resource
                else (_show_memory if "memory" in resource else _show_count)
            )
            reasons.append(
                f"ResourceQuota {quota.name!r}: {resource} would reach {show(used + need)} of "
                f"{show(hard)} (used {show(used)}, this cluster needs {show(need)})"
            )
    return reasons


def _show_cpu(value: Decimal) -> str:
    return _cores(float(value))


def _show_memory(value: Decimal) -> str:
    return format_k8s_memory(int(value))


def _show_count(value: Decimal) -> str:
    return str(int(value))


def check_placement(
    plan: ClusterPlan,
    nodes: Iterable[NodeCapacity],
    quota: QuotaStatus | Iterable[QuotaStatus] | None = None,
) -> PlacementResult:
    """Check that every pod of ``plan`` finds a node and the namespace quota allows them.

    :param plan: the cluster's resource plan.
    :param nodes: each node's free allocatable resources (what other pods leave).
    :param quota: the namespace's ResourceQuota(s), if any.
    :return: ``fits`` with the reasons it does not (e.g. "6 TaskManagers need 2 CPU each;
        the largest node has 1.5 allocatable") and the pod -> node assignments.
    """
    node_list = list(nodes)
    pods = pod_requests(plan)
    placed, unplaced = _place(pods, node_list)
    reasons = _node_reasons(pods, unplaced, node_list) if unplaced else []
    quotas = [quota] if isinstance(quota, QuotaStatus) else list(quota or [])
    for item in quotas:
        reasons += _quota_reasons(plan, item)
    return PlacementResult(not reasons, tuple(reasons), tuple(placed))


def _pod_requests(pod: Mapping[str, Any]) -> tuple[float, int]:
    """A pod's CPU and memory requests: the sum over its containers, or its largest init
    container's when that is more (the scheduler's rule)."""
    spec = pod.get("spec") or {}

    def total(containers: Iterable[Mapping[str, Any]]) -> tuple[Decimal, Decimal]:
        cpu, memory = Decimal(0), Decimal(0)
        for container in containers:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += parse_k8s_quantity(requests.get("cpu", "0"))
            memory += parse_k8s_quantity(requests.get("memory", "0"))
        return cpu, memory

    cpu, memory = total(spec.get("containers") or [])
    for init in spec.get("initContainers") or []:
        init_cpu, init_memory = total([init])
        cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    return float(cpu), int(memory)


def free_capacity(
    nodes: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    *,
    ignore: Mapping[str, str] | None = None,
) -> list[NodeCapacity]:
    """What each schedulable node can still take: its allocatable resources minus the
    requests of the pods bound to it that have not finished.

    :param nodes: Node objects (raw JSON).
    :param pods: Pod objects of every namespace (raw JSON).
    :param ignore: labels of pods to leave out -- a cluster being updated, whose pods
        make room for their replacements.
    """
    capacity = {n.name: n for n in (NodeCapacity.from_k8s(node) for node in nodes) if n}
    used: dict[str, list[float]] = {name: [0.0, 0.0, 0.0] for name in capacity}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if node not in used or phase in ("Succeeded", "Failed"):
            continue
        if ignore and all(labels.get(key) == value for key, value in ignore.items()):
            continue
        cpu, memory = _pod_requests(pod)
        used[node][0] += cpu
        used[node][1] += memory
        used[node][2] += 1
    return [
        NodeCapacity(
            name=name,
            cpu=max(node.cpu - used[name][0], 0.0),
            memory=max(node.memory - int(used[name][1]), 0),
            pods=None if node.pods is None else max(node.pods - int(used[name][2]), 0),
        )
        for name, node in capacity.items()
    ]
