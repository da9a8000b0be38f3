"""One pod on its node: volumes, init containers, containers, status -- and its end.

A :class:`PodWorker` is the kubelet's pod worker. It gives the pod an IP, waits for its
ConfigMap/Secret volumes (``FailedMount`` while missing), runs the init containers one
after the other and then every container in its own loop (:mod:`.containerloop`), and
publishes the pod's status after each change. :meth:`PodWorker.terminate` stops the
containers within the grace period, reports the pod terminal and deletes it with grace
period 0; :meth:`PodWorker.abandon` stops everything without writing (the pod is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flink_k8s_sandbox.clock import Backoff, Timers, Timing
from flink_k8s_sandbox.containerconfig import mount_errors
from flink_k8s_sandbox.containerloop import ContainerLoop
from flink_k8s_sandbox.deletion import DeleteOptions, delete_object
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.events import NORMAL, WARNING, EventRecorder, EventSource
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.network import PodNetwork
from flink_k8s_sandbox.podfaults import PodFaults
from flink_k8s_sandbox.podlogs import PodLogs
from flink_k8s_sandbox.podstatus import (
    ContainerState,
    container_status,
    pod_conditions,
    pod_phase,
    terminated_state,
)
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType
from flink_k8s_sandbox.runtime.base import (
    ContainerHandle,
    ContainerRuntime,
    PulledImage,
    image_reference,
)
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = ["KubeletEnv", "PodWorker"]

Obj = dict[str, Any]
_LOG = logging.getLogger(__name__)
_PODS = ("", "pods")
_OPTS = WriteOptions(field_manager="kubelet")
_UNKNOWN = "The container could not be located when the pod was terminated"


@dataclass
class KubeletEnv:
    """What every pod worker of the kubelet shares."""

    storage: Storage
    registry: ResourceRegistry
    timers: Timers
    events: EventRecorder
    runtime: ContainerRuntime
    network: PodNetwork
    logs: PodLogs
    faults: PodFaults
    timing: Timing
    restarts: Backoff
    pulls: Backoff
    images: dict[str, dict[str, PulledImage]] = field(default_factory=dict)
    address_changed: Callable[[], None] = lambda: None
    """Called when a pod's port is exposed (the kubelet wakes address waiters)."""

    def pods_type(self) -> ResourceType:
        rt = self.registry.get("", "v1", "pods")
        assert rt is not None
        return rt

    def lookup(self, plural: str, namespace: str, name: str) -> Obj | None:
        return self.storage.store.get(("", plural), namespace, name)


