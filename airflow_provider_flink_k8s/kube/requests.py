"""Requests as values, and the flows that chain them: the I/O-free half of the hooks.

A *flow* is a generator that yields what it needs -- an :class:`ApiRequest` to send, or a
:class:`Sleep` -- and receives the :class:`ApiResponse` (or, for an error answer, has the
provider's :class:`~airflow_provider_flink_k8s.exceptions.KubernetesApiError` thrown in at
the ``yield``). Its return value is the operation's result. The sync hook drives a flow
with blocking calls, the async hook with ``await``; the flow is the same (the httpx
``auth_flow`` idea).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow_provider_flink_k8s.exceptions import ResourceNotFound
from airflow_provider_flink_k8s.kube.resources import POD, ResourceRef

__all__ = [
    "APPLY_PATCH",
    "ApiRequest",
    "ApiResponse",
    "FIELD_MANAGER",
    "Flow",
    "MERGE_PATCH",
    "Sleep",
    "Step",
    "apply_request",
    "create_request",
    "delete_request",
    "fetch",
    "fetch_or_none",
    "get_request",
    "guarded_merge_patch_request",
    "list_items",
    "list_request",
    "log_request",
    "merge_patch_request",
]

T = TypeVar("T")

FIELD_MANAGER = "airflow-provider-flink-k8s"
"""The one field manager of every write this provider makes."""
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class ApiRequest:
    """One call to the API server: a path below the server's URL, never a full URL."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Any = None
    content_type: str | None = None
    accept: str = "application/json"

    def describe(self) -> str:
        """``GET /api/v1/...`` for logs (the path holds no credentials)."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ApiResponse:
    """A successful (2xx) answer."""

    status: int
    body: bytes = field(repr=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` when empty)."""
        if not self.body:
            return {}
        parsed = json.loads(self.body)
        return parsed if isinstance(parsed, dict) else {"value": parsed}

    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before going on."""

    seconds: float


Step = ApiRequest | Sleep
Flow = Generator[Step, Any, T]
"""A generator yielding steps, sent an :class:`ApiResponse` (or ``None`` after a sleep),
returning ``T``."""


def _query(**params: str | int | bool | None) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key, value in params.items():
        if value is None or value is False:
            continue
        pairs.append((key, "true" if value is True else str(value)))
    return tuple(pairs)


def get_request(
    ref: ResourceRef, namespace: str | None, name: str, subresource: str | None = None
) -> ApiRequest:
    """``GET`` one object (or its subresource)."""
    return ApiRequest("GET", ref.object_path(namespace, name, subresource))


def list_request(
    ref: ResourceRef,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    field_selector: str | None = None,
) -> ApiRequest:
    """``GET`` a collection, filtered by selectors."""
    query = _query(labelSelector=label_selector or None, fieldSelector=field_selector or None)
    return ApiRequest("GET", ref.collection_path(namespace), query)


def apply_request(
    ref: ResourceRef, namespace: str | None, manifest: Mapping[str, Any], *, dry_run: bool
) -> ApiRequest:
    """Server-side apply of ``manifest`` (creates it when absent).

    ``force=true``: the objects are ours, rendered from the spec, which is the truth. A
    conflict means another manager (``kubectl edit``, a client-side apply, an older field
    manager) changed a field the spec sets; forcing takes the field back, as re-deploying
    the spec must. Fields the spec does not set stay with whoever set them.
    """
    name = str(manifest["metadata"]["name"])
    query = _query(fieldManager=FIELD_MANAGER, force=True, dryRun="All" if dry_run else None)
    path = ref.object_path(namespace, name)
    return ApiRequest("PATCH", path, query, dict(manifest), APPLY_PATCH)


def create_request(
    ref: ResourceRef, namespace: str | None, manifest: Mapping[str, Any]
) -> ApiRequest:
    """``POST`` ``manifest`` to its collection: create-only, ``409 AlreadyExists`` when an
    object of that name exists (the one atomic "who was first" the API offers)."""
    path = ref.collection_path(namespace)
    return ApiRequest(
        "POST", path, _query(fieldManager=FIELD_MANAGER), dict(manifest), "application/json"
    )


def merge_patch_request(
    ref: ResourceRef,
    namespace: str | None,
    name: str,
    patch: Mapping[str, Any],
    *,
    subresource: str | None = None,
) -> ApiRequest:
    """A JSON merge patch (RFC 7386), written by this provider's field manager."""
    path = ref.object_path(namespace, name, subresource)
    return ApiRequest("PATCH", path, _query(fieldManager=FIELD_MANAGER), dict(patch), MERGE_PATCH)


def guarded_merge_patch_request(
    ref: ResourceRef,
    namespace: str | None,
    name: str,
    patch: Mapping[str, Any],
    resource_version: str,
) -> ApiRequest:
    """A JSON merge patch that applies only to the object as it was read: the patch
    carries ``metadata.resourceVersion``, and the API server answers 409 Conflict when
    the object changed since (optimistic concurrency, as a PUT would)."""
    metadata = {**dict(patch.get("metadata") or {}), "resourceVersion": resource_version}
    return merge_patch_request(ref, namespace, name, {**dict(patch), "metadata": metadata})


def delete_request(
    ref: ResourceRef, namespace: str | None, name: str, *, propagation: str = "Foreground"
) -> ApiRequest:
    """``DELETE`` one object; ``Foreground`` keeps it (``deletionTimestamp`` set) until
    the garbage collector has removed its dependents (ReplicaSets, pods)."""
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
    return ApiRequest("DELETE", ref.object_path(namespace, name), (), body, "application/json")


def log_request(
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    tail_lines: int | None = 100,
    previous: bool = False,
) -> ApiRequest:
    """``GET`` a container's log (``pods/log``), plain text."""
    query = _query(container=container, tailLines=tail_lines, previous=previous)
    return ApiRequest("GET", POD.object_path(namespace, pod, "log"), query, accept="*/*")


def fetch(request: ApiRequest) -> Flow[dict[str, Any]]:
    """Send ``request``; return its JSON body."""
    response = yield request
    body: dict[str, Any] = response.json()
    return body


def fetch_or_none(request: ApiRequest) -> Flow[dict[str, Any] | None]:
    """Send ``request``; return its JSON body, or ``None`` on 404."""
    try:
        response = yield request
    except ResourceNotFound:
        return None
    body: dict[str, Any] = response.json()
    return body


def list_items(request: ApiRequest, *, missing_ok: bool = False) -> Flow[list[dict[str, Any]]]:
    """Send a list ``request``; return its items.

    :param missing_ok: a 404 (the kind's CRD is not installed) means no items.
    """
    body = yield from (fetch_or_none(request) if missing_ok else fetch(request))
    items = (body or {}).get("items") or []
    return [item for item in items if isinstance(item, dict)]
