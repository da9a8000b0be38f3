"""One container's life in its pod: pull, configure, start, probe, exit, back off, again.

:class:`ContainerLoop` is what the kubelet's sync does for one container, with its
waiting reasons and events:

- image: ``Pulling``/``Pulled`` (``Container image "x" already present on machine``
  when ``imagePullPolicy`` allows); a failed pull is ``ErrImagePull`` (events ``Failed``
  ``Failed to pull image "x": ...`` and ``Error: ErrImagePull``), then
  ``ImagePullBackOff`` (``Back-off pulling image "x"``) until its back-off passes;
- configuration: a missing ConfigMap/Secret/key is ``CreateContainerConfigError``
  (event ``Failed`` ``Error: <message>``), retried when one appears or after back-off;
- start: ``Created container: x``, ``Started container x``; the runtime reports the exit;
  faults ``CrashLoopBackOff``/``KillAfter``/``OOMKilled`` end it on a timer;
- restart per ``restartPolicy``: at once the first time, then ``CrashLoopBackOff``
  (``back-off 20s restarting failed container=x pod=p_ns(uid)``, event ``BackOff``) for
  a delay doubling from :attr:`Timing.backoff_base` to :attr:`Timing.backoff_max`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flink_k8s_sandbox.clock import go_duration
from flink_k8s_sandbox.containerconfig import ContainerConfigError, container_spec
from flink_k8s_sandbox.events import NORMAL, WARNING, container_field_path
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.podfaults import PodFault
from flink_k8s_sandbox.podstatus import ContainerState, terminated_state
from flink_k8s_sandbox.probes import ProbeCallbacks, ProbeRunner
from flink_k8s_sandbox.runtime.base import (
    ContainerExit,
    ContainerHandle,
    ContainerSpec,
    ContainerStartError,
    ImagePullError,
    ProbeResult,
    image_reference,
)

if TYPE_CHECKING:
    from flink_k8s_sandbox.podworker import PodWorker

__all__ = ["ContainerLoop"]

Obj = dict[str, Any]
_KILLS = ("CrashLoopBackOff", "KillAfter", "OOMKilled")
_CONFIG_FAULT = 'configmap "sandbox-fault" not found'


class _IO:
    """The runtime's view of the kubelet for one container instance."""

    def __init__(self, loop: ContainerLoop) -> None:
        self.loop = loop
        self.container_id = ""
        self.pending: list[tuple[datetime, str]] = []

    def log(self, line: str) -> None:
        at = datetime.now(timezone.utc)
        if self.container_id:
            self.loop.worker.env.logs.append(self.container_id, line, at)
        else:
            self.pending.append((at, line))

    def expose(self, container_port: int, host: str, host_port: int) -> None:
        self.loop.worker.expose(container_port, host, host_port)

    def bind(self, container_id: str) -> None:
        self.container_id = container_id
        for at, line in self.pending:
            self.loop.worker.env.logs.append(container_id, line, at)
        self.pending.clear()


