"""``kubernetes_asyncio`` against a sandbox run as an async context manager in the same loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client, config, watch

from flink_k8s_sandbox import SandboxServer

Scenario = Callable[[client.ApiClient, SandboxServer], Awaitable[Any]]


def _run(tmp_path: Path, scenario: Scenario) -> Any:
    async def main() -> Any:
        async with SandboxServer(workloads=False) as server:  # no controllers act on objects
            path = server.write_kubeconfig(tmp_path / "kubeconfig")
            api = await config.new_client_from_config(config_file=str(path))
            async with api:
                return await scenario(api, server)

    return asyncio.run(main())


def test_crud_and_errors(tmp_path: Path) -> None:
    async def scenario(api: client.ApiClient, server: SandboxServer) -> None:
        core = client.CoreV1Api(api)
        created = await core.create_namespaced_config_map(
            "default", {"metadata": {"name": "cm"}, "data": {"a": "1"}}
        )
        patched = await core.patch_namespaced_config_map("cm", "default", {"data": {"a": "2"}})
        assert patched.data == {"a": "2"}
        assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
        with pytest.raises(client.ApiException) as caught:
            await core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})
        assert caught.value.status == 409
        await core.delete_namespaced_config_map("cm", "default")
        assert (await core.list_namespaced_config_map("default")).items == []

    _run(tmp_path, scenario)


def test_watch_resume_and_expiry(tmp_path: Path) -> None:
    async def events(core: client.CoreV1Api, rv: str) -> list[tuple[str, str]]:
        found = []
        async with watch.Watch().stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=1
        ) as stream:
            async for event in stream:
                found.append((event["type"], event["object"].metadata.name))
        return found

    async def scenario(api: client.ApiClient, server: SandboxServer) -> None:
        core = client.CoreV1Api(api)
        start = (await core.list_namespaced_config_map("default")).metadata.resource_version
        await core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
        await core.delete_namespaced_config_map("a", "default")
        assert await events(core, start) == [("ADDED", "a"), ("DELETED", "a")]
        server.compact_history()
        with pytest.raises(client.ApiException) as caught:
            await events(core, start)
        assert caught.value.status == 410

    _run(tmp_path, scenario)


def test_live_events_reach_an_open_watch(tmp_path: Path) -> None:
    async def scenario(api: client.ApiClient, server: SandboxServer) -> list[str]:
        apps = client.AppsV1Api(api)
        seen: list[str] = []

        async def watcher() -> None:
            async with watch.Watch().stream(
                apps.list_namespaced_deployment, "default", timeout_seconds=2
            ) as stream:
                async for event in stream:
                    seen.append(f"{event['type']} {event['object'].metadata.name}")
                    if event["type"] == "DELETED":
                        return

        task = asyncio.create_task(watcher())
        await asyncio.sleep(0.2)
        body = {
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "main", "image": "nginx"}]},
                },
            },
        }
        await apps.create_namespaced_deployment("default", body)
        await apps.delete_namespaced_deployment("web", "default")
        await asyncio.wait_for(task, 5)
        return seen

    assert _run(tmp_path, scenario) == ["ADDED web", "DELETED web"]
