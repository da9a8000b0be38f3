"""Is a Flink job where it should be? Decisions over Flink's ``JobStatus``.

A job wait also remembers which JobManager listed its job (:class:`JobSighting`), so a
job that a JobManager restart made Flink forget is told from one not submitted yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem
from airflow_provider_flink_k8s.manifests.podtemplate import MAIN_CONTAINER
from airflow_provider_flink_k8s.observation._base import FrozenModel, require_aware
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
from airflow_provider_flink_k8s.observation.workloads import PodState

__all__ = [
    "GLOBALLY_TERMINAL_JOB_STATES",
    "JOB_STATES",
    "JobSighting",
    "ListedJob",
    "ROOT_EXCEPTION_LIMIT",
    "classify_cluster_job",
    "classify_job",
    "job_states",
    "running_job",
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


def job_states(value: Any, *, field: str = "target_states") -> tuple[str, ...]:
    """Flink job states, upper-cased, each once: the one rule every argument or field
    naming job states follows (a task's ``wait_for``, a sensor's or a wait's
    ``target_states``).

    :param value: one state (a string) or several (a list, tuple or set of them).
    :param field: the argument or field the states were given as, for the message.
    :raises ValueError: naming ``field`` and the rule, when no state is given or one is
        not one of Flink's ``JobStatus`` values (:data:`JOB_STATES`).
    """
    if isinstance(value, str):
        given: tuple[Any, ...] = (value,)
    elif isinstance(value, Collection):
        given = tuple(value)
    else:  # neither a state nor a list of them: refused whole
        given = (value,)
    unknown = [str(state) for state in given if str(state).strip().upper() not in JOB_STATES]
    if unknown or not given:
        unknown_part = f" (not job states: {', '.join(unknown)})" if unknown else ""
        raise ValueError(
            f"{field} must name Flink job states ({', '.join(JOB_STATES)}); "
            f"got {', '.join(map(str, given)) or 'none'}{unknown_part}"
        )
    return tuple(dict.fromkeys(str(state).strip().upper() for state in given))


class ListedJob(Protocol):
    """A job as Flink lists it (``/jobs/overview``): what :func:`running_job` reads."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def state(self) -> str: ...


def running_job(jobs: Sequence[ListedJob], job_id: str | None, *, cluster: str, action: str) -> str:
    """The job a request acts on: ``job_id`` when given (and the cluster lists it), else
    the cluster's only RUNNING job.

    A request that finds no such job is refused as a bad argument (:class:`SpecError` on
    ``job_id``), not as a failed job: nothing failed and nothing was changed -- the user
    names a job, or runs one, and asks again. Every message names the cluster and the
    jobs it lists.

    :param jobs: the jobs the cluster's JobManager lists.
    :param job_id: the job the task was given (``None`` or empty: the RUNNING one).
    :param cluster: the cluster's name, for messages.
    :param action: what the request does (``savepoint``, ``rescale``), for messages.
    :raises SpecError: on ``job_id`` when the given job is not listed, or when no job or
        several jobs are RUNNING (naming them).
    """
    listed = ", ".join(f"{job.id} ({job.state})" for job in jobs) or "none"
    if job_id:
        if any(job.id == job_id for job in jobs):
            return job_id
        rule = f"cluster {cluster} has no job {job_id} (jobs: {listed})"
    else:
        running = [job for job in jobs if job.state == "RUNNING"]
        if len(running) == 1:
            return running[0].id
        if not running:
            rule = f"cluster {cluster} runs no RUNNING job to {action} (jobs: {listed})"
        else:
            names = ", ".join(f"{job.id} ({job.name})" if job.name else job.id for job in running)
            rule = (
                f"cluster {cluster} runs {len(running)} RUNNING jobs ({names}); "
                f"name the one to {action} with job_id"
            )
    raise SpecError([SpecProblem("job_id", rule)], subject=f"{action} request")


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
    targets = job_states(target_states)
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


