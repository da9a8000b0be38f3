"""What one snapshot reads, written once for both observers.

A snapshot's reads depend on what earlier reads returned (the jobs to explain are the
failing ones listed; a savepoint Flink does not know needs no job list), so they are a
plan, not a list: :func:`snapshot_reads` is a generator that yields each :class:`Read`
and receives its answer -- or has the read's :class:`FlinkK8sError` thrown in, where it
decides what an error means. It does no I/O: :class:`~.observer.ClusterObserver` runs it
with the blocking hooks, :class:`~.observer.AsyncClusterObserver` with the async ones
(:func:`run_reads`, :func:`run_reads_async`), the way sans-I/O protocol code is shared.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, FlinkRestNotFound
from airflow_provider_flink_k8s.hooks._waiting import (
    asks_rest,
    explains,
    flink_deployment_state,
    metric_reads,
    on_cluster,
    reads_jobs,
    rest_fields,
)
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from airflow_provider_flink_k8s.observation import ClusterSnapshot
from airflow_provider_flink_k8s.observation.flink import SavepointState
from airflow_provider_flink_k8s.observation.scaling import LOAD_METRICS
from airflow_provider_flink_k8s.observation.waits import WaitFor

__all__ = ["Read", "Reads", "run_reads", "run_reads_async", "snapshot_reads"]


@dataclass(frozen=True)
class Read:
    """One call of a hook method: ``hook`` (``kube``: the Kubernetes hook, ``rest``: the
    Flink REST hook) ``.method(*args, **kwargs)``; the blocking and the async hooks have
    the same methods."""

    hook: Literal["kube", "rest"]
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Reads = Generator[Read, Any, ClusterSnapshot]
"""A plan of reads that ends with the snapshot."""


def snapshot_reads(wait: WaitFor, *, with_rest: bool) -> Reads:
    """The reads of what the cluster looks like now: only what ``wait`` decides on
    (:attr:`WaitFor.fetches`), without log tails; Flink's REST API only ``with_rest`` (an
    observer that has a REST hook) and when the Kubernetes part leaves it worth asking
    (:func:`asks_rest`). A Kubernetes error ends the plan (the observer raises it); a
    REST error becomes the snapshot's ``rest_error``, for the decision to weigh."""
    fetches, name, namespace = wait.fetches, wait.name, wait.namespace
    snapshot = ClusterSnapshot(name=name)
    if "workloads" in fetches:
        options = {"target": wait.target, "log_lines": 0}
        snapshot = yield Read("kube", "observe", (name, namespace), options)
    found: dict[str, Any] = {}
    if "flink_deployment" in fetches:
        raw = yield Read("kube", "get_object", (FLINK_DEPLOYMENT, namespace, name))
        found["flink_deployment"] = flink_deployment_state(raw)
    if "session_job" in fetches:
        job_name = str(wait.session_job)
        raw = yield Read("kube", "get_object", (FLINK_SESSION_JOB, namespace, job_name))
        found["session_jobs"] = (raw,) if raw is not None else ()
    if "session_jobs" in fetches:
        listed = yield Read("kube", "list_objects", (FLINK_SESSION_JOB, namespace))
        found["session_jobs"] = on_cluster(listed, name)
    if "remaining" in fetches:
        found["remaining"] = yield Read("kube", "remaining_objects", (name, namespace))
    snapshot = snapshot.model_copy(update=found) if found else snapshot
    if not with_rest or not asks_rest(wait, snapshot):
        return snapshot
    try:
        rest_part = yield from _rest_reads(wait)
    except FlinkK8sError as error:
        rest_part = {"rest_error": str(error)}
    return snapshot.model_copy(update=rest_part)


def _rest_reads(wait: WaitFor) -> Generator[Read, Any, dict[str, Any]]:
    """The Flink REST half of a snapshot: a savepoint trigger's status, ``/overview``,
    the jobs (one job's details), the failing awaited job's root exception, the vertices'
    load metrics -- each only when the wait decides on it."""
    fetches = wait.fetches
    savepoint = None
    if "savepoint" in fetches:
        job_id, trigger_id = str(wait.job_id), str(wait.trigger_id)
        try:
            status = yield Read("rest", "savepoint_status", (job_id, trigger_id))
            savepoint = SavepointState.from_rest(status.model_dump())
        except FlinkRestNotFound:
            savepoint = SavepointState(job_id=job_id, trigger_id=trigger_id, known=False)
    overview = (yield Read("rest", "overview")) if "overview" in fetches else None
    jobs: list[Any] = list((yield Read("rest", "jobs"))) if reads_jobs(wait, savepoint) else []
    if "job_details" in fetches:
        with contextlib.suppress(FlinkRestNotFound):  # unknown: the decision says so
            jobs.append((yield Read("rest", "job", (str(wait.job_id),))))
    exceptions: dict[str, Any] = {}
    for job in jobs:
        if explains(job, wait):
            found = yield Read("rest", "job_exceptions", (job.id,))
            exceptions[job.id] = found.model_dump(mode="json", by_alias=True)
    reported: dict[str, Any] = {}
    for job_id, vertex in metric_reads(wait, jobs):
        reported[vertex] = yield Read("rest", "subtask_metrics", (job_id, vertex, LOAD_METRICS))
    return rest_fields(overview, jobs, exceptions, savepoint, reported)


def run_reads(reads: Reads, hooks: dict[str, Any]) -> ClusterSnapshot:
    """Run ``reads`` with blocking hooks (by :attr:`Read.hook` name)."""
    answer: Any = None
    error: FlinkK8sError | None = None
    while True:
        try:
            read = reads.send(answer) if error is None else reads.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        try:
            answer, error = getattr(hooks[read.hook], read.method)(*read.args, **read.kwargs), None
        except FlinkK8sError as failed:
            answer, error = None, failed


async def run_reads_async(reads: Reads, hooks: dict[str, Any]) -> ClusterSnapshot:
    """Run ``reads`` with async hooks (by :attr:`Read.hook` name)."""
    answer: Any = None
    error: FlinkK8sError | None = None
    while True:
        try:
            read = reads.send(answer) if error is None else reads.throw(error)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        method = getattr(hooks[read.hook], read.method)
        try:
            answer, error = await method(*read.args, **read.kwargs), None
        except FlinkK8sError as failed:
            answer, error = None, failed
