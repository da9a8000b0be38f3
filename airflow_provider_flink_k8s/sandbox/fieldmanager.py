"""Server-side apply and ``metadata.managedFields``, as structured-merge-diff does them (pure).

A field set is a set of paths; a path is a tuple of elements ``("f", name)`` (a field),
``("k", '{"name":"app"}')`` (a list-map item, by its key fields), ``("v", '"x"')`` (a set
item) -- the FieldsV1 spelling without the colon. An object's *members* are its leaves
(scalars, atomic lists and maps, empty maps) plus every item of a list-map or set list;
the list-map strategies come from :mod:`.patching` (:func:`.patching.root_schema`).

* :func:`apply` merges an applied configuration into the live object: the applier owns
  exactly what it applied; fields it applied before and no longer applies are removed
  unless another manager owns them; a change to a field another manager owns is a
  conflict (409) unless ``force``, which moves the field to the applier.
* :func:`record_update` records any other write (create, PUT, patch): the writer takes
  the fields whose value it changed or added, and every manager loses fields removed.

Never owned (as the apiserver strips them): ``apiVersion``, ``kind``, and
``metadata.{name, namespace, uid, resourceVersion, generation, creationTimestamp,
managedFields, selfLink, clusterName}``; ``status`` too with ``ignore_status=True`` (a
main-resource write to a kind with a status subresource). Entries are sorted as the
apiserver sorts them: Apply before Update, then by time, manager, apiVersion.

Simplified: no unions or version conversion; ``null`` in an applied configuration is
dropped (neither set nor owned); a pruned list item that another manager owns something
under is kept whole; a new manager whose apply changes nothing still gets a ``time``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_flink_k8s.sandbox.patching import (
    FieldSchema,
    ListStrategy,
    PatchError,
    root_schema,
)

__all__ = ["ApplyConflict", "Conflict", "apply", "owned_fields", "record_update"]

Obj = dict[str, Any]
Path = tuple[tuple[str, str], ...]
_Members = dict[Path, tuple[Any, bool]]  # path -> (value, is a leaf)
_SYSTEM = "name namespace creationTimestamp selfLink uid clusterName generation managedFields"
_SYSTEM += " resourceVersion"
_STRIPPED: frozenset[Path] = frozenset(
    {(("f", "apiVersion"),), (("f", "kind"),), (("f", "metadata"),)}
    | {(("f", "metadata"), ("f", name)) for name in _SYSTEM.split()}
)
_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


def _canon(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _path_text(path: Path) -> str:
    """``fieldpath.Path.String()``: ``.spec.containers[name="app"].image``."""
    out = []
    for kind, text in path:
        if kind == "f":
            out.append("." + text)
        elif kind == "k":
            out.append(
                "[" + ",".join(f"{k}={_canon(v)}" for k, v in json.loads(text).items()) + "]"
            )
        else:
            out.append(f"[={text}]" if kind == "v" else f"[{text}]")
    return "".join(out)


def _sort_key(path: Path) -> tuple[tuple[int, int, str], ...]:
    """structured-merge-diff's iteration order: members before children, each sorted."""
    last = len(path) - 1
    return tuple((int(i != last), _RANK[k], t) for i, (k, t) in enumerate(path))


