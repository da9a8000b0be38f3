"""Watch bookkeeping: lines, resume points, relists."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_flink_k8s.exceptions import KubernetesApiError, ResourceNotFound
from airflow_provider_flink_k8s.kube import LineBuffer, WatchCursor, WatchEvent
from airflow_provider_flink_k8s.kube.resources import POD


def _obj(name: str, version: str) -> dict[str, Any]:
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "ns", "resourceVersion": version},
    }


def _line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}).encode()


def _list(version: str, *objs: dict[str, Any]) -> dict[str, Any]:
    items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in objs]
    return {"metadata": {"resourceVersion": version}, "items": items}


def test_line_buffer_joins_chunks() -> None:
    buffer = LineBuffer()
    assert buffer.feed(b'{"a"') == []
    assert buffer.feed(b':1}\n\n{"b":2}\n{"c"') == [b'{"a":1}', b'{"b":2}']
    assert buffer.feed(b":3}\n") == [b'{"c":3}']


def test_requests() -> None:
    cursor = WatchCursor(POD, "ns", label_selector="a=b", resource_version="10", window=30)
    assert not cursor.needs_list
    request = cursor.watch_request(100.2)
    assert request.path == "/api/v1/namespaces/ns/pods"
    assert dict(request.query) == {
        "labelSelector": "a=b",
        "watch": "true",
        "allowWatchBookmarks": "true",
        "resourceVersion": "10",
        "timeoutSeconds": "30",
    }
    assert dict(cursor.watch_request(0.2).query)["timeoutSeconds"] == "1"
    assert dict(cursor.watch_request(2.5).query)["timeoutSeconds"] == "3"
    assert cursor.list_request().query == (("labelSelector", "a=b"),)


def test_start_with_a_list_then_resume_from_each_event() -> None:
    cursor = WatchCursor(POD, "ns")
    assert cursor.needs_list
    events = cursor.relisted(_list("5", _obj("a", "3"), _obj("b", "4")))
    assert [(e.type, e.name, e.synthetic) for e in events] == [
        ("ADDED", "a", True),
        ("ADDED", "b", True),
    ]
    assert events[0].object["kind"] == "Pod"
    assert (cursor.resource_version, cursor.needs_list) == ("5", False)
    event = cursor.advance(_line("MODIFIED", _obj("a", "6")))
    assert isinstance(event, WatchEvent) and (
        event.type,
        event.resource_version,
        event.synthetic,
    ) == ("MODIFIED", "6", False)
    assert cursor.resource_version == "6"
    assert (
        cursor.advance(_line("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": "9"}}))
        is None
    )
    assert cursor.resource_version == "9"


def test_bookmarks_reported_when_asked() -> None:
    cursor = WatchCursor(POD, "ns", resource_version="1", bookmarks=True)
    event = cursor.advance(_line("BOOKMARK", {"kind": "Pod", "metadata": {"resourceVersion": "9"}}))
    assert isinstance(event, WatchEvent) and event.type == "BOOKMARK"


def test_in_band_410_asks_for_a_relist_and_the_relist_reports_the_difference() -> None:
    cursor = WatchCursor(POD, "ns")
    cursor.relisted(_list("5", _obj("a", "3"), _obj("b", "4"), _obj("c", "5")))
    expired = {
        "kind": "Status",
        "code": 410,
        "reason": "Expired",
        "message": "too old resource version: 5 (9)",
    }
    assert cursor.advance(_line("ERROR", expired)) is None
    assert cursor.needs_list
    events = cursor.relisted(_list("12", _obj("a", "3"), _obj("b", "11"), _obj("d", "12")))
    assert [(e.type, e.name, e.synthetic) for e in events] == [
        ("MODIFIED", "b", True),
        ("ADDED", "d", True),
        ("DELETED", "c", True),
    ]
    assert (cursor.resource_version, cursor.needs_list) == ("12", False)


def test_deleted_objects_are_forgotten() -> None:
    cursor = WatchCursor(POD, "ns")
    cursor.relisted(_list("5", _obj("a", "3")))
    cursor.advance(_line("DELETED", _obj("a", "6")))
    assert cursor.relisted(_list("7")) == []


def test_http_410_asks_for_a_relist_other_errors_do_not() -> None:
    cursor = WatchCursor(POD, "ns", resource_version="1")
    assert not cursor.expire(ResourceNotFound(404, "NotFound", "m"))
    assert not cursor.needs_list
    assert cursor.expire(KubernetesApiError(410, "Expired", "too old"))
    assert cursor.needs_list


def test_other_error_events_are_errors() -> None:
    cursor = WatchCursor(POD, "ns", resource_version="1")
    status = {"kind": "Status", "code": 500, "reason": "InternalError", "message": "etcd is sad"}
    error = cursor.advance(_line("ERROR", status))
    assert isinstance(error, KubernetesApiError)
    assert (error.status, error.reason, error.message) == (500, "InternalError", "etcd is sad")


def test_garbage_lines_are_ignored() -> None:
    cursor = WatchCursor(POD, "ns", resource_version="1")
    assert cursor.advance(b"not json") is None
    assert cursor.advance(b'{"type": "ADDED", "object": null}') is None
    assert cursor.advance(_line("WEIRD", _obj("a", "2"))) is None
    assert cursor.resource_version == "2"
