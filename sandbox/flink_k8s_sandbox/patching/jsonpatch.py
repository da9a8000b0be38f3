"""RFC 6902 JSON patch with the quirks of ``evanphx/json-patch`` v4, as the apiserver has it.

``replace`` of a missing object member adds it, negative array indexes count from the end,
and ``test`` of a missing member passes for ``null``. A failing operation is a 422
``Invalid`` with apimachinery's generic message; its own error is in ``detail``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.patching.errors import (
    INVALID,
    PatchError,
    bad_request,
    cannot_decode,
)
from flink_k8s_sandbox.patching.values import Obj, json_equal

__all__ = ["apply_json_patch"]


class _OpFailed(Exception):
    pass


def _index(key: str, length: int) -> int:
    if not re.fullmatch(r"[+-]?\d+", key):
        raise _OpFailed(f'strconv.Atoi: parsing "{key}": invalid syntax')
    index = int(key)
    if index >= length or index < -length:
        raise _OpFailed(f"Unable to access invalid index: {index}: invalid index referenced")
    return index + length if index < 0 else index


def _get(container: Any, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    return container[_index(key, len(container))]


def _add(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
    elif key == "-":
        container.append(value)
    else:
        container.insert(_index(key, len(container) + 1), value)


def _remove(container: Any, key: str) -> None:
    if isinstance(container, list):
        del container[_index(key, len(container))]
    elif key in container:
        del container[key]
    else:
        raise _OpFailed(f"Unable to remove nonexistent key: {key}: missing value")


def _find(doc: Any, path: str) -> tuple[Any, str]:
    """The container a pointer points into and the last token (``None`` if missing)."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")]
    if len(parts) < 2:
        return None, ""
    node = doc
    for part in parts[1:-1]:
        try:
            node = _get(node, part)
        except _OpFailed:
            return None, ""
        if not isinstance(node, dict | list):
            return None, ""
    return node, parts[-1]


def _pointer(op: Mapping[str, Any], name: str, kind: str) -> str:
    value = op.get(name)
    if not isinstance(value, str):
        raise _OpFailed(f"{kind} operation failed to decode {name}: missing value")
    return value


def _operate(doc: Any, op: Mapping[str, Any]) -> Any:
    kind = op.get("op") if isinstance(op.get("op"), str) else "unknown"
    if kind not in ("add", "remove", "replace", "move", "copy", "test"):
        raise _OpFailed(f"Unexpected kind: {kind}")
    path = _pointer(op, "path", kind)
    value = copy.deepcopy(op.get("value"))
    if path == "" and kind == "replace":
        if not isinstance(value, dict | list):
            raise _OpFailed("replace operation value must be object or array")
        return value
    if path == "" and kind == "test":
        if "value" in op and json_equal(doc, value):
            return doc
        raise _OpFailed("testing value  failed: test failed")
    if kind in ("move", "copy"):
        source = _pointer(op, "from", kind)
        container, key = _find(doc, source)
        if container is None:
            raise _OpFailed(f"{kind} operation does not apply: doc is missing from path: {source}")
        value = copy.deepcopy(_get(container, key))
        if kind == "move":
            _remove(container, key)
    container, key = _find(doc, path)
    if container is None:
        raise _OpFailed(f'{kind} operation does not apply: doc is missing path: "{path}"')
    if kind in ("add", "move", "copy"):
        _add(container, key, value)
    elif kind == "remove":
        _remove(container, key)
    elif kind == "replace" and isinstance(container, dict):
        container[key] = value  # evanphx v4: replacing a missing member adds it
    elif kind == "replace":
        container[_index(key, len(container))] = value
    else:
        current = _get(container, key)
        if "value" not in op or not json_equal(current, value):
            raise _OpFailed(f"testing value {path} failed: test failed")
    return doc


def apply_json_patch(obj: Obj, ops: list[Any]) -> Obj:
    """Apply an RFC 6902 JSON patch and return the patched copy.

    :raises PatchError: 400 if ``ops`` is not a list of objects, 413 past 10000 operations,
        422 (``Invalid``) when an operation fails; ``detail`` names the failing operation.
    """
    if not isinstance(ops, list):
        raise bad_request(cannot_decode(ops, "jsonpatch.Patch"))
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request(cannot_decode(op, "jsonpatch.Operation"))
    if len(ops) > 10000:
        message = "The allowed maximum operations in a JSON patch is 10000, got " + str(len(ops))
        raise PatchError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")
    doc: Any = copy.deepcopy(obj)
    for op in ops:
        try:
            doc = _operate(doc, op)
        except _OpFailed as failure:
            raise PatchError(422, "Invalid", INVALID, detail=str(failure)) from None
    if not isinstance(doc, dict):
        raise PatchError(422, "Invalid", INVALID, detail="the patched document is not an object")
    return doc
