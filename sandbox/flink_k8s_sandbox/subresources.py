"""Pure mapping between an object and its ``status`` and ``scale`` subresources.

Writes to the main resource keep the stored ``.status`` (:func:`keep_status`); writes to
``/status`` change nothing but ``.status`` (:func:`take_status`). ``/scale`` reads and
writes an ``autoscaling/v1`` ``Scale`` through the type's :class:`ScalePaths`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from flink_k8s_sandbox.resources import ResourceType, ScalePaths

__all__ = [
    "apply_scale",
    "keep_spec_finalizers",
    "keep_status",
    "read_path",
    "scale_of",
    "take_spec_finalizers",
    "take_status",
    "write_path",
]

Obj = dict[str, Any]


def _parts(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


def read_path(obj: Mapping[str, Any], path: str) -> Any:
    """The value at a simple JSON path (``.spec.replicas``), ``None`` when absent."""
    node: Any = obj
    for part in _parts(path):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def write_path(obj: Obj, path: str, value: Any) -> None:
    """Set the value at a simple JSON path, creating the objects on the way."""
    *parents, last = _parts(path)
    node = obj
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def keep_status(old: Mapping[str, Any], new: Obj) -> None:
    """A main-resource write: ``new`` keeps the stored status (in place)."""
    if "status" in old:
        new["status"] = copy.deepcopy(old["status"])
    else:
        new.pop("status", None)


def take_status(old: Mapping[str, Any], new: Mapping[str, Any]) -> Obj:
    """A ``/status`` write: the stored object with only ``new``'s status."""
    result = copy.deepcopy(dict(old))
    if "status" in new:
        result["status"] = copy.deepcopy(new["status"])
    else:
        result.pop("status", None)
    if "resourceVersion" in new.get("metadata", {}):
        result["metadata"]["resourceVersion"] = new["metadata"]["resourceVersion"]
    return result


def keep_spec_finalizers(old: Mapping[str, Any], new: Obj) -> None:
    """A namespace write: ``spec.finalizers`` only change through ``/finalize`` (in place)."""
    finalizers = (old.get("spec") or {}).get("finalizers")
    spec = new.setdefault("spec", {})
    if finalizers is None:
        spec.pop("finalizers", None)
    else:
        spec["finalizers"] = copy.deepcopy(finalizers)


def take_spec_finalizers(old: Mapping[str, Any], new: Mapping[str, Any]) -> Obj:
    """A ``/finalize`` write: the stored namespace with only ``new``'s ``spec.finalizers``."""
    result = copy.deepcopy(dict(old))
    result.setdefault("spec", {})["finalizers"] = list(
        (new.get("spec") or {}).get("finalizers") or []
    )
    return result


def _selector_text(paths: ScalePaths, obj: Mapping[str, Any], fmt: Callable[[Any], str]) -> str:
    if paths.label_selector is None:
        return ""
    value = read_path(obj, paths.label_selector)
    if value is None:
        return ""
    return value if isinstance(value, str) else fmt(value)


def scale_of(
    resource_type: ResourceType, obj: Mapping[str, Any], format_selector: Callable[[Any], str]
) -> Obj:
    """The ``autoscaling/v1`` Scale of an object (its metadata, replicas and selector)."""
    paths = resource_type.scale or ScalePaths()
    metadata = obj["metadata"]
    status: Obj = {"replicas": read_path(obj, paths.status_replicas) or 0}
    selector = _selector_text(paths, obj, format_selector)
    if selector:
        status["selector"] = selector
    scale_meta = {
        key: metadata[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in metadata
    }
    spec_replicas = read_path(obj, paths.spec_replicas)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": spec_replicas} if spec_replicas is not None else {},
        "status": status,
    }


def apply_scale(
    resource_type: ResourceType, obj: Mapping[str, Any], scale: Mapping[str, Any]
) -> Obj:
    """The object with ``spec.replicas`` (or the CRD's path) taken from a written Scale."""
    paths = resource_type.scale or ScalePaths()
    result = copy.deepcopy(dict(obj))
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    write_path(result, paths.spec_replicas, replicas)
    scale_rv = (scale.get("metadata") or {}).get("resourceVersion")
    if scale_rv:
        result["metadata"]["resourceVersion"] = scale_rv
    else:
        result["metadata"].pop("resourceVersion", None)
    return result
