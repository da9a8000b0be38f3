"""Server-side apply: merge, prune, detect conflicts, and record the applier's fields."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.fieldmanager.conflicts import (
    ApplyConflict,
    Conflict,
    manager_identifier,
)
from flink_k8s_sandbox.fieldmanager.fieldsv1 import Obj, Path, path_text, sort_key
from flink_k8s_sandbox.fieldmanager.managedfields import (
    Entry,
    read_entries,
    without_managed,
    write_entries,
)
from flink_k8s_sandbox.fieldmanager.members import (
    InvalidObject,
    compare,
    members,
    owned,
)
from flink_k8s_sandbox.fieldmanager.merging import merge, prune_stale
from flink_k8s_sandbox.patching import PatchError, root_schema

__all__ = ["apply"]


def _entry_identifier(entry: Entry) -> str:
    return manager_identifier(entry.manager, entry.operation, entry.api_version, entry.subresource)


def _gvknn(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    version = str(obj.get("apiVersion", ""))
    group_version = version if "/" in version else "/" + version
    name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    return f"{name}; {group_version}, Kind={obj.get('kind', '')}"


def _config(applied: Mapping[str, Any], ignore_status: bool) -> Obj:
    def prune(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prune(v) for k, v in value.items() if v is not None}
        return [prune(v) for v in value] if isinstance(value, list) else value

    config: Obj = prune(copy.deepcopy(dict(applied)))
    if ignore_status:
        config.pop("status", None)
    metadata = config.get("metadata")
    if isinstance(metadata, dict):
        for name in ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"):
            metadata.pop(name, None)
    return config


def apply(
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    *,
    manager: str,
    force: bool,
    now: str,
    subresource: str | None = None,
    ignore_status: bool = False,
) -> Obj:
    """Server-side apply ``applied`` (the request body) as ``manager``; create if ``live`` is None.

    Re-applying the same configuration returns an object equal to ``live``.

    :param now: RFC 3339 time stamped on the applier's entry when the object changes.
    :param ignore_status: drop ``status`` from the configuration and from ownership.
    :raises ApplyConflict: when another manager owns a field this apply would change.
    :raises PatchError: 400 if the configuration carries ``managedFields``; 500 for a list
        item missing its key or duplicated (``failed to create typed patch object ...``).
    """
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise PatchError(400, "BadRequest", "metadata.managedFields must be nil")
    schema = root_schema(str(applied.get("kind") or (live or {}).get("kind", "")))
    config = _config(applied, ignore_status)
    try:
        mine = owned(set(members(config, schema, strict=True)), ignore_status)
    except InvalidObject as error:
        raise PatchError(
            500, "", f"failed to create typed patch object ({_gvknn(applied)}): {error}"
        ) from None
    current = without_managed(live)
    entries = read_entries(((live or {}).get("metadata") or {}).get("managedFields"))
    identity = (manager, "Apply", subresource or "", "")
    previous = entries.pop(identity, None)
    others: set[Path] = set().union(*(e.fields for e in entries.values()))
    merged = merge(current, config, schema)
    if previous is not None:
        prune_stale(merged, previous.fields - mine - others, others | mine, schema)
    changed, removed = compare(members(current, schema), members(merged, schema), ignore_status)
    conflicts = [
        Conflict(e.manager, e.api_version, path_text(p), e.operation, e.subresource)
        for e in sorted(entries.values(), key=_entry_identifier)
        for p in sorted(e.fields & changed, key=sort_key)
    ]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for entry in entries.values():
        entry.fields -= changed | removed
    stamp = previous.time if previous is not None and merged == current else now
    version = str(applied.get("apiVersion", ""))
    entries[identity] = Entry(manager, "Apply", version, stamp, subresource or "", mine)
    return write_entries(merged, entries)
