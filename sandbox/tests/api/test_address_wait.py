"""A TaskManager waiting for its JobManager's address is woken by changes, not a timer.

No Java: :meth:`LocalRuntime._jobmanager_address` runs against a fake cluster view, and
the kubelet's change notification against a sandbox with the simulated runtime.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes_asyncio import client, config

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.runtime import ClusterView
from flink_k8s_sandbox.runtime import local as local_module
from flink_k8s_sandbox.runtime.flinkpods import PodConfiguration
from flink_k8s_sandbox.runtime.local import LocalRuntime
from flink_k8s_sandbox.runtime.simulated import SimulatedRuntime

SERVICE = {"spec": {"ports": [{"name": "rpc", "port": 6123, "targetPort": 6123}]}}
ENDPOINTS = {
    "subsets": [
        {
            "notReadyAddresses": [{"ip": "10.244.0.9"}],
            "ports": [{"name": "rpc", "port": 6123, "protocol": "TCP"}],
        }
    ]
}


def test_without_a_notifier_the_view_sleeps_the_timeout() -> None:
    view = ClusterView(lookup=lambda *_: None, resolve=lambda *_: None)
    started = time.monotonic()
    asyncio.run(view.wait_changed(0.05))
    assert time.monotonic() - started >= 0.04


def test_the_jobmanager_address_resolves_on_the_change_not_the_next_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_module, "_POLL_SECONDS", 30.0)  # only a wake-up can be in time

    async def scenario() -> tuple[tuple[str, int], float, list[str]]:
        objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        exposed: dict[tuple[str, int], tuple[str, int]] = {}
        changed = asyncio.Event()

        async def wait(timeout: float) -> None:
            await asyncio.wait_for(changed.wait(), timeout)

        view = ClusterView(
            lookup=lambda plural, namespace, name: objects.get((plural, namespace, name)),
            resolve=lambda ip, port: exposed.get((ip, port)),
            changed=wait,
        )
        runtime = LocalRuntime(workdir=tmp_path)
        runtime.attach(view)
        logged: list[str] = []
        spec: Any = SimpleNamespace(namespace="ns")
        io: Any = SimpleNamespace(log=logged.append)
        pod = PodConfiguration({"jobmanager.rpc.address": "demo-jobmanager"})
        waiting = asyncio.ensure_future(runtime._jobmanager_address(spec, pod, io))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # no Service yet
        objects[("services", "ns", "demo-jobmanager")] = SERVICE
        objects[("endpoints", "ns", "demo-jobmanager")] = ENDPOINTS
        exposed[("10.244.0.9", 6123)] = ("127.0.0.1", 41000)
        started = time.monotonic()
        changed.set()
        found = await asyncio.wait_for(waiting, 5)
        return found, time.monotonic() - started, logged

    found, took, logged = asyncio.run(scenario())
    assert found == ("127.0.0.1", 41000)
    assert took < 1.0
    assert logged == ["sandbox: waiting for the JobManager at demo-jobmanager:6123"]


class _Capturing(SimulatedRuntime):
    view: ClusterView | None = None

    def attach(self, cluster: ClusterView) -> None:
        self.view = cluster


def test_the_kubelet_wakes_address_waiters_on_service_changes(tmp_path: Path) -> None:
    runtime = _Capturing()

    async def main() -> tuple[float, float]:
        async with SandboxServer(runtime=runtime) as server:
            assert runtime.view is not None
            await asyncio.sleep(0.2)  # the seeded API Service and its Endpoints settle
            started = time.monotonic()
            await runtime.view.wait_changed(0.05)  # nothing changes: the timeout
            idle = time.monotonic() - started
            path = server.write_kubeconfig(tmp_path / "kubeconfig")
            api = await config.new_client_from_config(config_file=str(path))
            async with api:
                waiter = asyncio.ensure_future(runtime.view.wait_changed(30))
                await asyncio.sleep(0)
                started = time.monotonic()
                body = {
                    "metadata": {"name": "demo-jobmanager"},
                    "spec": {"ports": [{"name": "rpc", "port": 6123}], "selector": {"a": "b"}},
                }
                await client.CoreV1Api(api).create_namespaced_service("default", body)
                await asyncio.wait_for(waiter, 5)
                return idle, time.monotonic() - started

    idle, woken = asyncio.run(main())
    assert idle >= 0.04
    assert woken < 5
