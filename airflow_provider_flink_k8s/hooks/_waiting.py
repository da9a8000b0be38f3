"""The pure half of the observers (:mod:`.observer`): one wait's bookkeeping, what a wait
watches, and what a snapshot must read -- no I/O, shared by the polling and the watching
twin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.kube.observe import workload_selector
from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    FlinkDeploymentState,
    Lifecycle,
    Outcome,
    Reason,
    Verdict,
)
from airflow_provider_flink_k8s.observation.flink import SavepointState
from airflow_provider_flink_k8s.observation.waits import WaitFor
from airflow_provider_flink_k8s.targets import target_of

__all__ = [
    "WaitSteps",
    "asks_rest",
    "explains",
    "flink_deployment_state",
    "metric_reads",
    "on_cluster",
    "reads_jobs",
    "rest_fields",
    "watched",
    "with_log_tails",
]

_FAILING = ("FAILING", "FAILED")
_UNSUCCESSFUL = (Lifecycle.FAILED, Lifecycle.DELETED)
_LOG_TAIL_CHARACTERS = 8000
"""Characters of each log tail an outcome carries (trigger events are stored in the DB)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def rest_fields(
    overview: Any,
    jobs: list[Any],
    exceptions: dict[str, Any],
    savepoint: SavepointState | None,
    reported: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The REST half of a snapshot, from the REST hook's models; ``reported``: the
    subtask metrics read by vertex id (:func:`metric_reads`), of which the snapshot
    keeps the names (the decision is whether Flink has them, not their values)."""
    part = ClusterSnapshot.from_k8s(
        overview=None if overview is None else overview.model_dump(mode="json", by_alias=True),
        jobs=[job.model_dump(mode="json", by_alias=True) for job in jobs],
        job_exceptions=exceptions,
    )
    fields: dict[str, Any] = {"jobs": part.jobs, "rest_error": None, "savepoint": savepoint}
    if reported:
        fields["reported_metrics"] = {vertex: tuple(found) for vertex, found in reported.items()}
    return {**fields, "overview": part.overview} if overview is not None else fields


def with_log_tails(outcome: Outcome, snapshot: ClusterSnapshot | None) -> Outcome:
    """``outcome`` with the snapshot's log tails in its details, when the wait did not
    succeed (the task log shows them; a trigger event carries them to the task)."""
    unsuccessful = outcome.timed_out or outcome.verdict.lifecycle in _UNSUCCESSFUL
    if not unsuccessful or snapshot is None or not snapshot.log_tails:
        return outcome
    verdict = outcome.verdict
    tails = {pod: text[-_LOG_TAIL_CHARACTERS:] for pod, text in snapshot.log_tails.items()}
    details = {**verdict.details, "log_tails": tails}
    return Outcome(
        Verdict(verdict.lifecycle, verdict.reason, verdict.message, details),
        job_id=outcome.job_id,
        waited_seconds=outcome.waited_seconds,
    )


def _job_id(verdict: Verdict, wait: WaitFor) -> str | None:
    found = verdict.details.get("job_id")
    return str(found) if found else wait.job_id


class WaitSteps:
    """One wait's bookkeeping, the same for the polling and the watching loop: decide on
    each observation, report changed verdicts, and end when decided or out of time."""

    def __init__(
        self, wait: WaitFor, timeout: float, on_verdict: Callable[[Verdict], None] | None
    ) -> None:
        self.wait = wait
        self.timeout = timeout
        self.on_verdict = on_verdict
        self.last: Verdict | None = None
        self.snapshot: ClusterSnapshot | None = None
        """The latest snapshot read; its log tails go with an unsuccessful outcome."""
        self.decided_at = _now()
        """When the latest snapshot was decided on."""

    def step(self, observed: ClusterSnapshot | FlinkK8sError, waited: float) -> Outcome | None:
        """Decide on one observation (or a failure to observe) made ``waited`` seconds
        into the wait; the outcome once the wait is over, else ``None``."""
        if isinstance(observed, FlinkK8sError):
            # A transient API failure the hook gave up on: keep the wait going.
            failed = Outcome.from_error(observed).verdict
            verdict = Verdict.progressing(failed.reason, failed.message)
        else:
            self.snapshot, self.decided_at = observed, _now()
            verdict = self.wait.decide(observed, self.decided_at)
            self.wait = self.wait.remember(observed)  # the loop holds a job wait's memory
        if self.on_verdict is not None and (
            self.last is None or verdict.message != self.last.message
        ):
            self.on_verdict(verdict)
        self.last = verdict
        job_id = _job_id(verdict, self.wait)
        if verdict.terminal:
            return with_log_tails(Outcome(verdict, job_id=job_id), self.snapshot)
        if waited >= self.timeout:
            timed_out = Outcome.timeout(verdict, waited=timedelta(seconds=waited), job_id=job_id)
            return with_log_tails(timed_out, self.snapshot)
        return None

    def so_far(self) -> Outcome:
        """The outcome of an undecided wait: its last verdict (a sensor's poke)."""
        verdict = self.last or Verdict.progressing(Reason.OBSERVATION_FAILED, "not observed yet")
        return Outcome(verdict, job_id=_job_id(verdict, self.wait))

    def needs_tails(self, outcome: Outcome) -> ClusterSnapshot | None:
        """The snapshot whose failing containers' logs explain ``outcome``, or ``None``
        when it succeeded or names no container (the wait read no pods)."""
        unsuccessful = outcome.timed_out or outcome.verdict.lifecycle in _UNSUCCESSFUL
        if not unsuccessful or self.snapshot is None or not self.snapshot.log_sources():
            return None
        return self.snapshot

    def explain(self, outcome: Outcome, tails: Mapping[str, str]) -> Outcome:
        """``outcome`` decided again with the log ``tails`` read for it (a crash-looping
        container's verdict quotes its log), the tails in its details."""
        if self.snapshot is None or not tails:
            return outcome
        snapshot = self.snapshot.with_log_tails(tails)
        verdict = outcome.verdict
        if not outcome.timed_out:
            verdict = self.wait.decide(snapshot, self.decided_at)
        again = Outcome(verdict, job_id=outcome.job_id, waited_seconds=outcome.waited_seconds)
        return with_log_tails(again, snapshot)


_FLINK_API = "flink.apache.org/v1beta1"


def watched(wait: WaitFor) -> list[tuple[str, str, dict[str, Any]]]:
    """What a watching observer watches for ``wait`` (kind, apiVersion, selector): what
    changes when its decision may change. Flink's REST state cannot be watched; the
    REST-only waits (``tasks_running``, ``savepoint``) poll."""
    fetches, name = wait.fetches, wait.name
    by_name = {"field_selector": f"metadata.name={name}"}
    found: list[tuple[str, str, dict[str, Any]]] = []
    if "workloads" in fetches:
        found.append(("Pod", "v1", {"label_selector": workload_selector(name, wait.target)}))
    status_object = target_of(wait.target).reads_status_object
    if "flink_deployment" in fetches or ("workloads" in fetches and status_object):
        found.append(("FlinkDeployment", _FLINK_API, by_name))
    if "session_job" in fetches:
        job = {"field_selector": f"metadata.name={wait.session_job}"}
        found.append(("FlinkSessionJob", _FLINK_API, job))
    if "session_jobs" in fetches:
        found.append(("FlinkSessionJob", _FLINK_API, {}))
    if "remaining" in fetches:
        # Foreground deletion removes the pods last but one: their going is the news.
        found.append(("Pod", "v1", {"label_selector": workload_selector(name, wait.target)}))
    return found


def flink_deployment_state(raw: Mapping[str, Any] | None) -> FlinkDeploymentState | None:
    """The FlinkDeployment read (``None``: it does not exist)."""
    return FlinkDeploymentState.from_k8s(raw) if raw is not None else None


def on_cluster(session_jobs: list[dict[str, Any]], cluster: str) -> tuple[dict[str, Any], ...]:
    """The FlinkSessionJobs whose ``spec.deploymentName`` is ``cluster``."""
    return tuple(
        job for job in session_jobs if (job.get("spec") or {}).get("deploymentName") == cluster
    )


def asks_rest(wait: WaitFor, snapshot: ClusterSnapshot) -> bool:
    """Whether to ask Flink's REST API: the wait reads it, and the JobManager exists (a
    wait that read the workloads knows; the REST-only waits just ask)."""
    return wait.needs_rest and ("workloads" not in wait.fetches or snapshot.jobmanager is not None)


def reads_jobs(wait: WaitFor, savepoint: SavepointState | None) -> bool:
    """Whether to list the jobs: the wait reads them -- a savepoint wait only while the
    savepoint is pending (the job's state decides only then)."""
    if "jobs" not in wait.fetches:
        return False
    return savepoint is None or (savepoint.known and not savepoint.completed)


def metric_reads(wait: WaitFor, jobs: list[Any]) -> list[tuple[str, str]]:
    """The ``(job id, vertex id)`` whose load metrics to read: for a metrics wait, each
    vertex of the awaited job's details (none while Flink does not know the job, or has
    ended it: the decision needs no metrics then)."""
    if "metrics" not in wait.fetches:
        return []
    return [
        (job.id, vertex.id)
        for job in jobs
        if job.id == wait.job_id and not job.is_terminal
        for vertex in job.vertices
    ]


def explains(job: Any, wait: WaitFor) -> bool:
    """Whether to read a job's exceptions: it is failing, and it is the awaited job (or
    the wait follows no particular job)."""
    return job.state in _FAILING and (wait.job_id is None or job.id == wait.job_id)
