"""Services: clusterIP and nodePort allocation, LoadBalancer ingress, Endpoints.

Real clients over HTTP: the kubernetes client, kubernetes_asyncio and kubectl.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from flink_k8s_sandbox import SandboxServer

Status = Callable[..., dict[str, Any]]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
SERVICE_NET = ipaddress.IPv4Network("10.96.0.0/12")


def _service(name: str, **spec: Any) -> dict[str, Any]:
    ports = spec.pop("ports", [{"name": "http", "port": 80, "targetPort": 8080}])
    return {"metadata": {"name": name}, "spec": {"ports": ports, **spec}}


def _wait(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_the_kubernetes_service_takes_the_first_ip(core: client.CoreV1Api) -> None:
    service = core.read_namespaced_service("kubernetes", "default")
    assert (service.spec.cluster_ip, service.spec.cluster_ips) == ("10.96.0.1", ["10.96.0.1"])
    assert service.spec.ports[0].port == 443
    endpoints = core.read_namespaced_endpoints("kubernetes", "default")
    assert endpoints.subsets[0].addresses[0].ip == "127.0.0.1"


def test_cluster_ips_are_allocated_defaulted_and_immutable(
    core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    created = core.create_namespaced_service(namespace, _service("web", selector={"app": "web"}))
    ip = created.spec.cluster_ip
    assert ipaddress.IPv4Address(ip) in SERVICE_NET and created.spec.cluster_ips == [ip]
    assert (created.spec.ip_families, created.spec.ip_family_policy) == (["IPv4"], "SingleStack")
    assert created.spec.type == "ClusterIP" and created.spec.ports[0].node_port is None

    clash = _service("copy", clusterIP=ip)
    status = fail_status(core.create_namespaced_service, namespace, clash)
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        f'Service "copy" is invalid: spec.clusterIPs: Invalid value: []string{{"{ip}"}}: '
        f"failed to allocate IP {ip}: provided IP is already allocated"
    )
    status = fail_status(
        core.patch_namespaced_service, "web", namespace, {"spec": {"clusterIP": "10.96.0.77"}}
    )
    assert status["message"] == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.77"}: '
        "may not change once set"
    )
    replacement = core.read_namespaced_service("web", namespace)
    replacement.spec.cluster_ip = replacement.spec.cluster_ips = None
    replaced = core.replace_namespaced_service("web", namespace, replacement)
    assert replaced.spec.cluster_ip == ip  # an update leaving it out keeps it

    headless = core.create_namespaced_service(namespace, _service("peers", clusterIP="None"))
    assert (headless.spec.cluster_ip, headless.spec.cluster_ips) == ("None", ["None"])
    assert headless.spec.ip_family_policy == "RequireDualStack"  # headless without selector

    core.delete_namespaced_service("web", namespace)
    again = core.create_namespaced_service(namespace, _service("again", clusterIP=ip))
    assert again.spec.cluster_ip == ip  # freed by the delete


def test_node_ports_are_allocated_and_clashes_refused(
    core: client.CoreV1Api, namespace: str, fail_status: Status, kubectl: Kubectl
) -> None:
    ports = [
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "dns-udp", "port": 53, "protocol": "UDP"},
        {"name": "web", "port": 80},
    ]
    created = core.create_namespaced_service(
        namespace, _service("np", type="NodePort", ports=ports)
    )
    tcp, udp, web = (p.node_port for p in created.spec.ports)
    assert all(30000 <= p <= 32767 for p in (tcp, web)) and udp == tcp and web != tcp
    assert created.spec.external_traffic_policy == "Cluster"

    taken = [{"port": 81, "nodePort": web}]
    status = fail_status(
        core.create_namespaced_service, namespace, _service("b", type="NodePort", ports=taken)
    )
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: {web}: '
            "provided port is already allocated"
        ),
        "reason": "Invalid",
        "details": {
            "name": "b",
            "kind": "Service",
            "causes": [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {web}: provided port is already allocated",
                    "field": "spec.ports[0].nodePort",
                }
            ],
        },
        "code": 422,
    }
    outside = [{"port": 81, "nodePort": 8080}]
    status = fail_status(
        core.create_namespaced_service, namespace, _service("c", type="NodePort", ports=outside)
    )
    assert status["message"].endswith(
        "provided port is not in the valid range. The range of valid ports is 30000-32767"
    )
    manifest = json.dumps(
        {"apiVersion": "v1", "kind": "Service", **_service("d", type="NodePort", ports=taken)}
    )
    result = kubectl("create", "-n", namespace, "-f", "-", stdin=manifest, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'The Service "d" is invalid: spec.ports[0].nodePort: Invalid value: {web}: '
        "provided port is already allocated"
    )
    # back to ClusterIP: the node ports go, and may be taken by another Service
    core.patch_namespaced_service("np", namespace, {"spec": {"type": "ClusterIP"}})
    assert core.read_namespaced_service("np", namespace).spec.ports[2].node_port is None
    taken_again = core.create_namespaced_service(
        namespace, _service("e", type="NodePort", ports=taken)
    )
    assert taken_again.spec.ports[0].node_port == web


def test_load_balancers_get_an_ingress(
    core: client.CoreV1Api, namespace: str, kubectl: Kubectl
) -> None:
    created = core.create_namespaced_service(namespace, _service("lb", type="LoadBalancer"))
    assert created.status.load_balancer.ingress is None
    assert 30000 <= created.spec.ports[0].node_port <= 32767
    assert created.spec.allocate_load_balancer_node_ports is True

    def ingress() -> Any:
        return core.read_namespaced_service("lb", namespace).status.load_balancer.ingress

    assert [(i.ip, i.ip_mode) for i in _wait(ingress)] == [("127.0.0.1", "VIP")]
    shown = kubectl(
        "get",
        "service",
        "lb",
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.loadBalancer.ingress[0].ip}",
    )
    assert shown.stdout == "127.0.0.1"


def _subsets(core: client.CoreV1Api, namespace: str, name: str) -> list[dict[str, Any]]:
    endpoints = core.read_namespaced_endpoints(name, namespace)
    return [s.to_dict() for s in endpoints.subsets or []]


def _ips(subsets: list[dict[str, Any]], key: str = "addresses") -> list[str]:
    return sorted(a["ip"] for s in subsets for a in s.get(key) or [])


def test_endpoints_follow_pod_readiness(
    core: client.CoreV1Api, namespace: str, manual_pod: Callable[..., Any]
) -> None:
    ports = [{"name": "rest", "port": 8081, "targetPort": "rest"}, {"name": "rpc", "port": 6123}]
    service = _service("jm", selector={"app": "jm"}, ports=ports)
    core.create_namespaced_service(namespace, service)
    _wait(lambda: core.list_namespaced_endpoints(namespace).items)
    assert _subsets(core, namespace, "jm") == []

    first = manual_pod(namespace, "jm-1", {"app": "jm"}, ports={"rest": 18081})
    second = manual_pod(namespace, "jm-2", {"app": "jm"}, ports={"rest": 28081}, ready=False)
    manual_pod(namespace, "other", {"app": "tm"}, ports={"rest": 8081})
    manual_pod(namespace, "unnamed", {"app": "jm"})  # no port named "rest": rpc only

    def settled() -> list[dict[str, Any]] | None:
        subsets = _subsets(core, namespace, "jm")
        return subsets if len(subsets) == 3 else None

    subsets = _wait(settled)
    by_rest_port = {
        next((p["port"] for p in s["ports"] if p["name"] == "rest"), None): s for s in subsets
    }
    assert _ips([by_rest_port[18081]]) == [first.ip]
    assert _ips([by_rest_port[28081]], "not_ready_addresses") == [second.ip]
    assert {p["name"]: p["port"] for p in by_rest_port[None]["ports"]} == {"rpc": 6123}
    target = by_rest_port[18081]["addresses"][0]["target_ref"]
    assert (target["kind"], target["name"], target["namespace"]) == ("Pod", "jm-1", namespace)

    second.set_ready(True)
    _wait(lambda: second.ip in _ips(_subsets(core, namespace, "jm")))
    first.set_ready(False)
    _wait(lambda: first.ip in _ips(_subsets(core, namespace, "jm"), "not_ready_addresses"))
    core.delete_namespaced_pod("jm-1", namespace, grace_period_seconds=0)
    _wait(lambda: first.ip not in _ips(_subsets(core, namespace, "jm"), "not_ready_addresses"))
    core.delete_namespaced_service("jm", namespace)
    _wait(lambda: not core.list_namespaced_endpoints(namespace).items)


def test_endpoints_seen_through_kubernetes_asyncio(
    kubeconfig: Path, core: client.CoreV1Api, namespace: str, manual_pod: Callable[..., Any]
) -> None:
    core.create_namespaced_service(namespace, _service("web", selector={"app": "web"}))
    pod = manual_pod(namespace, "web-1", {"app": "web"})

    async def read() -> list[str]:
        api = await aconfig.new_client_from_config(str(kubeconfig))
        async with api:
            v1 = aclient.CoreV1Api(api)
            for _ in range(200):
                endpoints = await v1.read_namespaced_endpoints("web", namespace)
                if endpoints.subsets:
                    return [a.ip for a in endpoints.subsets[0].addresses]
                await asyncio.sleep(0.05)
        return []

    assert asyncio.run(read()) == [pod.ip]


def test_services_in_a_fresh_sandbox_start_with_the_network(sandbox: SandboxServer) -> None:
    assert sandbox.network.cidr == "10.244.0.0/16"
    ip = sandbox.call(lambda _: sandbox.network.allocate_pod_ip())
    assert ipaddress.IPv4Address(ip) in ipaddress.IPv4Network("10.244.0.0/16")
    sandbox.call(lambda _: sandbox.network.release_pod_ip(ip))
