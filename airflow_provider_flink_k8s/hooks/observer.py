"""Observe a cluster through both hooks, and wait until a :class:`WaitFor` is decided.

Each snapshot reads only what the wait's kind decides on (:attr:`WaitFor.fetches`): the
Kubernetes hook the objects (Deployments, pods and the Events of those not Ready, the
FlinkDeployment, FlinkSessionJobs, what is left of a deleted cluster); the Flink REST
hook ``/overview``, the jobs (with the root exception of the awaited one once it fails)
or a savepoint trigger's status. Log tails are read once, for a wait that failed or
timed out. The decision itself is pure (:meth:`WaitFor.decide`); this module only
fetches and loops -- the one loop every wait of the provider runs.

:class:`ClusterObserver` polls (operators waiting in the worker);
:class:`AsyncClusterObserver` watches what the wait is about (:func:`watched`) and
re-decides as soon as it changes, polling only for what Kubernetes cannot watch --
Flink's own REST state -- every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, FlinkRestNotFound
from airflow_provider_flink_k8s.kube.observe import cluster_label_selector, workload_selector
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
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

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
    from airflow_provider_flink_k8s.hooks.flink_rest_async import AsyncFlinkRestHook
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
    from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook

__all__ = [
    "AsyncClusterObserver",
    "ClusterObserver",
    "watched",
    "with_log_tails",
]

_FAILING = ("FAILING", "FAILED")
_UNSUCCESSFUL = (Lifecycle.FAILED, Lifecycle.DELETED)
_LOG_TAIL_CHARACTERS = 8000
"""Characters of each log tail an outcome carries (trigger events are stored in the DB)."""

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rest_fields(
    overview: Any, jobs: list[Any], exceptions: dict[str, Any], savepoint: SavepointState | None
) -> dict[str, Any]:
    """The REST half of a snapshot, from the REST hook's models."""
    part = ClusterSnapshot.from_k8s(
        overview=None if overview is None else overview.model_dump(mode="json", by_alias=True),
        jobs=[job.model_dump(mode="json", by_alias=True) for job in jobs],
        job_exceptions=exceptions,
    )
    fields = {"jobs": part.jobs, "rest_error": None, "savepoint": savepoint}
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


class _WaitSteps:
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


class ClusterObserver:
    """Snapshots of one cluster, and a polling wait over them.

    :param kube: the Kubernetes hook.
    :param rest: the Flink REST hook of the cluster (needed for the waits that read
        Flink's REST API); give it ``RetryPolicy.never()``: the wait loop is the retry.
    :param log_lines: lines of the failing containers' logs a failed wait reports.
    """

    def __init__(
        self, kube: FlinkKubernetesHook, rest: FlinkRestHook | None, *, log_lines: int = 40
    ) -> None:
        self.kube = kube
        self.rest = rest
        self.log_lines = log_lines

    def snapshot(self, wait: WaitFor) -> ClusterSnapshot:
        """What the cluster looks like now: only what ``wait`` decides on
        (:attr:`WaitFor.fetches`), without log tails."""
        fetches, name, namespace = wait.fetches, wait.name, wait.namespace
        snapshot = ClusterSnapshot(name=name)
        if "workloads" in fetches:
            snapshot = self.kube.observe(name, namespace, target=wait.target, log_lines=0)
        found: dict[str, Any] = {}
        if "flink_deployment" in fetches:
            found["flink_deployment"] = _flink_deployment(
                self.kube.get_object(FLINK_DEPLOYMENT, namespace, name)
            )
        if "session_job" in fetches:
            raw = self.kube.get_object(FLINK_SESSION_JOB, namespace, str(wait.session_job))
            found["session_jobs"] = (raw,) if raw is not None else ()
        if "session_jobs" in fetches:
            listed = self.kube.list_objects(FLINK_SESSION_JOB, namespace)
            found["session_jobs"] = _on_cluster(listed, name)
        if "remaining" in fetches:
            found["remaining"] = self.kube.remaining_objects(name, namespace)
        snapshot = snapshot.model_copy(update=found) if found else snapshot
        if self.rest is None or not _asks_rest(wait, snapshot):
            return snapshot
        return snapshot.model_copy(update=self._rest_part(self.rest, wait))

    @staticmethod
    def _rest_part(rest: FlinkRestHook, wait: WaitFor) -> dict[str, Any]:
        fetches = wait.fetches
        try:
            savepoint = None
            if "savepoint" in fetches:
                job_id, trigger_id = str(wait.job_id), str(wait.trigger_id)
                try:
                    status = rest.savepoint_status(job_id, trigger_id)
                    savepoint = SavepointState.from_rest(status.model_dump())
                except FlinkRestNotFound:
                    savepoint = SavepointState(job_id=job_id, trigger_id=trigger_id, known=False)
            overview = rest.overview() if "overview" in fetches else None
            jobs = rest.jobs() if _reads_jobs(wait, savepoint) else []
            exceptions = {
                job.id: rest.job_exceptions(job.id).model_dump(mode="json", by_alias=True)
                for job in jobs
                if _explains(job, wait)
            }
        except FlinkK8sError as error:
            return {"rest_error": str(error)}
        return _rest_fields(overview, jobs, exceptions, savepoint)

    def check(self, wait: WaitFor) -> Outcome:
        """One observation, one decision (a sensor's poke): the outcome, with the failing
        containers' log tails when it failed.

        :raises FlinkK8sError: when the cluster could not be observed.
        """
        steps = _WaitSteps(wait, math.inf, None)
        outcome = steps.step(self.snapshot(wait), 0.0) or steps.so_far()
        return self._explained(steps, outcome)

    def wait(
        self,
        wait: WaitFor,
        *,
        timeout: float,
        poll_interval: float = 2.0,
        on_verdict: Callable[[Verdict], None] | None = None,
    ) -> Outcome:
        """Observe every ``poll_interval`` seconds until ``wait`` is decided or
        ``timeout`` seconds have passed; never raises for the cluster's state.

        :param on_verdict: called with each new verdict (a changed message), to log progress.
        :return: the outcome; a FAILED or timed-out one carries the log tails.
        """
        steps = _WaitSteps(wait, timeout, on_verdict)
        started = time.monotonic()
        while True:
            observed: ClusterSnapshot | FlinkK8sError
            try:
                observed = self.snapshot(wait)
            except FlinkK8sError as error:
                observed = error
            waited = time.monotonic() - started
            outcome = steps.step(observed, waited)
            if outcome is not None:
                return self._explained(steps, outcome)
            time.sleep(min(poll_interval, max(timeout - waited, 0.0)))

    def _explained(self, steps: _WaitSteps, outcome: Outcome) -> Outcome:
        """``outcome`` with the failing containers' log tails, read now (only a wait that
        did not succeed reads logs)."""
        snapshot = steps.needs_tails(outcome)
        if snapshot is None:
            return outcome
        try:
            tails = self.kube.log_tails(steps.wait.namespace, snapshot, self.log_lines)
        except FlinkK8sError as error:
            log.info("Could not read the failing containers' logs: %s", error)
            return outcome
        return steps.explain(outcome, tails)


