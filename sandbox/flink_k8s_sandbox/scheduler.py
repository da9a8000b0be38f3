"""The scheduler: binds pending pods to nodes by requests against allocatable.

A pod without ``spec.nodeName`` (and ``schedulerName: default-scheduler``) goes to the
feasible node with the most free CPU and memory (``LeastAllocated``: requests, at least
100m CPU and 200Mi memory per container for scoring, over allocatable). A node is
infeasible when it is unschedulable, has an untolerated ``NoSchedule``/``NoExecute``
taint, does not match ``nodeSelector``, or lacks room: ``Too many pods`` /
``Insufficient <resource>`` for the sum of container requests (limits when no request;
init containers by their maximum) over ``status.allocatable`` minus the requests of the
unfinished pods it holds.

Binding sets ``spec.nodeName`` and condition ``PodScheduled=True`` and records
``Scheduled``. Otherwise the pod stays ``Pending`` with ``PodScheduled=False``,
``reason: Unschedulable`` and the scheduler's message, e.g. ``0/3 nodes are available:
3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found
for incoming pod.``, plus a ``FailedScheduling`` Warning. Unschedulable pods are tried
again when a pod goes away or finishes and when nodes change.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from flink_k8s_sandbox.clock import Timers, WorkQueue
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.events import NORMAL, WARNING, EventRecorder, EventSource
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.quantity import QuantityError, parse_quantity
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent
from flink_k8s_sandbox.workloads.refs import is_deleting, is_terminal, key_of
from flink_k8s_sandbox.workloads.status import get_condition

__all__ = ["Scheduler", "node_reasons", "pod_requests", "unschedulable_message"]

Obj = dict[str, Any]
Resources = dict[str, Decimal]
_LOG = logging.getLogger(__name__)
_PODS = ("", "pods")
_NODES = ("", "nodes")
_NAME = "default-scheduler"
_OPTS = WriteOptions(field_manager=_NAME)
_SOURCE = EventSource(_NAME)
_RESOLVABLE = ("Insufficient ", "Too many pods")
_NON_ZERO = {"cpu": Decimal("0.1"), "memory": Decimal(200 * 1024 * 1024)}


def _quantity(value: Any) -> Decimal:
    try:
        return parse_quantity(value)
    except QuantityError:
        return Decimal(0)


def _container_requests(container: Mapping[str, Any]) -> Resources:
    resources = container.get("resources") or {}
    merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    return {name: _quantity(value) for name, value in merged.items()}


def pod_requests(pod: Mapping[str, Any]) -> Resources:
    """What a pod asks of a node: its containers' sum, at least each init container's."""
    spec = pod.get("spec", {})
    total: Resources = {}
    for container in spec.get("containers") or []:
        for name, value in _container_requests(container).items():
            total[name] = total.get(name, Decimal(0)) + value
    for container in spec.get("initContainers") or []:
        for name, value in _container_requests(container).items():
            total[name] = max(total.get(name, Decimal(0)), value)
    for name, value in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, Decimal(0)) + _quantity(value)
    return total


def _tolerated(taint: Mapping[str, Any], tolerations: Sequence[Mapping[str, Any]]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint.get("key"):
                return True
        elif toleration.get("key") == taint.get("key") and toleration.get("value", "") == taint.get(
            "value", ""
        ):
            return True
    return False


def node_reasons(
    node: Mapping[str, Any], pod: Mapping[str, Any], requests: Resources, used: Resources
) -> list[str]:
    """Why ``pod`` does not fit ``node`` (empty: it fits). ``used`` includes ``pods``."""
    spec = pod.get("spec", {})
    node_spec = node.get("spec", {})
    if node_spec.get("unschedulable"):
        return ["node(s) were unschedulable"]
    tolerations = spec.get("tolerations") or []
    for taint in node_spec.get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(
            taint, tolerations
        ):
            return [
                f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
            ]
    labels = node.get("metadata", {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return ["node(s) didn't match Pod's node affinity/selector"]
    allocatable = {
        name: _quantity(value)
        for name, value in (node.get("status", {}).get("allocatable") or {}).items()
    }
    reasons = []
    if used.get("pods", Decimal(0)) + 1 > allocatable.get("pods", Decimal(110)):
        reasons.append("Too many pods")
    for name in sorted(requests, key=lambda n: (n not in ("cpu", "memory"), n)):
        wanted = requests[name]
        if wanted > 0 and wanted > allocatable.get(name, Decimal(0)) - used.get(name, Decimal(0)):
            reasons.append(f"Insufficient {name}")
    return reasons


def _scoring_requests(pod: Mapping[str, Any]) -> Resources:
    """Requests as the scorer counts them: a container without one counts the defaults."""
    total = {name: Decimal(0) for name in _NON_ZERO}
    for container in pod.get("spec", {}).get("containers") or []:
        requests = _container_requests(container)
        for name, default in _NON_ZERO.items():
            total[name] += requests.get(name) or default
    return total


def _free_share(node: Mapping[str, Any], scored: Resources) -> Decimal:
    """``LeastAllocated``: the mean share of CPU and memory left after placing the pod."""
    allocatable = node.get("status", {}).get("allocatable") or {}
    shares: list[Decimal] = []
    for name in _NON_ZERO:
        size = _quantity(allocatable.get(name, "0"))
        shares.append(
            max(Decimal(0), size - scored.get(name, Decimal(0))) / size if size else Decimal(0)
        )
    return sum(shares, Decimal(0)) / len(shares)


def _histogram(counts: Counter[str]) -> str:
    return ", ".join(sorted(f"{count} {reason}" for reason, count in counts.items()))


def unschedulable_message(node_count: int, reasons: Mapping[str, Sequence[str]]) -> str:
    """The scheduler's ``FitError`` text with its preemption postscript."""
    if node_count == 0:
        return "no nodes available to schedule pods"
    failures: Counter[str] = Counter()
    preemption: Counter[str] = Counter()
    for node_reasons_ in reasons.values():
        failures.update(node_reasons_)
        helpful = all(r.startswith(_RESOLVABLE) for r in node_reasons_)
        preemption[
            "No preemption victims found for incoming pod"
            if helpful
            else "Preemption is not helpful for scheduling"
        ] += 1
    head = f"0/{node_count} nodes are available"
    return f"{head}: {_histogram(failures)}. preemption: {head}: {_histogram(preemption)}."


