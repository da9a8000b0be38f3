"""The three PATCH bodies as the API server applies them (pure; inputs are never mutated).

* :func:`apply_json_patch` -- RFC 6902 with the quirks of ``evanphx/json-patch`` v4 that
  the apiserver uses (``replace`` of a missing object member adds it, negative array
  indexes count from the end, ``test`` of a missing member passes for ``null``).
* :func:`apply_merge_patch` -- RFC 7386 (``null`` deletes; nulls inside new objects are
  pruned).
* :func:`apply_strategic_merge_patch` -- apimachinery ``strategicpatch`` for built-in
  kinds: lists merge by ``patchMergeKey``, primitive ``merge`` lists are sets, and the
  directives ``$patch: replace|delete``, ``$retainKeys``, ``$deleteFromPrimitiveList/<f>``
  and ``$setElementOrder/<f>`` behave as in Kubernetes, list order included (new items of
  a merged list come *before* the items only the server had). Like Kubernetes it refuses
  ``$patch: merge`` ("merging lists cannot yet be specified in the patch" in a list,
  ``unknown patch type: merge in map: ...`` in a map).

Every failure is a :class:`PatchError` carrying the HTTP ``code`` and ``reason`` the real
server answers with: a body that does not decode is 400 ``BadRequest``; a JSON patch
operation that fails (``test``, a missing path, a bad index) is 422 ``Invalid`` with
apimachinery's generic message (the operation's own error is in ``detail``); SMP format
errors are 400, list-of-lists and ``$retainKeys`` mismatches 422, and the remaining SMP
errors (missing merge key, unknown directive) are 500 with no reason, because the
apiserver does not translate them either.

Merge keys (the table :func:`list_strategy` and :mod:`.fieldmanager` read). Paths start at
the object root; ``<pod>`` is ``spec`` (Pod), ``template.spec`` (PodTemplate),
``spec.template.spec`` (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
ReplicationController) or ``spec.jobTemplate.spec.template.spec`` (CronJob); ``<c>`` is
``<pod>.containers``, ``<pod>.initContainers`` or ``<pod>.ephemeralContainers``.

====================================================  ===============  ========================
list                                                  SMP merge key    SSA list-map keys
====================================================  ===============  ========================
``metadata.finalizers`` (every kind, also templates)   set              set
``metadata.ownerReferences``                           ``uid``          ``uid``
``<c>``, ``<pod>.imagePullSecrets``                    ``name``         ``name``
``<pod>.volumes``, ``<pod>.schedulingGates``           ``name``         ``name``
``<pod>.resourceClaims``                               ``name``         ``name``
``<pod>.hostAliases``                                  ``ip``           ``ip``
``<pod>.topologySpreadConstraints``                    ``topologyKey``  topologyKey, whenUnsat.
``<c>[].env``                                          ``name``         ``name``
``<c>[].ports``                                        containerPort    containerPort, protocol
``<c>[].volumeMounts``                                 ``mountPath``    ``mountPath``
``<c>[].volumeDevices``                                ``devicePath``   ``devicePath``
``spec.ports`` (Service)                               ``port``         port, protocol
``status.conditions`` (Pod, workloads, Job, Service,   ``type``         ``type``
Node, Namespace, PersistentVolumeClaim)
``status.podIPs``, ``status.hostIPs`` (Pod)            ``ip``           ``ip``
``status.addresses`` (Node)                            ``type``         ``type``
``spec.podCIDRs`` (Node)                               set              set
====================================================  ===============  ========================

Every other list is atomic (replaced whole): ``args``, ``command``, ``envFrom``,
``tolerations``, ``containerStatuses``, ``readinessGates``... A missing ``protocol`` key
reads as ``TCP``. For server-side apply ``spec.selector`` of the workloads and Service
is atomic too. Unknown kinds (custom resources) only get ``metadata``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldSchema",
    "ListStrategy",
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
    "list_strategy",
    "merge_key_table",
    "root_schema",
]

Obj = dict[str, Any]
_INVALID = "the server rejected our request due to an error in our request"
_GO_MAP = "map[string]interface {}"


class PatchError(ValueError):
    """Raised when a patch is refused; ``str()`` is the ``Status`` message.

    :param code: the HTTP status the server answers (400, 409, 413, 422 or 500).
    :param reason: the ``Status`` reason (``""`` when Kubernetes leaves it unset).
    :param detail: the underlying error when the message is generic (e.g. json-patch).
    :param causes: ``details.causes`` entries, if any.
    """

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        detail: str = "",
        causes: Sequence[Mapping[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.detail = detail
        self.causes: tuple[dict[str, str], ...] = tuple(dict(c) for c in causes)


# --- the merge-key table ------------------------------------------------------------------


@dataclass(frozen=True)
class ListStrategy:
    """How a list merges: ``merge_key`` for SMP (``None``: a set of primitives) and
    ``keys`` for server-side apply (empty: a set); ``defaults`` fill missing key fields."""

    merge_key: str | None = None
    keys: tuple[str, ...] = ()
    defaults: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class FieldSchema:
    """What Kubernetes knows of one field: its struct type, list strategy, atomicity."""

    type_name: str = ""
    list: ListStrategy | None = None
    atomic: bool = False

    def child(self, name: str) -> FieldSchema:
        """The schema of field ``name`` (an empty schema when unknown)."""
        return _TYPES.get(self.type_name, {}).get(name, _UNKNOWN)

    @property
    def item(self) -> FieldSchema:
        """The schema of this list's items."""
        return FieldSchema(self.type_name)


