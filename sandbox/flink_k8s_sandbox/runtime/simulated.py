"""``simulated``: containers that run nothing but behave like healthy ones.

A container starts after :attr:`Timing.start_delay`, logs a few lines, passes every probe
and runs until it is stopped; on SIGTERM it exits 0 after :attr:`Timing.stop_delay`
(with annotation ``sandbox.flink-k8s.io/ignore-sigterm: "true"`` it is killed at the end
of the grace period instead, exit code 137). Images always pull (faults aside, which the
kubelet plays). With ``serve_ports`` each TCP ``containerPort`` is served on 127.0.0.1
by a tiny HTTP stub answering ``200`` with a JSON description of the container, and
exposed through the pod network, so the API server's proxies reach something.

Flink containers of a standalone cluster get more once the kubelet attached the runtime
(:meth:`SimulatedRuntime.attach`): a JobManager (image running Flink, argument
``jobmanager`` or ``standalone-job``) serves a stand-in of Flink's REST API on its
``rest.port`` (:mod:`.simulatedflink`, :mod:`..flinkstandin`), and a TaskManager
(``taskmanager``) registers with the JobManager its ``jobmanager.rpc.address`` leads to
while its pod is Ready -- so a deploy, job submissions, savepoints and rescales run
without a JVM.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flinkstandin import StandInServer
from flink_k8s_sandbox.runtime.base import (
    ClusterView,
    ContainerExit,
    ContainerHandle,
    ContainerIO,
    ContainerRuntime,
    ContainerSpec,
    ContainerStartError,
    PortSpec,
    ProbeResult,
    PulledImage,
    image_reference,
)
from flink_k8s_sandbox.runtime.simulatedflink import (
    TaskManagerContainers,
    flink_role,
    rest_port,
    rpc_port,
    start_standin_jobmanager,
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
        self.standin: StandInServer | None = None
        self.closing: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self._id

    async def wait(self) -> ContainerExit:
        return await asyncio.shield(self.exit)

    def finish(self, result: ContainerExit) -> None:
        for server in self.servers:
            server.close()
        if self.standin is not None and self.closing is None:
            self.closing = asyncio.ensure_future(self.standin.close())
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
        self._cluster: ClusterView | None = None
        self._taskmanagers = TaskManagerContainers()

    def attach(self, cluster: ClusterView) -> None:
        self._cluster = cluster

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
        role = flink_role(spec) if self._cluster is not None and self.serve_ports else None
        try:
            if role == "jobmanager":
                await self._serve_jobmanager(container)
            elif self.serve_ports:
                for port in spec.ports:
                    if port.protocol == "TCP":
                        await self._serve(container, port)
        except BaseException:
            container.finish(ContainerExit(137))
            if container.closing is not None:
                await container.closing
            raise
        if role == "taskmanager":
            self._taskmanagers.add(container.id, spec)
            container.exit.add_done_callback(lambda _: self._taskmanagers.discard(container.id))
        if spec.init:  # an init container does its work and completes
            asyncio.get_running_loop().call_later(
                self.timing.start_delay, container.finish, ContainerExit(0)
            )
        self._running.add(container)
        container.exit.add_done_callback(lambda _: self._running.discard(container))
        return container

    async def _serve_jobmanager(self, container: _Container) -> None:
        """Stubs on the JobManager's ports, the stand-in REST API on its ``rest.port``."""
        spec = container.spec
        assert self._cluster is not None
        try:
            rest, rpc = rest_port(spec), rpc_port(spec)
        except ValueError as error:
            raise ContainerStartError(f"unreadable Flink configuration: {error}") from error
        # Flink listens on its RPC port whether the pod declares it or not.
        ports = {p.container_port: p for p in spec.ports if p.protocol == "TCP"}
        ports.setdefault(rpc, PortSpec(rpc, "rpc"))
        rpc_address = None
        for port in ports.values():
            if port.container_port != rest:
                address = await self._serve(container, port)
                if port.container_port == rpc:
                    rpc_address = address
        standin = await start_standin_jobmanager(
            spec, self._cluster, self._taskmanagers, rpc_address, step=self.timing.start_delay
        )
        container.standin = standin
        container.io.expose(rest, _HOST, standin.port)
        container.io.log(
            f"sandbox: Flink REST stand-in of container port {rest} at {_HOST}:{standin.port}"
        )

    async def _serve(self, container: _Container, port: PortSpec) -> tuple[str, int]:
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
        return _HOST, host_port

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
        if handle.closing is not None:
            await handle.closing
        return await handle.wait()

    async def probe(
        self, handle: ContainerHandle, spec: ContainerSpec, probe: Mapping[str, Any]
    ) -> ProbeResult:
        return ProbeResult(True)

    async def close(self) -> None:
        containers = list(self._running)
        for container in containers:
            container.finish(ContainerExit(137))
        closing = [c.closing for c in containers if c.closing is not None]
        await asyncio.gather(*closing, return_exceptions=True)
