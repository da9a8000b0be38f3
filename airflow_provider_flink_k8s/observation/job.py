"""Is a Flink job where it should be? Decisions over Flink's ``JobStatus``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from airflow_provider_flink_k8s.observation._base import require_aware
from airflow_provider_flink_k8s.observation.cluster import (
    cluster_label,
    find_cluster_failure,
    unsettled_cluster,
)
from airflow_provider_flink_k8s.observation.flink import FlinkJob, summarize_exception
from airflow_provider_flink_k8s.observation.pods import (
    DEFAULT_CRASHLOOP_RESTARTS,
    DEFAULT_UNSCHEDULABLE_GRACE,
)
from airflow_provider_flink_k8s.observation.snapshot import ClusterSnapshot
from airflow_provider_flink_k8s.observation.verdict import Reason, Verdict

__all__ = [
    "GLOBALLY_TERMINAL_JOB_STATES",
    "JOB_STATES",
    "ROOT_EXCEPTION_LIMIT",
    "classify_cluster_job",
    "classify_job",
    "select_job",
]

JOB_STATES = (
    "INITIALIZING",
    "CREATED",
    "RUNNING",
    "FAILING",
    "FAILED",
    "CANCELLING",
    "CANCELED",
    "FINISHED",
    "RESTARTING",
    "SUSPENDED",
    "RECONCILING",
)
"""Flink's ``JobStatus`` values."""
GLOBALLY_TERMINAL_JOB_STATES = frozenset({"FAILED", "CANCELED", "FINISHED"})
"""States a job never leaves (``SUSPENDED`` is only locally terminal)."""
ROOT_EXCEPTION_LIMIT = 4000
"""Characters of a root exception kept in a verdict's details."""

_ENDED = {"CANCELED": Reason.JOB_CANCELED, "FINISHED": Reason.JOB_FINISHED}


def _targets(target_states: Collection[str]) -> tuple[str, ...]:
    targets = tuple(dict.fromkeys(state.strip().upper() for state in target_states))
    unknown = [state for state in targets if state not in JOB_STATES]
    if unknown or not targets:
        raise ValueError(
            f"target_states must be Flink job states ({', '.join(JOB_STATES)}), "
            f"got {list(target_states)!r}"
        )
    return targets


def classify_job(
    job_state: str,
    *,
    target_states: Collection[str] = ("RUNNING",),
    root_exception: str | None = None,
    job_id: str | None = None,
) -> Verdict:
    """Classify a job by its ``JobStatus``.

    =====================================  ===========  ===========
    state                                  lifecycle    reason
    =====================================  ===========  ===========
    one of ``target_states``               READY        Ready
    FAILED                                 FAILED       JobFailed
    CANCELED                               FAILED       JobCanceled
    FINISHED                               FAILED       JobFinished
    anything else (unknown states too)     PROGRESSING  JobPending
    =====================================  ===========  ===========

    A job that FAILED says why: the message quotes the exception and its causes from
    ``root_exception`` (stack frames left out); details keep the text (up to
    :data:`ROOT_EXCEPTION_LIMIT` characters).

    :param job_state: Flink's state of the job (any case).
    :param target_states: the states the wait is for (``("FINISHED",)`` for a batch job).
    :param root_exception: the job's failure text (``GET /jobs/:jobid/exceptions``).
    :param job_id: the job's id, for messages.
    :raises ValueError: if ``target_states`` is empty or names no Flink job state.
    """
    targets = _targets(target_states)
    state = job_state.strip().upper()
    job = f"Flink job {job_id}" if job_id else "Flink job"
    details: dict[str, str] = {"state": state, **({"job_id": job_id} if job_id else {})}
    if state in targets:
        return Verdict.ready(f"{job} is {state}", **details)
    if state == "FAILED":
        if root_exception and root_exception.strip():
            cause = f": {summarize_exception(root_exception)}"
            details["root_exception"] = root_exception.strip()[:ROOT_EXCEPTION_LIMIT]
        else:
            cause = " (Flink reported no root exception)"
        return Verdict.failed(Reason.JOB_FAILED, f"{job} FAILED{cause}", **details)
    wanted = " or ".join(targets)
    if state in _ENDED:
        message = f"{job} is {state} and will never be {wanted}"
        return Verdict.failed(_ENDED[state], message, **details)
    return Verdict.progressing(
        Reason.JOB_PENDING, f"{job} is {state}, waiting for {wanted}", **details
    )


def select_job(jobs: Sequence[FlinkJob], job_id: str | None = None) -> FlinkJob | None:
    """The job a wait is about: the one with ``job_id``, else the latest started
    (an application cluster runs one; a session cluster's newest is the one just submitted)."""
    if job_id is not None:
        return next((job for job in jobs if job.id == job_id), None)
    if not jobs:
        return None
    _, latest = max(enumerate(jobs), key=lambda pair: (_started(pair[1]), pair[0]))
    return latest


def _started(job: FlinkJob) -> int:
    return -1 if job.start_time is None else job.start_time


def classify_cluster_job(
    snapshot: ClusterSnapshot,
    *,
    now: datetime,
    job_id: str | None = None,
    target_states: Collection[str] = ("RUNNING",),
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
) -> Verdict:
    """Classify a job of a standalone cluster from a snapshot.

    ===  ============================================  ===========  ==============
    #    observation                                   lifecycle    reason
    ===  ============================================  ===========  ==============
    1    rows 1-3 of ``classify_cluster`` (missing,     as there
         deleted, spec not observed)
    2    a pod or Deployment failure (rows 4-6)         FAILED       its cause
    3    the job RUNNING (awaited) with tasks still     PROGRESSING  JobPending
         deploying (``tasks`` of ``/jobs/overview``)
    4    the job is listed                              :func:`classify_job`
    5    the JobManager's REST API does not answer      PROGRESSING  RestUnavailable
    6    otherwise (not submitted yet)                  PROGRESSING  JobNotFound
    ===  ============================================  ===========  ==============

    :param snapshot: what the hook observed (``jobs`` from the REST API).
    :param now: the time of the decision (timezone-aware).
    :param job_id: the job to follow; ``None``: :func:`select_job` picks the latest.
    :param target_states: the states the wait is for.
    :raises ValueError: if ``now`` is naive or ``target_states`` names no job state.
    """
    now = require_aware(now)
    targets = _targets(target_states)
    settled = unsettled_cluster(snapshot) or find_cluster_failure(
        snapshot,
        now=now,
        crashloop_restarts=crashloop_restarts,
        unschedulable_grace=unschedulable_grace,
    )
    if settled is not None:
        return settled
    job = select_job(snapshot.jobs, job_id)
    if job is not None and job.state == "RUNNING" and "RUNNING" in targets:
        total, running = job.tasks_total, job.tasks_running
        if total is not None and running is not None and running < total:
            message = (
                f"{cluster_label(snapshot)}: job {job.id} is RUNNING with {running} of "
                f"{total} tasks running (the others are still deploying)"
            )
            return Verdict.progressing(Reason.JOB_PENDING, message, job_id=job.id)
    if job is not None:
        return classify_job(
            job.state, target_states=targets, root_exception=job.root_exception, job_id=job.id
        )
    label = cluster_label(snapshot)
    if snapshot.rest_error is not None:
        message = f"{label}: the JobManager REST API does not answer yet: {snapshot.rest_error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message)
    which = f"job {job_id}" if job_id else "job"
    return Verdict.progressing(Reason.JOB_NOT_FOUND, f"{label} runs no {which} yet")