class PodWorker:
    """Runs one pod bound to one of the sandbox's nodes."""

    def __init__(self, env: KubeletEnv, pod: Obj) -> None:
        self.env = env
        metadata, spec = pod["metadata"], pod.get("spec", {})
        self.namespace, self.name, self.uid = (
            metadata["namespace"],
            metadata["name"],
            metadata["uid"],
        )
        self.node = str(spec.get("nodeName"))
        self.source = EventSource("kubelet", self.node)
        first = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
        self.init = [
            ContainerState(c["name"], _image(c), init=True, waiting=(first, ""))
            for c in spec.get("initContainers") or []
        ]
        self.regular = [
            ContainerState(c["name"], _image(c), waiting=(first, ""))
            for c in spec.get("containers") or []
        ]
        self.handles: dict[str, ContainerHandle] = {}
        self.pod_ip = ""
        self.host_ip = "127.0.0.1"
        self.start_time = format_time(env.storage.clock())
        self.finishing = False
        self.config_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._main = env.timers.spawn(self._run(), name=f"pod {self.namespace}/{self.name}")
        self._ending: asyncio.Task[Any] | None = None
        self._released = False
        self._images = [str(c.get("image", "")) for c in _containers(spec)]

    # -- reads ---------------------------------------------------------------------

    def pod(self) -> Obj | None:
        stored = self.env.storage.store.get(_PODS, self.namespace, self.name)
        if stored is None or stored["metadata"].get("uid") != self.uid:
            return None
        return {**stored, "apiVersion": "v1", "kind": "Pod"}

    def record(self, event_type: str, reason: str, message: str, field_path: str = "") -> None:
        pod = self.pod()
        if pod is not None:
            self.env.events.record(pod, event_type, reason, message, self.source, field_path)

    def pod_label(self) -> str:
        return f"{self.name}_{self.namespace}({self.uid})"

    # -- lifecycle -----------------------------------------------------------------

    async def _run(self) -> None:
        pod = self.pod()
        if pod is None:
            return
        if pod.get("spec", {}).get("hostNetwork"):
            self.pod_ip = self.host_ip
        else:
            self.pod_ip = self.env.network.allocate_pod_ip()
        self.publish()
        if not await self._mount_volumes():
            return
        spec = pod.get("spec", {})
        for container in spec.get("initContainers") or []:
            result = await ContainerLoop(self, container, init=True).run()
            if result is None or result.exit_code != 0:
                self.publish()
                return
        self._tasks = [
            self.env.timers.spawn(ContainerLoop(self, c).run(), name=f"{self.name}/{c['name']}")
            for c in spec.get("containers") or []
        ]
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.publish()

    async def _mount_volumes(self) -> bool:
        attempt = 0
        while True:
            pod = self.pod()
            if pod is None:
                return False
            problems = mount_errors(pod, self.env.lookup)
            if not problems:
                return True
            for _, message in problems:
                self.record(WARNING, "FailedMount", message)
            attempt += 1
            delay = min(
                self.env.timing.backoff_base * 2 ** min(attempt - 1, 10),
                self.env.timing.backoff_max,
            )
            await self.wait_for_config(delay)

    async def wait_for_config(self, timeout: float) -> None:
        """Sleep until a ConfigMap or Secret of the namespace changes, or ``timeout``."""
        self.config_changed.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.config_changed.wait(), timeout)

    def terminate(self, grace: float) -> None:
        """Stop the pod within ``grace`` seconds, then delete it (once)."""
        if self._ending is None:
            self._ending = self.env.timers.spawn(self._terminate(grace), name=f"stop {self.name}")

    async def _cancel_loops(self) -> None:
        tasks = [self._main, *self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _terminate(self, grace: float) -> None:
        await self._cancel_loops()
        running = [
            (state, self.handles[state.name])
            for state in [*self.init, *self.regular]
            if state.running_since is not None and state.name in self.handles
        ]
        for state, _ in running:
            self.record(NORMAL, "Killing", f"Stopping container {state.name}", _path(state))
        exits = await asyncio.gather(
            *(self.env.runtime.stop_container(handle, grace) for _, handle in running)
        )
        now = format_time(self.env.storage.clock())
        for (state, handle), result in zip(running, exits, strict=True):
            state.stop(
                terminated_state(
                    result.exit_code, result.reason, state.running_since, now, handle.id
                )
            )
            self.env.logs.close(handle.id)
        for state in [*self.init, *self.regular]:
            if state.waiting is not None and state.last_terminated is None:
                state.stop(
                    {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": _UNKNOWN,
                        "startedAt": None,
                        "finishedAt": None,
                    }
                )
        self.finishing = True
        self.publish()
        self._release()
        self._delete()

    def _delete(self) -> None:
        try:
            delete_object(
                self.env.storage,
                self.env.pods_type(),
                self.namespace,
                self.name,
                DeleteOptions(grace_period_seconds=0, uid=self.uid),
            )
        except ApiError as error:
            _LOG.debug("kubelet could not delete pod %s: %s", self.name, error)

    def _release(self) -> None:
        if self.pod_ip and self.pod_ip != self.host_ip and not self._released:
            self._released = True
            self.env.network.release_pod_ip(self.pod_ip)

    def abandon(self) -> None:
        """The pod is gone: kill its containers, free its IP and logs; write nothing."""

        async def kill() -> None:
            await self._cancel_loops()
            if self._ending is not None:
                self._ending.cancel()
            for handle in list(self.handles.values()):
                with contextlib.suppress(Exception):
                    await self.env.runtime.stop_container(handle, 0)
            self._release()
            for handle in self.handles.values():
                self.env.logs.drop(handle.id)
            for state in [*self.init, *self.regular]:
                for old in (state.terminated, state.last_terminated):
                    if old and old.get("containerID"):
                        self.env.logs.drop(old["containerID"])
                self.env.restarts.forget((self.uid, state.name))
                self.env.restarts.forget((self.uid, state.name, "config"))
            for image in self._images:
                self.env.pulls.forget((self.uid, image))

        self.env.timers.spawn(kill(), name=f"abandon {self.name}")

    # -- status --------------------------------------------------------------------

    def publish(self) -> None:
        """Write the pod's status when it changed."""
        pod = self.pod()
        if pod is None:
            return
        old = pod.get("status") or {}
        status = self._status(pod, old)
        if status == old:
            return

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            current["status"] = status
            return current

        try:
            self.env.storage.modify(
                self.env.pods_type(), self.namespace, self.name, mutate, _OPTS, "status"
            )
        except ApiError as error:
            _LOG.debug("kubelet could not update pod %s: %s", self.name, error)

    def _status(self, pod: Obj, old: Obj) -> Obj:
        spec = pod.get("spec", {})
        phase = pod_phase(spec, self.init, self.regular, terminal=self.finishing)
        now = format_time(self.env.storage.clock())
        status = {k: v for k, v in old.items() if k not in _OWNED}
        status["phase"] = phase
        status["conditions"] = pod_conditions(
            phase, bool(self.pod_ip), self.init, self.regular, old.get("conditions") or [], now
        )
        status["hostIP"] = self.host_ip
        status["hostIPs"] = [{"ip": self.host_ip}]
        if self.pod_ip:
            status["podIP"] = self.pod_ip
            status["podIPs"] = [{"ip": self.pod_ip}]
        status["startTime"] = self.start_time
        if self.init:
            status["initContainerStatuses"] = [container_status(s) for s in self.init]
        status["containerStatuses"] = [container_status(s) for s in self.regular]
        return status

    def expose(self, container_port: int, host: str, host_port: int) -> None:
        if self.pod_ip:
            self.env.network.expose(self.pod_ip, container_port, host, host_port)
            self.env.address_changed()


_OWNED = {
    "phase",
    "conditions",
    "hostIP",
    "hostIPs",
    "podIP",
    "podIPs",
    "startTime",
    "initContainerStatuses",
    "containerStatuses",
}


def _containers(spec: Obj) -> list[Obj]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def _image(container: Obj) -> str:
    return image_reference(str(container.get("image", "")))


def _path(state: ContainerState) -> str:
    return f"spec.{'initContainers' if state.init else 'containers'}{{{state.name}}}"