class JobSighting(FrozenModel):
    """What a job wait remembers: the job Flink last listed, and the JobManager that did.

    Flink without high availability keeps its jobs in the JobManager process only: a
    JobManager that restarts (its container) or is replaced (a new pod) comes back with
    none. :func:`classify_cluster_job` compares the sighting with the JobManager that
    answers now to tell such a lost job from one not submitted yet. Plain JSON
    (``model_dump(mode="json")``), so a wait carries it to a trigger or a later poke.
    """

    job_id: str
    pod: str
    """The JobManager pod that listed the job."""
    pod_uid: str
    restart_count: int
    """Restarts of the pod's Flink container when it listed the job."""

    @classmethod
    def after(
        cls, snapshot: ClusterSnapshot, job_id: str | None, seen: JobSighting | None
    ) -> JobSighting | None:
        """The memory after ``snapshot``: the followed job (``job_id``, else the latest,
        as :func:`select_job` picks) and the JobManager, when Flink lists the job and one
        Ready JobManager pod answers; otherwise ``seen`` unchanged."""
        job = select_job(snapshot.jobs, job_id)
        found = _jobmanager(snapshot)
        if job is None or found is None:
            return seen
        pod, restarts = found
        return cls(job_id=job.id, pod=pod.name, pod_uid=pod.uid or "", restart_count=restarts)


def _jobmanager(snapshot: ClusterSnapshot) -> tuple[PodState, int] | None:
    """The one active JobManager pod (with a uid) and its Flink container's restarts,
    when it is Ready -- the REST Service answers only from Ready pods; ``None`` when
    there is none or several, or it is not Ready (which one answers is then unclear)."""
    pods = [pod for pod in snapshot.active_pods if pod.component == "jobmanager"]
    if len(pods) != 1 or not pods[0].uid or not pods[0].ready:
        return None
    (pod,) = pods
    regular = [container for container in pod.containers if not container.init]
    main = next((c for c in regular if c.name == MAIN_CONTAINER), regular[0] if regular else None)
    return pod, main.restart_count if main is not None else 0


CAUSE_GRACE = timedelta(seconds=10)
"""How long after a job FAILED a wait waits for its root exception: Flink lists the job
FAILED a moment before its exception history has the cause."""


def _cause_pending(job: FlinkJob, targets: tuple[str, ...], now: datetime) -> bool:
    """Whether ``job`` FAILED (not awaited) without a root exception yet, recently enough
    that Flink may still record it (row 4 of :func:`classify_cluster_job`)."""
    if job.state != "FAILED" or "FAILED" in targets or job.root_exception:
        return False
    if job.end_time is None:
        return False
    ended = datetime.fromtimestamp(job.end_time / 1000.0, tz=now.tzinfo)
    # Both ways: the JobManager's clock is not the worker's.
    return abs(now - ended) < CAUSE_GRACE


_HA_HINT = (
    "Flink without high availability forgets its jobs when the JobManager restarts: enable "
    "it (the spec's high_availability.enabled with a storage_dir) so a restarted "
    "JobManager recovers them"
)


def _not_listed(
    snapshot: ClusterSnapshot, job_id: str | None, seen: JobSighting | None
) -> Verdict | None:
    """Rows 7-8 of :func:`classify_cluster_job`: a job seen before that Flink no longer lists."""
    if seen is None or job_id not in (None, seen.job_id) or snapshot.overview is None:
        return None
    label, job = cluster_label(snapshot), f"Flink job {seen.job_id}"
    found = _jobmanager(snapshot)
    if found is None:
        return None
    pod, restarts = found
    details: dict[str, object] = {
        "job_id": seen.job_id,
        "jobmanager_pod": pod.name,
        "previous_pod": seen.pod,
        "previous_pod_uid": seen.pod_uid,
        "pod_uid": pod.uid,
        "previous_restart_count": seen.restart_count,
        "restart_count": restarts,
    }
    if pod.uid != seen.pod_uid:
        change = (
            f"the JobManager pod {seen.pod} (uid {seen.pod_uid}) was replaced by {pod.name} "
            f"(uid {pod.uid})"
        )
        details["change"] = "replaced"
    elif restarts != seen.restart_count:
        change = (
            f"the JobManager pod {pod.name} restarted its container (restart count "
            f"{seen.restart_count} -> {restarts})"
        )
        details["change"] = "restarted"
    else:
        message = (
            f"{label}: Flink no longer lists job {seen.job_id}, which the same JobManager "
            f"pod {pod.name} listed before; waiting for the next observation"
        )
        return Verdict.progressing(Reason.JOB_NOT_FOUND, message, job_id=seen.job_id)
    message = (
        f"{job} of {label} is lost: {change} after the job was seen, and Flink no longer "
        f"lists the job. {_HA_HINT}."
    )
    return Verdict.failed(Reason.JOB_LOST, message, **details)


