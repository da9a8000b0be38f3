"""Query parameters and option bodies, parsed and validated as the API server does (pure).

``ListOptions`` (list and watch, including the watch-list ``sendInitialEvents`` rules),
write options (``dryRun``, ``fieldManager``, ``fieldValidation``, ``force``) and
``DeleteOptions`` (query and body). Violations are the server's 422s on
``meta.k8s.io`` ``<X>Options``; unparsable selectors and numbers are 400s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multidict import MultiMapping

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.deletion import DeleteOptions
from flink_k8s_sandbox.errors import ErrorType, FieldError, GoLiteral
from flink_k8s_sandbox.listing import Selection
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.selectors import (
    SelectorError,
    default_field_selectors,
    parse_field_selector,
    parse_label_selector,
)
from flink_k8s_sandbox.storage import WriteOptions

__all__ = [
    "ListOptions",
    "Query",
    "delete_options",
    "list_options",
    "selection",
    "write_options",
]

_FIELD_VALIDATION = ("Ignore", "Strict", "Warn")
_FORBIDDEN = ErrorType.FORBIDDEN


Query = MultiMapping[str]
"""The request's query parameters (aiohttp's ``request.query``)."""


@dataclass(frozen=True)
class ListOptions:
    """``ListOptions`` of a list or watch request."""

    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    watch: bool = False
    allow_bookmarks: bool = False
    timeout_seconds: int | None = None
    send_initial_events: bool | None = None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def _list_problems(o: ListOptions) -> list[FieldError]:
    problems: list[FieldError] = []
    match = o.resource_version_match
    if o.send_initial_events is not None and not o.watch:
        detail = "sendInitialEvents is forbidden for list"
        problems.append(FieldError(_FORBIDDEN, "sendInitialEvents", detail=detail))
    if o.watch and o.send_initial_events is not None:
        if match != "NotOlderThan":
            detail = "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"
            problems.append(FieldError(_FORBIDDEN, "resourceVersionMatch", detail=detail))
        if not o.allow_bookmarks:
            detail = "sendInitialEvents requires setting allowWatchBookmarks to true"
            problems.append(FieldError(_FORBIDDEN, "allowWatchBookmarks", detail=detail))
    elif o.watch and match:
        detail = "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"
        problems.append(FieldError(_FORBIDDEN, "resourceVersionMatch", detail=detail))
    elif match and not o.resource_version:
        detail = "resourceVersionMatch is forbidden unless resourceVersion is provided"
        problems.append(FieldError(_FORBIDDEN, "resourceVersionMatch", detail=detail))
    if match and match not in ("Exact", "NotOlderThan"):
        detail = 'supported values: "Exact", "NotOlderThan"'
        problems.append(FieldError(ErrorType.NOT_SUPPORTED, "resourceVersionMatch", match, detail))
    return problems


def list_options(query: Query) -> ListOptions:
    """Parse and validate the ``ListOptions`` of a GET on a collection.

    :raises ApiError: 400 for unparsable values, 422 for forbidden combinations.
    """
    send = query.get("sendInitialEvents")
    opts = ListOptions(
        label_selector=query.get("labelSelector", ""),
        field_selector=query.get("fieldSelector", ""),
        limit=_int(query.get("limit")) or 0,
        continue_token=query.get("continue", ""),
        resource_version=query.get("resourceVersion", ""),
        resource_version_match=query.get("resourceVersionMatch", ""),
        watch=bool(_bool(query.get("watch"))),
        allow_bookmarks=bool(_bool(query.get("allowWatchBookmarks"))),
        timeout_seconds=_int(query.get("timeoutSeconds")),
        send_initial_events=_bool(send) if send is not None else None,
    )
    problems = _list_problems(opts)
    if problems:
        raise errors.invalid("meta.k8s.io", "ListOptions", "", problems)
    return opts


def selection(rt: ResourceType, namespace: str | None, opts: ListOptions) -> Selection:
    """The objects a list/watch selects.

    :raises ApiError: 400 with the selector parser's message.
    """
    try:
        labels = parse_label_selector(opts.label_selector) if opts.label_selector else None
        supported = default_field_selectors(rt.kind if not rt.custom else "")
        if not rt.namespaced:
            supported = supported - {"metadata.namespace"}
        builtin_kind = None if rt.custom else rt.kind
        fields = (
            parse_field_selector(opts.field_selector, supported, builtin_kind=builtin_kind)
            if opts.field_selector
            else None
        )
    except SelectorError as error:
        raise errors.bad_request(str(error)) from error
    return Selection(namespace, labels, fields)


def _dry_run(values: list[str], options_kind: str) -> bool:
    if not values:
        return False
    if all(v == "All" for v in values):
        return True
    shown = GoLiteral("[]string{" + ", ".join(f'"{v}"' for v in values) + "}")
    error = FieldError(ErrorType.NOT_SUPPORTED, "dryRun", shown, 'supported values: "All"')
    raise errors.invalid("meta.k8s.io", options_kind, "", [error])


def write_options(
    query: Query, options_kind: str, *, origin: str = "body", user_agent: str = ""
) -> WriteOptions:
    """Parse ``dryRun``, ``fieldManager``, ``fieldValidation`` and ``force``.

    :param options_kind: ``CreateOptions``, ``UpdateOptions`` or ``PatchOptions``.
    :raises ApiError: 422 as ``ValidateXOptions`` reports.
    """
    dry_run = _dry_run(list(query.getall("dryRun", [])), options_kind)
    manager = query.get("fieldManager", "")
    validation = query.get("fieldValidation", "") or "Warn"
    force = _bool(query.get("force"))
    problems: list[FieldError] = []
    if validation not in _FIELD_VALIDATION:
        detail = 'supported values: "Ignore", "Strict", "Warn"'
        problems.append(FieldError(ErrorType.NOT_SUPPORTED, "fieldValidation", validation, detail))
    if origin == "apply" and not manager:
        detail = "is required for apply patch"
        problems.append(FieldError(ErrorType.REQUIRED, "fieldManager", detail=detail))
    if origin != "apply" and force is not None and options_kind == "PatchOptions":
        detail = "may not be specified for non-apply patch"
        problems.append(FieldError(_FORBIDDEN, "force", detail=detail))
    if len(manager) > 128:
        detail = "must be no more than 128 characters"
        problems.append(FieldError(ErrorType.TOO_LONG, "fieldManager", detail=detail))
    if problems:
        raise errors.invalid("meta.k8s.io", options_kind, "", problems)
    manager = manager or user_agent.split("/")[0]
    return WriteOptions(dry_run, manager, validation, origin, bool(force))


def delete_options(query: Query, body: Mapping[str, Any] | None) -> DeleteOptions:
    """``DeleteOptions`` from the body (as kubectl and the clients send it) or the query."""
    body = body or {}
    preconditions = body.get("preconditions") or {}
    policy = body.get("propagationPolicy", query.get("propagationPolicy"))
    orphan = body.get("orphanDependents")
    if orphan is None:
        orphan = _bool(query.get("orphanDependents"))
    dry_values = [str(v) for v in body.get("dryRun") or query.getall("dryRun", None) or []]
    grace = body.get("gracePeriodSeconds")
    if grace is None:
        grace = _int(query.get("gracePeriodSeconds"))
    return DeleteOptions(
        propagation_policy=policy,
        orphan_dependents=orphan,
        uid=preconditions.get("uid"),
        resource_version=preconditions.get("resourceVersion"),
        dry_run=_dry_run(dry_values, "DeleteOptions"),
        grace_period_seconds=int(grace) if grace is not None else None,
    )
