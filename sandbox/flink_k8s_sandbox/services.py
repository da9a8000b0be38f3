"""Service address allocation, run on every Service write (the REST storage's part).

:class:`ServiceAllocator` is a :data:`~.storage.Admission` hook. Like the API server's
Service REST storage it

- keeps what was allocated when an update leaves it out (``clusterIP``/``clusterIPs``;
  ``nodePort`` by port name) and drops type-dependent fields on a type change
  (``patchAllocatedValues``/``dropTypeDependentFields``);
- defaults ``ipFamilies: [IPv4]`` and ``ipFamilyPolicy`` (``SingleStack``;
  ``RequireDualStack`` for headless Services without selector),
  ``externalTrafficPolicy: Cluster`` and ``allocateLoadBalancerNodePorts: true``;
- allocates a clusterIP from ``10.96.0.0/12`` (random, above the first 256 addresses,
  which are kept for explicit requests) unless it is ``None`` (headless) or the type is
  ExternalName, and a nodePort from 30000-32767 per port of NodePort/LoadBalancer
  Services (a service port number served over two protocols shares one nodePort);
- refuses what the real server refuses, with its wording (422 Invalid):
  ``spec.clusterIPs[0]: Invalid value: []string{"10.96.0.9"}: may not change once set``,
  ``spec.clusterIPs: ... failed to allocate IP 10.96.0.9: provided IP is already allocated``,
  ``spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated``.

Allocations are not kept in a bitmap: what is in use is read from the stored Services
at each write (all writes run on the server's loop, so no two interleave), so deleting
a Service frees its addresses at once and a dry run reserves nothing.
"""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Iterable
from typing import Any

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.errors import ErrorType, FieldError, GoLiteral
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType, TypeKey
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import Store

__all__ = [
    "NODE_PORT_RANGE",
    "SERVICES",
    "SERVICE_CIDR",
    "ServiceAllocator",
    "needs_cluster_ip",
    "needs_node_ports",
    "seed_api_service",
]

Obj = dict[str, Any]
SERVICES: TypeKey = ("", "services")
SERVICE_CIDR = "10.96.0.0/12"
NODE_PORT_RANGE = range(30000, 32768)
_IP_STATIC_BAND = 256
_PORT_STATIC_BAND = 86


def needs_cluster_ip(spec: Obj) -> bool:
    return bool(spec.get("type", "ClusterIP") != "ExternalName")


def needs_node_ports(spec: Obj) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _ports(spec: Obj) -> list[Obj]:
    return [p for p in spec.get("ports") or [] if isinstance(p, dict)]


def _go_strings(values: Iterable[str] | None) -> GoLiteral:
    if values is None:
        return GoLiteral("[]string(nil)")
    return GoLiteral("[]string{" + ", ".join(json.dumps(v) for v in values) + "}")


def _carry_allocations(old: Obj, new: Obj) -> None:
    """What an update leaves out keeps its allocated value (``patchAllocatedValues``)."""
    if needs_cluster_ip(old) and needs_cluster_ip(new):
        if not new.get("clusterIP") and old.get("clusterIP"):
            new["clusterIP"] = old["clusterIP"]
        if not new.get("clusterIPs") and old.get("clusterIPs"):
            new["clusterIPs"] = list(old["clusterIPs"])
    if needs_node_ports(old) and needs_node_ports(new):
        old_used = {p.get("nodePort") for p in _ports(old)}
        new_used = {p.get("nodePort") for p in _ports(new)}
        by_name = {p.get("name", ""): p.get("nodePort") for p in _ports(old)}
        for port in _ports(new):
            carried = by_name.get(port.get("name", ""))
            if not port.get("nodePort") and carried and carried not in old_used & new_used:
                port["nodePort"] = carried


def _drop_type_dependent(old: Obj, new: Obj) -> None:
    """Fields the old type needed and the new one does not go, unless the update set them."""
    if needs_cluster_ip(old) and not needs_cluster_ip(new):
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if new.get(key) == old.get(key):
                new.pop(key, None)
    if needs_node_ports(old) and not needs_node_ports(new):
        old_ports, new_ports = _ports(old), _ports(new)
        same = len(old_ports) == len(new_ports) and all(
            a.get("nodePort") == b.get("nodePort")
            for a, b in zip(old_ports, new_ports, strict=True)
        )
        if same:
            for port in new_ports:
                port.pop("nodePort", None)
        if new.get("externalTrafficPolicy") == old.get("externalTrafficPolicy"):
            new.pop("externalTrafficPolicy", None)
    key = "allocateLoadBalancerNodePorts"
    was_balancer = old.get("type") == "LoadBalancer" and new.get("type") != "LoadBalancer"
    if was_balancer and new.get(key) == old.get(key):
        new.pop(key, None)


