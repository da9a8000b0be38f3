"""The kubelet of every sandbox node: runs the pods bound to them through a runtime.

:class:`Kubelet` reacts to pod events: a pod bound to an existing Node gets a
:class:`~.podworker.PodWorker` (IP from the :class:`~.network.PodNetwork`, containers
through the :class:`~.runtime.base.ContainerRuntime`, status and events); a pod marked
for deletion is stopped within its ``deletionGracePeriodSeconds`` and then deleted with
grace period 0 (the second half of a graceful deletion); a pod removed outright has its
containers killed. ConfigMap and Secret changes wake pods waiting for them
(``FailedMount``, ``CreateContainerConfigError``). Container logs go to
:class:`~.podlogs.PodLogs`; per-pod faults come from :class:`~.podfaults.PodFaults`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from flink_k8s_sandbox.clock import Backoff, Timers, Timing
from flink_k8s_sandbox.events import EventRecorder
from flink_k8s_sandbox.network import PodNetwork
from flink_k8s_sandbox.podfaults import PodFaults
from flink_k8s_sandbox.podlogs import PodLogs
from flink_k8s_sandbox.podworker import KubeletEnv, PodWorker
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.runtime.base import ClusterView, ContainerRuntime
from flink_k8s_sandbox.storage import Storage
from flink_k8s_sandbox.store import StoreEvent
from flink_k8s_sandbox.workloads.refs import is_deleting, is_terminal

__all__ = ["Kubelet"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_PODS = ("", "pods")
_NODES = ("", "nodes")
_CONFIG = {("", "configmaps"), ("", "secrets")}
_ADDRESSES = {_PODS, ("", "services"), ("", "endpoints")}


class Kubelet:
    """Runs pods on the sandbox's nodes.

    :param runtime: runs the containers.
    :param network: gives pods their IPs and maps their ports to loopback addresses.
    :param logs: where container output goes (served by ``pods/<name>/log``).
    :param faults: per-pod fault rules.
    :param timing: back-off and probe timing.
    """

    def __init__(
        self,
        storage: Storage,
        registry: ResourceRegistry,
        timers: Timers,
        events: EventRecorder,
        *,
        runtime: ContainerRuntime,
        network: PodNetwork,
        logs: PodLogs,
        faults: PodFaults,
        timing: Timing,
    ) -> None:
        self.env = KubeletEnv(
            storage=storage,
            registry=registry,
            timers=timers,
            events=events,
            runtime=runtime,
            network=network,
            logs=logs,
            faults=faults,
            timing=timing,
            restarts=Backoff(timing.backoff_base, timing.backoff_max),
            pulls=Backoff(timing.backoff_base, timing.backoff_max),
        )
        self.workers: dict[str, PodWorker] = {}
        self._changed = asyncio.Event()
        self.env.address_changed = self._address_changed
        runtime.attach(
            ClusterView(lookup=self.env.lookup, resolve=network.resolve, changed=self._wait_changed)
        )

    def _address_changed(self) -> None:
        """Wake whoever waits for an address (:attr:`ClusterView.changed`)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_changed(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def handle(self, event: StoreEvent) -> None:
        if event.key in _ADDRESSES:
            self._address_changed()
        if event.key == _PODS:
            self._pod_event(event)
        elif event.key in _CONFIG:
            namespace = event.obj["metadata"].get("namespace", "")
            for worker in self.workers.values():
                if worker.namespace == namespace:
                    worker.config_changed.set()

    def _pod_event(self, event: StoreEvent) -> None:
        pod = event.obj
        uid = pod["metadata"].get("uid", "")
        if event.type == "DELETED":
            worker = self.workers.pop(uid, None)
            if worker is not None:
                worker.abandon()
            return
        node = pod.get("spec", {}).get("nodeName")
        if not node or self.env.storage.store.get(_NODES, "", node) is None:
            return
        worker = self.workers.get(uid)
        if worker is None and not is_deleting(pod) and not is_terminal(pod):
            worker = self.workers[uid] = PodWorker(self.env, {**pod, "kind": "Pod"})
        if is_deleting(pod):
            grace = float(pod["metadata"].get("deletionGracePeriodSeconds") or 0)
            if worker is None:
                worker = self.workers[uid] = PodWorker(self.env, {**pod, "kind": "Pod"})
            worker.terminate(grace)

    async def close(self) -> None:
        """Stop every container (the server is stopping)."""
        for worker in list(self.workers.values()):
            worker.abandon()
        self.workers.clear()
        await self.env.runtime.close()
