"""``PodNetwork``: pod IPs and where a pod's container port is really served.

A sandbox pod has no network namespace. The kubelet gives each pod an IP from the pod CIDR
(``10.244.0.0/16``) with :meth:`PodNetwork.allocate_pod_ip` and, once a container listens
(a simulated HTTP stub or a real Flink process on 127.0.0.1), registers the loopback
address serving ``pod_ip:container_port`` with :meth:`PodNetwork.expose`. The API
server's proxy (:mod:`.proxy`) turns ``pod_ip:port`` back into ``host:port`` with
:meth:`PodNetwork.resolve`.

The class is plain bookkeeping with no I/O and no locking: call it on the server's loop
(controllers and request handlers already run there; tests go through
:meth:`SandboxServer.call`, or call it directly before traffic starts).
"""

from __future__ import annotations

import ipaddress

__all__ = ["POD_CIDR", "PodNetwork", "PodNetworkExhausted"]

POD_CIDR = "10.244.0.0/16"


class PodNetworkExhausted(RuntimeError):
    """Raised when every address of the pod CIDR is in use."""


class PodNetwork:
    """Pod IP allocation and the pod-port -> loopback-address table.

    :param cidr: the pod network; the network and broadcast addresses and ``.1`` (the
        gateway on a real node) are never handed out.
    """

    def __init__(self, cidr: str = POD_CIDR) -> None:
        self._network = ipaddress.IPv4Network(cidr)
        self._first = int(self._network.network_address) + 2
        self._last = int(self._network.broadcast_address) - 1
        self._next = self._first
        self._allocated: set[int] = set()
        self._exposed: dict[str, dict[int, tuple[str, int]]] = {}

    @property
    def cidr(self) -> str:
        return str(self._network)

    def allocate_pod_ip(self) -> str:
        """A free pod IP (round-robin, so a released IP is not reused at once).

        :raises PodNetworkExhausted: when none is left.
        """
        size = self._last - self._first + 1
        for offset in range(size):
            candidate = self._first + (self._next - self._first + offset) % size
            if candidate not in self._allocated:
                self._allocated.add(candidate)
                self._next = candidate + 1 if candidate < self._last else self._first
                return str(ipaddress.IPv4Address(candidate))
        raise PodNetworkExhausted(f"no free pod IP left in {self._network}")

    def release_pod_ip(self, ip: str) -> None:
        """Give ``ip`` back and forget its exposed ports; unknown IPs are ignored."""
        self._allocated.discard(int(ipaddress.IPv4Address(ip)))
        self._exposed.pop(ip, None)

    def expose(self, pod_ip: str, container_port: int, host: str, host_port: int) -> None:
        """Declare that ``pod_ip:container_port`` is served at ``host:host_port``."""
        self._exposed.setdefault(pod_ip, {})[int(container_port)] = (host, int(host_port))

    def unexpose(self, pod_ip: str) -> None:
        """Forget every port exposed for ``pod_ip`` (the IP stays allocated)."""
        self._exposed.pop(pod_ip, None)

    def resolve(self, pod_ip: str, container_port: int) -> tuple[str, int] | None:
        """The ``(host, port)`` serving ``pod_ip:container_port``, or ``None``."""
        return self._exposed.get(pod_ip, {}).get(int(container_port))

    def exposed_ports(self, pod_ip: str) -> dict[int, tuple[str, int]]:
        """A copy of the ports exposed for ``pod_ip``."""
        return dict(self._exposed.get(pod_ip, {}))
