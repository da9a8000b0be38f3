"""``simulated``: containers that run nothing but behave like healthy ones.

A container starts after :attr:`Timing.start_delay`, logs a few lines, passes every probe
and runs until it is stopped; on SIGTERM it exits 0 after :attr:`Timing.stop_delay`
(with annotation ``sandbox.flink-k8s.io/ignore-sigterm: "true"`` it is killed at the end
of the grace period instead, exit code 137). Images always pull (faults aside, which the
kubelet plays). With ``serve_ports`` each TCP ``containerPort`` is served on 127.0.0.1
by a tiny HTTP stub answering ``200`` with a JSON description of the container, and
exposed through the pod network, so the API server's proxies reach something.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_flink_k8s.sandbox.clock import Timing
from airflow_provider_flink_k8s.sandbox.runtime.base import (
    ContainerExit,
    ContainerHandle,
    ContainerIO,
    ContainerRuntime,
    ContainerSpec,
    PortSpec,
    ProbeResult,
    PulledImage,
    image_reference,
)

__all__ = ["IGNORE_SIGTERM", "SimulatedRuntime"]

IGNORE_SIGTERM = "sandbox.flink-k8s.io/ignore-sigterm"
_HOST = "127.0.0.1"


class _Container(ContainerHandle):
    def __init__(self, spec: ContainerSpec, io: ContainerIO, number: str) -> None:
        self.spec = spec
        self.io = io
        self._id = f"simulated://{number}"
        self.exit: asyncio.Future[ContainerExit] = asyncio.get_running_loop().create_future()
        self.servers: list[asyncio.AbstractServer] = []

    @property
    def id(self) -> str:
        return self._id

    async def wait(self) -> ContainerExit:
        return await asyncio.shield(self.exit)

    def finish(self, result: ContainerExit) -> None:
        for server in self.servers:
            server.close()
        if not self.exit.done():
            self.exit.set_result(result)


class SimulatedRuntime(ContainerRuntime):
    """Containers simulated on the event loop.

    :param timing: start and stop delays.
    :param serve_ports: serve each TCP container port with an HTTP stub on 127.0.0.1.
    """

    name = "simulated"

    def __init__(self, timing: Timing | None = None, serve_ports: bool = True) -> None:
        self.timing = timing or Timing()
        self.serve_ports = serve_ports
        self._running: set[_Container] = set()
        self._count = 0

    async def pull_image(self, image: str) -> PulledImage:
        reference = image_reference(image).split("@")[0]
        digest = hashlib.sha256(reference.encode()).hexdigest()
        repository = (
            reference.rsplit(":", 1)[0] if ":" in reference.rsplit("/", 1)[-1] else reference
        )
        return PulledImage(f"{repository}@sha256:{digest}", 1000 + int(digest[:5], 16))

    async def start_container(self, spec: ContainerSpec, io: ContainerIO) -> ContainerHandle:
        await asyncio.sleep(self.timing.start_delay)
        self._count += 1
        seed = f"{spec.pod_uid}/{spec.name}/{spec.restart_count}/{self._count}"
        container = _Container(spec, io, hashlib.sha256(seed.encode()).hexdigest())
        io.log(f"sandbox: simulated container {spec.name} started (image {spec.image})")
        try:
            if self.serve_ports:
                for port in spec.ports:
                    if port.protocol == "TCP":
                        await self._serve(container, port)
        except BaseException:
            container.finish(ContainerExit(137))
            raise
        if spec.init:  # an init container does its work and completes
            asyncio.get_running_loop().call_later(
                self.timing.start_delay, container.finish, ContainerExit(0)
            )
        self._running.add(container)
        container.exit.add_done_callback(lambda _: self._running.discard(container))
        return container

    async def _serve(self, container: _Container, port: PortSpec) -> None:
        spec = container.spec
        description = {
            "pod": spec.pod_name,
            "namespace": spec.namespace,
            "container": spec.name,
            "port": port.container_port,
        }

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                body = json.dumps({**description, "request": line}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(answer, _HOST, 0)
        container.servers.append(server)
        host_port = int(server.sockets[0].getsockname()[1])
        container.io.expose(port.container_port, _HOST, host_port)
        container.io.log(
            f"sandbox: serving container port {port.container_port} at {_HOST}:{host_port}"
        )

    async def stop_container(self, handle: ContainerHandle, grace_seconds: float) -> ContainerExit:
        assert isinstance(handle, _Container)
        if handle.exit.done():
            return handle.exit.result()
        annotations = handle.spec.pod.get("metadata", {}).get("annotations") or {}
        if grace_seconds > 0 and annotations.get(IGNORE_SIGTERM) == "true":
            handle.io.log("sandbox: received SIGTERM, ignoring it")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(handle.wait(), timeout=grace_seconds)
            result = ContainerExit(137)
        elif grace_seconds > 0:
            handle.io.log("sandbox: received SIGTERM, exiting")
            await asyncio.sleep(min(self.timing.stop_delay, grace_seconds))
            result = ContainerExit(0)
        else:
            result = ContainerExit(137)
        handle.finish(result)
        return await handle.wait()

    async def probe(
        self, handle: ContainerHandle, spec: ContainerSpec, probe: Mapping[str, Any]
    ) -> ProbeResult:
        return ProbeResult(True)

    async def close(self) -> None:
        for container in list(self._running):
            container.finish(ContainerExit(137))
