"""Savepoints as waits: Flink's answer about a savepoint trigger, a job ready for one, and
the savepoints the Flink Kubernetes Operator takes (a trigger nonce, a suspend).

Pure: each classifier takes what a hook read and returns a :class:`Verdict`; a READY one
carries the savepoint's path in ``details["location"]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flink_k8s.exceptions import SpecProblem
from airflow_provider_flink_k8s.observation.flink import (
    FlinkDeploymentState,
    FlinkJob,
    SavepointState,
)
from airflow_provider_flink_k8s.observation.job import classify_job
from airflow_provider_flink_k8s.observation.operatorjob import (
    SavepointProgress,
    manual_savepoint,
    suspend_savepoint,
)
from airflow_provider_flink_k8s.observation.verdict import Reason, Verdict
from airflow_provider_flink_k8s.resources.configuration import SAVEPOINT_DIR_KEYS

__all__ = [
    "SavepointState",
    "classify_operator_savepoint",
    "classify_savepoint",
    "classify_suspend",
    "classify_tasks_running",
    "missing_savepoint_dir",
]

_ENDED_WHILE_PENDING = {"FAILED": Reason.JOB_FAILED, "CANCELED": Reason.JOB_CANCELED}


def missing_savepoint_dir(
    directory: str | None, flink_configuration: Mapping[str, str] | None, *, task: str
) -> SpecProblem | None:
    """The problem of a savepoint with nowhere to go, ``None`` when it has somewhere.

    A savepoint is written to ``directory`` (the task's ``savepoint_dir``, else the
    spec's), else to Flink's own default (:data:`SAVEPOINT_DIR_KEYS` in the JobManager's
    live configuration); with neither, Flink refuses it. ``flink_configuration`` ``None``
    (not read) is no problem: Flink decides then.

    :param task: what needs the savepoint, for the rule (``"the savepoint"``...).
    """
    if directory or flink_configuration is None:
        return None
    if any(flink_configuration.get(key) for key in SAVEPOINT_DIR_KEYS):
        return None
    return SpecProblem(
        "savepoint_dir",
        f"{task} needs a savepoint directory: set savepoint_dir on the task or the cluster "
        f"spec (Flink has no {SAVEPOINT_DIR_KEYS[0]} either)",
    )


def classify_savepoint(
    savepoint: SavepointState | None,
    job: FlinkJob | None,
    *,
    job_id: str,
    trigger_id: str,
    rest_error: str | None = None,
) -> Verdict:
    """Decide a wait for the savepoint ``trigger_id`` of ``job_id``, the first matching
    row deciding:

    ===  =================================================  ===========  ===============
    #    observation                                        lifecycle    reason
    ===  =================================================  ===========  ===============
    1    the REST API did not answer                        PROGRESSING  RestUnavailable
    2    Flink does not know the trigger                    FAILED       SavepointFailed
    3    completed with a location                          READY        Ready
    4    completed with a failure (or without a location)   FAILED       SavepointFailed
    5    pending, the job FAILED or CANCELED                FAILED       JobFailed /
                                                                         JobCanceled
    6    otherwise (pending)                                PROGRESSING  SavepointPending
    ===  =================================================  ===========  ===============

    A job FINISHED while the savepoint is pending is row 6: a stop-with-savepoint ends
    the job before Flink reports the savepoint, and for any other trigger Flink completes
    the operation with the failure itself.

    :param savepoint: Flink's answer about the trigger (``None``: not read).
    :param job: the job, as ``/jobs/overview`` lists it (``None``: not listed).
    :param rest_error: why the REST API did not answer.
    """
    what = f"savepoint {trigger_id} of job {job_id}"
    facts = {"job_id": job_id, "trigger_id": trigger_id}
    if rest_error is not None:
        message = f"{what}: the JobManager REST API does not answer: {rest_error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message, **facts)
    if savepoint is not None and not savepoint.known:
        message = f"Flink does not know {what} (the JobManager lost it, or the job is gone)"
        return Verdict.failed(Reason.SAVEPOINT_FAILED, message, **facts)
    if savepoint is not None and savepoint.completed:
        if savepoint.location and savepoint.failure is None:
            return Verdict.ready(
                f"{what}: {savepoint.location}", location=savepoint.location, **facts
            )
        cause = savepoint.failure or "Flink reported no location"
        message = f"{what} failed: {cause}"
        return Verdict.failed(Reason.SAVEPOINT_FAILED, message, failure=cause, **facts)
    if job is not None and job.state in _ENDED_WHILE_PENDING:
        message = f"job {job_id} is {job.state} while {what} was pending"
        return Verdict.failed(_ENDED_WHILE_PENDING[job.state], message, state=job.state, **facts)
    return Verdict.progressing(Reason.SAVEPOINT_PENDING, f"{what} is in progress", **facts)


def classify_tasks_running(
    job: FlinkJob | None, *, job_id: str, rest_error: str | None = None
) -> Verdict:
    """Decide whether ``job_id`` is ready for a savepoint: RUNNING with every task running
    (Flink reports a job RUNNING while its tasks still deploy, and refuses a savepoint
    until they all run).

    ===  ==============================================  ===========  ===============
    #    observation                                     lifecycle    reason
    ===  ==============================================  ===========  ===============
    1    the REST API did not answer                     PROGRESSING  RestUnavailable
    2    the job is not listed                           FAILED       JobNotFound
    3    RUNNING, every task running (or no task counts  READY        Ready
         reported)
    4    RUNNING, some tasks still deploying             PROGRESSING  JobPending
    5    any other state                                 from         :func:`classify_job` for
                                                                      RUNNING (ended: FAILED;
                                                                      else PROGRESSING)
    ===  ==============================================  ===========  ===============

    :param job: the job, as ``/jobs/overview`` lists it (``None``: not listed).
    :param rest_error: why the REST API did not answer.
    """
    if rest_error is not None:
        message = f"job {job_id}: the JobManager REST API does not answer: {rest_error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message, job_id=job_id)
    if job is None:
        message = f"Flink does not know job {job_id}"
        return Verdict.failed(Reason.JOB_NOT_FOUND, message, job_id=job_id)
    if job.state != "RUNNING":
        return classify_job(job.state, target_states=("RUNNING",), job_id=job_id)
    total, running = job.tasks_total, job.tasks_running
    if total is not None and running is not None and running < total:
        message = f"job {job_id} is RUNNING with {running} of {total} tasks running"
        return Verdict.progressing(Reason.JOB_PENDING, message, job_id=job_id)
    return Verdict.ready(f"every task of job {job_id} is running", job_id=job_id)


def _operator_verdict(progress: SavepointProgress, what: str, **facts: Any) -> Verdict:
    if progress.location is not None:
        return Verdict.ready(f"{what}: {progress.location}", location=progress.location, **facts)
    if progress.error is not None:
        return Verdict.failed(Reason.SAVEPOINT_FAILED, f"{what} failed: {progress.error}", **facts)
    return Verdict.progressing(Reason.SAVEPOINT_PENDING, f"{what} is in progress", **facts)


def classify_operator_savepoint(
    deployment: FlinkDeploymentState | None, *, nonce: int, name: str
) -> Verdict:
    """Decide a wait for the savepoint a FlinkDeployment takes for
    ``spec.job.savepointTriggerNonce == nonce`` (:func:`manual_savepoint`):

    ====================================================  ===========  ================
    observation                                           lifecycle    reason
    ====================================================  ===========  ================
    the FlinkDeployment is gone                           FAILED       NotDeployed
    a savepoint with that nonce has a location            READY        Ready
    the job ended, or the FlinkDeployment FAILED          FAILED       SavepointFailed
    otherwise                                             PROGRESSING  SavepointPending
    ====================================================  ===========  ================
    """
    what = f"savepoint of FlinkDeployment {name} (nonce {nonce})"
    if deployment is None:
        message = f"{what}: the FlinkDeployment was deleted"
        return Verdict.failed(Reason.NOT_DEPLOYED, message, nonce=nonce)
    return _operator_verdict(manual_savepoint(deployment.status, nonce), what, nonce=nonce)


def classify_suspend(
    deployment: FlinkDeploymentState | None, *, generation: int | None, name: str
) -> Verdict:
    """Decide a wait for a FlinkDeployment suspended with ``upgradeMode: savepoint`` at
    ``generation`` (:func:`suspend_savepoint`):

    ====================================================  ===========  ================
    observation                                           lifecycle    reason
    ====================================================  ===========  ================
    the FlinkDeployment is gone                           FAILED       NotDeployed
    reconciled and SUSPENDED with a savepoint path        READY        Ready
    suspended without a savepoint, or FAILED              FAILED       SavepointFailed
    otherwise                                             PROGRESSING  SavepointPending
    ====================================================  ===========  ================
    """
    what = f"suspending FlinkDeployment {name} with a savepoint"
    if deployment is None:
        message = f"{what}: the FlinkDeployment was deleted meanwhile"
        return Verdict.failed(Reason.NOT_DEPLOYED, message)
    return _operator_verdict(suspend_savepoint(deployment.status, generation), what)
