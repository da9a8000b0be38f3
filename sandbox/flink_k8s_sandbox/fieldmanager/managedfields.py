"""``metadata.managedFields`` read into one entry a manager, and written back sorted."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.fieldmanager.fieldsv1 import (
    Obj,
    Path,
    decode_fields,
    encode_fields,
    path_text,
)

__all__ = ["Entry", "owned_fields", "read_entries", "without_managed", "write_entries"]


@dataclass
class Entry:
    """One ``managedFields`` entry: a manager, its operation and the paths it owns."""

    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str
    fields: set[Path]

    @property
    def identity(self) -> tuple[str, str, str, str]:
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, self.subresource, version)


def read_entries(managed: Any) -> dict[tuple[str, str, str, str], Entry]:
    """The entries of a ``managedFields`` list by identity (malformed ones skipped)."""
    entries: dict[tuple[str, str, str, str], Entry] = {}
    for raw in managed if isinstance(managed, list) else []:
        if not isinstance(raw, Mapping) or not raw.get("manager"):
            continue
        fields: set[Path] = set()
        try:
            decode_fields(raw.get("fieldsV1") or {}, (), fields)
        except (ValueError, TypeError, AttributeError):
            continue
        entry = Entry(
            str(raw["manager"]),
            str(raw.get("operation", "Update")),
            str(raw.get("apiVersion", "")),
            str(raw.get("time", "")),
            str(raw.get("subresource", "")),
            fields,
        )
        entries[entry.identity] = entry
    return entries


def write_entries(obj: Obj, entries: Mapping[Any, Entry]) -> Obj:
    """Set ``obj``'s ``managedFields`` to the entries that own something, sorted."""
    kept = sorted(
        (e for e in entries.values() if e.fields),
        key=lambda e: (e.operation, e.time, e.manager, e.api_version, e.subresource),
    )
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    if kept:
        metadata["managedFields"] = [
            {"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version}
            | ({"time": e.time} if e.time else {})
            | {"fieldsType": "FieldsV1", "fieldsV1": encode_fields(e.fields)}
            | ({"subresource": e.subresource} if e.subresource else {})
            for e in kept
        ]
    return obj


def without_managed(obj: Mapping[str, Any] | None) -> Obj:
    """A deep copy of ``obj`` (``{}`` for ``None``) without ``managedFields``."""
    out = copy.deepcopy(dict(obj or {}))
    if isinstance(out.get("metadata"), dict):
        out["metadata"].pop("managedFields", None)
    return out


def owned_fields(
    obj: Mapping[str, Any], manager: str, operation: str = "Apply", subresource: str = ""
) -> frozenset[str]:
    """The paths (``.spec.replicas``) ``manager`` owns through ``operation`` entries."""
    entries = read_entries((obj.get("metadata") or {}).get("managedFields")).values()
    return frozenset(
        path_text(path)
        for e in entries
        if (e.manager, e.operation, e.subresource) == (manager, operation, subresource)
        for path in e.fields
    )