class AsyncClusterObserver:
    """The async twin of :class:`ClusterObserver`, for triggers: it watches instead of polls.

    :param kube: the async Kubernetes hook.
    :param rest: the async Flink REST hook of the cluster (waits that read Flink's REST API).
    :param log_lines: lines of the failing containers' logs a failed wait reports.
    """

    def __init__(
        self,
        kube: AsyncFlinkKubernetesHook,
        rest: AsyncFlinkRestHook | None,
        *,
        log_lines: int = 40,
    ) -> None:
        self.kube = kube
        self.rest = rest
        self.log_lines = log_lines

    async def snapshot(self, wait: WaitFor) -> ClusterSnapshot:
        """What the cluster looks like now (see :meth:`ClusterObserver.snapshot`)."""
        fetches, name, namespace = wait.fetches, wait.name, wait.namespace
        snapshot = ClusterSnapshot(name=name)
        if "workloads" in fetches:
            snapshot = await self.kube.observe(name, namespace, target=wait.target, log_lines=0)
        found: dict[str, Any] = {}
        if "flink_deployment" in fetches:
            found["flink_deployment"] = _flink_deployment(
                await self.kube.get_object(FLINK_DEPLOYMENT, namespace, name)
            )
        if "session_job" in fetches:
            raw = await self.kube.get_object(FLINK_SESSION_JOB, namespace, str(wait.session_job))
            found["session_jobs"] = (raw,) if raw is not None else ()
        if "session_jobs" in fetches:
            listed = await self.kube.list_objects(FLINK_SESSION_JOB, namespace)
            found["session_jobs"] = _on_cluster(listed, name)
        if "remaining" in fetches:
            found["remaining"] = await self.kube.remaining_objects(name, namespace)
        snapshot = snapshot.model_copy(update=found) if found else snapshot
        if self.rest is None or not _asks_rest(wait, snapshot):
            return snapshot
        return snapshot.model_copy(update=await self._rest_part(self.rest, wait))

    @staticmethod
    async def _rest_part(rest: AsyncFlinkRestHook, wait: WaitFor) -> dict[str, Any]:
        fetches = wait.fetches
        try:
            savepoint = None
            if "savepoint" in fetches:
                job_id, trigger_id = str(wait.job_id), str(wait.trigger_id)
                try:
                    status = await rest.savepoint_status(job_id, trigger_id)
                    savepoint = SavepointState.from_rest(status.model_dump())
                except FlinkRestNotFound:
                    savepoint = SavepointState(job_id=job_id, trigger_id=trigger_id, known=False)
            overview = await rest.overview() if "overview" in fetches else None
            jobs = await rest.jobs() if _reads_jobs(wait, savepoint) else []
            exceptions = {}
            for job in jobs:
                if _explains(job, wait):
                    found = await rest.job_exceptions(job.id)
                    exceptions[job.id] = found.model_dump(mode="json", by_alias=True)
        except FlinkK8sError as error:
            return {"rest_error": str(error)}
        return _rest_fields(overview, jobs, exceptions, savepoint)

    async def wait(
        self,
        wait: WaitFor,
        *,
        timeout: float,
        poll_interval: float = 5.0,
        on_verdict: Callable[[Verdict], None] | None = None,
    ) -> Outcome:
        """Decide after every change of what the wait watches (the cluster's pods, its
        FlinkDeployment or FlinkSessionJobs), and at least every ``poll_interval``
        seconds, until decided or ``timeout`` passed."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        changed = asyncio.Event()
        watchers = [
            asyncio.create_task(self._watch(wait, changed, timeout, kind, api_version, selector))
            for kind, api_version, selector in watched(wait)
        ]
        steps = _WaitSteps(wait, timeout, on_verdict)
        try:
            while True:
                changed.clear()
                observed: ClusterSnapshot | FlinkK8sError
                try:
                    observed = await self.snapshot(wait)
                except FlinkK8sError as error:
                    observed = error
                waited = loop.time() - started
                outcome = steps.step(observed, waited)
                if outcome is not None:
                    return await self._explained(steps, outcome)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(poll_interval, timeout - waited))
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

    async def _explained(self, steps: _WaitSteps, outcome: Outcome) -> Outcome:
        """See :meth:`ClusterObserver._explained`."""
        snapshot = steps.needs_tails(outcome)
        if snapshot is None:
            return outcome
        try:
            tails = await self.kube.log_tails(steps.wait.namespace, snapshot, self.log_lines)
        except FlinkK8sError as error:
            log.info("Could not read the failing containers' logs: %s", error)
            return outcome
        return steps.explain(outcome, tails)

    async def _watch(
        self,
        wait: WaitFor,
        changed: asyncio.Event,
        timeout: float,
        kind: str,
        api_version: str,
        selector: dict[str, Any],
    ) -> None:
        """Set ``changed`` on every event; a failing watch only falls back to polling."""
        try:
            events = self.kube.watch_events(
                wait.namespace, kind=kind, api_version=api_version, timeout=timeout, **selector
            )
            async with contextlib.aclosing(events):  # type: ignore[type-var]
                async for _ in events:
                    changed.set()
        except FlinkK8sError as error:
            log.info("Watching %s of %s failed (%s); polling instead", kind, wait.name, error)


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
    if "flink_deployment" in fetches or ("workloads" in fetches and wait.target == "operator"):
        found.append(("FlinkDeployment", _FLINK_API, by_name))
    if "session_job" in fetches:
        job = {"field_selector": f"metadata.name={wait.session_job}"}
        found.append(("FlinkSessionJob", _FLINK_API, job))
    if "session_jobs" in fetches:
        found.append(("FlinkSessionJob", _FLINK_API, {}))
    if "remaining" in fetches:
        # Foreground deletion removes the pods last but one: their going is the news.
        found.append(("Pod", "v1", {"label_selector": cluster_label_selector(name)}))
    return found


def _flink_deployment(raw: Mapping[str, Any] | None) -> FlinkDeploymentState | None:
    return FlinkDeploymentState.from_k8s(raw) if raw is not None else None


def _on_cluster(session_jobs: list[dict[str, Any]], cluster: str) -> tuple[dict[str, Any], ...]:
    """The FlinkSessionJobs whose ``spec.deploymentName`` is ``cluster``."""
    return tuple(
        job for job in session_jobs if (job.get("spec") or {}).get("deploymentName") == cluster
    )


def _asks_rest(wait: WaitFor, snapshot: ClusterSnapshot) -> bool:
    """Whether to ask Flink's REST API: the wait reads it, and the JobManager exists (a
    wait that read the workloads knows; the REST-only waits just ask)."""
    return wait.needs_rest and ("workloads" not in wait.fetches or snapshot.jobmanager is not None)


def _reads_jobs(wait: WaitFor, savepoint: SavepointState | None) -> bool:
    """Whether to list the jobs: the wait reads them -- a savepoint wait only while the
    savepoint is pending (the job's state decides only then)."""
    if "jobs" not in wait.fetches:
        return False
    return savepoint is None or (savepoint.known and not savepoint.completed)


def _explains(job: Any, wait: WaitFor) -> bool:
    """Whether to read a job's exceptions: it is failing, and it is the awaited job (or
    the wait follows no particular job)."""
    return job.state in _FAILING and (wait.job_id is None or job.id == wait.job_id)
