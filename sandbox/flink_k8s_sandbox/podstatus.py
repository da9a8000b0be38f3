"""Pure pod status math: container statuses, the pod phase and the kubelet's conditions.

Paraphrased from the kubelet (``kubelet_pods.go::getPhase``, ``generateAPIPodStatus``
and ``status/generate.go``): the phase is ``Pending`` while an init container has not
succeeded or a container waits for its first start, ``Running`` once containers run (a
crashed container of a ``restartPolicy: Always`` pod counts as running), and
``Succeeded``/``Failed`` when everything stopped for good or the pod is being finished.
Conditions come in the kubelet's order: ``PodReadyToStartContainers``, ``Initialized``,
``Ready``, ``ContainersReady``, ``PodScheduled``, each keeping its transition time while
its status does not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KUBELET_CONDITIONS",
    "ContainerState",
    "container_status",
    "pod_conditions",
    "pod_phase",
    "terminated_state",
]

Obj = dict[str, Any]
KUBELET_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


@dataclass
class ContainerState:
    """What the kubelet knows of one container (mutable; the worker updates it)."""

    name: str
    image: str
    init: bool = False
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    running_since: str | None = None
    terminated: Obj | None = None
    last_terminated: Obj | None = None
    restart_count: int = 0
    container_id: str = ""
    image_id: str = ""
    started: bool = False
    ready: bool = False
    extra: Obj = field(default_factory=dict)

    def wait(self, reason: str, message: str = "") -> None:
        if self.terminated is not None:
            self.last_terminated = self.terminated
            self.terminated = None
        self.waiting = (reason, message)
        self.running_since = None
        self.started = self.ready = False

    def run(self, container_id: str, since: str) -> None:
        if self.terminated is not None:
            self.last_terminated = self.terminated
        self.terminated = None
        self.waiting = None
        self.container_id = container_id
        self.running_since = since
        self.ready = False

    def stop(self, terminated: Obj) -> None:
        self.terminated = terminated
        self.waiting = None
        self.running_since = None
        self.started = self.ready = False


def terminated_state(
    exit_code: int, reason: str, started_at: str | None, finished_at: str, container_id: str
) -> Obj:
    state: Obj = {"exitCode": exit_code, "reason": reason}
    if started_at:
        state["startedAt"] = started_at
    state["finishedAt"] = finished_at
    if container_id:
        state["containerID"] = container_id
    return state


def container_status(state: ContainerState) -> Obj:
    """The ``containerStatuses[]`` entry of one container."""
    if state.running_since is not None:
        current: Obj = {"running": {"startedAt": state.running_since}}
    elif state.terminated is not None:
        current = {"terminated": dict(state.terminated)}
    else:
        reason, message = state.waiting or ("ContainerCreating", "")
        current = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    status: Obj = {
        "name": state.name,
        "state": current,
        "lastState": {"terminated": dict(state.last_terminated)} if state.last_terminated else {},
        "ready": _ready(state),
        "restartCount": state.restart_count,
        "image": state.image,
        "imageID": state.image_id,
    }
    if state.container_id and (state.running_since or state.terminated):
        status["containerID"] = state.container_id
    status["started"] = state.started
    return status


def _ready(state: ContainerState) -> bool:
    if state.init:  # an init container is ready once it succeeded
        return bool(state.terminated and state.terminated.get("exitCode") == 0)
    return state.ready


def pod_phase(
    spec: Mapping[str, Any],
    init: Sequence[ContainerState],
    regular: Sequence[ContainerState],
    terminal: bool = False,
) -> str:
    """``getPhase``; ``terminal``: the pod is being finished (deleted, or done)."""
    pending_init = failed_init = 0
    for state in init:
        if state.terminated is not None:
            failed_init += state.terminated["exitCode"] != 0
        elif state.waiting is not None and state.last_terminated is not None:
            failed_init += state.last_terminated["exitCode"] != 0
        else:
            pending_init += 1
    running = waiting = stopped = succeeded = 0
    for state in regular:
        if state.running_since is not None:
            running += 1
        elif state.terminated is not None:
            stopped += 1
            succeeded += state.terminated["exitCode"] == 0
        elif state.last_terminated is not None:
            stopped += 1
        else:
            waiting += 1
    policy = spec.get("restartPolicy", "Always")
    if failed_init and policy == "Never":
        return "Failed"
    if pending_init or waiting:
        return "Failed" if terminal else "Pending"
    if running:
        return "Running"
    if terminal:
        return "Succeeded" if stopped == succeeded else "Failed"
    if policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Failed" if policy == "Never" else "Running"


def _names(states: Sequence[ContainerState]) -> str:
    return "[" + " ".join(s.name for s in states) + "]"


def _condition(kind: str, status: bool, reason: str = "", message: str = "") -> Obj:
    condition: Obj = {"type": kind, "status": "True" if status else "False"}
    if not status and reason:
        condition["reason"] = reason
    if not status and message:
        condition["message"] = message
    return condition


def pod_conditions(
    phase: str,
    sandbox_ready: bool,
    init: Sequence[ContainerState],
    regular: Sequence[ContainerState],
    old: Sequence[Mapping[str, Any]],
    now: str,
) -> list[Obj]:
    """The kubelet-owned conditions (plus the others ``old`` holds, kept as they are)."""
    unfinished_init = [s for s in init if s.terminated is None or s.terminated.get("exitCode") != 0]
    unready = [s for s in regular if not s.ready]
    done = phase in ("Succeeded", "Failed")
    if done and phase == "Succeeded":
        ready = _condition("Ready", False, "PodCompleted")
        containers_ready = _condition("ContainersReady", False, "PodCompleted")
    else:
        message = f"containers with unready status: {_names(unready)}"
        ready = _condition("Ready", not unready, "ContainersNotReady", message)
        containers_ready = _condition("ContainersReady", not unready, "ContainersNotReady", message)
    init_message = f"containers with incomplete status: {_names(unfinished_init)}"
    initialized = _condition(
        "Initialized", not unfinished_init, "ContainersNotInitialized", init_message
    )
    fresh = [
        _condition("PodReadyToStartContainers", sandbox_ready and not done),
        initialized,
        ready,
        containers_ready,
        _condition("PodScheduled", True),
    ]
    by_type = {c.get("type"): c for c in old}
    result = []
    for condition in fresh:
        previous = by_type.get(condition["type"])
        if condition["type"] == "PodScheduled" and previous is not None:
            result.append(dict(previous))
            continue
        same = previous is not None and previous.get("status") == condition["status"]
        stamp = previous.get("lastTransitionTime") if same and previous else now
        result.append({"lastProbeTime": None, "lastTransitionTime": stamp, **condition})
    others = [dict(c) for c in old if c.get("type") not in KUBELET_CONDITIONS]
    return [*result, *others]
