"""Watch through the ``kubernetes`` client's ``Watch`` helper and raw streams.

Most scenarios make their changes first and then watch from an older resourceVersion:
the server replays the retained history, so the event sequence is deterministic.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from kubernetes import client, watch

from flink_k8s_sandbox import SandboxServer


def _events(core: client.CoreV1Api, namespace: str, **kwargs: Any) -> list[tuple[str, str, str]]:
    """``(type, name, resourceVersion)`` of every event until the stream's timeout."""
    stream = watch.Watch().stream(core.list_namespaced_config_map, namespace, **kwargs)
    return [
        (e["type"], e["object"].metadata.name, e["object"].metadata.resource_version)
        for e in stream
    ]


def _list_rv(core: client.CoreV1Api, namespace: str) -> str:
    return str(core.list_namespaced_config_map(namespace).metadata.resource_version)


def test_resume_replays_changes_after_the_resource_version(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "before"}})
    start = _list_rv(core, namespace)
    added = core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    modified = core.patch_namespaced_config_map("x", namespace, {"data": {"a": "1"}})
    core.delete_namespaced_config_map("x", namespace)
    events = _events(core, namespace, resource_version=start, timeout_seconds=1)
    assert [(t, n) for t, n, _ in events] == [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")]
    versions = [int(rv) for _, _, rv in events]
    assert versions[0] == int(added.metadata.resource_version)
    assert versions[1] == int(modified.metadata.resource_version)
    assert versions[0] < versions[1] < versions[2]


def test_watch_without_resource_version_starts_with_current_state(
    core: client.CoreV1Api, namespace: str
) -> None:
    for name in ("b", "a"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    timer = threading.Timer(
        0.3, lambda: core.patch_namespaced_config_map("a", namespace, {"data": {"k": "v"}})
    )
    timer.start()
    try:
        events = _events(core, namespace, timeout_seconds=1)
    finally:
        timer.join()
    assert [(t, n) for t, n, _ in events] == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a")]


def test_selector_transitions_are_added_and_deleted(core: client.CoreV1Api, namespace: str) -> None:
    start = _list_rv(core, namespace)
    body = {"metadata": {"name": "moving", "labels": {"tier": "web"}}}
    core.create_namespaced_config_map(namespace, body)
    core.patch_namespaced_config_map("moving", namespace, {"metadata": {"labels": {"tier": "db"}}})
    core.patch_namespaced_config_map("moving", namespace, {"data": {"ignored": "yes"}})
    core.patch_namespaced_config_map("moving", namespace, {"metadata": {"labels": {"tier": "web"}}})
    core.delete_namespaced_config_map("moving", namespace)
    events = _events(
        core, namespace, resource_version=start, label_selector="tier=web", timeout_seconds=1
    )
    assert [t for t, _, _ in events] == ["ADDED", "DELETED", "ADDED", "DELETED"]


def test_expired_history_is_an_in_band_410(
    sandbox: SandboxServer, core: client.CoreV1Api, namespace: str
) -> None:
    start = _list_rv(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    sandbox.compact_history()
    current = _list_rv(core, namespace)
    with pytest.raises(client.ApiException) as caught:
        _events(core, namespace, resource_version=start, timeout_seconds=1)
    assert caught.value.status == 410
    assert caught.value.reason == f"Expired: too old resource version: {start} ({current})"
    assert _events(core, namespace, resource_version=current, timeout_seconds=1) == []


def _raw_watch(
    api_client: client.ApiClient, path: str, params: dict[str, str]
) -> list[dict[str, Any]]:
    response = api_client.call_api(
        path,
        "GET",
        query_params=list(params.items()),
        header_params={"Accept": "application/json"},
        _preload_content=False,
        _return_http_data_only=True,
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Transfer-Encoding"] == "chunked"
    return [json.loads(line) for line in response.data.decode().splitlines()]


def test_raw_410_is_http_200_with_one_error_event(
    sandbox: SandboxServer, api_client: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    start = _list_rv(core, namespace)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "x"}})
    sandbox.compact_history()
    events = _raw_watch(
        api_client,
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"watch": "true", "resourceVersion": start, "timeoutSeconds": "5"},
    )
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    error = events[0]["object"]
    assert (error["kind"], error["code"], error["reason"]) == ("Status", 410, "Expired")


def test_bounded_history_expires_old_resource_versions(tmp_path: Any) -> None:
    from kubernetes import config

    with SandboxServer(history_limit=2) as server:
        api = config.new_client_from_config(str(server.write_kubeconfig(tmp_path / "kc")))
        core = client.CoreV1Api(api)
        start = _list_rv(core, "default")
        for index in range(3):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
        with pytest.raises(client.ApiException) as caught:
            _events(core, "default", resource_version=start, timeout_seconds=1)
        assert caught.value.status == 410
        api.close()


def test_bookmarks_and_timeout(core: client.CoreV1Api, namespace: str) -> None:
    start = _list_rv(core, namespace)
    began = time.monotonic()
    stream = watch.Watch().stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        allow_watch_bookmarks=True,
        timeout_seconds=1,
    )
    events = list(stream)
    elapsed = time.monotonic() - began
    assert 0.9 <= elapsed < 3
    kinds = {e["type"] for e in events}
    assert kinds == {"BOOKMARK"}
    assert len(events) >= 2  # every 0.3 s (the fixture's interval) and before closing
    last = events[-1]["raw_object"]
    assert last["kind"] == "ConfigMap" and last["apiVersion"] == "v1"
    assert int(last["metadata"]["resourceVersion"]) >= int(start)


def test_send_initial_events_streams_state_then_the_end_bookmark(
    api_client: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    for name in ("a", "b"):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": name}})
    current = _list_rv(core, namespace)
    events = _raw_watch(
        api_client,
        f"/api/v1/namespaces/{namespace}/configmaps",
        {
            "watch": "true",
            "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "1",
        },
    )
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:3]] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
        ("BOOKMARK", None),
    ]
    assert events[2]["object"]["metadata"] == {
        "resourceVersion": current,
        "annotations": {"k8s.io/initial-events-end": "true"},
    }


def test_send_initial_events_rules(api_client: client.ApiClient, namespace: str) -> None:
    with pytest.raises(client.ApiException) as caught:
        _raw_watch(
            api_client,
            f"/api/v1/namespaces/{namespace}/configmaps",
            {"watch": "true", "sendInitialEvents": "true"},
        )
    status = json.loads(caught.value.body)
    assert status["code"] == 422
    assert status["details"] == {
        "group": "meta.k8s.io",
        "kind": "ListOptions",
        "causes": [
            {
                "reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents requires setting resourceVersionMatch "
                "to NotOlderThan",
                "field": "resourceVersionMatch",
            },
            {
                "reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents requires setting allowWatchBookmarks "
                "to true",
                "field": "allowWatchBookmarks",
            },
        ],
    }


def test_watch_all_namespaces(core: client.CoreV1Api, namespace: str) -> None:
    start = str(core.list_config_map_for_all_namespaces().metadata.resource_version)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "here"}})
    stream = watch.Watch().stream(
        core.list_config_map_for_all_namespaces, resource_version=start, timeout_seconds=1
    )
    seen = [(e["type"], e["object"].metadata.namespace, e["object"].metadata.name) for e in stream]
    assert ("ADDED", namespace, "here") in seen