def _normalize_cluster_ips(old: Obj | None, new: Obj) -> None:
    """Keep ``clusterIP`` and ``clusterIPs`` in step when a client sets only one."""
    single, plural = new.get("clusterIP") or "", new.get("clusterIPs") or []
    changed = old is None or single != (old.get("clusterIP") or "")
    stale = not plural or (old is not None and plural == old.get("clusterIPs"))
    if changed and single and stale:
        new["clusterIPs"] = [single]
    if not single and plural:
        new["clusterIP"] = plural[0]


def _defaults(spec: Obj) -> None:
    if needs_cluster_ip(spec):
        headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
        policy = "RequireDualStack" if headless_without_selector else "SingleStack"
        spec.setdefault("ipFamilyPolicy", policy)
        spec.setdefault("ipFamilies", ["IPv4"])
    if needs_node_ports(spec):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec.get("type") == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _spec_errors(spec: Obj) -> list[FieldError]:
    problems: list[FieldError] = []
    kind = spec.get("type", "ClusterIP")
    if not needs_node_ports(spec):
        for index, port in enumerate(_ports(spec)):
            if port.get("nodePort"):
                detail = f"may not be used when `type` is '{kind}'"
                problems.append(
                    FieldError(ErrorType.FORBIDDEN, _node_port_path(index), detail=detail)
                )
    for index, family in enumerate(spec.get("ipFamilies") or []):
        if family != "IPv4":
            field = f"spec.ipFamilies[{index}]"
            problems.append(
                FieldError(ErrorType.INVALID, field, family, "not configured on this cluster")
            )
    if spec.get("ipFamilyPolicy") == "RequireDualStack" and spec.get("clusterIP") != "None":
        detail = "this cluster is not configured for dual-stack services"
        problems.append(
            FieldError(ErrorType.INVALID, "spec.ipFamilyPolicy", "RequireDualStack", detail)
        )
    return problems


def _immutability_errors(old: Obj, new: Obj) -> list[FieldError]:
    if not (needs_cluster_ip(old) and needs_cluster_ip(new)):
        return []
    before, after = old.get("clusterIPs") or [], new.get("clusterIPs") or []
    if before == ["None"] and after == ["None"]:
        return []
    if before and not after:
        return [
            FieldError(
                ErrorType.INVALID,
                "spec.clusterIPs[0]",
                _go_strings(None),
                "primary clusterIP can not be unset",
            )
        ]
    return [
        FieldError(
            ErrorType.INVALID,
            f"spec.clusterIPs[{i}]",
            _go_strings(after),
            "may not change once set",
        )
        for i, ip in enumerate(before)
        if i < len(after) and after[i] != ip
    ]


def _node_port_path(index: int) -> str:
    return f"spec.ports[{index}].nodePort"