class Scheduler:
    """Schedules pods as they appear; retries unschedulable ones when room may appear."""

    def __init__(
        self, storage: Storage, registry: ResourceRegistry, timers: Timers, events: EventRecorder
    ) -> None:
        self.storage = storage
        self.registry = registry
        self.events = events
        self.queue: WorkQueue[tuple[str, str]] = WorkQueue(timers, self.schedule)
        self._retrying: set[tuple[str, str]] = set()

    def handle(self, event: StoreEvent) -> None:
        if event.key == _NODES:
            self._retry_all()
        elif event.key == _PODS:
            obj = event.obj
            if event.type != "DELETED" and _wants_node(obj):
                self.queue.add(key_of(obj))
            freed = event.type == "DELETED" or (
                event.old is not None and not is_terminal(event.old) and is_terminal(obj)
            )
            if freed and obj.get("spec", {}).get("nodeName"):
                self._retry_all()

    def _retry_all(self) -> None:
        for pod in self.storage.store.objects(_PODS):
            if _wants_node(pod):
                self._retrying.add(key_of(pod))
                self.queue.add(key_of(pod))

    def _pods_type(self) -> ResourceType:
        rt = self.registry.get("", "v1", "pods")
        assert rt is not None
        return rt

    def _usage(self) -> tuple[dict[str, Resources], dict[str, Resources]]:
        """Per node: the requests of its unfinished pods, and the same as scored."""
        usage: dict[str, Resources] = {}
        scored: dict[str, Resources] = {}
        for pod in self.storage.store.objects(_PODS):
            node = pod.get("spec", {}).get("nodeName")
            if not node or is_terminal(pod):
                continue
            used = usage.setdefault(node, {"pods": Decimal(0)})
            used["pods"] += 1
            for name, value in pod_requests(pod).items():
                used[name] = used.get(name, Decimal(0)) + value
            score = scored.setdefault(node, {})
            for name, value in _scoring_requests(pod).items():
                score[name] = score.get(name, Decimal(0)) + value
        return usage, scored

    def schedule(self, key: tuple[str, str]) -> None:
        retried = key in self._retrying
        self._retrying.discard(key)
        stored = self.storage.store.get(_PODS, *key)
        if stored is None or not _wants_node(stored):
            return
        pod = {**stored, "apiVersion": "v1", "kind": "Pod"}
        nodes = self.storage.store.objects(_NODES)
        usage, scored = self._usage()
        requests = pod_requests(pod)
        own = _scoring_requests(pod)
        reasons: dict[str, list[str]] = {}
        feasible: list[tuple[Decimal, str]] = []
        for node in nodes:
            name = node["metadata"]["name"]
            used = usage.get(name, {})
            found = node_reasons(node, pod, requests, used)
            if found:
                reasons[name] = found
                continue
            after = {k: scored.get(name, {}).get(k, Decimal(0)) + v for k, v in own.items()}
            feasible.append((-_free_share(node, after), name))
        if feasible:
            self._bind(pod, min(feasible)[1])
        else:
            self._fail(pod, unschedulable_message(len(nodes), reasons), retried)

    def _bind(self, pod: Obj, node: str) -> None:
        namespace, name = key_of(pod)
        rt = self._pods_type()

        def bind(current: Obj | None) -> Obj:
            assert current is not None
            current["spec"]["nodeName"] = node
            return current

        try:
            self.storage.modify(rt, namespace, name, bind, _OPTS)
            self._set_scheduled(rt, pod, {"status": "True"})
        except ApiError as error:
            _LOG.debug("could not bind pod %s: %s", name, error)
            return
        message = f"Successfully assigned {namespace}/{name} to {node}"
        self.events.record(pod, NORMAL, "Scheduled", message, _SOURCE)

    def _fail(self, pod: Obj, message: str, retried: bool) -> None:
        failed = {"status": "False", "reason": "Unschedulable", "message": message}
        try:
            changed = self._set_scheduled(self._pods_type(), pod, failed)
        except ApiError as error:
            _LOG.debug("could not update pod %s: %s", pod["metadata"]["name"], error)
            return
        if changed or retried:
            self.events.record(pod, WARNING, "FailedScheduling", message, _SOURCE)

    def _set_scheduled(self, rt: ResourceType, pod: Obj, fields: Obj) -> bool:
        """Set condition PodScheduled; whether it changed."""
        current = get_condition(pod.get("status", {}).get("conditions"), "PodScheduled")
        if current is not None and all(current.get(k) == v for k, v in fields.items()):
            return False
        same_status = current is not None and current.get("status") == fields["status"]
        stamp = (current or {}).get("lastTransitionTime") if same_status else None
        new = {
            "type": "PodScheduled",
            "lastProbeTime": None,
            "lastTransitionTime": stamp or format_time(self.storage.clock()),
            **fields,
        }

        def mutate(obj: Obj | None) -> Obj:
            assert obj is not None
            status = obj.setdefault("status", {})
            others = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            status["conditions"] = [*others, new]
            return obj

        namespace, name = key_of(pod)
        self.storage.modify(rt, namespace, name, mutate, _OPTS, subresource="status")
        return True


def _wants_node(pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec", {})
    return (
        not spec.get("nodeName")
        and spec.get("schedulerName", _NAME) == _NAME
        and not is_deleting(pod)
        and not is_terminal(pod)
    )
