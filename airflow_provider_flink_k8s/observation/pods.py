"""What a cluster's pods say: failures to stop on, and the progress worth reporting.

:func:`pod_findings` reads every active pod of a snapshot and returns one verdict per
problem, most important first. Failures (ordered by cause, then JobManager before
TaskManager, then most restarted, then pod name):

=======================================  ============================================  ===========
cause                                    when                                          lifecycle
=======================================  ============================================  ===========
``ErrImagePull``, ``ImagePullBackOff``,  a container waits with that reason            FAILED
``InvalidImageName``                     (at once: Kubernetes retries, but a wrong
                                         image or missing pull secret needs a fix)
``CreateContainerConfigError``,          a container waits with that reason            FAILED
``CreateContainerError``,                (a missing ConfigMap/Secret key, a bad
``RunContainerError``                    command)
``CrashLoopBackOff`` (``OOMKilled`` if   a container waits in ``CrashLoopBackOff``     FAILED
the last termination was an OOM kill)    with ``restartCount >= crashloop_restarts``
                                         -- fewer: PROGRESSING (a JobManager may
                                         restart once while its dependencies start)
``Unschedulable``                        ``PodScheduled`` is False/``Unschedulable``   FAILED
                                         for ``unschedulable_grace`` or longer (from
                                         the condition's ``lastTransitionTime``, else
                                         the pod's creation; at once without either)
                                         and no capacity is on its way -- otherwise
                                         PROGRESSING
``PodsNotReady``                         anything else keeps a pod from being Ready    PROGRESSING
=======================================  ============================================  ===========

Unschedulable waits a grace period although the scheduler reports it at once: transient
causes (a PersistentVolumeClaim still binding, a node draining) clear within seconds.
Capacity is on its way while the latest cluster-autoscaler event about the pod is
``TriggeredScaleUp`` (or Karpenter's ``Nominated``), or while the scheduler preempts
pods for it (``status.nominatedNodeName``); the Deployment's progress deadline still
bounds that wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from airflow_provider_flink_k8s.manifests.podtemplate import MAIN_CONTAINER
from airflow_provider_flink_k8s.observation._base import format_duration, require_aware
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict
from airflow_provider_flink_k8s.observation.workloads import ContainerStatus, PodState

__all__ = [
    "DEFAULT_CRASHLOOP_RESTARTS",
    "DEFAULT_UNSCHEDULABLE_GRACE",
    "LOG_TAIL_LINES",
    "find_pod_failure",
    "pod_findings",
    "role_name",
]

DEFAULT_CRASHLOOP_RESTARTS = 2
"""Restarts after which a ``CrashLoopBackOff`` container fails the wait."""
DEFAULT_UNSCHEDULABLE_GRACE = timedelta(seconds=60)
"""How long a pod may stay unschedulable, with no capacity on its way, before the wait fails."""
LOG_TAIL_LINES = 20
"""Log lines a failure message quotes at most (the last ones)."""

_IMAGE = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
_CONFIG = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
_SCALE_UP = frozenset({"TriggeredScaleUp", "Nominated"})
_NO_SCALE_UP = frozenset({"NotTriggerScaleUp", "FailedScaleUp"})
_ROLES = {"jobmanager": "JobManager", "taskmanager": "TaskManager"}
_Key = tuple[int, int, int, str]
_RANK = {"jobmanager": 0, "taskmanager": 1}


def role_name(component: str | None) -> str:
    """How messages name a role: ``JobManager``, ``TaskManager``, else ``Flink``."""
    return _ROLES.get(component or "", "Flink")


def _where(pod: PodState, container: ContainerStatus | None = None) -> str:
    where = f"{role_name(pod.component)} pod {pod.name}"
    if container is not None and container.name != MAIN_CONTAINER:
        kind = "init container" if container.init else "container"
        where = f"{where} {kind} {container.name}"
    return where


def _times(count: int) -> str:
    return f"{count} time" if count == 1 else f"{count} times"


def _image_failure(pod: PodState, container: ContainerStatus) -> Verdict:
    reason = container.reason or ""
    message = (
        f'{_where(pod, container)} cannot pull image "{container.image}" ({reason})'
        f"{_colon(container.message)}"
    )
    return Verdict.failed(
        Reason(reason), message, pod=pod.name, container=container.name, image=container.image
    )


def _config_failure(pod: PodState, container: ContainerStatus) -> Verdict:
    reason = container.reason or ""
    message = f"{_where(pod, container)} cannot start ({reason}){_colon(container.message)}"
    return Verdict.failed(Reason(reason), message, pod=pod.name, container=container.name)


def _colon(text: str | None) -> str:
    return f": {text.strip()}" if text and text.strip() else ""


def _tail(text: str) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


def _crash_loop(
    snapshot: ClusterSnapshot, pod: PodState, container: ContainerStatus, threshold: int
) -> Verdict:
    restarts = container.restart_count
    exit_code = (
        "" if container.last_exit_code is None else f", last exit code {container.last_exit_code}"
    )
    if container.last_reason not in (None, "Error", "OOMKilled"):
        exit_code += f" ({container.last_reason})"
    if container.last_reason == "OOMKilled":
        reason = Reason.OOM_KILLED
        head = f"{_where(pod, container)} was OOMKilled (restarted {_times(restarts)}{exit_code})"
        head += ": the container exceeded its memory limit"
    else:
        reason = Reason.CRASH_LOOP_BACK_OFF
        head = (
            f"{_where(pod, container)} is in CrashLoopBackOff "
            f"(restarted {_times(restarts)}{exit_code})"
        )
    failed = restarts >= threshold
    if not failed:
        head += f" (fails at {threshold} restarts)"
    tail = snapshot.log_tails.get(pod.name, "").strip()
    if tail:
        head += f"; last log lines:\n{_tail(tail)}"
    elif container.last_message:
        head += _colon(container.last_message)
    details = {"pod": pod.name, "container": container.name, "restart_count": restarts}
    if failed:
        return Verdict.failed(reason, head, **details)
    return Verdict.progressing(reason, head, **details)


def _capacity_coming(snapshot: ClusterSnapshot, pod: PodState) -> str | None:
    """Why capacity is on its way for an unschedulable pod, or ``None``."""
    if pod.nominated_node_name:
        return f"the scheduler is preempting pods on node {pod.nominated_node_name} for it"
    autoscaler = [
        event
        for event in snapshot.events_for("Pod", pod.name)
        if event.reason in _SCALE_UP | _NO_SCALE_UP
    ]
    if autoscaler and autoscaler[-1].reason in _SCALE_UP:
        return f"capacity is being added ({autoscaler[-1].reason}: {autoscaler[-1].message})"
    return None


def _scheduler_message(snapshot: ClusterSnapshot, pod: PodState) -> str:
    condition = pod.condition("PodScheduled")
    if condition is not None and condition.message:
        return condition.message
    failed = [e for e in snapshot.events_for("Pod", pod.name) if e.reason == "FailedScheduling"]
    return failed[-1].message if failed else "the scheduler gave no reason"


def _unschedulable(
    snapshot: ClusterSnapshot, pod: PodState, now: datetime, grace: timedelta
) -> Verdict | None:
    condition = pod.condition("PodScheduled")
    if condition is None or condition.is_true or condition.reason != "Unschedulable":
        return None
    since = condition.last_transition_time or pod.created_at
    elapsed = max(timedelta(0), now - since) if since is not None else grace
    why = _scheduler_message(snapshot, pod)
    where = f"{role_name(pod.component)} pod {pod.name}"
    details = {"pod": pod.name, "unschedulable_seconds": int(elapsed.total_seconds())}
    coming = _capacity_coming(snapshot, pod)
    if coming is not None:
        message = f"{where} is unschedulable, {coming}: {why}"
        return Verdict.progressing(Reason.UNSCHEDULABLE, message, **details)
    if elapsed >= grace:
        message = (
            f"{where} cannot be scheduled (Unschedulable for {format_duration(elapsed)}): {why}"
        )
        return Verdict.failed(Reason.UNSCHEDULABLE, message, **details)
    message = (
        f"{where} is unschedulable for {format_duration(elapsed)} "
        f"(fails after {format_duration(grace)}): {why}"
    )
    return Verdict.progressing(Reason.UNSCHEDULABLE, message, **details)


def _not_ready(snapshot: ClusterSnapshot, pod: PodState) -> Verdict | None:
    if pod.ready:
        return None
    waiting = next((c for c in pod.containers if not c.ready and c.state != "running"), None)
    unready = next((c for c in pod.containers if not c.ready), None)
    if waiting is not None:
        state = f"is {waiting.reason or waiting.state}{_colon(waiting.message)}"
        detail = f"{_where(pod, waiting)} {state}"
    elif unready is not None:
        detail = f"{_where(pod, unready)} is running but not ready"
    else:
        detail = f"{_where(pod)} is {pod.phase}"
    warnings = [e for e in snapshot.events_for("Pod", pod.name) if e.type == "Warning"]
    if warnings:
        detail += f" (last warning {warnings[-1].reason}: {warnings[-1].message})"
    return Verdict.progressing(Reason.PODS_NOT_READY, detail, pod=pod.name)


def _pod_findings(
    snapshot: ClusterSnapshot,
    pod: PodState,
    rank: int,
    now: datetime,
    restarts: int,
    grace: timedelta,
) -> Iterator[tuple[_Key, Verdict]]:
    for container in pod.containers:
        if container.state != "waiting":
            continue
        if container.reason in _IMAGE:
            yield (1, rank, 0, pod.name), _image_failure(pod, container)
        elif container.reason in _CONFIG:
            yield (2, rank, 0, pod.name), _config_failure(pod, container)
        elif container.reason == "CrashLoopBackOff":
            key = (3, rank, -container.restart_count, pod.name)
            yield key, _crash_loop(snapshot, pod, container, restarts)
    unschedulable = _unschedulable(snapshot, pod, now, grace)
    if unschedulable is not None:
        yield (4, rank, 0, pod.name), unschedulable
    not_ready = _not_ready(snapshot, pod)
    if not_ready is not None:
        yield (5, rank, 0, pod.name), not_ready


def pod_findings(
    snapshot: ClusterSnapshot,
    *,
    now: datetime,
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> tuple[Verdict, ...]:
    """Every problem of the snapshot's active pods, failures first, each group in the
    order of the module's table.

    :param now: the time of the decision (timezone-aware).
    :param crashloop_restarts: restarts after which ``CrashLoopBackOff`` fails.
    :param unschedulable_grace: how long a pod may stay unschedulable with no capacity
        on its way.
    :raises ValueError: if ``now`` is naive.
    """
    now = require_aware(now)
    found: list[tuple[_Key, Verdict]] = []
    for pod in snapshot.active_pods:
        rank = _RANK.get(pod.component or "", 2)
        found.extend(
            _pod_findings(snapshot, pod, rank, now, crashloop_restarts, unschedulable_grace)
        )
    found.sort(key=lambda item: (item[1].lifecycle is not Lifecycle.FAILED, item[0]))
    return tuple(verdict for _, verdict in found)


def find_pod_failure(
    snapshot: ClusterSnapshot,
    *,
    now: datetime,
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> Verdict | None:
    """The most important pod failure of the snapshot (see the module's table), if any.

    Shared by every target: the operator target's TaskManager pods fail the same ways.
    """
    findings = pod_findings(
        snapshot,
        now=now,
        crashloop_restarts=crashloop_restarts,
        unschedulable_grace=unschedulable_grace,
    )
    return next((v for v in findings if v.lifecycle is Lifecycle.FAILED), None)
