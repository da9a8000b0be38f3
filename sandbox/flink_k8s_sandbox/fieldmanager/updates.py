"""Ownership after a write that is not an apply (create, PUT, patch, subresource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.fieldmanager.fieldsv1 import Obj
from flink_k8s_sandbox.fieldmanager.managedfields import (
    Entry,
    read_entries,
    without_managed,
    write_entries,
)
from flink_k8s_sandbox.fieldmanager.members import compare, members
from flink_k8s_sandbox.patching import root_schema

__all__ = ["record_update"]


def record_update(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    manager: str,
    operation: str = "Update",
    subresource: str | None = None,
    now: str,
    ignore_status: bool = False,
) -> Obj:
    """``new`` with ``metadata.managedFields`` updated for a non-apply write by ``manager``.

    The managed fields come from ``new`` when it carries some (``[{}]`` resets them) and
    from ``old`` otherwise, or always from ``old`` for a subresource write.
    """
    requested = (new.get("metadata") or {}).get("managedFields")
    stored = ((old or {}).get("metadata") or {}).get("managedFields")
    if subresource:
        entries = read_entries(stored)
    elif requested == [{}]:
        entries = {}
    else:
        entries = read_entries(requested) or read_entries(stored)
    schema = root_schema(str(new.get("kind") or (old or {}).get("kind", "")))
    result = without_managed(new)
    before = members(without_managed(old), schema) if old else {}
    changed, removed = compare(before, members(result, schema), ignore_status)
    for entry in entries.values():
        entry.fields -= changed | removed
    if changed:
        version = str(new.get("apiVersion", ""))
        entry = Entry(manager, operation, version, now, subresource or "", set(changed))
        previous = entries.get(entry.identity)
        entry.fields |= previous.fields if previous else set()
        entries[entry.identity] = entry
    return write_entries(result, entries)