_UNKNOWN = FieldSchema()
_SET = ListStrategy()
_TCP = (("protocol", "TCP"),)


def _by(key: str, *more: str, **kwargs: Any) -> FieldSchema:
    defaults = _TCP if "protocol" in more else ()
    return FieldSchema(kwargs.get("of", ""), ListStrategy(key, (key, *more), defaults))


_META = FieldSchema("ObjectMeta")
_CONDITIONS = FieldSchema("Conditions")
_ATOMIC = FieldSchema(atomic=True)
_TYPES: dict[str, dict[str, FieldSchema]] = {
    "Object": {"metadata": _META},
    "ObjectMeta": {"finalizers": FieldSchema(list=_SET), "ownerReferences": _by("uid")},
    "Conditions": {"conditions": _by("type")},
    "PodTemplateSpec": {"metadata": _META, "spec": FieldSchema("PodSpec")},
    "PodSpec": {
        "containers": _by("name", of="Container"),
        "initContainers": _by("name", of="Container"),
        "ephemeralContainers": _by("name", of="Container"),
        "volumes": _by("name"),
        "imagePullSecrets": _by("name"),
        "hostAliases": _by("ip"),
        "schedulingGates": _by("name"),
        "resourceClaims": _by("name"),
        "topologySpreadConstraints": _by("topologyKey", "whenUnsatisfiable"),
    },
    "Container": {
        "ports": _by("containerPort", "protocol"),
        "env": _by("name"),
        "volumeMounts": _by("mountPath"),
        "volumeDevices": _by("devicePath"),
    },
    "PodStatus": {"conditions": _by("type"), "podIPs": _by("ip"), "hostIPs": _by("ip")},
    "WorkloadSpec": {"selector": _ATOMIC, "template": FieldSchema("PodTemplateSpec")},
    "JobTemplateSpec": {"metadata": _META, "spec": FieldSchema("WorkloadSpec")},
    "ServiceSpec": {"ports": _by("port", "protocol"), "selector": _ATOMIC},
    "NodeSpec": {"podCIDRs": FieldSchema(list=_SET)},
    "NodeStatus": {"conditions": _by("type"), "addresses": _by("type")},
}
_WORKLOAD = {"metadata": _META, "spec": FieldSchema("WorkloadSpec"), "status": _CONDITIONS}
_KINDS: dict[str, dict[str, FieldSchema]] = {
    "Pod": {"metadata": _META, "spec": FieldSchema("PodSpec"), "status": FieldSchema("PodStatus")},
    "PodTemplate": {"metadata": _META, "template": FieldSchema("PodTemplateSpec")},
    **{kind: _WORKLOAD for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job")},
    "ReplicationController": {
        "metadata": _META,
        "spec": FieldSchema("RCSpec"),
        "status": _CONDITIONS,
    },
    "CronJob": {"metadata": _META, "spec": FieldSchema("CronJobSpec")},
    "Service": {"metadata": _META, "spec": FieldSchema("ServiceSpec"), "status": _CONDITIONS},
    "Node": {
        "metadata": _META,
        "spec": FieldSchema("NodeSpec"),
        "status": FieldSchema("NodeStatus"),
    },
    "Namespace": {"metadata": _META, "status": _CONDITIONS},
    "PersistentVolumeClaim": {"metadata": _META, "status": _CONDITIONS},
}
_TYPES["RCSpec"] = {"template": FieldSchema("PodTemplateSpec")}
_TYPES["CronJobSpec"] = {"jobTemplate": FieldSchema("JobTemplateSpec")}
_TYPES.update(_KINDS)


def root_schema(kind: str) -> FieldSchema:
    """The schema of a whole object of ``kind`` (only ``metadata`` for unknown kinds)."""
    return FieldSchema(kind if kind in _KINDS else "Object")


def list_strategy(kind: str, path: Sequence[str]) -> ListStrategy | None:
    """The strategy of the list at ``path`` (field names from the root, items skipped)."""
    node = root_schema(kind)
    for name in path:
        node = node.child(name)
    return node.list


def merge_key_table(kind: str) -> dict[str, ListStrategy]:
    """Every merging list of ``kind``, by dotted path (the table above, flattened)."""
    table: dict[str, ListStrategy] = {}

    def walk(node: FieldSchema, prefix: str, depth: int) -> None:
        for name, child in _TYPES.get(node.type_name, {}).items():
            if child.list is not None:
                table[prefix + name] = child.list
            if child.type_name and depth < 8:
                walk(child, f"{prefix}{name}.", depth + 1)

    walk(root_schema(kind), "", 0)
    return table


# --- helpers --------------------------------------------------------------------------------


def _go(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print sorted, as ``fmt`` does)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "bool"}
    return "null" if value is None else names.get(type(value), "number")