def classify_cluster_job(
    snapshot: ClusterSnapshot,
    *,
    now: datetime,
    job_id: str | None = None,
    target_states: Collection[str] = ("RUNNING",),
    crashloop_restarts: int = DEFAULT_CRASHLOOP_RESTARTS,
    unschedulable_grace: timedelta = DEFAULT_UNSCHEDULABLE_GRACE,
    seen: JobSighting | None = None,
) -> Verdict:
    """Classify a job of a standalone cluster from a snapshot.

    ===  =============================================  ===========  ==============
    #    observation                                    lifecycle    reason
    ===  =============================================  ===========  ==============
    1    rows 1-3 of ``classify_cluster`` (missing,     as there
         deleted, spec not observed)
    2    a pod or Deployment failure (rows 4-6)         FAILED       its cause
    3    the job RUNNING (awaited) with tasks still     PROGRESSING  JobPending
         deploying (``tasks`` of ``/jobs/overview``)
    4    the job FAILED (not awaited) less than         PROGRESSING  JobPending
         :data:`CAUSE_GRACE` ago, its root exception
         not recorded yet
    5    the job is listed                              from         :func:`classify_job`
    6    the JobManager's REST API does not answer      PROGRESSING  RestUnavailable
    7    not listed, but ``seen`` (the same job id)     FAILED       JobLost
         says another JobManager pod (uid) or the
         same one before a container restart
         (restart count) listed it
    8    not listed, and the very JobManager that       PROGRESSING  JobNotFound
         listed it answers now (a restart that the
         pod's status does not show yet)
    9    otherwise (not submitted yet)                  PROGRESSING  JobNotFound
    ===  =============================================  ===========  ==============

    Row 7 needs the wait to have seen the job (``seen``, kept by the wait loop with
    :meth:`JobSighting.after`), the REST API to answer and exactly one active JobManager
    pod, Ready; it names the job, the pods and what changed. The cases it leaves to row 9:

    - a job never seen by this wait (``job_id`` given, Flink answers it is unknown): not
      submitted yet, or lost before the wait began -- nothing tells which, even when the
      JobManager restarted;
    - no JobManager pod, several (a rollout), or one not Ready: which one answers is
      unclear, and the next observation decides;
    - ``job_id`` not given: a restarted JobManager that lists another job follows that
      job (the latest); one that lists none is row 7.

    With high availability a restarted JobManager recovers its jobs and lists them
    (row 5): the sighting moves to the new JobManager.

    :param snapshot: what the hook observed (``jobs`` from the REST API).
    :param now: the time of the decision (timezone-aware).
    :param job_id: the job to follow; ``None``: :func:`select_job` picks the latest.
    :param target_states: the states the wait is for.
    :param seen: which JobManager last listed the followed job (``None``: not seen yet).
    :raises ValueError: if ``now`` is naive or ``target_states`` names no job state.
    """
    now = require_aware(now)
    targets = job_states(target_states)
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
    if job is not None and _cause_pending(job, targets, now):
        message = (
            f"{cluster_label(snapshot)}: job {job.id} FAILED; waiting for Flink to record "
            "why (its exception history is still empty)"
        )
        return Verdict.progressing(Reason.JOB_PENDING, message, job_id=job.id, state=job.state)
    if job is not None:
        return classify_job(
            job.state, target_states=targets, root_exception=job.root_exception, job_id=job.id
        )
    label = cluster_label(snapshot)
    if snapshot.rest_error is not None:
        message = f"{label}: the JobManager REST API does not answer yet: {snapshot.rest_error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message)
    lost = _not_listed(snapshot, job_id, seen)
    if lost is not None:
        return lost
    which = f"job {job_id}" if job_id else "job"
    return Verdict.progressing(Reason.JOB_NOT_FOUND, f"{label} runs no {which} yet")
