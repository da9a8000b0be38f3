"""Observe a cluster through both hooks, and wait until a :class:`WaitFor` is decided.

Each snapshot reads only what the wait's kind decides on (:attr:`WaitFor.fetches`): the
Kubernetes hook the objects (Deployments, pods and the Events of those not Ready, the
FlinkDeployment, FlinkSessionJobs, what is left of a deleted cluster); the Flink REST
hook ``/overview``, the jobs (with the root exception of the awaited one once it fails),
one job's details (its vertices; for a metrics wait, each vertex's load metrics too) or
a savepoint trigger's status. Log tails are read once, for a wait that failed or timed
out. What a snapshot reads is written once (:mod:`._reads`), run here with the blocking
or the async hooks; the decision itself is pure (:meth:`WaitFor.decide`); this module
only fetches and loops -- the one loop every wait of the provider runs.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.hooks._reads import run_reads, run_reads_async, snapshot_reads
from airflow_provider_flink_k8s.hooks._waiting import (
    WaitSteps,
    watched,
    with_log_tails,
)
from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    Outcome,
    Verdict,
)
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

log = logging.getLogger(__name__)


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
        (:attr:`WaitFor.fetches`), without log tails (:func:`snapshot_reads`).

        :raises FlinkK8sError: when Kubernetes could not be read (a Flink REST error is
            the snapshot's ``rest_error``).
        """
        reads = snapshot_reads(wait, with_rest=self.rest is not None)
        return run_reads(reads, {"kube": self.kube, "rest": self.rest})

    def check(self, wait: WaitFor) -> tuple[Outcome, WaitFor]:
        """One observation, one decision (a sensor's poke): the outcome, with the failing
        containers' log tails when it failed, and ``wait`` with what the observation adds
        to its memory (:meth:`WaitFor.remember`), for the next poke.

        :raises FlinkK8sError: when the cluster could not be observed.
        """
        steps = WaitSteps(wait, math.inf, None)
        outcome = steps.step(self.snapshot(wait), 0.0) or steps.so_far()
        return self._explained(steps, outcome), steps.wait

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
        steps = WaitSteps(wait, timeout, on_verdict)
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

    def _explained(self, steps: WaitSteps, outcome: Outcome) -> Outcome:
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
        reads = snapshot_reads(wait, with_rest=self.rest is not None)
        return await run_reads_async(reads, {"kube": self.kube, "rest": self.rest})

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
        steps = WaitSteps(wait, timeout, on_verdict)
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

    async def _explained(self, steps: WaitSteps, outcome: Outcome) -> Outcome:
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