class ContainerLoop:
    """Runs one container of a pod worker until it is done for good (or cancelled)."""

    def __init__(self, worker: PodWorker, container: Obj, init: bool = False) -> None:
        self.worker = worker
        self.env = worker.env
        self.container = container
        self.init = init
        self.name = str(container["name"])
        self.image = str(container.get("image", ""))
        states = worker.init if init else worker.regular
        self.state: ContainerState = next(s for s in states if s.name == self.name)
        self.path = container_field_path(self.name, init)
        self.key = (worker.uid, self.name)

    def _event(self, event_type: str, reason: str, message: str) -> None:
        self.worker.record(event_type, reason, message, self.path)

    def _now(self) -> str:
        return format_time(self.env.storage.clock())

    async def run(self) -> ContainerExit | None:
        """The last exit of a container that will not restart (``None``: pod gone)."""
        while True:
            pod = self.worker.pod()
            if pod is None:
                return None
            fault = self.env.faults.fault_for(pod, self.name, self.image)
            if not await self._pull(fault):
                continue
            try:
                spec = self._spec(pod, fault)
            except ContainerConfigError as error:
                await self._config_error(str(error))
                continue
            result, finished = await self._start_and_wait(spec, fault)
            if not self._restarts(result):
                return result
            await self._back_off(finished)

    # -- image ---------------------------------------------------------------------

    async def _pull(self, fault: PodFault | None) -> bool:
        node_images = self.env.images.setdefault(self.worker.node, {})
        policy = self.container.get("imagePullPolicy", "IfNotPresent")
        failing = fault is not None and fault.kind == "ImagePullBackOff"
        present = self.image in node_images and not failing
        if present and policy != "Always":
            self.state.image_id = node_images[self.image].image_id
            self._event(
                NORMAL, "Pulled", f'Container image "{self.image}" already present on machine'
            )
            return True
        if policy == "Never":
            message = f'Container image "{self.image}" is not present with pull policy of Never'
            self._event(WARNING, "ErrImageNeverPull", message)
            return await self._waiting("ErrImageNeverPull", message, self.env.timing.backoff_base)
        pull_key = (self.worker.uid, self.image)
        now = self.env.timers.monotonic()
        if self.env.pulls.in_backoff_since_update(pull_key, now):
            message = f'Back-off pulling image "{self.image}"'
            self._event(NORMAL, "BackOff", message)
            self._event(WARNING, "Failed", "Error: ImagePullBackOff")
            return await self._waiting(
                "ImagePullBackOff", message, self.env.pulls.remaining(pull_key, now)
            )
        return await self._fetch(pull_key, fault if failing else None)

    async def _fetch(self, pull_key: tuple[str, str], fault: PodFault | None) -> bool:
        """Pull the image (a pull fault makes it fail); whether it is there now."""
        self._event(NORMAL, "Pulling", f'Pulling image "{self.image}"')
        started = time.monotonic()
        try:
            if fault is not None:
                raise ImagePullError(fault.message or _not_found(self.image))
            pulled = await self.env.runtime.pull_image(self.image)
        except ImagePullError as error:
            self._event(WARNING, "Failed", f'Failed to pull image "{self.image}": {error}')
            self._event(WARNING, "Failed", "Error: ErrImagePull")
            now = self.env.timers.monotonic()
            self.env.pulls.next(pull_key, now, now)
            resync = min(1.0, self.env.timing.backoff_base / 2)
            return await self._waiting("ErrImagePull", str(error), resync)
        took = go_duration(round(time.monotonic() - started, 3))
        self.env.images.setdefault(self.worker.node, {})[self.image] = pulled
        self.state.image_id = pulled.image_id
        message = (
            f'Successfully pulled image "{self.image}" in {took} ({took} including waiting). '
            f"Image size: {pulled.size} bytes."
        )
        self._event(NORMAL, "Pulled", message)
        return True

    async def _waiting(self, reason: str, message: str, seconds: float) -> bool:
        self.state.wait(reason, message)
        self.worker.publish()
        await asyncio.sleep(max(0.0, seconds))
        return False

    # -- configuration -------------------------------------------------------------

    def _spec(self, pod: Obj, fault: PodFault | None) -> ContainerSpec:
        if fault is not None and fault.kind == "CreateContainerConfigError":
            raise ContainerConfigError(fault.message or _CONFIG_FAULT)
        node = self.env.storage.store.get(("", "nodes"), "", self.worker.node) or {}
        return container_spec(
            pod,
            self.container,
            self.env.lookup,
            init=self.init,
            restart_count=self.state.restart_count + (1 if self.state.container_id else 0),
            node_allocatable=(node.get("status") or {}).get("allocatable") or {},
        )

    async def _config_error(self, message: str) -> None:
        self.state.wait("CreateContainerConfigError", message)
        self.worker.publish()
        self._event(WARNING, "Failed", f"Error: {message}")
        key = (*self.key, "config")
        now = self.env.timers.monotonic()
        delay = self.env.restarts.next(key, now, now)
        await self.worker.wait_for_config(delay)

    # -- running -------------------------------------------------------------------

    async def _start_and_wait(
        self, spec: ContainerSpec, fault: PodFault | None
    ) -> tuple[ContainerExit, float]:
        io = _IO(self)
        started_at = self._now()
        try:
            handle = await self.env.runtime.start_container(spec, io)
        except ContainerStartError as error:
            result = ContainerExit(128, "StartError", str(error))
            self._finish(result, started_at, "")
            return result, self.env.timers.monotonic()
        io.bind(handle.id)
        if self.state.container_id:
            self.state.restart_count += 1
        self.worker.handles[self.name] = handle
        self._event(NORMAL, "Created", f"Created container: {self.name}")
        self._event(NORMAL, "Started", f"Started container {self.name}")
        self.state.run(handle.id, self._now())
        self.state.started = not self.container.get("startupProbe") and not self.init
        self.worker.publish()
        result = await self._supervise(handle, spec, fault, io)
        self._finish(result, self.state.running_since, handle.id)
        return result, self.env.timers.monotonic()

    def _finish(self, result: ContainerExit, started_at: str | None, container_id: str) -> None:
        terminated = terminated_state(
            result.exit_code, result.reason, started_at, self._now(), container_id
        )
        if result.message:
            terminated["message"] = result.message
        self.state.stop(terminated)
        if container_id:
            self.env.logs.close(container_id)
        self.worker.publish()

    async def _supervise(
        self, handle: ContainerHandle, spec: ContainerSpec, fault: PodFault | None, io: _IO
    ) -> ContainerExit:
        exited = asyncio.ensure_future(handle.wait())
        probes = asyncio.ensure_future(self._probes(handle, spec, fault).run())
        waiters: set[asyncio.Future[Any]] = {exited, probes}
        killer = None
        if fault is not None and fault.kind in _KILLS:
            killer = asyncio.ensure_future(asyncio.sleep(fault.run_seconds))
            waiters.add(killer)
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            if exited in done:
                return exited.result()
            if killer is not None and killer in done:
                assert fault is not None
                return await self._fault_exit(handle, fault, io)
            kind = probes.result()
            message = f"Container {self.name} failed {kind} probe, will be restarted"
            self._event(NORMAL, "Killing", message)
            pod_spec = (self.worker.pod() or {}).get("spec", {})
            grace = float(pod_spec.get("terminationGracePeriodSeconds", 30))
            return await self.env.runtime.stop_container(handle, grace)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _fault_exit(self, handle: ContainerHandle, fault: PodFault, io: _IO) -> ContainerExit:
        if fault.kind == "CrashLoopBackOff":
            io.log(f"sandbox fault CrashLoopBackOff: exiting with code {fault.code}")
            reason = ""
        else:
            io.log(f"sandbox fault {fault.kind}: killed after {fault.run_seconds:g}s")
            reason = "OOMKilled" if fault.kind == "OOMKilled" else ""
        with contextlib.suppress(Exception):
            await self.env.runtime.stop_container(handle, 0)
        return ContainerExit(fault.code, reason)

    def _probes(
        self, handle: ContainerHandle, spec: ContainerSpec, fault: PodFault | None
    ) -> ProbeRunner:
        state = self.state

        async def execute(probe: Any) -> ProbeResult:
            return await self.env.runtime.probe(handle, spec, probe)

        def started() -> None:
            state.started = True
            self.worker.publish()

        def readiness(ready: bool) -> None:
            state.ready = ready and not self.init
            self.worker.publish()

        def failed(kind: str, message: str) -> None:
            self._event(WARNING, "Unhealthy", f"{kind} probe failed: {message}")

        never_ready = fault is not None and fault.kind == "NeverReady"
        callbacks = ProbeCallbacks(execute, started, readiness, failed)
        return ProbeRunner(
            self.container, callbacks, self.env.timing.probe_scale, never_ready, spec.pod_ip
        )

    # -- restarts ------------------------------------------------------------------

    def _restarts(self, result: ContainerExit) -> bool:
        pod = self.worker.pod()
        policy = (pod or {}).get("spec", {}).get("restartPolicy", "Always")
        if pod is None:
            return False
        if self.init:
            return result.exit_code != 0 and policy != "Never"
        return policy == "Always" or (policy == "OnFailure" and result.exit_code != 0)

    async def _back_off(self, finished: float) -> None:
        now = self.env.timers.monotonic()
        if self.env.restarts.in_backoff_since(self.key, finished, now):
            delay = self.env.restarts.get(self.key)
            message = (
                f"back-off {go_duration(delay)} restarting failed container={self.name} "
                f"pod={self.worker.pod_label()}"
            )
            self.state.wait("CrashLoopBackOff", message)
            self.worker.publish()
            self._event(
                WARNING,
                "BackOff",
                f"Back-off restarting failed container {self.name} "
                f"in pod {self.worker.pod_label()}",
            )
            await asyncio.sleep(max(0.0, finished + delay - now))
        now = self.env.timers.monotonic()
        self.env.restarts.next(self.key, finished, now)


def _not_found(image: str) -> str:
    reference = image_reference(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{reference}": '
        f'failed to resolve reference "{reference}": {reference}: not found'
    )
