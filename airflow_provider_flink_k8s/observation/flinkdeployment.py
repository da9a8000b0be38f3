"""Is a FlinkDeployment ready? Decisions over the Flink Kubernetes Operator's status.

The operator computes ``status.lifecycleState`` from the rest of the status; these
functions follow its states rather than re-deriving them, and add what a waiting client
needs: which generation the status is about, and the cause of a failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from airflow_provider_flink_k8s.observation._base import (
    get,
    get_int,
    get_mapping,
    get_str,
    require_aware,
)
from airflow_provider_flink_k8s.observation.flink import operator_error
from airflow_provider_flink_k8s.observation.job import classify_job
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
    find_pod_failure,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict

__all__ = [
    "JOB_MANAGER_DEPLOYMENT_STATES",
    "LIFECYCLE_STATES",
    "Target",
    "classify_flink_deployment",
    "classify_operator_deployment",
]

LIFECYCLE_STATES = (
    "CREATED",
    "SUSPENDED",
    "UPGRADING",
    "DEPLOYED",
    "STABLE",
    "ROLLING_BACK",
    "ROLLED_BACK",
    "FAILED",
    "DELETING",
    "DELETED",
)
"""The operator's ``ResourceLifecycleState`` values (``status.lifecycleState``)."""
JOB_MANAGER_DEPLOYMENT_STATES = ("READY", "DEPLOYED_NOT_READY", "DEPLOYING", "MISSING", "ERROR")
"""``status.jobManagerDeploymentStatus`` values."""

Target = Literal["cluster", "job"]
"""What a wait is for: the cluster (a session cluster, or any cluster's JobManager), or
the job of an application cluster."""

_DEPLOYED = frozenset({"DEPLOYED", "STABLE"})
_KUBERNETES_REASONS = frozenset(
    reason.value
    for reason in (
        Reason.CRASH_LOOP_BACK_OFF,
        Reason.CREATE_CONTAINER_CONFIG_ERROR,
        Reason.CREATE_CONTAINER_ERROR,
        Reason.ERR_IMAGE_PULL,
        Reason.FAILED_CREATE,
        Reason.IMAGE_PULL_BACK_OFF,
        Reason.INVALID_IMAGE_NAME,
        Reason.OOM_KILLED,
        Reason.PROGRESS_DEADLINE_EXCEEDED,
        Reason.RUN_CONTAINER_ERROR,
        Reason.UNSCHEDULABLE,
    )
)


def _cause(reason: str | None) -> Reason:
    """The operator's failure reason if it is a Kubernetes one we know, else a generic one."""
    return Reason(reason) if reason in _KUBERNETES_REASONS else Reason.FLINK_DEPLOYMENT_ERROR


def _with_label(verdict: Verdict, label: str, **facts: Any) -> Verdict:
    return Verdict(
        verdict.lifecycle,
        verdict.reason,
        f"{label}: {verdict.message}",
        {**facts, **verdict.details},
    )


def _failure(status: Mapping[str, Any], label: str, target: Target) -> Verdict | None:
    lifecycle = (get_str(status, "lifecycleState") or "").upper()
    jm = (get_str(status, "jobManagerDeploymentStatus") or "").upper()
    job = get_mapping(status, "jobStatus")
    job_state = (get_str(job, "state") or "").upper()
    reason, error = operator_error(get_str(status, "error"))
    facts = {"lifecycle_state": lifecycle, "jobmanager_status": jm}
    said = f": {error}" if error else ""
    if target == "job" and job_state in ("FAILED", "CANCELED", "FINISHED"):
        verdict = classify_job(
            job_state, root_exception=error or None, job_id=get_str(job, "jobId")
        )
        return _with_label(verdict, label, **facts)
    if jm == "ERROR":
        cause = f" ({reason})" if reason else ""
        message = f"{label}: the JobManager deployment failed{cause}{said}"
        return Verdict.failed(_cause(reason), message, **facts)
    if lifecycle == "FAILED" or (error and lifecycle == "CREATED"):
        return Verdict.failed(_cause(reason), f"{label} FAILED{said}", **facts)
    if lifecycle == "ROLLED_BACK":
        message = f"{label} was rolled back to its last stable spec{said}"
        return Verdict.failed(Reason.ROLLED_BACK, message, **facts)
    if lifecycle == "SUSPENDED":
        return Verdict.failed(Reason.SUSPENDED, f"{label} is SUSPENDED", **facts)
    if jm == "MISSING" and error and lifecycle in _DEPLOYED:
        message = f"{label}: the JobManager deployment is gone{said}"
        return Verdict.failed(_cause(reason), message, **facts)
    return None


