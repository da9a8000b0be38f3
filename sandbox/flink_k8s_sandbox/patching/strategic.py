"""Strategic merge patch for built-in kinds, as apimachinery ``strategicpatch`` applies it.

Lists merge by ``patchMergeKey`` (:mod:`.schema`), primitive ``merge`` lists are sets, and
the directives ``$patch: replace|delete``, ``$retainKeys``, ``$deleteFromPrimitiveList/<f>``
and ``$setElementOrder/<f>`` behave as in Kubernetes, list order included
(:mod:`.listorder`). Like Kubernetes it refuses ``$patch: merge`` ("merging lists cannot
yet be specified in the patch" in a list, ``unknown patch type: merge in map: ...`` in a
map). Format errors are 400, list-of-lists and ``$retainKeys`` mismatches 422, and the
remaining errors (missing merge key, unknown directive) are 500 with no reason.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.patching.errors import (
    GO_MAP,
    INVALID,
    PatchError,
    bad_request,
    cannot_decode,
    internal_error,
    no_merge_key,
)
from flink_k8s_sandbox.patching.listorder import ordered, partition, position
from flink_k8s_sandbox.patching.schema import FieldSchema, root_schema
from flink_k8s_sandbox.patching.values import Obj, go_string, json_equal, json_type

__all__ = ["apply_strategic_merge_patch"]

_DELETE = "$deleteFromPrimitiveList"
_ORDER = "$setElementOrder"


def _clean(value: Any) -> Any:
    """A new value as typed decoding leaves it: no nulls, no ``$`` directives."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


def _unprefix(key: str, prefix: str) -> str:
    head, slash, rest = key.partition("/")
    if head != prefix or not slash:
        kind = "primitive list" if prefix == _DELETE else "setElementOrder list"
        raise bad_request(f"invalid patch format of {kind}")
    return rest


def _are_maps(*lists: list[Any]) -> bool:
    """``sliceElementType``: all elements share one kind; lists of lists are refused."""
    kinds = {
        "map" if isinstance(v, dict) else "list" if isinstance(v, list) else json_type(v)
        for items in lists
        for v in items
    }
    if len(kinds) > 1:
        raise internal_error(f"list element types are not identical: {go_string(list(lists))}")
    if kinds == {"list"}:
        raise PatchError(422, "Invalid", INVALID, detail="lists of lists are not supported")
    return kinds == {"map"}


def _smp_list(
    original: list[Any], patch: list[Any], schema: FieldSchema, delete: bool
) -> list[Any]:
    if schema.list is None:
        return list(_clean(patch))
    if not original and not patch:
        return original
    key = schema.list.merge_key
    if not _are_maps(original, patch):
        return _merge_primitives(original, patch, delete)
    if key is None:
        raise internal_error("cannot merge lists without merge key for type map")
    original, plain = _list_directives(original, patch, key)
    merged = list(original)
    for item in plain:
        if key not in item:
            raise no_merge_key(item, key)
        at = position(merged, item, key)
        if at >= 0:
            merged[at] = _smp_map(merged[at], item, schema.item)
        else:
            merged.append(_clean(item))
    patch_items, server_only = partition(merged, plain, key)
    return ordered(patch_items, server_only, plain, original, key)


def _merge_primitives(original: list[Any], patch: list[Any], delete: bool) -> list[Any]:
    """A set of primitives: the union in order, or the original less the patch's items
    (``$deleteFromPrimitiveList``)."""
    if delete:
        return [v for v in original if position(patch, v, None) < 0]
    merged = [
        v for i, v in enumerate(original + patch) if position((original + patch)[:i], v, None) < 0
    ]
    patch_items, server_only = partition(merged, patch, None)
    return ordered(patch_items, server_only, patch, original, None)


