"""The ``local`` runtime's pure helpers: Flink images, pod configuration, addresses, probes.

No Java: the real processes are in ``tests/manifests/test_standalone_on_flink.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flink_k8s_sandbox.runtime import RUNTIMES, ClusterView, PortSpec
from flink_k8s_sandbox.runtime.flinkpods import (
    is_flink_image,
    read_pod_configuration,
    resolve_address,
    service_name,
)
from flink_k8s_sandbox.runtime.netprobes import http_probe, tcp_probe
from flink_k8s_sandbox.runtime.ports import probe_port


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("flink:2.3", True),
        ("flink", True),
        ("docker.io/library/flink:2.3-java17", True),
        ("apache/flink:2.3", True),
        ("registry.local:5000/team/flink@sha256:abc", True),
        ("nginx:1.27", False),
        ("flink-sidecar:1", False),
        ("myorg/flinkish:1", False),
    ],
)
def test_flink_images(image: str, expected: bool) -> None:
    assert is_flink_image(image) is expected


def test_a_setting_maps_more_images_to_flink() -> None:
    assert is_flink_image("myorg/streaming-job:7", ("myorg/streaming-*",))


def test_pod_configuration_reads_the_config_map_and_the_entrypoint_variables() -> None:
    files = {
        "/opt/flink/conf/config.yaml": b"jobmanager:\n  rpc:\n    port: 6123\n",
        "/opt/flink/conf/log4j-console.properties": b"rootLogger.level = INFO\n",
        "/opt/flink/sql/job.sql": b"SELECT 1;\n",
    }
    env = {"JOB_MANAGER_RPC_ADDRESS": "demo-jobmanager", "TASK_MANAGER_NUMBER_OF_TASK_SLOTS": "2"}

    pod = read_pod_configuration(files, env)

    assert pod.configuration == {
        "jobmanager.rpc.port": "6123",
        "jobmanager.rpc.address": "demo-jobmanager",
        "taskmanager.numberOfTaskSlots": "2",
    }
    assert pod.conf_files == {"log4j-console.properties": "rootLogger.level = INFO\n"}
    assert pod.other_files == {"/opt/flink/sql/job.sql": b"SELECT 1;\n"}


def test_the_config_map_wins_over_the_entrypoint_variables() -> None:
    files = {"/opt/flink/conf/config.yaml": "jobmanager.rpc.address: other\n"}
    pod = read_pod_configuration(files, {"JOB_MANAGER_RPC_ADDRESS": "demo-jobmanager"})
    assert pod.configuration == {"jobmanager.rpc.address": "other"}


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("demo-jobmanager", ("ns", "demo-jobmanager")),
        ("demo-jobmanager.other", ("other", "demo-jobmanager")),
        ("demo-jobmanager.other.svc", ("other", "demo-jobmanager")),
        ("demo-jobmanager.other.svc.cluster.local.", ("other", "demo-jobmanager")),
        ("10.244.0.7", None),
        ("localhost", None),
        ("flink.example.com", None),
    ],
)
def test_service_names(host: str, expected: tuple[str, str] | None) -> None:
    assert service_name(host, "ns") == expected


def _view(objects: dict[tuple[str, str, str], dict[str, Any]]) -> ClusterView:
    exposed = {("10.244.0.9", 6123): ("127.0.0.1", 41000)}
    return ClusterView(
        lookup=lambda plural, namespace, name: objects.get((plural, namespace, name)),
        resolve=lambda ip, port: exposed.get((ip, port)),
    )


SERVICE = {"spec": {"ports": [{"name": "rpc", "port": 6123, "targetPort": 6123}]}}
ENDPOINTS = {
    "subsets": [
        {
            "addresses": [{"ip": "10.244.0.9"}],
            "ports": [{"name": "rpc", "port": 6123, "protocol": "TCP"}],
        }
    ]
}


@pytest.mark.parametrize(
    ("objects", "host", "expected"),
    [
        ({}, "demo-jobmanager", None),  # no Service
        ({("services", "ns", "demo-jobmanager"): SERVICE}, "demo-jobmanager", None),  # not ready
        (
            {
                ("services", "ns", "demo-jobmanager"): SERVICE,
                ("endpoints", "ns", "demo-jobmanager"): ENDPOINTS,
            },
            "demo-jobmanager",
            ("127.0.0.1", 41000),
        ),
        ({}, "10.244.0.9", ("127.0.0.1", 41000)),  # a pod IP
        ({}, "localhost", ("localhost", 6123)),
    ],
)
def test_resolve_address(
    objects: dict[tuple[str, str, str], dict[str, Any]],
    host: str,
    expected: tuple[str, int] | None,
) -> None:
    assert resolve_address(_view(objects), "ns", host, 6123) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [({"port": 8081}, 8081), ({"port": "8081"}, 8081), ({"port": "webui"}, 8081), ({}, None)],
)
def test_probe_port(action: dict[str, Any], expected: int | None) -> None:
    assert probe_port(action, (PortSpec(8081, "webui"),)) == expected


def test_probes_against_a_real_port() -> None:
    async def scenario() -> list[Any]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return [
                await tcp_probe(port, "10.244.0.9:8081", 1.0),
                await http_probe(port, "10.244.0.9:8081", {"path": "/overview"}, 1.0),
                await tcp_probe(None, "10.244.0.9:8081", 1.0),
            ]

    tcp, http, closed = asyncio.run(scenario())

    assert tcp.success
    assert not http.success and http.message == "HTTP probe failed with statuscode: 503"
    assert closed.message == "dial tcp 10.244.0.9:8081: connect: connection refused"


def test_local_is_a_registered_runtime() -> None:
    assert sorted(RUNTIMES) == ["local", "simulated"]