def _cannot_decode(value: Any, go_type: str) -> str:
    return f"json: cannot unmarshal {_json_type(value)} into Go value of type {go_type}"


def _bad(message: str) -> PatchError:
    return PatchError(400, "BadRequest", message)


def _internal(message: str) -> PatchError:
    return PatchError(500, "", message)


def _same(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _clean(value: Any) -> Any:
    """A new value as typed decoding leaves it: no nulls, no ``$`` directives."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return copy.deepcopy(value)


# --- RFC 6902 JSON patch ----------------------------------------------------------------------


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
        if "value" in op and _same(doc, value):
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
        if "value" not in op or not _same(current, value):
            raise _OpFailed(f"testing value {path} failed: test failed")
    return doc


def apply_json_patch(obj: Obj, ops: list[Any]) -> Obj:
    """Apply an RFC 6902 JSON patch and return the patched copy.

    :raises PatchError: 400 if ``ops`` is not a list of objects, 413 past 10000 operations,
        422 (``Invalid``) when an operation fails; ``detail`` names the failing operation.
    """
    if not isinstance(ops, list):
        raise _bad(_cannot_decode(ops, "jsonpatch.Patch"))
    for op in ops:
        if not isinstance(op, dict):
            raise _bad(_cannot_decode(op, "jsonpatch.Operation"))
    if len(ops) > 10000:
        message = "The allowed maximum operations in a JSON patch is 10000, got " + str(len(ops))
        raise PatchError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")
    doc: Any = copy.deepcopy(obj)
    for op in ops:
        try:
            doc = _operate(doc, op)
        except _OpFailed as failure:
            raise PatchError(422, "Invalid", _INVALID, detail=str(failure)) from None
    if not isinstance(doc, dict):
        raise PatchError(422, "Invalid", _INVALID, detail="the patched document is not an object")
    return doc


# --- RFC 7386 JSON merge patch -------------------------------------------------------------


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
        raise _bad("error decoding patch: " + _cannot_decode(patch, _GO_MAP))
    return _merge(copy.deepcopy(obj), patch)


# --- strategic merge patch -------------------------------------------------------------------

_DELETE = "$deleteFromPrimitiveList"
_ORDER = "$setElementOrder"


def _no_merge_key(item: Any, key: str) -> PatchError:
    return _internal(f"map: {_go(item)} does not contain declared merge key: {key}")


def _unprefix(key: str, prefix: str) -> str:
    head, slash, rest = key.partition("/")
    if head != prefix or not slash:
        kind = "primitive list" if prefix == _DELETE else "setElementOrder list"
        raise _bad(f"invalid patch format of {kind}")
    return rest


def _are_maps(*lists: list[Any]) -> bool:
    """``sliceElementType``: all elements share one kind; lists of lists are refused."""
    kinds = {
        "map" if isinstance(v, dict) else "list" if isinstance(v, list) else _json_type(v)
        for items in lists
        for v in items
    }
    if len(kinds) > 1:
        raise _internal(f"list element types are not identical: {_go(list(lists))}")
    if kinds == {"list"}:
        raise PatchError(422, "Invalid", _INVALID, detail="lists of lists are not supported")
    return kinds == {"map"}


def _position(order: list[Any], item: Any, key: str | None) -> int:
    """``index``: where ``item`` (by merge key for maps) sits in ``order``, else -1."""
    probe = item.get(key) if key and isinstance(item, dict) else item
    for i, entry in enumerate(order):
        value = entry.get(key) if key and isinstance(entry, dict) else entry if not key else None
        if _same(value, probe):
            return i
    return -1


def _sort_by(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """``normalizeSliceOrder``: Go's insertion sort with the same (odd) comparator."""
    deleted: list[Any] = []
    if key:
        for entry in items + order:
            if not isinstance(entry, dict) or key not in entry:
                raise _no_merge_key(entry, key)
        deleted = [i for i in items if i.get("$patch") == "delete"]
        items = [i for i in items if i.get("$patch") != "delete"]
    out = list(items)
    for i in range(1, len(out)):
        j = i
        while j > 0:
            a, b = _position(order, out[j], key), _position(order, out[j - 1], key)
            if a >= 0 and b >= 0 and a >= b:
                break
            out[j], out[j - 1] = out[j - 1], out[j]
            j -= 1
    return out + deleted


def _ordered(
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
            and 0 <= _position(server_order, left[i], key) < _position(server_order, right[j], key)
        ):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def _partition(merged: list[Any], by: list[Any], key: str | None) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if key and (not isinstance(item, dict) or key not in item):
            raise _no_merge_key(item, key)
        (inside if _position(by, item, key) >= 0 else outside).append(item)
    return inside, outside


def _smp_list(
    original: list[Any], patch: list[Any], schema: FieldSchema, delete: bool
) -> list[Any]:
    if schema.list is None:
        return list(_clean(patch))
    if not original and not patch:
        return original
    key = schema.list.merge_key
    if not _are_maps(original, patch):
        if delete:
            return [v for v in original if _position(patch, v, None) < 0]
        merged = [
            v
            for i, v in enumerate(original + patch)
            if _position((original + patch)[:i], v, None) < 0
        ]
        patch_items, server_only = _partition(merged, patch, None)
        return _ordered(patch_items, server_only, patch, original, None)
    if key is None:
        raise _internal("cannot merge lists without merge key for type map")
    plain, replace = [], False
    for item in patch:
        directive = item.get("$patch")
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise _no_merge_key(item, key)
            original = [
                o for o in original if not (isinstance(o, dict) and _same(o.get(key), item[key]))
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(item)}")
    if replace:
        original, plain = [_clean(p) for p in plain], []
    merged = list(original)
    for item in plain:
        if key not in item:
            raise _no_merge_key(item, key)
        at = _position(merged, item, key)
        if at >= 0:
            merged[at] = _smp_map(merged[at], item, schema.item)
        else:
            merged.append(_clean(item))
    patch_items, server_only = _partition(merged, plain, key)
    return _ordered(patch_items, server_only, plain, original, key)


def _retain_keys(original: Obj, patch: Obj) -> None:
    if "$retainKeys" not in patch:
        return
    keep = patch.pop("$retainKeys")
    if not isinstance(keep, list):
        raise _bad("invalid patch format of retainKeys")
    for k, v in patch.items():
        if v is not None and not k.startswith((_DELETE, _ORDER)) and k not in keep:
            raise _bad("invalid patch format of retainKeys")
    for k in [k for k in original if k not in keep]:
        del original[k]


def _set_element_orders(original: Obj, patch: Obj, schema: FieldSchema) -> None:
    for directive in [k for k in patch if k.startswith(_ORDER)]:
        order = patch.pop(directive)
        name = _unprefix(directive, _ORDER)
        current, given = original.get(name), patch.pop(name, None)
        for value in (order, current or [], given or []):
            if not isinstance(value, list):
                raise _internal(f"expected a []interface {{}}, but received a {_json_type(value)}")
        child = schema.child(name)
        key = child.list.merge_key if child.list else None
        _check_order(given or [], order, key)
        if current is None and given is None:
            continue
        merged = _smp_list(current or [], given, child, False) if given is not None else current
        assert isinstance(merged, list)
        inside, outside = _partition(merged, order, key)
        original[name] = _ordered(inside, outside, order, current or [], key)


def _check_order(given: list[Any], order: list[Any], key: str | None) -> None:
    """``validatePatchWithSetOrderList``: patch items must follow the order list."""
    items = [i for i in given if not (key and isinstance(i, dict) and i.get("$patch") == "delete")]
    i = j = 0
    while order and i < len(items) and j < len(order):
        if isinstance(items[i], dict) and "$patch" in items[i]:
            i += 1
            continue
        if key and not (isinstance(items[i], dict) and key in items[i]):
            raise _no_merge_key(items[i], key)
        if _position([order[j]], items[i], key) == 0:
            i += 1
        j += 1
    if order and i < len(items) and j >= len(order):
        raise _internal(
            f"The order in patch list:\n{_go(given)}\n doesn't match {_ORDER} list:\n{_go(order)}\n"
        )


def _smp_map(original: Obj, patch: Obj, schema: FieldSchema) -> Obj:
    if "$patch" in patch:
        directive = patch["$patch"]
        if directive == "replace":
            return dict(_clean(patch))
        if directive == "delete":
            return {}
        raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(patch)}")
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
        raise _bad(_cannot_decode(patch, _GO_MAP))
    schema = root_schema(kind if kind is not None else str(obj.get("kind", "")))
    return _smp_map(copy.deepcopy(obj), copy.deepcopy(patch), schema)
