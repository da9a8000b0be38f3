"""``local``: Flink containers run as real Flink JVMs on 127.0.0.1; the rest is simulated.

A container whose image runs Flink (:func:`.flinkpods.is_flink_image`: ``flink:*``,
``*/flink:*`` or a pattern of ``flink_images``) and whose arguments are the official
image's (``jobmanager``, ``taskmanager``, ``standalone-job ...``; no ``command`` other than
``/docker-entrypoint.sh``) runs as the Flink process :mod:`..flink` starts from the jars of
``apache-flink-libraries``:

- configuration: the mounted ``/opt/flink/conf/config.yaml`` as in the pod, with only what
  one host forces rewritten (:func:`..flink.host_overrides`: 127.0.0.1, a free host port
  per pod and port name -- kept across restarts of the container -- and the process's own
  ``tmp/``); the JVM's memory options are what Flink's ``BashJavaUtils`` answers, as in the image;
- a TaskManager's ``jobmanager.rpc.address``/``jobmanager.rpc.port`` (a Service name, as
  rendered) is resolved through the Service, its Endpoints and the pod network
  (:func:`.flinkpods.resolve_address`, a not-yet-ready JobManager included); until the
  JobManager's process serves it the container stays ``ContainerCreating`` (up to
  ``jobmanager_wait`` seconds, then ``StartError``), re-resolving on every change of a
  pod, Service or Endpoints and every exposed port rather than on a timer;
- ports: each container port the configuration fixes (6123, 6124, 8081, 6122...) is
  exposed at the host port that serves it, so Service proxies, Endpoints and probes reach
  the real process; ``tcpSocket`` and ``httpGet`` probes really connect (``exec`` and
  ``grpc`` probes are not run and pass);
- logs: the JVM's stdout and stderr (Flink's console log) stream into the container log;
- exit: the process's exit is the container's (a signal N is exit code 128+N), so the
  kubelet restarts it with back-off; stopping sends SIGTERM to the process group, then
  SIGKILL after the grace period;
- files mounted outside ``conf/`` are written under the pod's directory, and their
  container paths are mapped in the configuration and arguments;
- ``/opt/flink/usrlib`` (``local:///opt/flink/usrlib/x.jar``) is a per-pod folder holding
  links to the entries of the runtime's ``usrlib`` folder (setting, or
  ``$FLINK_K8S_SANDBOX_USRLIB``) and of the host folder named by the pod annotation
  ``sandbox.flink-k8s.io/usrlib``; :func:`..flink.stage_usrlib` fills one with the SQL
  runner's jar and scripts.

Every other container (a sidecar, a Flink image with another command) is simulated by
:class:`.simulated.SimulatedRuntime`, HTTP stubs included. Every process is registered with
:mod:`..flink.reaper`: none outlives the sandbox, even when the Python process is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.flink import (
    HOST,
    FlinkProcess,
    FlinkProcessSpec,
    parse_entrypoint_args,
    port_names,
    start_flink_process,
)
from flink_k8s_sandbox.runtime.base import (
    ClusterView,
    ContainerExit,
    ContainerHandle,
    ContainerIO,
    ContainerRuntime,
    ContainerSpec,
    ContainerStartError,
    ProbeResult,
    PulledImage,
)
from flink_k8s_sandbox.runtime.flinkpods import (
    FLINK_IMAGES,
    PodConfiguration,
    is_flink_image,
    read_pod_configuration,
    resolve_address,
)
from flink_k8s_sandbox.runtime.netprobes import http_probe, tcp_probe
from flink_k8s_sandbox.runtime.ports import PodPorts, probe_port
from flink_k8s_sandbox.runtime.simulated import SimulatedRuntime

__all__ = ["USRLIB_ANNOTATION", "LocalRuntime", "local_runtime_from_env"]

USRLIB_ANNOTATION = "sandbox.flink-k8s.io/usrlib"
"""Pod annotation: a host folder whose entries appear in the pod's ``/opt/flink/usrlib``."""

_ENTRYPOINTS = ("/docker-entrypoint.sh", "docker-entrypoint.sh")
_POLL_SECONDS = 0.2
_READ_CHUNK = 1 << 20


class _FlinkContainer(ContainerHandle):
    """A Flink process standing for one container instance."""

    def __init__(self, spec: ContainerSpec, io: ContainerIO, process: FlinkProcess) -> None:
        self.spec = spec
        self.io = io
        self.process = process
        seed = f"{spec.pod_uid}/{spec.name}/{spec.restart_count}/{process.pid}"
        self._id = f"local://{hashlib.sha256(seed.encode()).hexdigest()}"
        self.exit: asyncio.Future[ContainerExit] = asyncio.get_running_loop().create_future()
        self.monitor: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        return self._id

    async def wait(self) -> ContainerExit:
        return await asyncio.shield(self.exit)

    async def watch(self) -> None:
        """Stream the console output into the log until the process exits; then finish."""
        offset = 0
        while True:
            alive = self.process.is_alive()
            offset = self._drain(offset)
            if not alive:
                break
            await asyncio.sleep(_POLL_SECONDS)
        code = self.process.returncode or 0
        if not self.exit.done():
            self.exit.set_result(ContainerExit(128 - code if code < 0 else code))

    def _drain(self, offset: int) -> int:
        try:
            with self.process.out_path.open("rb") as out:
                out.seek(offset)
                data = out.read(_READ_CHUNK)
        except OSError:
            return offset
        end = data.rfind(b"\n") + 1
        for line in data[:end].decode("utf-8", errors="replace").splitlines():
            self.io.log(line)
        return offset + end


