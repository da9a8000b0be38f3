"""The API server's proxy to Services and pods, against a tiny aiohttp backend.

The backend runs on 127.0.0.1 and is registered with ``sandbox.network.expose`` for a
pod whose Ready status the test writes (no kubelet involved).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from kubernetes import client
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig

from flink_k8s_sandbox import SandboxServer

Status = Callable[..., dict[str, Any]]


class Backend:
    """An aiohttp app on its own loop and thread: echoes requests, streams on demand."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.release = asyncio.Event()
        self.port = 0
        self.runner: web.AppRunner | None = None

    async def _echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        echoed = {
            "method": request.method,
            "path": request.path,
            "query": request.query_string,
            "body": body.decode(),
            "headers": {k: v for k, v in request.headers.items() if k.lower() != "host"},
        }
        return web.json_response(echoed, headers={"X-Backend": "yes"})

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"first\n")
        await self.release.wait()
        await response.write(b"second\n")
        await response.write_eof()
        return response

    async def _redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/landing?from=redirect")

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/stream", self._stream)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    def __enter__(self) -> Backend:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def let_stream_finish(self) -> None:
        self.loop.call_soon_threadsafe(self.release.set)


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    with Backend() as running:
        yield running


@pytest.fixture
def flink_rest(
    sandbox: SandboxServer,
    core: client.CoreV1Api,
    namespace: str,
    manual_pod: Callable[..., Any],
    backend: Backend,
) -> Iterator[Any]:
    """A Ready pod ``jm`` serving its container port 8081 (named ``rest``) from the
    backend, and a Service ``flink-rest`` (port 8081 -> ``rest``) selecting it."""
    pod = manual_pod(namespace, "jm", {"app": "jm"}, ports={"rest": 8081})
    sandbox.call(lambda _: sandbox.network.expose(pod.ip, 8081, "127.0.0.1", backend.port))
    ports = [{"name": "rest", "port": 8081, "targetPort": "rest"}]
    service = {
        "metadata": {"name": "flink-rest"},
        "spec": {"selector": {"app": "jm"}, "ports": ports},
    }
    core.create_namespaced_service(namespace, service)
    for _ in range(100):
        if core.read_namespaced_endpoints("flink-rest", namespace).subsets:
            break
        time.sleep(0.02)
    yield pod
    sandbox.call(lambda _: sandbox.network.release_pod_ip(pod.ip))


def test_service_proxy_get_with_the_python_client(
    core: client.CoreV1Api, namespace: str, flink_rest: Any
) -> None:
    for name in ("flink-rest:8081", "flink-rest:rest", "http:flink-rest:8081"):
        text = core.connect_get_namespaced_service_proxy_with_path(name, namespace, "overview")
        assert "'path': '/overview'" in text  # the client turns a JSON answer into a repr
    nested = core.connect_get_namespaced_service_proxy_with_path(
        "flink-rest:8081", namespace, "v1/jobs/", path2="kept", _preload_content=False
    )
    echoed = json.loads(nested.data)
    assert (echoed["path"], echoed["query"]) == ("/v1/jobs/", "path=kept")
    assert echoed["headers"]["X-Forwarded-Uri"] == (
        f"/api/v1/namespaces/{namespace}/services/flink-rest:8081/proxy/v1/jobs/"
    )
    assert "Authorization" not in echoed["headers"]


def test_service_proxy_post_with_query_body_and_headers(
    api_client: client.ApiClient, namespace: str, flink_rest: Any
) -> None:
    response = api_client.call_api(
        "/api/v1/namespaces/{namespace}/services/{name}/proxy/{path}",
        "POST",
        path_params={"namespace": namespace, "name": "flink-rest:8081", "path": "jars/run"},
        query_params=[("parallelism", "2"), ("entry", "a b")],
        header_params={"Content-Type": "application/json", "X-Custom": "kept"},
        body={"programArgs": "--x 1"},
        auth_settings=["BearerToken"],
        _preload_content=False,
    )
    echoed = json.loads(response.data)
    assert response.status == 200 and response.headers["X-Backend"] == "yes"
    assert echoed["method"] == "POST" and echoed["path"] == "/jars/run"
    assert echoed["query"] == "parallelism=2&entry=a b"
    assert json.loads(echoed["body"]) == {"programArgs": "--x 1"}
    assert echoed["headers"]["X-Custom"] == "kept"
    assert echoed["headers"]["Content-Type"] == "application/json"


