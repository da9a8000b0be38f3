"""DELETE: preconditions, propagation policy, finalizers and ``deletionTimestamp``.

An object with finalizers (or one the policy gives a finalizer: ``orphan`` for Orphan,
``foregroundDeletion`` for Foreground; namespaces and CRDs always wait for their
controllers) is only marked -- ``deletionTimestamp`` set, MODIFIED -- and removed once a
later write takes its last finalizer away. Anything else is removed at once (DELETED);
its dependents are the garbage collector's (:mod:`.controllers`), asynchronously.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.crds import CRD_KEY
from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.listing import Selection
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.objects import view
from flink_k8s_sandbox.podgrace import pod_deletion
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.storage import Storage

__all__ = [
    "CRD_CLEANUP_FINALIZER",
    "DeleteOptions",
    "delete_collection",
    "delete_object",
    "propagation_policy",
]

Obj = dict[str, Any]
CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_POLICY_FINALIZERS = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}
_POLICIES = ("Foreground", "Background", "Orphan")


@dataclass(frozen=True)
class DeleteOptions:
    """``DeleteOptions`` from a body or the query."""

    propagation_policy: str | None = None
    orphan_dependents: bool | None = None
    uid: str | None = None
    resource_version: str | None = None
    dry_run: bool = False
    grace_period_seconds: int | None = None


def propagation_policy(opts: DeleteOptions) -> str:
    """The effective policy: explicit, else the legacy ``orphanDependents``, else Background.

    :raises ApiError: 422 when the policy is unknown or both fields are set.
    """
    problems: list[FieldError] = []
    if opts.propagation_policy is not None and opts.orphan_dependents is not None:
        detail = "orphanDependents and deletionPropagation cannot be both set"
        problems.append(
            FieldError(ErrorType.INVALID, "propagationPolicy", opts.propagation_policy, detail)
        )
    if opts.propagation_policy is not None and opts.propagation_policy not in _POLICIES:
        values = ", ".join(f'"{p}"' for p in _POLICIES)
        problems.append(
            FieldError(
                ErrorType.NOT_SUPPORTED,
                "propagationPolicy",
                opts.propagation_policy,
                f"supported values: {values}",
            )
        )
    if problems:
        raise errors.invalid("meta.k8s.io", "DeleteOptions", "", problems)
    if opts.propagation_policy is not None:
        return opts.propagation_policy
    return "Orphan" if opts.orphan_dependents else "Background"


def _check_preconditions(rt: ResourceType, obj: Obj, opts: DeleteOptions) -> None:
    metadata = obj["metadata"]
    name = metadata["name"]
    if opts.uid is not None and opts.uid != metadata.get("uid"):
        detail = (
            f"Precondition failed: UID in precondition: {opts.uid}, "
            f"UID in object meta: {metadata.get('uid')}"
        )
        raise errors.conflict(rt.group, rt.plural, name, detail)
    if opts.resource_version is not None and opts.resource_version != metadata["resourceVersion"]:
        detail = (
            f"Precondition failed: ResourceVersion in precondition: {opts.resource_version}, "
            f"ResourceVersion in object meta: {metadata['resourceVersion']}"
        )
        raise errors.conflict(rt.group, rt.plural, name, detail)


def _finalizers_after(rt: ResourceType, obj: Obj, policy: str) -> list[str]:
    """The finalizers a DELETE leaves: the policy's own replaces the other policy's one
    (a repeated delete without a policy keeps them); CRDs wait for their cleanup."""
    current = list(obj["metadata"].get("finalizers") or [])
    extra = _POLICY_FINALIZERS.get(policy)
    if extra is not None or not obj["metadata"].get("deletionTimestamp"):
        current = [f for f in current if f not in _POLICY_FINALIZERS.values()]
        current += [extra] if extra else []
    if rt.storage_key == CRD_KEY and CRD_CLEANUP_FINALIZER not in current:
        current.append(CRD_CLEANUP_FINALIZER)
    return current


def _success(rt: ResourceType, obj: Obj) -> Obj:
    details = {"name": obj["metadata"]["name"], "group": rt.group, "kind": rt.plural}
    details["uid"] = obj["metadata"].get("uid", "")
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {k: v for k, v in details.items() if v},
    }


def _mark(
    storage: Storage,
    rt: ResourceType,
    obj: Obj,
    finalizers: list[str],
    dry_run: bool,
    updates: Obj | None = None,
) -> Obj:
    marked = copy.deepcopy(obj)
    metadata = marked["metadata"]
    metadata["finalizers"] = finalizers
    metadata.update(updates or {})
    metadata.setdefault("deletionTimestamp", format_time(storage.clock()))
    metadata.setdefault("deletionGracePeriodSeconds", 0)
    if rt.storage_key == ("", "namespaces"):
        marked.setdefault("status", {})["phase"] = "Terminating"
    if dry_run or marked == obj:
        return view(rt, marked)
    return view(rt, storage.store.update(rt.storage_key, marked))


def delete_object(
    storage: Storage, rt: ResourceType, namespace: str, name: str, opts: DeleteOptions
) -> tuple[int, Obj]:
    """DELETE one object: ``(http status, body)``.

    :raises ApiError: 404 NotFound, 409 Conflict (preconditions), 422 (options).
    """
    policy = propagation_policy(opts)
    stored = storage.store.get(rt.storage_key, namespace if rt.namespaced else "", name)
    if stored is None:
        raise errors.not_found(rt.group, rt.plural, name)
    _check_preconditions(rt, stored, opts)
    finalizers = _finalizers_after(rt, stored, policy)
    if rt.storage_key == ("", "pods"):  # graceful: the kubelet finishes the deletion
        immediately, updates = pod_deletion(stored, opts.grace_period_seconds, storage.clock())
        if not immediately or finalizers:
            return 200, _mark(storage, rt, stored, finalizers, opts.dry_run, updates)
        return _remove(storage, rt, stored, opts)
    namespace_waits = rt.storage_key == ("", "namespaces")
    if finalizers or namespace_waits or stored["metadata"].get("deletionTimestamp"):
        marked = _mark(storage, rt, stored, finalizers, opts.dry_run)
        return (202 if opts.orphan_dependents is False else 200), marked
    return _remove(storage, rt, stored, opts)


def _remove(
    storage: Storage, rt: ResourceType, stored: Obj, opts: DeleteOptions
) -> tuple[int, Obj]:
    if opts.dry_run:
        return 200, (view(rt, copy.deepcopy(stored)) if rt.return_deleted else _success(rt, stored))
    removed = storage.store.remove(rt.storage_key, stored)
    return 200, (view(rt, copy.deepcopy(removed)) if rt.return_deleted else _success(rt, removed))


def delete_collection(
    storage: Storage, rt: ResourceType, selection: Selection, opts: DeleteOptions
) -> Obj:
    """DELETE on a collection: every selected object, as a list of what was deleted."""
    deleted: list[Obj] = []
    for obj in storage.store.objects(rt.storage_key, selection.namespace):
        if not selection.matches(obj):
            continue
        try:
            _, result = delete_object(
                storage, rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], opts
            )
        except errors.ApiError as error:
            if error.code != 404:
                raise
            continue
        deleted.append(result if result.get("kind") == rt.kind else view(rt, copy.deepcopy(obj)))
    return {
        "kind": rt.list_kind,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(storage.store.resource_version)},
        "items": deleted,
    }
