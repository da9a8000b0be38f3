"""The members of an object: what a manager can own, and what a write changed.

An object's *members* are its leaves (scalars, atomic lists and maps, empty maps) plus
every item of a list-map or set list, by path (:mod:`.fieldsv1`); the list strategies come
from :mod:`.patching` (:func:`.patching.root_schema`). The apiserver never records
ownership of ``apiVersion``, ``kind`` and the system fields of ``metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.fieldmanager.fieldsv1 import Path, canon, path_text
from flink_k8s_sandbox.patching import FieldSchema, ListStrategy

__all__ = ["InvalidObject", "Members", "compare", "list_element", "members", "owned"]

Members = dict[Path, tuple[Any, bool]]  # path -> (value, is a leaf)
_SYSTEM = "name namespace creationTimestamp selfLink uid clusterName generation managedFields"
_SYSTEM += " resourceVersion"
_STRIPPED: frozenset[Path] = frozenset(
    {(("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),)}
    | {(("f", "metadata"), ("f", name)) for name in _SYSTEM.split()}
)


class InvalidObject(Exception):
    """Raised by a strict walk: a list item misses its key fields or repeats a key."""


def list_element(item: Any, strategy: ListStrategy, where: Path, index: int, strict: bool) -> Any:
    """The path element of list item ``index`` at ``where``: by key fields, by value, else
    by index (or :class:`InvalidObject` when ``strict``)."""
    if not strategy.keys:
        return ("v", canon(item))
    if not isinstance(item, dict):
        if strict:
            raise InvalidObject(f"{path_text(where)}: element {index}: expected map, got {item!r}")
        return ("i", str(index))
    defaults = dict(strategy.defaults)
    fields = {}
    for name in sorted(strategy.keys):
        if item.get(name) is not None:
            fields[name] = item[name]
        elif name in defaults:
            fields[name] = defaults[name]
        elif strict:
            raise InvalidObject(
                f"{path_text(where)}: element {index}: associative list with keys has an "
                f'element that omits key field "{name}" (and doesn\'t have default value)'
            )
    return ("k", canon(fields))


def _walk(value: Any, schema: FieldSchema, path: Path, out: Members, strict: bool) -> None:
    if isinstance(value, dict) and value and not schema.atomic:
        for name, child in value.items():
            if child is not None:
                _walk(child, schema.child(name), (*path, ("f", name)), out, strict)
    elif isinstance(value, list) and value and schema.list is not None:
        seen: set[Path] = set()
        for index, item in enumerate(value):
            item_path = (*path, list_element(item, schema.list, path, index, strict))
            if strict and item_path in seen:
                raise InvalidObject(
                    f"{path_text(path)}: duplicate entries for key {path_text(item_path[-1:])}"
                )
            seen.add(item_path)
            out[item_path] = (item, not isinstance(item, dict) or not schema.list.keys)
            if isinstance(item, dict) and item and schema.list.keys:
                _walk(item, schema.item, item_path, out, strict)
    elif path:
        out[path] = (value, True)


def members(obj: Mapping[str, Any], schema: FieldSchema, strict: bool = False) -> Members:
    """Every member of ``obj`` by path, with its value and whether it is a leaf."""
    out: Members = {}
    _walk(dict(obj), schema, (), out, strict)
    return out


def owned(paths: set[Path] | frozenset[Path], ignore_status: bool) -> set[Path]:
    """Drop what the apiserver never records (and ``status`` when it is reset)."""
    return {
        p for p in paths if p not in _STRIPPED and not (ignore_status and p[0] == ("f", "status"))
    }


def compare(old: Members, new: Members, ignore_status: bool) -> tuple[set[Path], set[Path]]:
    """``(added or modified, removed)`` between two member maps."""
    changed = {
        p for p, (v, leaf) in new.items() if p not in old or (leaf and canon(old[p][0]) != canon(v))
    }
    return owned(changed, ignore_status), owned(set(old) - set(new), ignore_status)
