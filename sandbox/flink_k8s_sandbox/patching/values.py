"""Decoded JSON values as Go sees them: equality, type names and ``%v`` printing."""

from __future__ import annotations

from typing import Any

__all__ = ["Obj", "go_string", "json_equal", "json_type"]

Obj = dict[str, Any]


def go_string(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print sorted, as ``fmt`` does)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_string(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def json_type(value: Any) -> str:
    """The JSON type name Go's decoder reports (``object``, ``array``, ``number``...)."""
    names = {dict: "object", list: "array", str: "string", bool: "bool"}
    return "null" if value is None else names.get(type(value), "number")


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)
