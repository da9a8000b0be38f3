"""List order under a strategic merge patch, as apimachinery ``strategicpatch`` sets it.

Items of a merged list are found by merge key (``None``: the items themselves, a set of
primitives). The items the patch names are sorted by the patch's order (its
``$setElementOrder`` list, or the patch list itself), those only the server had by the
server's, then both are interleaved by the server's order -- which puts new items
*before* the items only the server had.
"""

from __future__ import annotations

from typing import Any

from flink_k8s_sandbox.patching.errors import no_merge_key
from flink_k8s_sandbox.patching.values import json_equal

__all__ = ["ordered", "partition", "position"]


def position(order: list[Any], item: Any, key: str | None) -> int:
    """``index``: where ``item`` (by merge key for maps) sits in ``order``, else -1."""
    probe = item.get(key) if key and isinstance(item, dict) else item
    for i, entry in enumerate(order):
        value = entry.get(key) if key and isinstance(entry, dict) else entry if not key else None
        if json_equal(value, probe):
            return i
    return -1


def _sort_by(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """``normalizeSliceOrder``: Go's insertion sort with the same (odd) comparator."""
    deleted: list[Any] = []
    if key:
        for entry in items + order:
            if not isinstance(entry, dict) or key not in entry:
                raise no_merge_key(entry, key)
        deleted = [i for i in items if i.get("$patch") == "delete"]
        items = [i for i in items if i.get("$patch") != "delete"]
    out = list(items)
    for i in range(1, len(out)):
        j = i
        while j > 0:
            a, b = position(order, out[j], key), position(order, out[j - 1], key)
            if a >= 0 and b >= 0 and a >= b:
                break
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out + deleted


def ordered(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    key: str | None,
) -> list[Any]:
    """``normalizeElementOrder``: sort both parts, then interleave by the server's order."""
    right = _sort_by(patch_items, patch_order, key)
    left = _sort_by(server_only, server_order, key)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (
            i < len(left)
            and 0 <= position(server_order, left[i], key) < position(server_order, right[j], key)
        ):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def partition(merged: list[Any], by: list[Any], key: str | None) -> tuple[list[Any], list[Any]]:
    """The items of ``merged`` that ``by`` holds and those it does not (by ``key``)."""
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if key and (not isinstance(item, dict) or key not in item):
            raise no_merge_key(item, key)
        (inside if position(by, item, key) >= 0 else outside).append(item)
    return inside, outside