def test_pod_proxy_and_streaming_with_kubernetes_asyncio(
    kubeconfig: Path, namespace: str, flink_rest: Any, backend: Backend
) -> None:
    async def run() -> None:
        api = await aconfig.new_client_from_config(str(kubeconfig))
        async with api:
            v1 = aclient.CoreV1Api(api)
            raw = await v1.connect_post_namespaced_pod_proxy_with_path(
                "jm:8081", namespace, "jobs/cancel", path2="now", _preload_content=False
            )
            echoed = json.loads(await raw.read())
            assert (echoed["method"], echoed["path"], echoed["query"]) == (
                "POST",
                "/jobs/cancel",
                "path=now",
            )
            raw = await v1.connect_get_namespaced_pod_proxy_with_path(
                "jm", namespace, "x", _preload_content=False
            )
            assert json.loads(await raw.read())["path"] == "/x"  # the first container port
            raw = await api.call_api(
                "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
                "PUT",
                path_params={"namespace": namespace, "name": "jm:8081", "path": "config"},
                query_params=[("dry", "true")],
                header_params={"Content-Type": "application/json"},
                body={"k": "v"},
                auth_settings=["BearerToken"],
                _preload_content=False,
            )
            echoed = json.loads(await raw.read())
            assert (echoed["method"], echoed["query"]) == ("PUT", "dry=true")
            assert json.loads(echoed["body"]) == {"k": "v"}
            response = await v1.connect_get_namespaced_service_proxy_with_path(
                "flink-rest:8081", namespace, "stream", _preload_content=False
            )
            assert await response.content.readline() == b"first\n"  # before the backend ends
            backend.let_stream_finish()
            assert await response.content.readline() == b"second\n"
            response.close()

    asyncio.run(run())


def test_redirects_are_rewritten_and_proxy_root_redirects(
    sandbox: SandboxServer, namespace: str, flink_rest: Any
) -> None:
    base = f"{sandbox.url}/api/v1/namespaces/{namespace}/services/flink-rest:8081/proxy"

    async def run() -> tuple[str, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/redirect", allow_redirects=False) as redirected:
                assert redirected.status == 302
                location = redirected.headers["Location"]
            async with session.get(f"{base}?a=1", allow_redirects=False) as root:
                assert root.status == 301
                return location, root.headers["Location"]

    location, root = asyncio.run(run())
    prefix = f"/api/v1/namespaces/{namespace}/services/flink-rest:8081/proxy"
    assert location == f"{prefix}/landing?from=redirect"
    assert root == f"{prefix}/?a=1"


def test_proxy_failures_are_the_api_servers(
    core: client.CoreV1Api,
    namespace: str,
    fail_status: Status,
    manual_pod: Callable[..., Any],
    flink_rest: Any,
) -> None:
    selector_only = {"selector": {"app": "nobody"}, "ports": [{"name": "rest", "port": 8081}]}
    core.create_namespaced_service(namespace, {"metadata": {"name": "idle"}, "spec": selector_only})
    status = fail_status(
        core.connect_get_namespaced_service_proxy_with_path, "idle:8081", namespace, "overview"
    )
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'no endpoints available for service "idle"',
        "reason": "ServiceUnavailable",
        "code": 503,
    }
    status = fail_status(
        core.connect_get_namespaced_service_proxy_with_path, "flink-rest:9999", namespace, "x"
    )
    assert status["message"] == 'no service port 9999 found for service "flink-rest"'
    status = fail_status(
        core.connect_get_namespaced_service_proxy_with_path, "nope", namespace, "x"
    )
    assert (status["code"], status["message"]) == (404, 'services "nope" not found')

    hidden = manual_pod(namespace, "tm", {"app": "tm"}, ports={"data": 6121})
    status = fail_status(core.connect_get_namespaced_pod_proxy_with_path, "tm", namespace, "x")
    assert (status["code"], status["reason"]) == (503, "ServiceUnavailable")
    assert status["message"] == (
        f"error trying to reach service: dial tcp {hidden.ip}:6121: connect: connection refused"
    )
    manual_pod(namespace, "pending", {"app": "p"}, ready=None)
    status = fail_status(core.connect_get_namespaced_pod_proxy_with_path, "pending", namespace, "x")
    assert (status["code"], status["reason"], status["message"]) == (
        400,
        "BadRequest",
        "address not allowed",
    )


def test_kubectl_get_raw_through_the_proxy(
    kubectl: Callable[..., Any], namespace: str, flink_rest: Any
) -> None:
    path = f"/api/v1/namespaces/{namespace}/services/flink-rest:8081/proxy/overview?x=1"
    echoed = json.loads(kubectl("get", "--raw", path).stdout)
    assert (echoed["path"], echoed["query"]) == ("/overview", "x=1")


def test_the_proxy_reaches_a_pod_the_kubelet_runs(core: client.CoreV1Api, namespace: str) -> None:
    container = {
        "name": "jm",
        "image": "flink:2.0",
        "ports": [{"name": "rest", "containerPort": 8081}],
    }
    pod = {"metadata": {"name": "jm", "labels": {"app": "jm"}}, "spec": {"containers": [container]}}
    core.create_namespaced_pod(namespace, pod)
    ports = [{"name": "rest", "port": 8081, "targetPort": "rest"}]
    service = {"metadata": {"name": "rest"}, "spec": {"selector": {"app": "jm"}, "ports": ports}}
    core.create_namespaced_service(namespace, service)
    for _ in range(200):
        subsets = core.read_namespaced_endpoints("rest", namespace).subsets
        if subsets and subsets[0].addresses:
            break
        time.sleep(0.05)
    raw = core.connect_get_namespaced_service_proxy_with_path(
        "rest:8081", namespace, "v1/overview", _preload_content=False
    )
    answered = json.loads(raw.data)  # the simulated runtime's stub
    assert (answered["pod"], answered["port"]) == ("jm", 8081)
    assert answered["request"] == "GET /v1/overview HTTP/1.1"
