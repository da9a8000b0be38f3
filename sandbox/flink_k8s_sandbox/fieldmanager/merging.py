"""Merge an applied configuration into the live object, and prune what it no longer applies.

Lists merge as structured-merge-diff merges them: by key for list-maps, by value for sets;
everything else the configuration sets replaces the live value.
"""

from __future__ import annotations

import copy
from typing import Any

from flink_k8s_sandbox.fieldmanager.fieldsv1 import Obj, Path
from flink_k8s_sandbox.fieldmanager.members import list_element
from flink_k8s_sandbox.patching import FieldSchema

__all__ = ["merge", "prune_stale"]


def merge(live: Any, config: Any, schema: FieldSchema) -> Any:
    """``config`` merged into ``live``: neither is changed, the result may share parts of
    ``live``."""
    if isinstance(live, dict) and isinstance(config, dict) and not schema.atomic:
        out = dict(live)
        for name, value in config.items():
            out[name] = merge(live.get(name), value, schema.child(name))
        return out
    if isinstance(live, list) and isinstance(config, list) and schema.list is not None:
        return _merge_list(live, config, schema)
    return copy.deepcopy(config)


def _merge_list(live: list[Any], config: list[Any], schema: FieldSchema) -> list[Any]:
    """structured-merge-diff's list merge (``visitListItems``): shared and new items follow
    the configuration's order, items only the live object has stay where they were."""
    assert schema.list is not None
    lkeys = [list_element(v, schema.list, (), i, False) for i, v in enumerate(live)]
    rkeys = [list_element(v, schema.list, (), i, False) for i, v in enumerate(config)]
    lseen = dict(reversed(list(zip(lkeys, live, strict=True))))
    rseen = dict(zip(rkeys, config, strict=True))
    shared = [k for k in rkeys if k in lseen]
    upcoming = shared.pop(0) if shared else None
    out: list[Any] = []
    done: set[Any] = set()

    def take(key: Any) -> None:
        done.add(key)
        item = rseen[key]
        out.append(merge(lseen[key], item, schema.item) if key in lseen else copy.deepcopy(item))

    li = ri = 0
    while li < len(lkeys) or ri < len(rkeys):
        left = lkeys[li] if li < len(lkeys) else None
        if left is not None and ri < len(rkeys):
            if left == rkeys[ri]:
                take(left)
                li, ri = li + 1, ri + 1
                upcoming = shared.pop(0) if shared else None
                continue
            if left in rseen and upcoming is not None and upcoming != left:
                li += 1
                continue
        if left is not None and (left not in rseen or left in done):
            out.extend([live[li]] if left not in rseen else [])
            li += 1
            continue
        take(rkeys[ri])
        if upcoming is not None and upcoming == rkeys[ri]:
            upcoming = shared.pop(0) if shared else None
        ri += 1
    return out


def _delete(node: Any, path: Path, schema: FieldSchema, keep: set[Path], at: Path = ()) -> bool:
    """Remove ``path`` below ``node`` (at ``at``); a map or list it leaves empty goes too, as
    SMD's remove walker returns nil for it, unless ``keep`` owns it. Whether it removed."""
    (kind, text), rest = path[0], path[1:]
    here = (*at, (kind, text))
    if kind == "f":
        if not isinstance(node, dict) or text not in node:
            return False
        if rest and not _delete(node[text], rest, schema.child(text), keep, here):
            return False
        if not rest or (node[text] in ({}, []) and here not in keep):
            del node[text]
        return True
    if not isinstance(node, list) or schema.list is None:
        return False
    for index, item in enumerate(node):
        if list_element(item, schema.list, (), index, False) == (kind, text):
            if not rest:
                del node[index]
                return True
            return _delete(item, rest, schema.item, keep, here)
    return False


def prune_stale(merged: Obj, stale: set[Path], keep: set[Path], schema: FieldSchema) -> None:
    """Remove what the applier applied last time only, unless something below is kept."""
    for path in sorted(stale, key=len):
        if not any(k[: len(path)] == path for k in keep):
            _delete(merged, path, schema, keep)
