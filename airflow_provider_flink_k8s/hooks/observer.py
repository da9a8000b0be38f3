"""Observe a cluster through both hooks, and wait until a :class:`WaitFor` is decided.

The Kubernetes hook reads the objects (Deployments, pods, Events, log tails, the
FlinkDeployment); for the standalone target the Flink REST hook adds ``/overview`` and
the jobs (with the root exception of a failed one). The decision itself is pure
(:meth:`WaitFor.decide`); this module only fetches and loops.

:class:`ClusterObserver` polls (operators waiting in the worker);
:class:`AsyncClusterObserver` watches the cluster's pods (and FlinkDeployment) and
re-decides as soon as one changes, polling only for what Kubernetes cannot watch --
Flink's own REST state -- every ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.kube.observe import workload_selector
from airflow_provider_flink_k8s.observation import ClusterSnapshot, Lifecycle, Outcome, Verdict
from airflow_provider_flink_k8s.observation.waits import WaitFor

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
    from airflow_provider_flink_k8s.hooks.flink_rest_async import AsyncFlinkRestHook
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
    from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook

__all__ = [
    "AsyncClusterObserver",
    "ClusterObserver",
    "with_log_tails",
]

_FAILING = ("FAILING", "FAILED")
_UNSUCCESSFUL = (Lifecycle.FAILED, Lifecycle.DELETED)
_LOG_TAIL_CHARACTERS = 8000
"""Characters of each log tail an outcome carries (trigger events are stored in the DB)."""

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rest_fields(overview: Any, jobs: list[Any], exceptions: dict[str, Any]) -> dict[str, Any]:
    """The REST half of a snapshot, from the REST hook's models."""
    part = ClusterSnapshot.from_k8s(
        overview=overview.model_dump(mode="json", by_alias=True),
        jobs=[job.model_dump(mode="json", by_alias=True) for job in jobs],
        job_exceptions=exceptions,
    )
    return {"overview": part.overview, "jobs": part.jobs, "rest_error": None}


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

    def step(self, observed: ClusterSnapshot | FlinkK8sError, waited: float) -> Outcome | None:
        """Decide on one observation (or a failure to observe) made ``waited`` seconds
        into the wait; the outcome once the wait is over, else ``None``."""
        if isinstance(observed, FlinkK8sError):
            # A transient API failure the hook gave up on: keep the wait going.
            failed = Outcome.from_error(observed).verdict
            verdict = Verdict.progressing(failed.reason, failed.message)
        else:
            self.snapshot = observed
            verdict = self.wait.decide(observed, _now())
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


class ClusterObserver:
    """Snapshots of one cluster, and a polling wait over them.

    :param kube: the Kubernetes hook.
    :param rest: the Flink REST hook of the cluster (needed for standalone waits);
        give it ``RetryPolicy.never()``: the wait loop is the retry.
    :param log_lines: lines of the failing containers' logs each snapshot carries.
    """

    def __init__(
        self, kube: FlinkKubernetesHook, rest: FlinkRestHook | None, *, log_lines: int = 40
    ) -> None:
        self.kube = kube
        self.rest = rest
        self.log_lines = log_lines

    def snapshot(self, wait: WaitFor) -> ClusterSnapshot:
        """What the cluster looks like now, with what ``wait`` needs from Flink's REST API."""
        snapshot = self.kube.observe(
            wait.name, wait.namespace, target=wait.target, log_lines=self.log_lines
        )
        if not wait.needs_rest or snapshot.jobmanager is None or self.rest is None:
            return snapshot
        try:
            overview = self.rest.overview()
            jobs = self.rest.jobs() if wait.kind == "job" else []
            exceptions = {
                job.id: self.rest.job_exceptions(job.id).model_dump(mode="json", by_alias=True)
                for job in jobs
                if job.state in _FAILING
            }
        except FlinkK8sError as error:
            return snapshot.model_copy(update={"rest_error": str(error)})
        return snapshot.model_copy(update=_rest_fields(overview, jobs, exceptions))

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
                return outcome
            time.sleep(min(poll_interval, max(timeout - waited, 0.0)))


class AsyncClusterObserver:
    """The async twin of :class:`ClusterObserver`, for triggers: it watches instead of polls.

    :param kube: the async Kubernetes hook.
    :param rest: the async Flink REST hook of the cluster (standalone waits).
    :param log_lines: lines of the failing containers' logs each snapshot carries.
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
        snapshot = await self.kube.observe(
            wait.name, wait.namespace, target=wait.target, log_lines=self.log_lines
        )
        if not wait.needs_rest or snapshot.jobmanager is None or self.rest is None:
            return snapshot
        try:
            overview = await self.rest.overview()
            jobs = await self.rest.jobs() if wait.kind == "job" else []
            exceptions = {}
            for job in jobs:
                if job.state in _FAILING:
                    found = await self.rest.job_exceptions(job.id)
                    exceptions[job.id] = found.model_dump(mode="json", by_alias=True)
        except FlinkK8sError as error:
            return snapshot.model_copy(update={"rest_error": str(error)})
        return snapshot.model_copy(update=_rest_fields(overview, jobs, exceptions))

    async def wait(
        self,
        wait: WaitFor,
        *,
        timeout: float,
        poll_interval: float = 5.0,
        on_verdict: Callable[[Verdict], None] | None = None,
    ) -> Outcome:
        """Decide after every change of the cluster's pods (or FlinkDeployment), and at
        least every ``poll_interval`` seconds, until decided or ``timeout`` passed."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        changed = asyncio.Event()
        watchers = [
            asyncio.create_task(self._watch(wait, changed, timeout, kind, api_version, selector))
            for kind, api_version, selector in self._watched(wait)
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
                    return outcome
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(poll_interval, timeout - waited))
        finally:
            for task in watchers:
                task.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)

    @staticmethod
    def _watched(wait: WaitFor) -> list[tuple[str, str, dict[str, Any]]]:
        """What to watch: the cluster's pods; for the operator target its FlinkDeployment."""
        pods = ("Pod", "v1", {"label_selector": workload_selector(wait.name, wait.target)})
        if wait.target != "operator":
            return [pods]
        deployment = {"field_selector": f"metadata.name={wait.name}"}
        return [pods, ("FlinkDeployment", "flink.apache.org/v1beta1", deployment)]

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
