"""The container runtime interface the kubelet drives (the sandbox's CRI).

The kubelet (:mod:`..kubelet`) decides *when*: pulls, starts, probes, restarts, back-off,
kills, statuses and events. A :class:`ContainerRuntime` only does *what* it is asked, for
one container at a time, on the server's event loop:

- :meth:`~ContainerRuntime.pull_image` fetches an image (or fails with
  :class:`ImagePullError`, whose message becomes the ``ErrImagePull`` message);
- :meth:`~ContainerRuntime.start_container` starts a container from a
  :class:`ContainerSpec` (resolved environment, the files of its ConfigMap/Secret
  mounts, its ports, the pod IP) and returns a :class:`ContainerHandle` once it runs (or
  raises :class:`ContainerStartError`). It writes the container's output through
  :meth:`ContainerIO.log` and, for each port it really serves on this machine, calls
  :meth:`ContainerIO.expose` (``pod_ip:containerPort`` -> ``host:port``). It may be
  cancelled while starting and must then leave nothing running;
- :meth:`ContainerHandle.wait` resolves when the container exits, by itself or stopped;
- :meth:`~ContainerRuntime.stop_container` sends SIGTERM, waits up to the grace period,
  then kills; it returns how the container ended;
- :meth:`~ContainerRuntime.probe` runs one probe (``httpGet``, ``tcpSocket``, ``exec``,
  ``grpc`` as in the pod spec) against a running container;
- :meth:`~ContainerRuntime.close` stops everything (the server is stopping);
- :meth:`~ContainerRuntime.attach` (optional) hands the runtime a :class:`ClusterView`:
  read-only lookups of objects and of the pod network, which a runtime needs to find,
  e.g., the pod behind a Service a process connects to.

``simulated`` (:mod:`.simulated`) runs nothing; ``local`` (:mod:`.local`) runs a real
Flink process per Flink container and exposes its ports on 127.0.0.1.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "ClusterView",
    "ContainerExit",
    "ContainerHandle",
    "ContainerIO",
    "ContainerRuntime",
    "ContainerSpec",
    "ContainerStartError",
    "ImagePullError",
    "PortSpec",
    "ProbeResult",
    "PulledImage",
    "image_reference",
]


def image_reference(image: str) -> str:
    """``nginx`` -> ``docker.io/library/nginx:latest``, as containerd names images."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if not digest and ":" not in last:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}@{digest}" if digest else name


class ImagePullError(Exception):
    """Raised when an image cannot be pulled; ``str(error)`` is the runtime's message."""


class ContainerStartError(Exception):
    """Raised when a container cannot be started (the kubelet reports ``StartError``)."""


@dataclass(frozen=True)
class PortSpec:
    """One ``ports[]`` entry of a container."""

    container_port: int
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to start one container, resolved by the kubelet.

    :param env: the environment, ``valueFrom``/``envFrom`` resolved and ``$(VAR)`` expanded.
    :param files: container path -> content of every file its ConfigMap and Secret
        volume mounts hold (a ``subPath`` mount is one file at the mount path).
    :param pod_ip: the pod's IP (``status.podIP``).
    :param restart_count: how many times this container has restarted before.
    :param pod: the pod as the kubelet saw it when starting the container.
    """

    namespace: str
    pod_name: str
    pod_uid: str
    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    files: Mapping[str, bytes] = field(default_factory=dict)
    working_dir: str = ""
    pod_ip: str = ""
    restart_count: int = 0
    init: bool = False
    pod: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ContainerExit:
    """How a container ended: ``reason`` is ``Completed`` (code 0), ``Error``,
    ``OOMKilled``, ``StartError``..."""

    exit_code: int
    reason: str = ""
    message: str = ""

    def __post_init__(self) -> None:
        if not self.reason:
            object.__setattr__(self, "reason", "Completed" if self.exit_code == 0 else "Error")


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome; ``message`` is what the ``Unhealthy`` event says after
    ``"Readiness probe failed: "``."""

    success: bool
    message: str = ""


@dataclass(frozen=True)
class PulledImage:
    """A pulled image: its digest reference (``status.containerStatuses[].imageID``)."""

    image_id: str
    size: int = 0


@dataclass(frozen=True)
class ClusterView:
    """What a runtime may read of the cluster (call on the server's loop).

    :param lookup: ``(plural, namespace, name)`` -> the stored core/v1 object or ``None``
        (``services``, ``endpoints``, ``pods``...).
    :param resolve: ``(pod_ip, container_port)`` -> the ``(host, port)`` serving it, or
        ``None`` (:meth:`.network.PodNetwork.resolve`).
    :param changed: ``changed(timeout)`` returns once a pod, Service or Endpoints object
        changes or a pod's port is exposed (or after ``timeout`` seconds, whichever comes
        first), so a runtime waiting for an address re-reads at once instead of polling;
        ``None``: sleeps ``timeout``.
    """

    lookup: Callable[[str, str, str], Mapping[str, Any] | None]
    resolve: Callable[[str, int], tuple[str, int] | None]
    changed: Callable[[float], Awaitable[None]] | None = None

    async def wait_changed(self, timeout: float) -> None:
        """Until the cluster changes (see ``changed``), at most ``timeout`` seconds."""
        if self.changed is None:
            await asyncio.sleep(timeout)
        else:
            await self.changed(timeout)


class ContainerIO(Protocol):
    """What a running container may tell the kubelet."""

    def log(self, line: str) -> None:
        """Append one line (without its newline) to the container's log."""

    def expose(self, container_port: int, host: str, host_port: int) -> None:
        """Declare that the container's ``container_port`` is served at ``host:host_port``."""


class ContainerHandle(abc.ABC):
    """A started container."""

    @property
    @abc.abstractmethod
    def id(self) -> str:
        """``<runtime>://<id>``: ``status.containerStatuses[].containerID``."""

    @abc.abstractmethod
    async def wait(self) -> ContainerExit:
        """Return once the container has exited (at once if it has)."""


class ContainerRuntime(abc.ABC):
    """Runs containers for the kubelet; every method runs on the server's loop."""

    name: str = ""

    def attach(self, cluster: ClusterView) -> None:  # noqa: B027 - optional hook
        """Called once by the kubelet before any container starts."""

    @abc.abstractmethod
    async def pull_image(self, image: str) -> PulledImage:
        """Fetch ``image``; :raises ImagePullError: when it cannot be pulled."""

    @abc.abstractmethod
    async def start_container(self, spec: ContainerSpec, io: ContainerIO) -> ContainerHandle:
        """Start a container and return once it runs.

        :raises ContainerStartError: when it cannot start.
        """

    @abc.abstractmethod
    async def stop_container(self, handle: ContainerHandle, grace_seconds: float) -> ContainerExit:
        """SIGTERM, up to ``grace_seconds`` to exit, then SIGKILL; how it ended."""

    @abc.abstractmethod
    async def probe(
        self, handle: ContainerHandle, spec: ContainerSpec, probe: Mapping[str, Any]
    ) -> ProbeResult:
        """Run one probe (a pod spec ``Probe``) against a running container."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop every container still running (the server is stopping)."""
