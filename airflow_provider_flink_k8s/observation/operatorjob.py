"""Jobs and savepoints through the Flink Kubernetes Operator: decisions over its status.

:func:`classify_session_job` decides a wait on a ``FlinkSessionJob`` (a job the operator
submits to a session FlinkDeployment); :func:`manual_savepoint` and
:func:`suspend_savepoint` read the savepoint a ``savepointTriggerNonce`` or a suspend
(``job.state: suspended`` with ``upgradeMode: savepoint``) produced from a
FlinkDeployment's ``status.jobStatus``. Pure: raw camelCase JSON in, values out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_flink_k8s.observation._base import (
    get,
    get_int,
    get_items,
    get_mapping,
    get_str,
)
from airflow_provider_flink_k8s.observation.flink import operator_error
from airflow_provider_flink_k8s.observation.job import classify_job
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict

__all__ = [
    "SavepointProgress",
    "classify_session_job",
    "manual_savepoint",
    "suspend_savepoint",
]


def classify_session_job(
    session_job: Mapping[str, Any] | None,
    *,
    target_states: Collection[str] = ("RUNNING",),
    name: str | None = None,
) -> Verdict:
    """Classify a FlinkSessionJob, the first matching row deciding:

    ===  ==================================================  ===========  ================
    #    object                                              lifecycle    reason
    ===  ==================================================  ===========  ================
    1    absent                                              MISSING      NotDeployed
    2    being deleted, ``lifecycleState`` DELETING/DELETED  DELETED      Deleted
    3    ``observedGeneration`` < ``metadata.generation``    PROGRESSING  Reconciling
    4    ``error`` while FAILED or CREATED (refused spec,    FAILED       FlinkDeployment-
         no session cluster)                                              Error
    5    ``jobStatus.state`` set                             from         :func:`classify_job`
                                                                          (a FAILED job quotes
                                                                          ``error``)
    6    ``lifecycleState`` SUSPENDED                        FAILED       Suspended
    7    otherwise (not reconciled, not submitted yet)       PROGRESSING  Reconciling
    ===  ==================================================  ===========  ================

    :param session_job: the raw FlinkSessionJob, ``None`` when it does not exist.
    :param target_states: Flink job states that end the wait.
    :param name: its name, for messages.
    :raises ValueError: if ``target_states`` names no Flink job state.
    """
    label = f"FlinkSessionJob {name}" if name else "FlinkSessionJob"
    if session_job is None:
        return Verdict(Lifecycle.MISSING, Reason.NOT_DEPLOYED, f"{label} does not exist")
    metadata = get_mapping(session_job, "metadata")
    status = get_mapping(session_job, "status")
    lifecycle = (get_str(status, "lifecycleState") or "").upper()
    facts = {"lifecycle_state": lifecycle}
    if get(metadata, "deletionTimestamp") is not None or lifecycle in ("DELETING", "DELETED"):
        return Verdict(Lifecycle.DELETED, Reason.DELETED, f"{label} is being deleted", facts)
    generation = get_int(metadata, "generation", default=-1)
    observed = get_int(status, "observedGeneration", default=-1)
    if generation >= 0 and observed < generation:
        message = f"the operator has not reconciled generation {generation} of {label} yet"
        return Verdict.progressing(Reason.RECONCILING, message, **facts)
    _, error = operator_error(get_str(status, "error"))
    if error and lifecycle in ("FAILED", "CREATED", ""):
        return Verdict.failed(Reason.FLINK_DEPLOYMENT_ERROR, f"{label} FAILED: {error}", **facts)
    job = get_mapping(status, "jobStatus")
    state = (get_str(job, "state") or "").upper()
    if state:
        verdict = classify_job(
            state,
            target_states=target_states,
            root_exception=error or None,
            job_id=get_str(job, "jobId"),
        )
        details = {**facts, **verdict.details}
        return Verdict(verdict.lifecycle, verdict.reason, f"{label}: {verdict.message}", details)
    if lifecycle == "SUSPENDED":
        return Verdict.failed(Reason.SUSPENDED, f"{label} is SUSPENDED", **facts)
    return Verdict.progressing(Reason.RECONCILING, f"{label} is not submitted yet", **facts)


@dataclass(frozen=True)
class SavepointProgress:
    """Where an operator-driven savepoint is: done (``location``), failed (``error``),
    or neither (still in progress)."""

    location: str | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        """Whether the wait is over (a location or an error)."""
        return self.location is not None or self.error is not None


def _savepoints(job_status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    info = get_mapping(job_status, "savepointInfo")
    last = get_mapping(info, "lastSavepoint")
    return [*get_items(info, "savepointHistory"), *([last] if last else [])]


def manual_savepoint(status: Mapping[str, Any], trigger_nonce: int) -> SavepointProgress:
    """The savepoint a FlinkDeployment took for ``savepointTriggerNonce == trigger_nonce``:

    - a ``lastSavepoint`` (or history entry) with that ``triggerNonce``: its location;
    - the job FAILED/CANCELED/FINISHED, or the FlinkDeployment FAILED: an error (the
      operator's ``error`` when it gave one);
    - otherwise: in progress.

    :param status: the FlinkDeployment's raw ``status``.
    """
    job_status = get_mapping(status, "jobStatus")
    for entry in reversed(_savepoints(job_status)):
        if get(entry, "triggerNonce") == trigger_nonce and get_str(entry, "location"):
            return SavepointProgress(location=get_str(entry, "location"))
    state = (get_str(job_status, "state") or "").upper()
    lifecycle = (get_str(status, "lifecycleState") or "").upper()
    if state in ("FAILED", "CANCELED", "FINISHED") or lifecycle == "FAILED":
        _, error = operator_error(get_str(status, "error"))
        cause = error or f"the job is {state or 'gone'} (lifecycle {lifecycle or 'unknown'})"
        return SavepointProgress(error=f"no savepoint for nonce {trigger_nonce}: {cause}")
    return SavepointProgress()


def suspend_savepoint(status: Mapping[str, Any], generation: int | None) -> SavepointProgress:
    """The savepoint a suspend with ``upgradeMode: savepoint`` took:

    - reconciled (``observedGeneration`` >= ``generation``) and ``lifecycleState``
      SUSPENDED: ``jobStatus.upgradeSavepointPath`` (else the last savepoint's location);
      an error if neither is set;
    - ``lifecycleState`` FAILED, or the job FAILED: an error with the operator's message;
    - otherwise: in progress.

    :param status: the FlinkDeployment's raw ``status``.
    :param generation: the ``metadata.generation`` of the suspending change.
    """
    job_status = get_mapping(status, "jobStatus")
    lifecycle = (get_str(status, "lifecycleState") or "").upper()
    observed = get_int(status, "observedGeneration", default=-1)
    reconciled = generation is None or observed >= generation
    if reconciled and lifecycle == "SUSPENDED":
        path = get_str(job_status, "upgradeSavepointPath")
        if not path:
            entries = _savepoints(job_status)
            path = get_str(entries[-1], "location") if entries else None
        if path:
            return SavepointProgress(location=path)
        return SavepointProgress(error="the job was suspended without a savepoint")
    state = (get_str(job_status, "state") or "").upper()
    if lifecycle == "FAILED" or state == "FAILED":
        _, error = operator_error(get_str(status, "error"))
        return SavepointProgress(error=error or f"the job is {state or lifecycle}")
    return SavepointProgress()
