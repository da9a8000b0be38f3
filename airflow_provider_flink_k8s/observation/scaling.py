"""Has a rescale taken effect? The decisions of the rescale's waits.

A rescale (:mod:`.rescale`) waits for three things no other wait covers: every vertex of
a job reporting its load metrics (``parallelism="auto"`` reads them before planning),
every vertex running at its new parallelism, and the slots of surplus TaskManagers gone
from the JobManager. Each is a rule over Flink's REST answers, decided here so the
operator (which asks :func:`classify_metrics` and :func:`runs_at`) and a wait in the
worker or the triggerer (:class:`WaitFor` kinds ``metrics``, ``parallelism`` and
``slots_released``) agree on when the wait is over.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from airflow_provider_flink_k8s.observation.flink import FlinkJob, FlinkOverview
from airflow_provider_flink_k8s.observation.job import GLOBALLY_TERMINAL_JOB_STATES, classify_job
from airflow_provider_flink_k8s.observation.verdict import Reason, Verdict

__all__ = [
    "LOAD_METRICS",
    "classify_metrics",
    "classify_parallelism",
    "classify_slots_released",
    "runs_at",
]

LOAD_METRICS = ("busyTimeMsPerSecond", "numRecordsInPerSecond", "numRecordsOutPerSecond")
"""The subtask metrics a load-based recommendation reads per vertex (aggregated over its
subtasks): how busy it is, and the rate it takes records in (a source: puts them out)."""


def runs_at(parallelisms: Mapping[str, int], targets: Mapping[str, int]) -> bool:
    """Whether a job's vertices (id -> parallelism) run at ``targets``.

    A resubmitted job may have other vertex ids than the job it replaces (a plan
    compiled again): then the sorted parallelisms must match. A job without vertices (its
    plan not known yet) runs at nothing."""
    if not parallelisms:
        return False
    if set(parallelisms) != set(targets):
        return sorted(parallelisms.values()) == sorted(targets.values())
    return dict(parallelisms) == dict(targets)


def classify_parallelism(
    job: FlinkJob | None,
    *,
    job_id: str,
    targets: Mapping[str, int],
    rest_error: str | None = None,
) -> Verdict:
    """Decide a wait for every vertex of ``job_id`` RUNNING at ``targets``, the first
    matching row deciding:

    ===  ===============================================  ===========  ===============
    #    observation (``GET /jobs/:jobid``)               lifecycle    reason
    ===  ===============================================  ===========  ===============
    1    the REST API did not answer                      PROGRESSING  RestUnavailable
    2    Flink does not know the job                      FAILED       JobNotFound
    3    the job FAILED, CANCELED or FINISHED             FAILED       JobFailed...
    4    the job and every vertex RUNNING at ``targets``  READY        Ready
    5    otherwise (restarting, vertices deploying, the   PROGRESSING  JobPending
         adaptive scheduler's cool-down)
    ===  ===============================================  ===========  ===============

    :param job: the job's details (``None``: Flink does not know it).
    :param targets: the parallelism each vertex must run at, by vertex id.
    :param rest_error: why the REST API did not answer.
    """
    facts = {"job_id": job_id, "targets": dict(targets)}
    what = f"every vertex of job {job_id} at {_describe(targets)}"
    going = _going_job(job, job_id, what, rest_error, facts)
    if isinstance(going, Verdict):
        return going
    job = going
    found = dict(job.vertex_parallelism)
    running = bool(job.vertex_states) and all(state == "RUNNING" for state in job.vertex_states)
    if job.state == "RUNNING" and running and runs_at(found, targets):
        return Verdict.ready(f"{what}: RUNNING", **facts)
    message = f"job {job_id} is {job.state} at {_describe(found)}; waiting for {what}, RUNNING"
    return Verdict.progressing(Reason.JOB_PENDING, message, **facts, parallelism=found)


def _going_job(
    job: FlinkJob | None,
    job_id: str,
    what: str,
    rest_error: str | None,
    facts: Mapping[str, object],
) -> FlinkJob | Verdict:
    """The first three rows both job waits here share -- the REST API did not answer
    (PROGRESSING), Flink does not know the job, or it ended (FAILED) -- as a verdict;
    else the job, which is there and still going."""
    if rest_error is not None:
        message = f"{what}: the JobManager REST API does not answer: {rest_error}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message, **facts)
    if job is None:
        message = f"Flink does not know job {job_id} (it was waiting for {what})"
        return Verdict.failed(Reason.JOB_NOT_FOUND, message, **facts)
    if job.state in GLOBALLY_TERMINAL_JOB_STATES:
        return classify_job(job.state, root_exception=job.root_exception, job_id=job_id)
    return job


def classify_metrics(
    job: FlinkJob | None,
    *,
    job_id: str,
    reported: Mapping[str, Collection[str]],
    rest_error: str | None = None,
) -> Verdict:
    """Decide a wait for every vertex of ``job_id`` to report its load metrics
    (:data:`LOAD_METRICS`), the first matching row deciding:

    ===  ==============================================  ===========  ===============
    #    observation                                     lifecycle    reason
    ===  ==============================================  ===========  ===============
    1    the REST API did not answer                     PROGRESSING  RestUnavailable
    2    Flink does not know the job                     FAILED       JobNotFound
    3    the job FAILED, CANCELED or FINISHED            FAILED       JobFailed...
    4    every vertex reports at least one of them       READY        Ready
    5    otherwise (the vertices not known yet, or some  PROGRESSING  MetricsPending
         reporting none)
    ===  ==============================================  ===========  ===============

    Flink's REST API fetches the metrics from the TaskManagers lazily (at most every
    ``metrics.fetcher.update-interval``) and answers with none until it has fetched them
    once for the job's tasks: a freshly (re)started job's first answers are empty. A
    vertex reporting only some of the metrics counts as reported (a source reports no
    busy time on some Flink versions; the recommendation keeps such a vertex's
    parallelism rather than waiting for a metric that never comes).

    :param job: the job's details, ``GET /jobs/:jobid`` (``None``: Flink does not know it).
    :param reported: the load metrics Flink answered with, by vertex id (a vertex not
        read, or read with none, is missing).
    :param rest_error: why the REST API did not answer.
    """
    facts: dict[str, object] = {"job_id": job_id}
    what = f"every vertex of job {job_id} reporting its load metrics"
    going = _going_job(job, job_id, what, rest_error, facts)
    if isinstance(going, Verdict):
        return going
    job = going
    vertices = list(job.vertex_parallelism)
    if not vertices:
        message = f"job {job_id} is {job.state} and lists no vertices yet; waiting for {what}"
        return Verdict.progressing(Reason.METRICS_PENDING, message, **facts, missing=[])
    missing = [vertex for vertex in vertices if not reported.get(vertex)]
    if not missing:
        return Verdict.ready(f"{what}: {len(vertices)} vertices report them", **facts)
    named = ", ".join(_vertex(job, vertex) for vertex in missing)
    message = (
        f"{len(missing)} of {len(vertices)} vertices of job {job_id} report no load "
        f"metrics yet (Flink fetches them from the TaskManagers lazily): {named}"
    )
    return Verdict.progressing(Reason.METRICS_PENDING, message, **facts, missing=missing)


def classify_slots_released(
    overview: FlinkOverview | None, *, expected_slots: int, rest_error: str | None = None
) -> Verdict:
    """Decide a wait for the JobManager to register at most ``expected_slots`` task slots
    (the TaskManagers a scale-down removed have left):

    ===  ===========================================  ===========  ===============
    #    observation (``GET /overview``)              lifecycle    reason
    ===  ===========================================  ===========  ===============
    1    the REST API did not answer                  PROGRESSING  RestUnavailable
    2    at most ``expected_slots`` slots registered  READY        Ready
    3    more                                         PROGRESSING  SlotsSurplus
    ===  ===========================================  ===========  ===============

    A TaskManager that stopped stays registered until the JobManager notices it is gone
    (its connection closes, or its heartbeat times out).
    """
    if overview is None:
        cause = f": {rest_error}" if rest_error else ""
        message = f"the JobManager REST API does not answer{cause}"
        return Verdict.progressing(Reason.REST_UNAVAILABLE, message)
    counts = {"slots_total": overview.slots_total, "expected_slots": expected_slots}
    if overview.slots_total <= expected_slots:
        message = f"{overview.slots_total} task slots registered (at most {expected_slots})"
        return Verdict.ready(message, **counts)
    message = (
        f"{overview.slots_total} task slots registered; waiting for the surplus TaskManagers "
        f"to leave ({expected_slots} slots)"
    )
    return Verdict.progressing(Reason.SLOTS_SURPLUS, message, **counts)


def _vertex(job: FlinkJob, vertex_id: str) -> str:
    """A vertex for messages: its name and id (the id alone when Flink gave no name)."""
    name = job.vertex_names.get(vertex_id)
    return f"{name} ({vertex_id})" if name else vertex_id


def _describe(parallelisms: Mapping[str, int]) -> str:
    values = sorted(set(parallelisms.values()))
    if not values:
        return "no vertices"
    if len(values) == 1:
        return f"parallelism {values[0]}"
    return "parallelisms " + "/".join(map(str, values))
