"""A fast deep copy of JSON-shaped data (what the store and its writers hold).

Every write copies stored objects several times (read-modify-write, the store's own copy,
managed fields), and :func:`copy.deepcopy`'s memo and dispatch make that a large part of
a write's cost. :func:`json_copy` copies plain ``dict``/``list`` trees of scalars directly
and hands anything else (tuples, subclasses, other objects) to :func:`copy.deepcopy`, so
the result is the same except that a sub-object shared by two places is copied twice.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

__all__ = ["json_copy"]

T = TypeVar("T")
_SCALARS = (str, int, float, bool, type(None))


def json_copy(value: T) -> T:
    """A deep copy of ``value`` (see the module docstring)."""
    result: Any = _copy(value)
    return result  # type: ignore[no-any-return]


def _copy(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _copy(item) for key, item in value.items()}
    if kind is list:
        return [_copy(item) for item in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)
