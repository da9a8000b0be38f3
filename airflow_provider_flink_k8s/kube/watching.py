"""Watch bookkeeping without I/O: where to resume, when to relist, what a line means.

A :class:`WatchCursor` follows one watched collection across reconnections:

- it starts with a list (no ``resource_version`` given): every object becomes a synthetic
  ``ADDED``, and the list's resourceVersion is where the watch starts;
- each event (bookmarks too) moves its resourceVersion on, so a closed or dropped stream
  resumes exactly after the last event seen -- nothing replayed, nothing missed;
- ``410 Expired`` (an in-band ``ERROR`` event, or the HTTP status) means the history is
  gone: it relists and reports the difference with what it knew -- ``ADDED`` and
  ``MODIFIED`` for objects new or changed, ``DELETED`` for those that vanished meanwhile --
  all marked ``synthetic``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flink_k8s.exceptions import KubernetesApiError
from airflow_provider_flink_k8s.kube.errors import api_error
from airflow_provider_flink_k8s.kube.requests import ApiRequest, list_request
from airflow_provider_flink_k8s.kube.resources import ResourceRef

__all__ = ["DEFAULT_WINDOW", "LineBuffer", "WatchCursor", "WatchEvent"]

DEFAULT_WINDOW = 290.0
"""Longest single watch request (seconds); the cursor then reconnects where it was."""
_CHANGES = frozenset({"ADDED", "MODIFIED", "DELETED"})


@dataclass(frozen=True)
class WatchEvent:
    """One change: ``ADDED``, ``MODIFIED``, ``DELETED`` (or ``BOOKMARK``), with the raw object.

    ``synthetic`` events were made from a list (the start, or a relist after 410), not
    received from the watch.
    """

    type: str
    object: dict[str, Any] = field(repr=False)
    synthetic: bool = False

    @property
    def name(self) -> str | None:
        """The object's name."""
        value = (self.object.get("metadata") or {}).get("name")
        return value if isinstance(value, str) else None

    @property
    def resource_version(self) -> str | None:
        """The object's resourceVersion: where a watch resumes after this event."""
        value = (self.object.get("metadata") or {}).get("resourceVersion")
        return value if isinstance(value, str) else None


class LineBuffer:
    """Splits a chunked stream into its newline-terminated JSON documents."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The complete lines ``chunk`` finishes (blank ones dropped)."""
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        return [line for line in lines if line.strip()]


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _version(obj: Mapping[str, Any]) -> str | None:
    value = (obj.get("metadata") or {}).get("resourceVersion")
    return value if isinstance(value, str) else None


class WatchCursor:
    """Follows one collection's watch (see the module's docstring).

    :param ref: the watched kind.
    :param namespace: its namespace (``None``: all namespaces).
    :param label_selector: only objects with these labels.
    :param field_selector: only objects with these fields.
    :param resource_version: start after this version; ``None`` starts with a list.
    :param bookmarks: report ``BOOKMARK`` events too (they always move the cursor on).
    :param window: longest single watch request, in seconds.
    """

    def __init__(
        self,
        ref: ResourceRef,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        bookmarks: bool = False,
        window: float = DEFAULT_WINDOW,
    ) -> None:
        self.ref = ref
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resource_version = resource_version
        self.bookmarks = bookmarks
        self.window = window
        self.needs_list = resource_version is None
        self._known: dict[tuple[str, str], dict[str, Any]] = {}

    def list_request(self) -> ApiRequest:
        """The list that (re)starts the cursor."""
        return list_request(
            self.ref,
            self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        )

    def watch_request(self, remaining: float) -> ApiRequest:
        """The next watch request: from ``resource_version``, at most ``remaining``
        seconds (and ``window``) long, bookmarks asked for."""
        seconds = max(1, math.ceil(min(remaining, self.window)))
        base = self.list_request()
        query = (
            *base.query,
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", self.resource_version or ""),
            ("timeoutSeconds", str(seconds)),
        )
        return ApiRequest("GET", base.path, query)

    def expire(self, error: KubernetesApiError) -> bool:
        """Whether ``error`` (from opening a watch) means "relist": 410, history gone."""
        if error.status == 410:
            self.needs_list = True
            return True
        return False

    def relisted(self, body: Mapping[str, Any]) -> list[WatchEvent]:
        """Take a list answer: the synthetic events that bring a consumer up to date."""
        current: dict[tuple[str, str], dict[str, Any]] = {}
        for item in body.get("items") or ():
            if isinstance(item, dict):
                obj = {"apiVersion": self.ref.api_version, "kind": self.ref.kind, **item}
                current[_key(obj)] = obj
        events = []
        for key, obj in current.items():
            old = self._known.get(key)
            if old is None or _version(old) != _version(obj):
                events.append(WatchEvent("ADDED" if old is None else "MODIFIED", obj, True))
        events.extend(
            WatchEvent("DELETED", old, True)
            for key, old in self._known.items()
            if key not in current
        )
        self._known = current
        self.resource_version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        self.needs_list = not self.resource_version
        return events

    def advance(self, line: bytes | str) -> WatchEvent | KubernetesApiError | None:
        """Take one watch line: the event to report, the error an ``ERROR`` event carries
        (other than 410, which only sets ``needs_list``), or ``None``."""
        try:
            document = json.loads(line)
        except ValueError:
            return None
        kind, obj = document.get("type"), document.get("object")
        if not isinstance(obj, dict):
            return None
        if kind == "ERROR":
            code = obj.get("code")
            if code == 410:
                self.needs_list = True
                return None
            return api_error(code if isinstance(code, int) else 500, None, json.dumps(obj))
        version = _version(obj)
        if version:
            self.resource_version = version
        if kind == "BOOKMARK":
            return WatchEvent(kind, obj) if self.bookmarks else None
        if kind not in _CHANGES:
            return None
        if kind == "DELETED":
            self._known.pop(_key(obj), None)
        else:
            self._known[_key(obj)] = obj
        return WatchEvent(kind, obj)