def classify_flink_deployment(
    status: Mapping[str, Any],
    *,
    generation: int | None,
    target: Target,
    name: str | None = None,
) -> Verdict:
    """Classify a FlinkDeployment by its ``status``, the first matching row deciding:

    ===  ===============================================  ===========  =====================
    #    status                                           lifecycle    reason
    ===  ===============================================  ===========  =====================
    1    ``lifecycleState`` DELETING or DELETED           DELETED      Deleted
    2    ``observedGeneration`` < ``generation``          PROGRESSING  Reconciling
    3    no ``lifecycleState`` yet                        PROGRESSING  Reconciling
    4    job target: job FAILED / CANCELED / FINISHED     FAILED       JobFailed, JobCanceled,
                                                                       JobFinished
    5    ``jobManagerDeploymentStatus`` ERROR             FAILED       the error's reason (1)
    6    ``lifecycleState`` FAILED, or CREATED with an    FAILED       the error's reason (1)
         ``error`` (refused spec)
    7    ``lifecycleState`` ROLLED_BACK                   FAILED       RolledBack
    8    ``lifecycleState`` SUSPENDED                     FAILED       Suspended
    9    JobManager MISSING with an ``error`` while       FAILED       the error's reason (1)
         DEPLOYED or STABLE
    10   STABLE or DEPLOYED, JobManager READY and, for    READY        Ready
         a job, job RUNNING
    11   job target, DEPLOYED or STABLE, JobManager       PROGRESSING  JobPending
         READY (the job not RUNNING yet)
    12   otherwise (CREATED, UPGRADING -- even while the  PROGRESSING  Deploying
         old job still runs --, ROLLING_BACK, JobManager
         DEPLOYING / DEPLOYED_NOT_READY)
    ===  ===============================================  ===========  =====================

    (1) The operator's ``status.error`` is JSON whose ``additionalMetadata.reason`` names a
    deployment failure's Kubernetes cause (``CrashLoopBackOff``, ``ErrImagePull``...);
    that cause is the verdict's reason, ``FlinkDeploymentError`` otherwise. An ``error``
    while progressing (a failed savepoint, a REST timeout) is only quoted in the message.

    :param status: the FlinkDeployment's raw ``status`` (camelCase).
    :param generation: its ``metadata.generation``; ``None`` skips row 2 (as does a
        status without ``observedGeneration``).
    :param target: ``"cluster"`` or ``"job"`` (the application's job must be RUNNING).
    :param name: the FlinkDeployment's name, for messages.
    """
    label = f"FlinkDeployment {name}" if name else "FlinkDeployment"
    lifecycle = (get_str(status, "lifecycleState") or "").upper()
    jm = (get_str(status, "jobManagerDeploymentStatus") or "").upper()
    job = get_mapping(status, "jobStatus")
    job_state = (get_str(job, "state") or "").upper()
    facts = {"lifecycle_state": lifecycle, "jobmanager_status": jm}
    if lifecycle in ("DELETING", "DELETED"):
        return Verdict(Lifecycle.DELETED, Reason.DELETED, f"{label} is {lifecycle}", facts)
    reported = get(status, "observedGeneration") is not None
    observed = get_int(status, "observedGeneration") if reported else None
    if generation is not None and observed is not None and observed < generation:
        message = (
            f"the operator has not reconciled generation {generation} of {label} yet "
            f"(observed {observed})"
        )
        return Verdict.progressing(Reason.RECONCILING, message, **facts)
    if not lifecycle:
        message = f"the operator has not reconciled {label} yet"
        return Verdict.progressing(Reason.RECONCILING, message, **facts)
    failure = _failure(status, label, target)
    if failure is not None:
        return failure
    if lifecycle in _DEPLOYED and jm == "READY" and (target == "cluster" or job_state == "RUNNING"):
        job_id = get_str(job, "jobId") if target == "job" else None
        ids = {"job_id": job_id} if job_id else {}
        return Verdict.ready(f"{label} is {lifecycle} with its JobManager READY", **facts, **ids)
    if target == "job" and jm == "READY" and lifecycle in _DEPLOYED:
        verdict = classify_job(job_state or "CREATED", job_id=get_str(job, "jobId"))
        return _with_label(verdict, label, **facts)
    _, error = operator_error(get_str(status, "error"))
    message = f"{label} is {lifecycle}, JobManager {jm or 'not reported'}"
    message += f"; last error: {error}" if error else ""
    return Verdict.progressing(Reason.DEPLOYING, message, **facts)


def classify_operator_deployment(
    snapshot: ClusterSnapshot,
    *,
    target: Target,
    now: datetime,
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> Verdict:
    """Classify the operator target from a snapshot: :func:`classify_flink_deployment`,
    then, while it is progressing, the pods' failures (the operator watches only the
    JobManager; a TaskManager pod that cannot be scheduled or pulled fails here).

    :param snapshot: with ``flink_deployment`` set, and the cluster's pods.
    :param target: ``"cluster"`` or ``"job"``.
    :param now: the time of the decision (timezone-aware).
    :raises ValueError: if ``now`` is naive.
    """
    now = require_aware(now)
    deployment = snapshot.flink_deployment
    name = snapshot.name or (deployment.name if deployment is not None else None)
    label = f"FlinkDeployment {name}" if name else "FlinkDeployment"
    if deployment is None:
        return Verdict(Lifecycle.MISSING, Reason.NOT_DEPLOYED, f"{label} does not exist")
    if deployment.deleting:
        return Verdict(Lifecycle.DELETED, Reason.DELETED, f"{label} is being deleted")
    verdict = classify_flink_deployment(
        deployment.status, generation=deployment.generation, target=target, name=name
    )
    if verdict.lifecycle is not Lifecycle.PROGRESSING or verdict.reason is Reason.RECONCILING:
        return verdict
    failure = find_pod_failure(
        snapshot,
        now=now,
        crashloop_restarts=crashloop_restarts,
        unschedulable_grace=unschedulable_grace,
    )
    return failure or verdict