class ServiceAllocator:
    """The :data:`~.storage.Admission` hook giving Services their addresses.

    :param store: where the other Services (and so the used addresses) are read.
    :param cidr: the service network.
    :param node_ports: the NodePort range.
    """

    def __init__(
        self,
        store: Store,
        cidr: str = SERVICE_CIDR,
        node_ports: range = NODE_PORT_RANGE,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.network = ipaddress.IPv4Network(cidr)
        self.node_ports = node_ports
        self.rng = rng or random.Random()

    @property
    def first_ip(self) -> str:
        """The address the ``kubernetes`` Service takes."""
        return str(self.network.network_address + 1)

    def __call__(self, rt: ResourceType, old: Obj | None, new: Obj) -> None:
        if rt.storage_key != SERVICES or rt.custom:
            return
        spec = new.setdefault("spec", {})
        old_spec: Obj | None = (old or {}).get("spec") if old is not None else None
        if old_spec is not None:
            _carry_allocations(old_spec, spec)
            _drop_type_dependent(old_spec, spec)
        _normalize_cluster_ips(old_spec, spec)
        _defaults(spec)
        name = new["metadata"]["name"]
        problems = _spec_errors(spec)
        if old_spec is not None:
            problems += _immutability_errors(old_spec, spec)
        if problems:
            raise errors.invalid("", "Service", name, problems)
        others = [
            s["spec"]
            for s in self.store.objects(SERVICES)
            if (s["metadata"].get("namespace"), s["metadata"]["name"])
            != (new["metadata"].get("namespace"), name)
        ]
        self._assign_cluster_ip(name, spec, old_spec, others)
        self._assign_node_ports(name, spec, old_spec, others)

    # -- cluster IPs -------------------------------------------------------------

    def _assign_cluster_ip(self, name: str, spec: Obj, old: Obj | None, others: list[Obj]) -> None:
        if not needs_cluster_ip(spec):
            return
        ip = spec.get("clusterIP") or ""
        if ip == "None":
            spec["clusterIPs"] = ["None"]
            return
        if ip and old is not None and needs_cluster_ip(old) and ip == old.get("clusterIP"):
            return
        used = {o.get("clusterIP") for o in others}
        if not ip:
            ip = self._next_ip(used)
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            return
        detail = self._ip_problem(ip, used)
        if detail:
            error = FieldError(
                ErrorType.INVALID, "spec.clusterIPs", _go_strings(spec.get("clusterIPs")), detail
            )
            raise errors.invalid("", "Service", name, [error])

    def _ip_problem(self, ip: str, used: set[Any]) -> str:
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError:
            return f"failed to allocate IP {ip}: must be a valid IP address"
        lowest, highest = self.network.network_address, self.network.broadcast_address
        if not lowest < address < highest:
            return (
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range."
                f" The range of valid IPs is {self.network}"
            )
        if ip in used:
            return f"failed to allocate IP {ip}: provided IP is already allocated"
        return ""

    def _next_ip(self, used: set[Any]) -> str:
        base = int(self.network.network_address)
        size = self.network.num_addresses
        low, high = base + 1 + _IP_STATIC_BAND, base + size - 2
        for _ in range(64):
            candidate = str(ipaddress.IPv4Address(self.rng.randint(low, high)))
            if candidate not in used:
                return candidate
        for value in range(base + 1, base + size - 1):
            candidate = str(ipaddress.IPv4Address(value))
            if candidate not in used:
                return candidate
        raise errors.internal_error("failed to allocate a serviceIP: range is full")

    # -- node ports --------------------------------------------------------------

    def _assign_node_ports(self, name: str, spec: Obj, old: Obj | None, others: list[Obj]) -> None:
        if not needs_node_ports(spec):
            return
        allocate = spec.get("type") == "NodePort" or spec.get("allocateLoadBalancerNodePorts", True)
        owned = {p.get("nodePort") for p in _ports(old)} if old and needs_node_ports(old) else set()
        used = {p.get("nodePort") for o in others for p in _ports(o)}
        taken: set[int] = set()
        by_service_port: dict[Any, int] = {}
        for index, port in enumerate(_ports(spec)):
            node_port = port.get("nodePort") or 0
            if node_port:
                detail = self._port_problem(node_port, owned, used | taken)
                if detail:
                    error = FieldError(ErrorType.INVALID, _node_port_path(index), node_port, detail)
                    raise errors.invalid("", "Service", name, [error])
            elif allocate:
                node_port = by_service_port.get(port.get("port")) or self._next_port(
                    used | taken | owned
                )
                port["nodePort"] = node_port
            else:
                continue
            taken.add(node_port)
            by_service_port.setdefault(port.get("port"), node_port)

    def _port_problem(self, node_port: Any, owned: set[Any], used: set[Any]) -> str:
        if node_port in owned and node_port not in used:
            return ""
        if node_port not in self.node_ports:
            first, last = self.node_ports.start, self.node_ports.stop - 1
            return (
                "provided port is not in the valid range. "
                f"The range of valid ports is {first}-{last}"
            )
        return "provided port is already allocated" if node_port in used else ""

    def _next_port(self, used: set[Any]) -> int:
        dynamic = range(self.node_ports.start + _PORT_STATIC_BAND, self.node_ports.stop)
        free = [p for p in dynamic if p not in used] or [
            p for p in self.node_ports if p not in used
        ]
        if not free:
            raise errors.internal_error("failed to allocate a nodePort: range is full")
        return self.rng.choice(free)


def seed_api_service(
    storage: Storage, registry: ResourceRegistry, first_ip: str, port: int
) -> None:
    """The ``kubernetes`` Service in ``default`` (the first service IP) and its Endpoints,
    pointing at the sandbox's own port on 127.0.0.1."""
    services = registry.get("", "v1", "services")
    endpoints = registry.get("", "v1", "endpoints")
    assert services is not None and endpoints is not None
    opts = WriteOptions(field_manager="kube-apiserver")
    metadata = {
        "name": "kubernetes",
        "namespace": "default",
        "labels": {"component": "apiserver", "provider": "kubernetes"},
    }
    service_port = {"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}
    service = {
        "metadata": metadata,
        "spec": {"type": "ClusterIP", "clusterIP": first_ip, "ports": [service_port]},
    }
    storage.create(services, "default", service, opts)
    subsets = [
        {
            "addresses": [{"ip": "127.0.0.1"}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
        }
    ]
    body = {"metadata": {**metadata, "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}}}
    storage.create(endpoints, "default", {**body, "subsets": subsets}, opts)
