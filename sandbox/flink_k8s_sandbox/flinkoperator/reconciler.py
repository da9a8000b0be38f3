"""``FlinkOperator``: the stand-in operator as a sandbox controller.

It reacts to store events like the sandbox's other controllers (``handle(event)``):
FlinkDeployments and FlinkSessionJobs, and the native objects Flink's labels tie to a
FlinkDeployment (``app=<name>``, ``type=flink-native-kubernetes``: the JobManager
Deployment and the pods). Each resource has a work queue key; a pass
(:class:`.deployments.DeploymentReconciler`, :class:`.sessionjobs.SessionJobReconciler`)
moves it at most one state forward, and passes over one resource are at least
:attr:`OperatorTiming.step` apart, so a client polling the status sees the operator's
intermediate states (and a whole deployment takes a few steps plus the pods' start).

Choices where the sandbox differs from the real operator (documented in
``docs/sandbox.md``): ``taskManager.replicas`` alone is a SCALE in native mode too (the
TaskManager pods are added or removed, no upgrade); an upgrade gets a new job id
(``last-state`` keeps it); savepoints are recorded in the legacy ``savepointInfo``
(``kubernetes.operator.snapshot.resource.enabled: false``), never as FlinkStateSnapshots;
the containers run nothing (see :mod:`.natives`).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from flink_k8s_sandbox.clock import Timers, Timing, WorkQueue
from flink_k8s_sandbox.flinkoperator.access import GROUP, OperatorAccess
from flink_k8s_sandbox.flinkoperator.deployments import DeploymentReconciler
from flink_k8s_sandbox.flinkoperator.natives import NATIVE_TYPE
from flink_k8s_sandbox.flinkoperator.sessionjobs import SessionJobReconciler
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.storage import Storage
from flink_k8s_sandbox.store import StoreEvent

__all__ = ["FlinkOperator", "OperatorTiming"]

Key = tuple[str, str]
_DEPLOYMENTS = (GROUP, "flinkdeployments")
_SESSION_JOBS = (GROUP, "flinksessionjobs")
_NATIVE = frozenset({("apps", "deployments"), ("", "pods")})


@dataclass(frozen=True)
class OperatorTiming:
    """How fast the stand-in operator acts.

    :param step: the least time between two passes over one resource (seconds); each
        pass makes at most one status transition.
    """

    step: float = 0.2

    @classmethod
    def from_timing(cls, timing: Timing) -> OperatorTiming:
        """One step per simulated container start (``Timing.start_delay``), at least 20 ms."""
        return cls(step=max(0.02, timing.start_delay))


class FlinkOperator:
    """Reconciles FlinkDeployments and FlinkSessionJobs on the server's loop.

    :param storage: the write path.
    :param registry: served types.
    :param loop: the server's loop (timers run on it).
    :param timing: the pace of passes.
    :param rng: ids of savepoints and triggers (seed it for repeatable ids).
    """

    def __init__(
        self,
        storage: Storage,
        registry: ResourceRegistry,
        loop: asyncio.AbstractEventLoop,
        *,
        timing: OperatorTiming | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.timing = timing or OperatorTiming()
        self.timers = Timers(loop)
        self.access = OperatorAccess(storage, registry)
        self._deployments = DeploymentReconciler(self.access, rng)
        self._session_jobs = SessionJobReconciler(self.access)
        self._deployment_queue: WorkQueue[Key] = WorkQueue(self.timers, self._sync_deployment)
        self._job_queue: WorkQueue[Key] = WorkQueue(self.timers, self._sync_session_job)
        self._due: dict[tuple[str, str, str], float] = {}

    def handle(self, event: StoreEvent) -> None:
        metadata = event.obj.get("metadata", {})
        namespace, name = metadata.get("namespace", ""), metadata.get("name", "")
        if event.key == _DEPLOYMENTS:
            self._deployment_queue.add((namespace, name))
            for job in self.access.objects("flinksessionjobs", namespace, {}):
                if (job.get("spec") or {}).get("deploymentName") == name:
                    self._job_queue.add((namespace, job["metadata"]["name"]))
        elif event.key == _SESSION_JOBS:
            self._job_queue.add((namespace, name))
            session = (event.obj.get("spec") or {}).get("deploymentName")
            if session:
                self._deployment_queue.add((namespace, str(session)))
        elif event.key in _NATIVE:
            labels = metadata.get("labels") or {}
            if labels.get("type") == NATIVE_TYPE and labels.get("app"):
                self._deployment_queue.add((namespace, str(labels["app"])))

    def _paced(self, kind: str, key: Key, queue: WorkQueue[Key]) -> bool:
        """Whether a pass may run now; if not, it is queued for when it may."""
        due = self._due.get((kind, *key))
        now = self.timers.monotonic()
        if due is not None and now < due:
            queue.add_after(due - now, key)
            return False
        return True

    def _after_pass(self, kind: str, key: Key, queue: WorkQueue[Key], more: bool) -> None:
        if more:
            self._due[(kind, *key)] = self.timers.monotonic() + self.timing.step
            queue.add_after(self.timing.step, key)

    def _sync_deployment(self, key: Key) -> None:
        if not self._paced("deployment", key, self._deployment_queue):
            return
        obj = self.access.find("flinkdeployments", *key)
        if obj is None:
            self._due.pop(("deployment", *key), None)
            return
        more = self._deployments.reconcile(obj)
        self._after_pass("deployment", key, self._deployment_queue, more)

    def _sync_session_job(self, key: Key) -> None:
        if not self._paced("job", key, self._job_queue):
            return
        obj = self.access.find("flinksessionjobs", *key)
        if obj is None:
            self._due.pop(("job", *key), None)
            return
        more = self._session_jobs.reconcile(obj)
        self._after_pass("job", key, self._job_queue, more)

    async def close(self) -> None:
        """Cancel every pending pass."""
        await self.timers.close()
