"""Probe timing for one running container: startup, then readiness and liveness.

:class:`ProbeRunner` runs the pod spec's probes through the runtime with their
``initialDelaySeconds``, ``periodSeconds`` (both times :attr:`Timing.probe_scale`),
``timeoutSeconds``, ``successThreshold`` and ``failureThreshold``, and reports through
callbacks: started (startup probe passed, or none), ready or not (readiness), and --
returned by :meth:`ProbeRunner.run` -- which probe failed for good (``startup`` or
``liveness``: the kubelet kills and restarts the container). A container without a
readiness probe is ready once started. Failures are reported as ``Unhealthy`` events
(``Readiness probe failed: HTTP probe failed with statuscode: 503``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.runtime.base import ProbeResult

__all__ = ["ProbeCallbacks", "ProbeRunner", "failure_message"]

Probe = Mapping[str, Any]


def failure_message(probe: Probe, pod_ip: str) -> str:
    """What a failing probe of this kind reports (for a forced failure)."""
    if "httpGet" in probe:
        return "HTTP probe failed with statuscode: 503"
    if "tcpSocket" in probe:
        port = probe["tcpSocket"].get("port", "")
        return f"dial tcp {pod_ip}:{port}: connect: connection refused"
    if "grpc" in probe:
        return 'service unhealthy (responded with "NOT_SERVING")'
    return "command failed with exit code 1"


@dataclass(frozen=True)
class ProbeCallbacks:
    """How the runner reaches the kubelet.

    :param execute: runs one probe (the runtime's ``probe``).
    :param started: the container is started.
    :param readiness: the container became ready (``True``) or unready.
    :param failed: one failed probe: ``(kind, message)`` for the ``Unhealthy`` event.
    """

    execute: Callable[[Probe], Awaitable[ProbeResult]]
    started: Callable[[], None]
    readiness: Callable[[bool], None]
    failed: Callable[[str, str], None]


class ProbeRunner:
    """The probes of one container instance.

    :param container: the container's spec (``startupProbe``, ``readinessProbe``,
        ``livenessProbe``).
    :param never_ready: readiness fails whatever the runtime says (fault ``NeverReady``).
    :param pod_ip: for forced failure messages.
    """

    def __init__(
        self,
        container: Mapping[str, Any],
        callbacks: ProbeCallbacks,
        scale: float,
        never_ready: bool,
        pod_ip: str,
    ) -> None:
        self.container = container
        self.callbacks = callbacks
        self.scale = scale
        self.never_ready = never_ready
        self.pod_ip = pod_ip

    async def run(self) -> str:
        """Probe until a startup or liveness probe fails for good; return its kind."""
        startup = self.container.get("startupProbe")
        if startup and not await self._until_success("Startup", startup):
            return "startup"
        self.callbacks.started()
        readiness = self.container.get("readinessProbe")
        task = asyncio.ensure_future(self._readiness(readiness)) if readiness else None
        if not readiness and not self.never_ready:
            self.callbacks.readiness(True)
        try:
            liveness = self.container.get("livenessProbe")
            if liveness:
                await self._until_failure("Liveness", liveness)
                return "liveness"
            await asyncio.Event().wait()  # runs until cancelled
            return ""
        finally:
            if task is not None:
                task.cancel()

    def _seconds(self, probe: Probe, key: str, default: float) -> float:
        seconds = float(probe.get(key, default)) * self.scale
        return seconds if key == "initialDelaySeconds" else max(0.01, seconds)

    async def _once(self, kind: str, probe: Probe) -> bool:
        timeout = float(probe.get("timeoutSeconds", 1))
        if kind == "Readiness" and self.never_ready:
            result = ProbeResult(False, failure_message(probe, self.pod_ip))
        else:
            try:
                result = await asyncio.wait_for(self.callbacks.execute(probe), timeout)
            except asyncio.TimeoutError:
                result = ProbeResult(False, f"probe timed out after {timeout:g}s")
        if not result.success:
            self.callbacks.failed(kind, result.message)
        return result.success

    async def _ticks(self, probe: Probe) -> None:
        await asyncio.sleep(self._seconds(probe, "initialDelaySeconds", 0))

    async def _until_success(self, kind: str, probe: Probe) -> bool:
        """Startup: ``True`` after ``successThreshold`` (1) successes, ``False`` after
        ``failureThreshold`` failures."""
        await self._ticks(probe)
        failures = 0
        while True:
            if await self._once(kind, probe):
                return True
            failures += 1
            if failures >= int(probe.get("failureThreshold", 3)):
                return False
            await asyncio.sleep(self._seconds(probe, "periodSeconds", 10))

    async def _until_failure(self, kind: str, probe: Probe) -> None:
        await self._ticks(probe)
        failures = 0
        while True:
            failures = 0 if await self._once(kind, probe) else failures + 1
            if failures >= int(probe.get("failureThreshold", 3)):
                return
            await asyncio.sleep(self._seconds(probe, "periodSeconds", 10))

    async def _readiness(self, probe: Probe) -> None:
        await self._ticks(probe)
        successes = failures = 0
        ready = False
        while True:
            if await self._once("Readiness", probe):
                successes, failures = successes + 1, 0
                if not ready and successes >= int(probe.get("successThreshold", 1)):
                    ready = True
                    self.callbacks.readiness(True)
            else:
                successes, failures = 0, failures + 1
                if ready and failures >= int(probe.get("failureThreshold", 3)):
                    ready = False
                    self.callbacks.readiness(False)
            await asyncio.sleep(self._seconds(probe, "periodSeconds", 10))