def _list_directives(
    original: list[Any], patch: list[Any], key: str
) -> tuple[list[Any], list[Any]]:
    """Act on the ``$patch`` items of a list of maps: ``delete`` drops the original's item
    with that key, ``replace`` makes the plain items the whole list. Returns the original
    so edited and the plain items left to merge into it."""
    plain, replace = [], False
    for item in patch:
        directive = item.get("$patch")
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise no_merge_key(item, key)
            original = [
                o
                for o in original
                if not (isinstance(o, dict) and json_equal(o.get(key), item[key]))
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise internal_error("merging lists cannot yet be specified in the patch")
        else:
            raise _unknown_directive(directive, item)
    if replace:
        return [_clean(p) for p in plain], []
    return original, plain


def _unknown_directive(directive: Any, item: Any) -> PatchError:
    return internal_error(f"unknown patch type: {go_string(directive)} in map: {go_string(item)}")


def _retain_keys(original: Obj, patch: Obj) -> None:
    if "$retainKeys" not in patch:
        return
    keep = patch.pop("$retainKeys")
    if not isinstance(keep, list):
        raise bad_request("invalid patch format of retainKeys")
    for k, v in patch.items():
        if v is not None and not k.startswith((_DELETE, _ORDER)) and k not in keep:
            raise bad_request("invalid patch format of retainKeys")
    for k in [k for k in original if k not in keep]:
        del original[k]


def _set_element_orders(original: Obj, patch: Obj, schema: FieldSchema) -> None:
    for directive in [k for k in patch if k.startswith(_ORDER)]:
        order = patch.pop(directive)
        name = _unprefix(directive, _ORDER)
        current, given = original.get(name), patch.pop(name, None)
        for value in (order, current or [], given or []):
            if not isinstance(value, list):
                raise internal_error(
                    f"expected a []interface {{}}, but received a {json_type(value)}"
                )
        child = schema.child(name)
        key = child.list.merge_key if child.list else None
        _check_order(given or [], order, key)
        if current is None and given is None:
            continue
        merged = _smp_list(current or [], given, child, False) if given is not None else current
        assert isinstance(merged, list)
        inside, outside = partition(merged, order, key)
        original[name] = ordered(inside, outside, order, current or [], key)


def _check_order(given: list[Any], order: list[Any], key: str | None) -> None:
    """``validatePatchWithSetOrderList``: patch items must follow the order list."""
    items = [i for i in given if not (key and isinstance(i, dict) and i.get("$patch") == "delete")]
    i = j = 0
    while order and i < len(items) and j < len(order):
        if isinstance(items[i], dict) and "$patch" in items[i]:
            i += 1
            continue
        if key and not (isinstance(items[i], dict) and key in items[i]):
            raise no_merge_key(items[i], key)
        if position([order[j]], items[i], key) == 0:
            i += 1
        j += 1
    if order and i < len(items) and j >= len(order):
        patch_list, order_list = go_string(given), go_string(order)
        raise internal_error(
            f"The order in patch list:\n{patch_list}\n doesn't match {_ORDER} list:\n{order_list}\n"
        )


def _smp_map(original: Obj, patch: Obj, schema: FieldSchema) -> Obj:
    if "$patch" in patch:
        directive = patch["$patch"]
        if directive == "replace":
            return dict(_clean(patch))
        if directive == "delete":
            return {}
        raise _unknown_directive(directive, patch)
    _retain_keys(original, patch)
    _set_element_orders(original, patch, schema)
    for key, value in patch.items():
        delete = key.startswith(_DELETE)
        if delete:
            key = _unprefix(key, _DELETE)
        elif key.startswith("$"):
            continue
        current = original.get(key)
        if value is None:
            original.pop(key, None)
        elif key not in original:
            if not delete:
                original[key] = _clean(value)
        elif isinstance(current, dict) and isinstance(value, dict):
            original[key] = _smp_map(current, value, schema.child(key))
        elif isinstance(current, list) and isinstance(value, list):
            original[key] = _smp_list(current, value, schema.child(key), delete)
        else:
            original[key] = _clean(value)
    return original


def apply_strategic_merge_patch(
    obj: Obj, patch: Mapping[str, Any], *, kind: str | None = None
) -> Obj:
    """Apply a strategic merge patch to a built-in object and return the patched copy.

    :param kind: the kind whose merge keys apply (default: ``obj["kind"]``).
    :raises PatchError: see the module docstring for codes.
    """
    if not isinstance(patch, dict):
        raise bad_request(cannot_decode(patch, GO_MAP))
    schema = root_schema(kind if kind is not None else str(obj.get("kind", "")))
    return _smp_map(copy.deepcopy(obj), copy.deepcopy(patch), schema)