class LocalRuntime(ContainerRuntime):
    """Real Flink processes for Flink containers, simulated containers for the others.

    :param timing: the simulated containers' delays.
    :param workdir: where pods' directories go (default: a fresh temporary folder,
        removed by :meth:`close`).
    :param usrlib: a host folder whose entries every Flink pod finds in
        ``/opt/flink/usrlib``.
    :param flink_images: image patterns that run Flink (``fnmatch``).
    :param jobmanager_wait: seconds a TaskManager waits for its JobManager's address.
    """

    name = "local"

    def __init__(
        self,
        timing: Timing | None = None,
        *,
        workdir: Path | None = None,
        usrlib: Path | None = None,
        flink_images: Sequence[str] = FLINK_IMAGES,
        jobmanager_wait: float = 180.0,
    ) -> None:
        self.timing = timing or Timing()
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="flink-k8s-sandbox-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.usrlib = usrlib
        self.flink_images = tuple(flink_images)
        self.jobmanager_wait = jobmanager_wait
        self._simulated = SimulatedRuntime(self.timing)
        self._cluster: ClusterView | None = None
        self._ports = PodPorts()
        self._running: set[_FlinkContainer] = set()

    def attach(self, cluster: ClusterView) -> None:
        self._cluster = cluster
        self._simulated.attach(cluster)

    def runs_flink(self, spec: ContainerSpec) -> bool:
        """Whether the container runs as a Flink process (see the module docstring)."""
        if spec.init or not is_flink_image(spec.image, self.flink_images):
            return False
        if spec.command and spec.command[0] not in _ENTRYPOINTS:
            return False
        args = (*spec.command[1:], *spec.args)
        return bool(args) and args[0] in ("jobmanager", "taskmanager", "standalone-job")

    def pod_dir(self, spec: ContainerSpec) -> Path:
        """The pod's folder: ``<workdir>/<namespace>_<pod>_<uid prefix>``."""
        return self.workdir / f"{spec.namespace}_{spec.pod_name}_{spec.pod_uid[:8]}"

    async def pull_image(self, image: str) -> PulledImage:
        return await self._simulated.pull_image(image)

    async def start_container(self, spec: ContainerSpec, io: ContainerIO) -> ContainerHandle:
        if not self.runs_flink(spec):
            io.log(f"sandbox: local runtime: {spec.name} ({spec.image}) is not a Flink process")
            return await self._simulated.start_container(spec, io)
        args = (*spec.command[1:], *spec.args)
        try:
            role = parse_entrypoint_args(args).role
            pod = read_pod_configuration(spec.files, spec.env)
        except ValueError as error:
            raise ContainerStartError(str(error)) from error
        jobmanager = None
        if role == "taskmanager":
            jobmanager = await self._jobmanager_address(spec, pod, io)
        process_spec = self._process_spec(spec, args, pod, jobmanager)
        process = await self._spawn(process_spec)
        container = _FlinkContainer(spec, io, process)
        for container_port, host_port in sorted(process.port_map.items()):
            io.expose(container_port, HOST, host_port)
        io.log(
            f"sandbox: started Flink {role} pid {process.pid} in {process_spec.workdir}; ports "
            + ", ".join(f"{name} {HOST}:{port}" for name, port in sorted(process.ports.items()))
        )
        container.monitor = asyncio.ensure_future(container.watch())
        self._running.add(container)
        container.exit.add_done_callback(lambda _: self._running.discard(container))
        return container

    async def _jobmanager_address(
        self, spec: ContainerSpec, pod: PodConfiguration, io: ContainerIO
    ) -> tuple[str, int]:
        conf = pod.configuration
        host = conf.get("jobmanager.rpc.address", "localhost")
        port = int(conf.get("jobmanager.rpc.port", "6123"))
        cluster = self._cluster
        if cluster is None:
            raise ContainerStartError("the local runtime is not attached to a kubelet")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.jobmanager_wait
        logged = False
        while (found := resolve_address(cluster, spec.namespace, host, port)) is None:
            if loop.time() > deadline:
                raise ContainerStartError(
                    f"no JobManager reachable at {host}:{port} after {self.jobmanager_wait:g}s"
                )
            if not logged:
                io.log(f"sandbox: waiting for the JobManager at {host}:{port}")
                logged = True
            # Woken as soon as a pod, Service or Endpoints changes or a port is exposed:
            # the TaskManager's JVM starts right after its JobManager's does.
            await cluster.wait_changed(_POLL_SECONDS)
        return found

    def _process_spec(
        self,
        spec: ContainerSpec,
        args: Sequence[str],
        pod: PodConfiguration,
        jobmanager: tuple[str, int] | None,
    ) -> FlinkProcessSpec:
        pod_dir = self.pod_dir(spec)
        mounts: dict[str, Path] = {}
        for path, content in pod.other_files.items():
            host_path = pod_dir / "files" / path.lstrip("/")
            host_path.parent.mkdir(parents=True, exist_ok=True)
            host_path.write_bytes(content)
            mounts[path] = host_path
        annotations = (spec.pod.get("metadata") or {}).get("annotations") or {}
        sources = [self.usrlib, annotations.get(USRLIB_ANNOTATION)]
        usrlib = _link_entries(pod_dir / "usrlib", (Path(s) for s in sources if s))
        role = parse_entrypoint_args(args).role
        return FlinkProcessSpec(
            args=tuple(args),
            configuration=pod.configuration,
            workdir=pod_dir / f"{spec.name}-{spec.restart_count}",
            env=dict(spec.env),
            usrlib=usrlib,
            mounts=mounts,
            conf_files=pod.conf_files,
            ports=self._ports.ports_for((spec.pod_uid, spec.name), port_names(role)),
            jobmanager_address=jobmanager,
            name=f"{spec.namespace}/{spec.pod_name}/{spec.name}",
        )

    async def _spawn(self, spec: FlinkProcessSpec) -> FlinkProcess:
        """Start the process off the loop; a cancelled start leaves nothing running."""

        def start() -> FlinkProcess:
            try:
                return start_flink_process(spec)
            except Exception as error:  # the boundary: every failure is a StartError
                raise ContainerStartError(f"{type(error).__name__}: {error}") from error

        future = asyncio.get_running_loop().run_in_executor(None, start)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                process = await future
                await asyncio.to_thread(process.kill)
            raise

    async def stop_container(self, handle: ContainerHandle, grace_seconds: float) -> ContainerExit:
        if not isinstance(handle, _FlinkContainer):
            return await self._simulated.stop_container(handle, grace_seconds)
        self._ports.forget((handle.spec.pod_uid, handle.spec.name))
        if grace_seconds > 0 and handle.process.is_alive():
            handle.io.log(f"sandbox: SIGTERM to pid {handle.process.pid}")
        await asyncio.to_thread(handle.process.stop, max(0.0, grace_seconds))
        return await handle.wait()

    async def probe(
        self, handle: ContainerHandle, spec: ContainerSpec, probe: Mapping[str, Any]
    ) -> ProbeResult:
        if not isinstance(handle, _FlinkContainer):
            return await self._simulated.probe(handle, spec, probe)
        timeout = float(probe.get("timeoutSeconds") or 1)
        for kind in ("httpGet", "tcpSocket"):
            action = probe.get(kind)
            if action is None:
                continue
            port = probe_port(action, spec.ports)
            host_port = handle.process.port_map.get(port) if port is not None else None
            address = f"{spec.pod_ip}:{port}"
            if kind == "httpGet":
                return await http_probe(host_port, address, action, timeout)
            return await tcp_probe(host_port, address, timeout)
        return ProbeResult(True)  # exec and grpc probes are not run locally

    async def close(self) -> None:
        containers = list(self._running)
        await asyncio.gather(
            *(asyncio.to_thread(c.process.stop, 5.0) for c in containers),
            return_exceptions=True,
        )
        for container in containers:
            if container.monitor is not None:
                container.monitor.cancel()
        await self._simulated.close()
        if self._own_workdir:
            await asyncio.to_thread(shutil.rmtree, self.workdir, True)


