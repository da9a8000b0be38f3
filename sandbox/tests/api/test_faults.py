"""Fault injection: failing, slow and cut requests, dropped watches, compacted history.

Each test's rules only match paths under its own namespace, and the injector is cleared
afterwards.
"""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes_asyncio import client as aclient
from kubernetes_asyncio import config as aconfig
from kubernetes_asyncio import watch as awatch

from flink_k8s_sandbox import SandboxServer

Status = Callable[..., dict[str, Any]]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def clean_faults(sandbox: SandboxServer) -> Iterator[None]:
    yield
    sandbox.faults.clear()


def _configmap(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {"k": "v"}}


def test_the_next_n_requests_fail_then_succeed(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    core.create_namespaced_config_map(namespace, _configmap("c"))
    rule = sandbox.faults.fail(500, method="GET", path=f"/namespaces/{namespace}/", times=2)
    for _ in range(2):
        status = fail_status(core.read_namespaced_config_map, "c", namespace)
        assert status == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Internal error occurred: injected fault",
            "reason": "InternalError",
            "details": {"causes": [{"message": "injected fault"}]},
            "code": 500,
        }
    assert core.read_namespaced_config_map("c", namespace).data == {"k": "v"}
    assert (rule.matched, sandbox.faults.rules) == (2, [])
    sandbox.faults.fail(503, method="POST", path=f"/namespaces/{namespace}/configmaps", times=1)
    status = fail_status(core.create_namespaced_config_map, namespace, _configmap("d"))
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server is currently unable to handle the request",
        "reason": "ServiceUnavailable",
        "code": 503,
    }
    core.create_namespaced_config_map(namespace, _configmap("d"))


def test_429_with_retry_after_is_absorbed_by_kubectl_and_surfaces_in_python(
    sandbox: SandboxServer,
    core: client.CoreV1Api,
    kubeconfig: Path,
    namespace: str,
    kubectl: Kubectl,
) -> None:
    core.create_namespaced_config_map(namespace, _configmap("c"))
    path = f"/namespaces/{namespace}/configmaps"
    rule = sandbox.faults.fail(429, path=path, times=2, retry_after=1)
    started = time.monotonic()
    listed = kubectl("get", "configmaps", "-n", namespace, "-o", "name")
    assert listed.stdout.split() == ["configmap/c"]
    assert rule.matched == 2 and time.monotonic() - started >= 2.0  # waited Retry-After twice

    # the Python client's urllib3 retries idempotent requests on 429/503 + Retry-After ...
    rule = sandbox.faults.fail(429, method="GET", path=path, times=1, retry_after=1)
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["c"]
    assert rule.matched == 1
    # ... but not a POST
    sandbox.faults.fail(429, method="POST", path=path, times=1, retry_after=3)
    with pytest.raises(client.ApiException) as caught:
        core.create_namespaced_config_map(namespace, _configmap("d"))
    assert (caught.value.status, caught.value.headers["Retry-After"]) == (429, "3")
    assert json.loads(caught.value.body) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Too many requests, please try again later.",
        "reason": "TooManyRequests",
        "details": {"retryAfterSeconds": 3},
        "code": 429,
    }

    sandbox.faults.fail(429, path=path, times=1, retry_after=1)

    async def list_async() -> int:
        api = await aconfig.new_client_from_config(str(kubeconfig))
        async with api:
            try:
                await aclient.CoreV1Api(api).list_namespaced_config_map(namespace)
            except aclient.ApiException as error:
                return int(error.status)
        return 200

    assert asyncio.run(list_async()) == 429


def test_503_without_retry_after_surfaces_in_kubectl(
    sandbox: SandboxServer, namespace: str, kubectl: Kubectl
) -> None:
    sandbox.faults.fail(503, path=f"/namespaces/{namespace}/configmaps", times=1, message="busy")
    result = kubectl("get", "configmaps", "-n", namespace, check=False)
    assert result.returncode == 1
    assert "Error from server (ServiceUnavailable): busy" in result.stderr


def test_latency(sandbox: SandboxServer, core: client.CoreV1Api, namespace: str) -> None:
    sandbox.faults.delay(0.4, method="GET", path=f"/namespaces/{namespace}/configmaps", times=1)
    started = time.monotonic()
    core.list_namespaced_config_map(namespace)
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    core.list_namespaced_config_map(namespace)
    assert time.monotonic() - started < 0.4


def test_a_reset_connection_is_retried_by_urllib3(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    rule = sandbox.faults.reset(method="GET", path=f"/namespaces/{namespace}/configmaps")
    assert core.list_namespaced_config_map(namespace).items == []
    assert rule.matched == 1


def _watch_names(core: client.CoreV1Api, namespace: str, seen: queue.Queue[Any]) -> None:
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, _request_timeout=30)
    try:
        for event in stream:
            seen.put((event["type"], event["object"].metadata.name))
    except Exception as error:  # reported to the test
        seen.put(error)


