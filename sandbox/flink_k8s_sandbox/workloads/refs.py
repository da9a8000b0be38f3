"""Owner references and the small reads the workload controllers share (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["controller_of", "controller_reference", "is_deleting", "is_terminal", "key_of"]

Obj = dict[str, Any]


def controller_reference(owner: Mapping[str, Any]) -> Obj:
    """The ``ownerReferences`` entry a controller puts on what it creates."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Mapping[str, Any], kind: str) -> Obj | None:
    """The controlling owner reference of ``obj`` when it is of ``kind``."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") and ref.get("kind") == kind:
            return ref
    return None


def is_deleting(obj: Mapping[str, Any]) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def key_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata", {})
    return (metadata.get("namespace", ""), metadata["name"])