@dataclass(frozen=True)
class Conflict:
    """One field another manager owns and this apply would change."""

    manager: str
    api_version: str
    field_path: str
    operation: str = "Update"
    subresource: str = ""

    @property
    def description(self) -> str:
        """``printManager``: ``"mgr"``, plus ``with subresource "scale"`` and, for Update
        managers, ``using apps/v1``."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        return text + (f" using {self.api_version}" if self.operation == "Update" else "")

    @property
    def identifier(self) -> str:
        """The manager identifier Kubernetes sorts conflicts by (JSON of the entry)."""
        return _identifier(self.manager, self.operation, self.api_version, self.subresource)


def _identifier(manager: str, operation: str, api_version: str, subresource: str) -> str:
    entry = {"manager": manager, "operation": operation}
    if operation == "Update" and api_version:
        entry["apiVersion"] = api_version
    if subresource:
        entry["subresource"] = subresource
    return json.dumps(entry, separators=(",", ":"))


class ApplyConflict(PatchError):
    """Raised when an apply would change fields other managers own (409 ``Conflict``).

    ``conflicts`` keeps the order Kubernetes reports; ``causes`` are the Status causes
    (``reason: FieldManagerConflict``, ``message: conflict with "mgr" using apps/v1``,
    ``field: .spec.replicas``).
    """

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        causes = [
            {"reason": "FieldManagerConflict", "message": f"conflict with {c.description}"}
            | {"field": c.field_path}
            for c in self.conflicts
        ]
        super().__init__(409, "Conflict", _conflict_message(self.conflicts), causes=causes)


def _conflict_message(conflicts: Sequence[Conflict]) -> str:
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.description}: {only.field_path}"
    lines: list[str] = []
    for identifier in sorted({c.identifier for c in conflicts}):
        mine = [c for c in conflicts if c.identifier == identifier]
        lines.append(f"conflicts with {mine[0].description}:")
        lines.extend(f"- {c.field_path}" for c in mine)
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


# --- members of an object ----------------------------------------------------------------------


class _Invalid(Exception):
    pass


def _element(item: Any, strategy: ListStrategy, where: Path, index: int, strict: bool) -> Any:
    if not strategy.keys:
        return ("v", _canon(item))
    if not isinstance(item, dict):
        if strict:
            raise _Invalid(f"{_path_text(where)}: element {index}: expected map, got {item!r}")
        return ("i", str(index))
    defaults = dict(strategy.defaults)
    fields = {}
    for name in sorted(strategy.keys):
        if item.get(name) is not None:
            fields[name] = item[name]
        elif name in defaults:
            fields[name] = defaults[name]
        elif strict:
            raise _Invalid(
                f"{_path_text(where)}: element {index}: associative list with keys has an "
                f'element that omits key field "{name}" (and doesn\'t have default value)'
            )
    return ("k", _canon(fields))


def _walk(value: Any, schema: FieldSchema, path: Path, out: _Members, strict: bool) -> None:
    if isinstance(value, dict) and value and not schema.atomic:
        for name, child in value.items():
            if child is not None:
                _walk(child, schema.child(name), (*path, ("f", name)), out, strict)
    elif isinstance(value, list) and value and schema.list is not None:
        seen: set[Path] = set()
        for index, item in enumerate(value):
            item_path = (*path, _element(item, schema.list, path, index, strict))
            if strict and item_path in seen:
                raise _Invalid(
                    f"{_path_text(path)}: duplicate entries for key {_path_text(item_path[-1:])}"
                )
            seen.add(item_path)
            out[item_path] = (item, not isinstance(item, dict) or not schema.list.keys)
            if isinstance(item, dict) and item and schema.list.keys:
                _walk(item, schema.item, item_path, out, strict)
    elif path:
        out[path] = (value, True)


def _members(obj: Mapping[str, Any], schema: FieldSchema, strict: bool = False) -> _Members:
    out: _Members = {}
    _walk(dict(obj), schema, (), out, strict)
    return out


def _owned(paths: set[Path] | frozenset[Path], ignore_status: bool) -> set[Path]:
    """Drop what the apiserver never records (and ``status`` when it is reset)."""
    return {
        p for p in paths if p not in _STRIPPED and not (ignore_status and p[0] == ("f", "status"))
    }


def _compare(old: _Members, new: _Members, ignore_status: bool) -> tuple[set[Path], set[Path]]:
    """``(added or modified, removed)`` between two member maps."""
    changed = {
        p
        for p, (v, leaf) in new.items()
        if p not in old or (leaf and _canon(old[p][0]) != _canon(v))
    }
    return _owned(changed, ignore_status), _owned(set(old) - set(new), ignore_status)


# --- managedFields encoding ---------------------------------------------------------------------


@dataclass
class _Entry:
    manager: str
    operation: str
    api_version: str
    time: str
    subresource: str
    fields: set[Path]

    @property
    def identity(self) -> tuple[str, str, str, str]:
        version = self.api_version if self.operation == "Update" else ""
        return (self.manager, self.operation, self.subresource, version)


def _decode_fields(tree: Mapping[str, Any], prefix: Path, out: set[Path]) -> None:
    for key, sub in tree.items():
        if key == ".":
            out.add(prefix)
            continue
        kind, _, text = key.partition(":")
        element = (kind, text if kind in ("f", "i") else _canon(json.loads(text)))
        if isinstance(sub, Mapping) and sub:
            _decode_fields(sub, (*prefix, element), out)
        else:
            out.add((*prefix, element))


def _encode_fields(paths: set[Path]) -> Obj:
    trie: dict[Any, Any] = {}
    for path in paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
        node[None] = True  # a member; with children too it is written as ".": {}

    def emit(node: dict[Any, Any]) -> Obj:
        children = sorted((e for e in node if e is not None), key=lambda e: (_RANK[e[0]], e[1]))
        out: Obj = {".": {}} if None in node and children else {}
        return out | {f"{kind}:{text}": emit(node[(kind, text)]) for kind, text in children}

    return emit(trie)


def _entry_identifier(entry: _Entry) -> str:
    return _identifier(entry.manager, entry.operation, entry.api_version, entry.subresource)


def _read_entries(managed: Any) -> dict[tuple[str, str, str, str], _Entry]:
    entries: dict[tuple[str, str, str, str], _Entry] = {}
    for raw in managed if isinstance(managed, list) else []:
        if not isinstance(raw, Mapping) or not raw.get("manager"):
            continue
        fields: set[Path] = set()
        try:
            _decode_fields(raw.get("fieldsV1") or {}, (), fields)
        except (ValueError, TypeError, AttributeError):
            continue
        entry = _Entry(
            str(raw["manager"]),
            str(raw.get("operation", "Update")),
            str(raw.get("apiVersion", "")),
            str(raw.get("time", "")),
            str(raw.get("subresource", "")),
            fields,
        )
        entries[entry.identity] = entry
    return entries


def _write_entries(obj: Obj, entries: Mapping[Any, _Entry]) -> Obj:
    kept = sorted(
        (e for e in entries.values() if e.fields),
        key=lambda e: (e.operation, e.time, e.manager, e.api_version, e.subresource),
    )
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    if kept:
        metadata["managedFields"] = [
            {"manager": e.manager, "operation": e.operation, "apiVersion": e.api_version}
            | ({"time": e.time} if e.time else {})
            | {"fieldsType": "FieldsV1", "fieldsV1": _encode_fields(e.fields)}
            | ({"subresource": e.subresource} if e.subresource else {})
            for e in kept
        ]
    return obj


def _without_managed(obj: Mapping[str, Any] | None) -> Obj:
    out = copy.deepcopy(dict(obj or {}))
    if isinstance(out.get("metadata"), dict):
        out["metadata"].pop("managedFields", None)
    return out


# --- merge and prune -----------------------------------------------------------------------------


def _merge(live: Any, config: Any, schema: FieldSchema) -> Any:
    if isinstance(live, dict) and isinstance(config, dict) and not schema.atomic:
        out = dict(live)
        for name, value in config.items():
            out[name] = _merge(live.get(name), value, schema.child(name))
        return out
    if isinstance(live, list) and isinstance(config, list) and schema.list is not None:
        return _merge_list(live, config, schema)
    return copy.deepcopy(config)


def _merge_list(live: list[Any], config: list[Any], schema: FieldSchema) -> list[Any]:
    """structured-merge-diff's list merge (``visitListItems``): shared and new items follow
    the configuration's order, items only the live object has stay where they were."""
    assert schema.list is not None
    lkeys = [_element(v, schema.list, (), i, False) for i, v in enumerate(live)]
    rkeys = [_element(v, schema.list, (), i, False) for i, v in enumerate(config)]
    lseen = dict(reversed(list(zip(lkeys, live, strict=True))))
    rseen = dict(zip(rkeys, config, strict=True))
    shared = [k for k in rkeys if k in lseen]
    upcoming = shared.pop(0) if shared else None
    out: list[Any] = []
    done: set[Any] = set()

    def take(key: Any) -> None:
        done.add(key)
        item = rseen[key]
        out.append(_merge(lseen[key], item, schema.item) if key in lseen else copy.deepcopy(item))

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
        if _element(item, schema.list, (), index, False) == (kind, text):
            if not rest:
                del node[index]
                return True
            return _delete(item, rest, schema.item, keep, here)
    return False


