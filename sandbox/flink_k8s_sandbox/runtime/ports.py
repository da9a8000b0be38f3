"""Host ports of local containers: stable per pod, and the port a probe targets.

A pod on a real node keeps its IP and ports across container restarts, so a TaskManager
that lost its JobManager finds the restarted one at the same address. On one host,
:class:`PodPorts` plays that: the first start of a container picks free 127.0.0.1 ports
(one per name Flink opens: ``rpc``, ``blob``, ``rest``, ``data``, ``metrics``) and a
restart of the same container gets the same ones again. :func:`probe_port` finds the
container port a probe's ``httpGet``/``tcpSocket`` names (a number or a port name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flink_k8s_sandbox.flink import allocate_ports
from flink_k8s_sandbox.runtime.base import PortSpec

__all__ = ["PodPorts", "probe_port"]

ContainerKey = tuple[str, str]
"""``(pod uid, container name)``."""


class PodPorts:
    """Host ports by container, kept until :meth:`forget` (the pod is going away)."""

    def __init__(self) -> None:
        self._ports: dict[ContainerKey, dict[str, int]] = {}

    def ports_for(self, key: ContainerKey, names: Iterable[str]) -> dict[str, int]:
        """The container's ports by name: the ones it had before, new free ones otherwise."""
        known = self._ports.get(key, {})
        ports = allocate_ports(names, fixed=known)
        self._ports[key] = dict(ports)
        return ports

    def forget(self, key: ContainerKey) -> None:
        self._ports.pop(key, None)


def probe_port(action: Mapping[str, Any], ports: Sequence[PortSpec]) -> int | None:
    """The container port of a probe's ``httpGet``/``tcpSocket`` (a number or a name).

    :return: ``None`` when a name matches none of the container's ``ports``.
    """
    port = action.get("port")
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    return next((p.container_port for p in ports if p.name == port), None)