def test_a_dropped_watch_is_resumed_by_the_python_watch(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    seen: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=_watch_names, args=(core, namespace, seen), daemon=True).start()
    core.create_namespaced_config_map(namespace, _configmap("before"))
    assert seen.get(timeout=10) == ("ADDED", "before")
    assert sandbox.faults.drop_watches(f"/namespaces/{namespace}/configmaps") == 1
    core.create_namespaced_config_map(namespace, _configmap("after"))
    assert seen.get(timeout=10) == ("ADDED", "after")  # resumed from its resourceVersion
    # a cut connection is an error for the Python client
    assert sandbox.faults.drop_watches(f"/namespaces/{namespace}/configmaps", abort=True) == 1
    error = seen.get(timeout=10)
    assert isinstance(error, urllib3.exceptions.ProtocolError)


def test_a_dropped_watch_ends_a_kubernetes_asyncio_stream(
    sandbox: SandboxServer, kubeconfig: Path, namespace: str
) -> None:
    async def run() -> list[str]:
        api = await aconfig.new_client_from_config(str(kubeconfig))
        names: list[str] = []
        async with api:
            v1 = aclient.CoreV1Api(api)
            await v1.create_namespaced_config_map(namespace, _configmap("a"))
            started = time.monotonic()
            async with awatch.Watch() as stream:
                events = stream.stream(v1.list_namespaced_config_map, namespace, timeout_seconds=30)
                async for event in events:
                    names.append(event["object"].metadata.name)
                    await asyncio.to_thread(sandbox.faults.drop_watches, f"/{namespace}/")
            assert time.monotonic() - started < 10
        return names

    assert asyncio.run(run()) == ["a"]


def test_compaction_makes_resumed_watches_expire(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, _configmap("a"))
    old = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, _configmap("b"))
    sandbox.faults.compact()
    current = core.list_namespaced_config_map(namespace).metadata.resource_version
    raw = core.list_namespaced_config_map(
        namespace, watch=True, resource_version=old, _preload_content=False
    )
    lines = [json.loads(line) for line in raw.data.splitlines()]
    assert raw.status == 200
    assert lines == [
        {
            "type": "ERROR",
            "object": {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {old} ({current})",
                "reason": "Expired",
                "code": 410,
            },
        }
    ]
    with pytest.raises(client.ApiException) as caught:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map, namespace, resource_version=old, timeout_seconds=5
        ):
            pass
    assert caught.value.status == 410


def _admin(sandbox: SandboxServer, method: str, body: Any = None, suffix: str = "") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{sandbox.url}/sandbox/faults{suffix}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_the_admin_endpoint(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str, fail_status: Status
) -> None:
    body = {"action": "fail", "status": 504, "method": "GET", "path": f"/{namespace}/", "times": 1}
    code, rule = _admin(sandbox, "POST", body)
    assert code == 201
    assert rule == {
        "id": rule["id"],
        "action": "fail",
        "method": "GET",
        "path": f"/{namespace}/",
        "times": 1,
        "status": 504,
        "retryAfter": None,
        "message": None,
        "matched": 0,
    }
    assert _admin(sandbox, "GET")[1]["rules"] == [rule]
    status = fail_status(core.list_namespaced_config_map, namespace)
    assert (status["reason"], status["message"]) == (
        "Timeout",
        "Timeout: the server was unable to return a response in the time allotted",
    )
    _admin(sandbox, "POST", {"action": "delay", "seconds": 0.2, "path": f"/{namespace}/"})
    assert _admin(sandbox, "DELETE") == (200, {"cleared": True})
    assert _admin(sandbox, "POST", {"action": "compact"}) == (200, {"compacted": True})
    assert _admin(sandbox, "POST", {"action": "dropWatches", "path": "/nothing/"}) == (
        200,
        {"dropped": 0},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        _admin(sandbox, "POST", {"action": "explode"})
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["message"] == (
        "cannot inject fault: unknown action 'explode': "
        "use fail, delay, reset, dropWatches, compact or pod"
    )


def test_pod_faults_are_handed_to_the_kubelet(sandbox: SandboxServer, namespace: str) -> None:
    rule = sandbox.faults.pod(
        fault="CrashLoopBackOff", namespace=namespace, name="web-*", exit_code=3
    )
    assert (rule["fault"], rule["namespace"], rule["name"], rule["exitCode"]) == (
        "CrashLoopBackOff",
        namespace,
        "web-*",
        3,
    )
    body = {"action": "pod", "fault": "NeverReady", "namespace": namespace, "containers": "main"}
    code, added = _admin(sandbox, "POST", body)
    assert code == 201 and (added["fault"], added["containers"]) == ("NeverReady", ["main"])
    assert _admin(sandbox, "GET")[1]["podRules"] == [rule, added]
    sandbox.faults.clear(pods=True)
    assert _admin(sandbox, "GET")[1]["podRules"] == []