def _prune(merged: Obj, stale: set[Path], keep: set[Path], schema: FieldSchema) -> None:
    """Remove what the applier applied last time only, unless something below is kept."""
    for path in sorted(stale, key=len):
        if not any(k[: len(path)] == path for k in keep):
            _delete(merged, path, schema, keep)


# --- the two entry points ---------------------------------------------------------------------


def _gvknn(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    version = str(obj.get("apiVersion", ""))
    group_version = version if "/" in version else "/" + version
    name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    return f"{name}; {group_version}, Kind={obj.get('kind', '')}"


def _config(applied: Mapping[str, Any], ignore_status: bool) -> Obj:
    def prune(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: prune(v) for k, v in value.items() if v is not None}
        return [prune(v) for v in value] if isinstance(value, list) else value

    config: Obj = prune(copy.deepcopy(dict(applied)))
    if ignore_status:
        config.pop("status", None)
    metadata = config.get("metadata")
    if isinstance(metadata, dict):
        for name in ("managedFields", "resourceVersion", "uid", "generation", "creationTimestamp"):
            metadata.pop(name, None)
    return config


def apply(
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    *,
    manager: str,
    force: bool,
    now: str,
    subresource: str | None = None,
    ignore_status: bool = False,
) -> Obj:
    """Server-side apply ``applied`` (the request body) as ``manager``; create if ``live`` is None.

    Re-applying the same configuration returns an object equal to ``live``.

    :param now: RFC 3339 time stamped on the applier's entry when the object changes.
    :param ignore_status: drop ``status`` from the configuration and from ownership.
    :raises ApplyConflict: when another manager owns a field this apply would change.
    :raises PatchError: 400 if the configuration carries ``managedFields``; 500 for a list
        item missing its key or duplicated (``failed to create typed patch object ...``).
    """
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise PatchError(400, "BadRequest", "metadata.managedFields must be nil")
    schema = root_schema(str(applied.get("kind") or (live or {}).get("kind", "")))
    config = _config(applied, ignore_status)
    try:
        mine = _owned(set(_members(config, schema, strict=True)), ignore_status)
    except _Invalid as error:
        raise PatchError(
            500, "", f"failed to create typed patch object ({_gvknn(applied)}): {error}"
        ) from None
    current = _without_managed(live)
    entries = _read_entries(((live or {}).get("metadata") or {}).get("managedFields"))
    identity = (manager, "Apply", subresource or "", "")
    previous = entries.pop(identity, None)
    others: set[Path] = set().union(*(e.fields for e in entries.values()))
    merged = _merge(current, config, schema)
    if previous is not None:
        _prune(merged, previous.fields - mine - others, others | mine, schema)
    changed, removed = _compare(_members(current, schema), _members(merged, schema), ignore_status)
    conflicts = [
        Conflict(e.manager, e.api_version, _path_text(p), e.operation, e.subresource)
        for e in sorted(entries.values(), key=_entry_identifier)
        for p in sorted(e.fields & changed, key=_sort_key)
    ]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    for entry in entries.values():
        entry.fields -= changed | removed
    stamp = previous.time if previous is not None and merged == current else now
    version = str(applied.get("apiVersion", ""))
    entries[identity] = _Entry(manager, "Apply", version, stamp, subresource or "", mine)
    return _write_entries(merged, entries)


def record_update(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    manager: str,
    operation: str = "Update",
    subresource: str | None = None,
    now: str,
    ignore_status: bool = False,
) -> Obj:
    """``new`` with ``metadata.managedFields`` updated for a non-apply write by ``manager``.

    The managed fields come from ``new`` when it carries some (``[{}]`` resets them) and
    from ``old`` otherwise, or always from ``old`` for a subresource write.
    """
    requested = (new.get("metadata") or {}).get("managedFields")
    stored = ((old or {}).get("metadata") or {}).get("managedFields")
    if subresource:
        entries = _read_entries(stored)
    elif requested == [{}]:
        entries = {}
    else:
        entries = _read_entries(requested) or _read_entries(stored)
    schema = root_schema(str(new.get("kind") or (old or {}).get("kind", "")))
    result = _without_managed(new)
    before = _members(_without_managed(old), schema) if old else {}
    changed, removed = _compare(before, _members(result, schema), ignore_status)
    for entry in entries.values():
        entry.fields -= changed | removed
    if changed:
        version = str(new.get("apiVersion", ""))
        entry = _Entry(manager, operation, version, now, subresource or "", set(changed))
        previous = entries.get(entry.identity)
        entry.fields |= previous.fields if previous else set()
        entries[entry.identity] = entry
    return _write_entries(result, entries)


def owned_fields(
    obj: Mapping[str, Any], manager: str, operation: str = "Apply", subresource: str = ""
) -> frozenset[str]:
    """The paths (``.spec.replicas``) ``manager`` owns through ``operation`` entries."""
    entries = _read_entries((obj.get("metadata") or {}).get("managedFields")).values()
    return frozenset(
        _path_text(path)
        for e in entries
        if (e.manager, e.operation, e.subresource) == (manager, operation, subresource)
        for path in e.fields
    )
