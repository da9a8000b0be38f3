"""Pure rules a write applies to object bodies (identity, preconditions, scope, finalizers).

:mod:`.storage` runs them in order on every create, replace, patch and apply.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.subresources import (
    keep_spec_finalizers,
    keep_status,
    take_spec_finalizers,
    take_status,
)

__all__ = [
    "check_identity",
    "check_new_finalizers",
    "check_precondition",
    "finalized",
    "place",
    "scoped",
    "typed_body",
    "unchanged",
    "view",
]

Obj = dict[str, Any]


def scoped(rt: ResourceType, old: Obj, new: Obj, subresource: str | None) -> Obj:
    """What a write may change: only status via /status, only spec.finalizers via
    /finalize, everything else via the main resource."""
    if subresource == "status":
        return take_status(old, new)
    if subresource == "finalize":
        return take_spec_finalizers(old, new)
    if rt.has_status:
        keep_status(old, new)
    if rt.storage_key == ("", "namespaces"):
        keep_spec_finalizers(old, new)
    return new


def view(rt: ResourceType, obj: Obj) -> Obj:
    """``obj`` as served by ``rt``'s version (its ``apiVersion``; no schema conversion)."""
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind
    return obj


def _normalize_time(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_time(moment)


def _normalize_times(metadata: Obj) -> None:
    """Timestamps as the server stores ``metav1.Time``: UTC, seconds, ``Z``."""
    for entry in metadata.get("managedFields") or []:
        if isinstance(entry, dict) and "time" in entry:
            entry["time"] = _normalize_time(entry["time"])


def typed_body(rt: ResourceType, body: Obj) -> Obj:
    """A copy of a request body with ``apiVersion``/``kind`` filled or checked (400)."""
    obj = copy.deepcopy(body)
    api_version = obj.setdefault("apiVersion", rt.api_version)
    if api_version != rt.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rt.api_version})"
        )
    kind = obj.setdefault("kind", rt.kind)
    if kind != rt.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    if not isinstance(obj.setdefault("metadata", {}), dict):
        raise errors.bad_request("metadata must be an object")
    _normalize_times(obj["metadata"])
    return obj


def place(rt: ResourceType, namespace: str, obj: Obj) -> None:
    """Set or check ``metadata.namespace`` against the request's namespace (400)."""
    metadata = obj["metadata"]
    if not rt.namespaced:
        metadata.pop("namespace", None)
        return
    if metadata.get("namespace") and metadata["namespace"] != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    metadata["namespace"] = namespace


def check_identity(rt: ResourceType, old: Obj, new: Obj) -> None:
    name = old["metadata"]["name"]
    given = new["metadata"].get("name")
    if given != name:
        raise errors.bad_request(
            f"the name of the object ({given}) does not match the name on the URL ({name})"
        )


def check_precondition(rt: ResourceType, old: Obj, new: Obj) -> None:
    """A ``resourceVersion`` in the body must be the stored one (409 Conflict)."""
    given = new["metadata"].get("resourceVersion")
    if given and given != old["metadata"]["resourceVersion"]:
        raise errors.conflict(rt.group, rt.plural, old["metadata"]["name"])


def check_new_finalizers(rt: ResourceType, old: Obj, new: Obj) -> None:
    """No finalizer may be added once ``deletionTimestamp`` is set (422)."""
    if not old["metadata"].get("deletionTimestamp"):
        return
    before = set(old["metadata"].get("finalizers") or [])
    added = [f for f in new["metadata"].get("finalizers") or [] if f not in before]
    if added:
        listed = ", ".join(f'"{f}"' for f in added)
        detail = (
            "no new finalizers can be added if the object is being deleted, "
            f"found new finalizers []string{{{listed}}}"
        )
        error = FieldError(ErrorType.FORBIDDEN, "metadata.finalizers", detail=detail)
        raise errors.invalid(rt.group, rt.kind, old["metadata"]["name"], [error])


def finalized(rt: ResourceType, obj: Obj) -> bool:
    """Whether a deleting object has no finalizers left (namespaces: spec's too) and no
    pending grace period (a pod's kubelet still has to stop it)."""
    metadata = obj["metadata"]
    if not metadata.get("deletionTimestamp") or metadata.get("finalizers"):
        return False
    if metadata.get("deletionGracePeriodSeconds"):
        return False
    return not (rt.storage_key == ("", "namespaces") and obj.get("spec", {}).get("finalizers"))


def unchanged(old: Obj, new: Obj) -> bool:
    """Whether a write would store the same content (a no-op gets no new resourceVersion)."""

    def content(obj: Obj) -> Obj:
        metadata = {k: v for k, v in obj["metadata"].items() if k not in _VOLATILE}
        return {**obj, "metadata": metadata}

    return content(old) == content(new)


_VOLATILE = ("resourceVersion",)
