"""The garbage collector: ownerReferences, as kube-controller-manager honours them.

* An owner removed (Background, or after Foreground/Orphan finished): each dependent
  with no other live owner is deleted; one with other live owners loses the dangling
  reference.
* An owner marked with ``foregroundDeletion``: every dependent is deleted (those with
  ``blockOwnerDeletion`` in Foreground themselves); once no blocking dependent is left
  the finalizer is removed and the owner goes.
* An owner marked with ``orphan``: the references to it are removed from its
  dependents, then the finalizer.
* A new object whose owners all do not exist is deleted (it is dangling).

It reacts to store events after the triggering request is answered and writes through
:class:`~.storage.Storage`, like any client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from flink_k8s_sandbox.deletion import DeleteOptions, delete_object
from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.resources import ResourceRegistry, ResourceType, TypeKey
from flink_k8s_sandbox.storage import Storage, WriteOptions
from flink_k8s_sandbox.store import StoreEvent

__all__ = ["GC_MANAGER", "GarbageCollector"]

Obj = dict[str, Any]
GC_MANAGER = "generic-garbage-collector"
_LOG = logging.getLogger(__name__)
_OPTS = WriteOptions(field_manager=GC_MANAGER)


def _refs(obj: Obj) -> list[Obj]:
    return [r for r in obj.get("metadata", {}).get("ownerReferences") or [] if isinstance(r, dict)]


def _deleting(obj: Obj) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


class GarbageCollector:
    """Deletes and orphans dependents by their ``ownerReferences``."""

    def __init__(self, storage: Storage, registry: ResourceRegistry) -> None:
        self.storage = storage
        self.registry = registry

    def handle(self, event: StoreEvent) -> None:
        obj = event.obj
        if event.type == "DELETED":
            self._owner_removed(obj)
            self._recheck_owners(obj)
            return
        finalizers = obj["metadata"].get("finalizers") or []
        if _deleting(obj) and "foregroundDeletion" in finalizers:
            self._foreground(event.key, obj)
        if _deleting(obj) and "orphan" in finalizers:
            self._orphan(event.key, obj)
        if event.type == "ADDED" and _refs(obj):
            self._delete_if_dangling(event.key, obj)

    # -- lookups -------------------------------------------------------------------

    def _dependents(self, uid: str) -> Iterator[tuple[TypeKey, Obj]]:
        for key, obj in self.storage.store.iter_all():
            if any(ref.get("uid") == uid for ref in _refs(obj)):
                yield key, obj

    def _type(self, key: TypeKey) -> ResourceType | None:
        versions = self.registry.versions_of(key)
        return versions[0] if versions else None

    def _owner(self, dependent: Obj, ref: Obj) -> tuple[ResourceType, Obj] | None:
        rt = self.registry.for_kind(str(ref.get("apiVersion", "")), str(ref.get("kind", "")))
        if rt is None:
            return None
        namespace = dependent["metadata"].get("namespace", "") if rt.namespaced else ""
        owner = self.storage.store.get(rt.storage_key, namespace, str(ref.get("name", "")))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return rt, owner

    # -- actions -------------------------------------------------------------------

    def _delete(self, key: TypeKey, obj: Obj, policy: str) -> None:
        rt = self._type(key)
        if rt is None or _deleting(obj):
            return
        metadata = obj["metadata"]
        opts = DeleteOptions(propagation_policy=policy, uid=metadata.get("uid"))
        try:
            delete_object(self.storage, rt, metadata.get("namespace", ""), metadata["name"], opts)
        except ApiError as error:
            _LOG.debug("garbage collector could not delete %s: %s", metadata["name"], error)

    def _edit(self, key: TypeKey, obj: Obj, edit: Callable[[Obj], None]) -> None:
        rt = self._type(key)
        if rt is None:
            return
        metadata = obj["metadata"]

        def mutate(current: Obj | None) -> Obj:
            assert current is not None
            edit(current["metadata"])
            return current

        try:
            self.storage.modify(rt, metadata.get("namespace", ""), metadata["name"], mutate, _OPTS)
        except ApiError as error:
            _LOG.debug("garbage collector could not update %s: %s", metadata["name"], error)

    def _owner_removed(self, owner: Obj) -> None:
        uid = owner["metadata"].get("uid")
        for key, dependent in list(self._dependents(uid)):
            others = [r for r in _refs(dependent) if r.get("uid") != uid]
            if any(self._owner(dependent, ref) is not None for ref in others):
                self._edit(key, dependent, _drop_refs(uid))
            else:
                self._delete(key, dependent, "Background")

    def _recheck_owners(self, dependent: Obj) -> None:
        for ref in _refs(dependent):
            found = self._owner(dependent, ref)
            if found is not None and _deleting(found[1]):
                self._foreground(found[0].storage_key, found[1])

    def _foreground(self, key: TypeKey, owner: Obj) -> None:
        if "foregroundDeletion" not in (owner["metadata"].get("finalizers") or []):
            return
        uid = owner["metadata"].get("uid")
        blocking = 0
        for dep_key, dependent in list(self._dependents(uid)):
            ref = next(r for r in _refs(dependent) if r.get("uid") == uid)
            blocks = bool(ref.get("blockOwnerDeletion"))
            blocking += blocks
            self._delete(dep_key, dependent, "Foreground" if blocks else "Background")
        if not blocking:
            self._edit(key, owner, _drop_finalizer("foregroundDeletion"))

    def _orphan(self, key: TypeKey, owner: Obj) -> None:
        uid = owner["metadata"].get("uid")
        for dep_key, dependent in list(self._dependents(uid)):
            self._edit(dep_key, dependent, _drop_refs(uid))
        self._edit(key, owner, _drop_finalizer("orphan"))

    def _delete_if_dangling(self, key: TypeKey, obj: Obj) -> None:
        """Delete a new object whose owners are all known kinds and all absent."""
        resolvable = [
            r
            for r in _refs(obj)
            if self.registry.for_kind(r.get("apiVersion", ""), r.get("kind", ""))
        ]
        if len(resolvable) == len(_refs(obj)) and all(
            self._owner(obj, ref) is None for ref in resolvable
        ):
            self._delete(key, obj, "Background")


def _drop_refs(uid: str) -> Callable[[Obj], None]:
    def edit(metadata: Obj) -> None:
        refs = [r for r in metadata.get("ownerReferences") or [] if r.get("uid") != uid]
        if refs:
            metadata["ownerReferences"] = refs
        else:
            metadata.pop("ownerReferences", None)

    return edit


def _drop_finalizer(name: str) -> Callable[[Obj], None]:
    def edit(metadata: Obj) -> None:
        metadata["finalizers"] = [f for f in metadata.get("finalizers") or [] if f != name]

    return edit
