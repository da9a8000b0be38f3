"""Pure list mechanics: which objects a request selects, pages and continue tokens.

A :class:`Selection` combines a namespace, a label selector and a field selector (any
objects with a ``matches`` method, see :mod:`.selectors`). :func:`paginate` cuts one
page of ``limit`` items after a continue token's position; the token fixes the list's
resourceVersion, as etcd's does, and is opaque to clients (base64 JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.errors import ApiError, bad_request

__all__ = [
    "ContinueToken",
    "check_list_version",
    "continue_expired",
    "FieldMatcher",
    "LabelMatcher",
    "Page",
    "Selection",
    "decode_continue",
    "encode_continue",
    "paginate",
]


class LabelMatcher(Protocol):
    def matches(self, labels: Mapping[str, str]) -> bool: ...


class FieldMatcher(Protocol):
    def matches(self, obj: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Selection:
    """The objects a list or watch asks for; ``namespace=None`` is every namespace."""

    namespace: str | None = None
    labels: LabelMatcher | None = None
    fields: FieldMatcher | None = None

    @property
    def filtered(self) -> bool:
        """Whether a selector narrows the list (then no ``remainingItemCount``)."""
        return self.labels is not None or self.fields is not None

    def matches(self, obj: Mapping[str, Any]) -> bool:
        metadata = obj.get("metadata", {})
        if self.namespace is not None and metadata.get("namespace", "") != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(metadata.get("labels") or {}):
            return False
        return self.fields is None or self.fields.matches(obj)


@dataclass(frozen=True)
class ContinueToken:
    """Where a paged list resumes: after ``start_after`` (namespace, name), at ``rv``."""

    rv: int
    start_after: tuple[str, str]


def encode_continue(token: ContinueToken) -> str:
    payload = {"v": "meta.k8s.io/v1", "rv": token.rv, "start": list(token.start_after)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_continue(text: str) -> ContinueToken:
    """Parse a continue token.

    :raises ApiError: 400 when the token was not made by :func:`encode_continue`.
    """
    try:
        padded = text + "=" * (-len(text) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        namespace, name = payload["start"]
        return ContinueToken(int(payload["rv"]), (str(namespace), str(name)))
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise bad_request(f"continue key is not valid: {error}") from error


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    continue_token: str
    remaining: int | None


def _position(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata", {})
    return (metadata.get("namespace") or "", metadata["name"])


def paginate(
    items: Sequence[dict[str, Any]],
    *,
    limit: int | None,
    after: ContinueToken | None,
    rv: int,
    report_remaining: bool,
) -> Page:
    """One page of ``items`` (sorted by namespace, name), after ``after``'s position."""
    start = 0
    if after is not None:
        start = next(
            (i for i, obj in enumerate(items) if _position(obj) > after.start_after), len(items)
        )
    rest = items[start:]
    if not limit or len(rest) <= limit:
        return Page(list(rest), "", None)
    page = list(rest[:limit])
    token = encode_continue(ContinueToken(rv, _position(page[-1])))
    remaining = len(rest) - limit if report_remaining else None
    return Page(page, token, remaining)


_CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


def check_list_version(resource_version: str, match: str, current: int) -> int:
    """The resourceVersion a list is served at (always the current one here).

    :raises ApiError: 400 unparsable, 504 newer than the store, 410 Exact and not current.
    """
    if resource_version in ("", "0"):
        return current
    try:
        requested = int(resource_version)
    except ValueError:
        raise errors.bad_request(f"invalid resource version: {resource_version}") from None
    if requested > current:
        raise errors.too_large_resource_version(requested, current)
    if match == "Exact" and requested != current:
        raise errors.expired(f"too old resource version: {requested} ({current})")
    return current


def continue_expired(current: int, after: ContinueToken) -> ApiError:
    """410 for a continue token older than the retained history, with a fresh token."""
    error = errors.expired(_CONTINUE_EXPIRED)
    fresh = ContinueToken(current, after.start_after)
    error.status["metadata"] = {"continue": encode_continue(fresh)}
    return error
