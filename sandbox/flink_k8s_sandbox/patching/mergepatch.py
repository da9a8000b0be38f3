"""RFC 7386 JSON merge patch: ``null`` deletes, nulls inside new objects are pruned."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.patching.errors import GO_MAP, bad_request, cannot_decode
from flink_k8s_sandbox.patching.values import Obj

__all__ = ["apply_merge_patch"]


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return copy.deepcopy(value)


def _merge(doc: Obj, patch: Mapping[str, Any]) -> Obj:
    for key, value in patch.items():
        current = doc.get(key)
        if value is None:
            doc.pop(key, None)
        elif not isinstance(current, dict):
            doc[key] = _prune(value)
        elif isinstance(value, dict):
            doc[key] = _merge(current, value)
        else:
            doc[key] = copy.deepcopy(value)
    return doc


def apply_merge_patch(obj: Obj, patch: Mapping[str, Any]) -> Obj:
    """Apply an RFC 7386 merge patch and return the patched copy.

    :raises PatchError: 400 when the patch is not a JSON object.
    """
    if not isinstance(patch, dict):
        raise bad_request("error decoding patch: " + cannot_decode(patch, GO_MAP))
    return _merge(copy.deepcopy(obj), patch)
