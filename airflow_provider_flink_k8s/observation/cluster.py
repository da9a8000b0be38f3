"""Is a standalone cluster ready? One pure decision over a snapshot."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow_provider_flink_k8s.observation._base import format_duration, require_aware
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
    find_pod_failure,
    pod_findings,
)
from airflow_provider_flink_k8s.observation.rollout import (
    deployment_rolled_out,
    progress_deadline_exceeded,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict

__all__ = [
    "classify_cluster",
    "cluster_label",
    "find_cluster_failure",
    "last_progress",
    "unsettled_cluster",
]

_EARLY_HINTS = (Reason.UNSCHEDULABLE, Reason.CRASH_LOOP_BACK_OFF)


def cluster_label(snapshot: ClusterSnapshot) -> str:
    """How messages name the cluster: ``Flink cluster <name>``."""
    return f"Flink cluster {snapshot.name}" if snapshot.name else "Flink cluster"


def last_progress(snapshot: ClusterSnapshot) -> datetime | None:
    """The latest sign of progress: a Deployment's ``Progressing`` update, a pod's
    creation or one of its conditions changing. ``None`` when nothing is dated."""
    times = [
        condition.last_update_time
        for deployment in snapshot.deployments
        for condition in deployment.conditions
        if condition.type == "Progressing"
    ]
    for pod in snapshot.active_pods:
        times.append(pod.created_at)
        times.extend(condition.last_transition_time for condition in pod.conditions)
    dated = [time for time in times if time is not None]
    return max(dated) if dated else None


def unsettled_cluster(snapshot: ClusterSnapshot) -> Verdict | None:
    """MISSING, DELETED, or PROGRESSING while a Deployment has not observed its latest
    spec (its pods' state would be stale); ``None`` once the Deployments are settled."""
    label = cluster_label(snapshot)
    if not snapshot.deployments:
        message = f"{label} has no JobManager or TaskManager Deployment"
        return Verdict(Lifecycle.MISSING, Reason.NOT_DEPLOYED, message)
    for deployment in snapshot.deployments:
        if deployment.deleting:
            message = f"{label} is being deleted (Deployment {deployment.name})"
            details = {"deployment": deployment.name}
            return Verdict(Lifecycle.DELETED, Reason.DELETED, message, details)
    for deployment in snapshot.deployments:
        if deployment.generation > deployment.observed_generation:
            _, message = deployment_rolled_out(deployment)
            return Verdict.progressing(
                Reason.ROLLOUT_IN_PROGRESS,
                f"{message} ({deployment.name})",
                deployment=deployment.name,
            )
    return None


def find_cluster_failure(
    snapshot: ClusterSnapshot,
    *,
    now: datetime,
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> Verdict | None:
    """Rows 4-6 of :func:`classify_cluster`: the first pod or Deployment failure, if any."""
    failure = find_pod_failure(
        snapshot,
        now=require_aware(now),
        crashloop_restarts=crashloop_restarts,
        unschedulable_grace=unschedulable_grace,
    )
    return failure or _deployment_failure(snapshot)


def _deployment_failure(snapshot: ClusterSnapshot) -> Verdict | None:
    for deployment in snapshot.deployments:
        failure = deployment.condition("ReplicaFailure")
        if failure is not None and failure.is_true:
            message = f"Deployment {deployment.name} cannot create pods ({failure.reason})"
            message += f": {failure.message}" if failure.message else ""
            return Verdict.failed(Reason.FAILED_CREATE, message, deployment=deployment.name)
    for deployment in snapshot.deployments:
        if progress_deadline_exceeded(deployment):
            condition = deployment.condition("Progressing")
            text = condition.message if condition is not None and condition.message else ""
            message = f"Deployment {deployment.name} exceeded its progress deadline"
            message += f": {text}" if text else ""
            return Verdict.failed(
                Reason.PROGRESS_DEADLINE_EXCEEDED, message, deployment=deployment.name
            )
    return None


def _pods_progress(snapshot: ClusterSnapshot, findings: tuple[Verdict, ...]) -> Verdict | None:
    label = cluster_label(snapshot)
    for role, deployment in (
        ("JobManager", snapshot.jobmanager),
        ("TaskManager", snapshot.taskmanager),
    ):
        if deployment is None:
            return Verdict.progressing(Reason.NOT_DEPLOYED, f"{label} has no {role} Deployment yet")
    early = next((v for v in findings if v.reason in _EARLY_HINTS), None)
    if early is not None:
        return early
    not_ready = next((v for v in findings if v.reason is Reason.PODS_NOT_READY), None)
    for deployment in snapshot.deployments:
        done, message = deployment_rolled_out(deployment)
        if not done:
            if not_ready is not None:
                message = f"{message} ({not_ready.message})"
            return Verdict.progressing(
                Reason.ROLLOUT_IN_PROGRESS, message, deployment=deployment.name
            )
    return not_ready


def _flink_verdict(
    snapshot: ClusterSnapshot, expected_taskmanagers: int, expected_slots: int
) -> Verdict:
    overview = snapshot.overview
    if overview is None:
        error = f": {snapshot.rest_error}" if snapshot.rest_error else ""
        message = f"{cluster_label(snapshot)}: the JobManager REST API does not answer yet{error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message)
    counts = {
        "taskmanagers": overview.taskmanagers,
        "slots_total": overview.slots_total,
        "slots_available": overview.slots_available,
    }
    expected = {"expected_taskmanagers": expected_taskmanagers, "expected_slots": expected_slots}
    if overview.taskmanagers < expected_taskmanagers:
        message = (
            f"{overview.taskmanagers} of {expected_taskmanagers} TaskManagers "
            "registered with the JobManager"
        )
        return Verdict.progressing(Reason.TASK_MANAGERS_MISSING, message, **counts, **expected)
    if overview.slots_total < expected_slots:
        message = (
            f"{overview.slots_total} of {expected_slots} task slots registered "
            f"({overview.taskmanagers} TaskManagers)"
        )
        return Verdict.progressing(Reason.SLOTS_MISSING, message, **counts, **expected)
    message = (
        f"{cluster_label(snapshot)} is ready: {overview.taskmanagers} TaskManagers with "
        f"{overview.slots_total} task slots ({overview.slots_available} available), "
        "JobManager REST API answering"
    )
    return Verdict.ready(message, **counts)


def _past_deadline(
    verdict: Verdict, snapshot: ClusterSnapshot, now: datetime, deadline: timedelta | None
) -> Verdict:
    since = last_progress(snapshot)
    if deadline is None or since is None or now - since <= deadline:
        return verdict
    message = (
        f"{cluster_label(snapshot)} made no progress for {format_duration(now - since)} "
        f"(deadline {format_duration(deadline)}); still waiting: {verdict.message}"
    )
    details = {**verdict.details, "waiting_for": verdict.reason.value}
    return Verdict.failed(Reason.PROGRESS_DEADLINE_EXCEEDED, message, **details)


def classify_cluster(
    snapshot: ClusterSnapshot,
    *,
    expected_taskmanagers: int,
    expected_slots: int,
    now: datetime,
    progress_deadline: timedelta | None = None,
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> Verdict:
    """Classify a standalone cluster: ready, failed (with the cause), or progressing.

    The first matching row decides; failures come before progress, the most specific
    cause first (pod-level causes are ordered as in :mod:`.pods`):

    ===  ===========================================  ===========  ==========================
    #    observation                                  lifecycle    reason
    ===  ===========================================  ===========  ==========================
    1    no JobManager or TaskManager Deployment      MISSING      NotDeployed
    2    a Deployment is being deleted                DELETED      Deleted
    3    a Deployment has not observed its spec       PROGRESSING  RolloutInProgress
    4    a pod failure (image, container config,      FAILED       the pod's cause
         crash loop past the threshold,
         unschedulable past the grace period)
    5    ``ReplicaFailure`` is True                   FAILED       FailedCreate
    6    ``Progressing`` is past its deadline         FAILED       ProgressDeadlineExceeded
    7    one of the two Deployments is absent         PROGRESSING  NotDeployed
    8    a pod unschedulable within the grace         PROGRESSING  Unschedulable,
         period, or crash-looping below the                        CrashLoopBackOff
         threshold
    9    a rollout is not complete (kubectl's rule)   PROGRESSING  RolloutInProgress
    10   a pod is not Ready                           PROGRESSING  PodsNotReady
    11   the JobManager's REST API does not answer    PROGRESSING  RestUnavailable
    12   fewer TaskManagers registered than expected  PROGRESSING  TaskManagersMissing
    13   fewer slots registered than expected         PROGRESSING  SlotsMissing
    14   otherwise                                    READY        Ready
    ===  ===========================================  ===========  ==========================

    Rows 7-13 turn into FAILED/``ProgressDeadlineExceeded`` when ``progress_deadline``
    is given and :func:`last_progress` is longer ago than that: Kubernetes' own
    deadline covers pods becoming available, this one also covers Flink starting.
    Registered counts above the expected ones are ready (a TaskManager that left
    stays registered until its heartbeat times out).

    :param snapshot: what the hook observed.
    :param expected_taskmanagers: TaskManagers the plan asks for.
    :param expected_slots: task slots the plan asks for (TaskManagers times slots each).
    :param now: the time of the decision (timezone-aware).
    :param progress_deadline: fail after this long without progress; ``None``: never.
    :param crashloop_restarts: restarts after which ``CrashLoopBackOff`` fails.
    :param unschedulable_grace: how long a pod may stay unschedulable with no capacity
        on its way.
    :raises ValueError: if ``now`` is naive.
    """
    now = require_aware(now)
    unsettled = unsettled_cluster(snapshot)
    if unsettled is not None:
        return unsettled
    findings = pod_findings(
        snapshot,
        now=now,
        crashloop_restarts=crashloop_restarts,
        unschedulable_grace=unschedulable_grace,
    )
    failure = next((v for v in findings if v.lifecycle is Lifecycle.FAILED), None)
    failure = failure or _deployment_failure(snapshot)
    if failure is not None:
        return failure
    verdict = _pods_progress(snapshot, findings) or _flink_verdict(
        snapshot, expected_taskmanagers, expected_slots
    )
    if verdict.lifecycle is Lifecycle.PROGRESSING:
        return _past_deadline(verdict, snapshot, now, progress_deadline)
    return verdict