def _link_entries(target: Path, sources: Iterable[Path]) -> Path:
    """Fill ``target`` with links to the entries of ``sources`` (a later one wins)."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        for entry in sorted(source.iterdir()) if source.is_dir() else ():
            link = target / entry.name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(entry.resolve())
    return target


def local_runtime_from_env(timing: Timing) -> LocalRuntime:
    """The ``local`` runtime configured by the environment.

    ``FLINK_K8S_SANDBOX_WORKDIR`` (pods' folders), ``FLINK_K8S_SANDBOX_USRLIB`` (a folder
    every Flink pod finds in ``/opt/flink/usrlib``) and ``FLINK_K8S_SANDBOX_FLINK_IMAGES``
    (more comma-separated image patterns that run Flink).
    """
    workdir = os.environ.get("FLINK_K8S_SANDBOX_WORKDIR")
    usrlib = os.environ.get("FLINK_K8S_SANDBOX_USRLIB")
    extra = os.environ.get("FLINK_K8S_SANDBOX_FLINK_IMAGES", "")
    patterns = (*FLINK_IMAGES, *(p.strip() for p in extra.split(",") if p.strip()))
    return LocalRuntime(
        timing,
        workdir=Path(workdir) if workdir else None,
        usrlib=Path(usrlib) if usrlib else None,
        flink_images=patterns,
    )
