"""The request pipeline every write goes through, from HTTP and from controllers alike.

:class:`Storage` is the generic REST storage of the sandbox: ``get``/``list`` read the
:class:`~.store.Store`; ``create``, ``replace`` and ``modify`` (read-modify-write, for
patches and server-side apply) check identity and preconditions, keep system fields and
status, validate (422 Invalid; unknown fields per ``fieldValidation``), default, bump
``generation`` on spec changes, record managed fields, honour ``dryRun`` and finally
commit -- or remove the object when the write takes its last finalizer away.
Deletion lives in :mod:`.deletion`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.copying import json_copy
from flink_k8s_sandbox.defaults import apply_defaults, prepare_for_create
from flink_k8s_sandbox.errors import ErrorType, FieldError
from flink_k8s_sandbox.fields import FieldTracker
from flink_k8s_sandbox.listing import (
    Selection,
    check_list_version,
    continue_expired,
    decode_continue,
    paginate,
)
from flink_k8s_sandbox.metadata import (
    SYSTEM_FIELDS,
    carry_system_fields,
    format_time,
    generate_name,
    new_uid,
    spec_changed,
    validate_name,
)
from flink_k8s_sandbox.objects import (
    check_identity,
    check_new_finalizers,
    check_precondition,
    finalized,
    place,
    scoped,
    typed_body,
    unchanged,
    view,
)
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.store import Store
from flink_k8s_sandbox.validation import check_object

__all__ = ["Admission", "Storage", "WriteOptions", "Written", "utc_now"]

Obj = dict[str, Any]
Mutation = Callable[[Obj | None], Obj]
Admission = Callable[[ResourceType, Obj | None, Obj], None]
"""A check run on every write just before it commits: ``(type, stored object or None
on create, new object)``. It may complete the new object in place (allocate a Service's
clusterIP) or refuse the write by raising :class:`~.errors.ApiError`."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class WriteOptions:
    """What a write request asks for beyond its body.

    :param origin: ``body`` (POST/PUT), ``patch`` or ``apply`` -- how a strict
        field-validation failure is reported differs between them.
    """

    dry_run: bool = False
    field_manager: str = ""
    field_validation: str = "Warn"
    origin: str = "body"
    force: bool = False


@dataclass(frozen=True)
class Written:
    """The result of a write: the object as the client sees it, and any warnings."""

    obj: Obj
    created: bool = False
    warnings: tuple[str, ...] = field(default=())


class Storage:
    """Reads and writes objects of any served type with the API server's rules.

    :param store: where objects live.
    :param clock: the time source for timestamps (UTC).
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        fields: FieldTracker | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng or random.Random()
        self.fields = fields or FieldTracker(lambda: format_time(clock()))
        self.admission: list[Admission] = []

    # -- reads ---------------------------------------------------------------------

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        """A copy of one object, as ``rt``'s version shows it.

        :raises ApiError: 404 NotFound.
        """
        obj = self.store.get(rt.storage_key, namespace, name)
        if obj is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return view(rt, json_copy(obj))

    def list_objects(
        self,
        rt: ResourceType,
        selected: Selection,
        *,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> Obj:
        """A ``<Kind>List`` of the selected objects, paged by ``limit``/``continue``.

        :raises ApiError: 410 Expired (old continue token or Exact RV), 504 (future RV).
        """
        current = self.store.resource_version
        list_rv = check_list_version(resource_version, resource_version_match, current)
        after = decode_continue(continue_token) if continue_token else None
        if after is not None:
            if after.rv < self.store.horizon(rt.storage_key):
                raise continue_expired(current, after)
            list_rv = after.rv
        items = [
            {**obj, "apiVersion": rt.api_version, "kind": rt.kind}
            for obj in self.store.objects(rt.storage_key, selected.namespace)
            if selected.matches(obj)
        ]
        page = paginate(
            items, limit=limit, after=after, rv=list_rv, report_remaining=not selected.filtered
        )
        metadata: Obj = {"resourceVersion": str(list_rv)}
        if page.continue_token:
            metadata["continue"] = page.continue_token
        if page.remaining is not None:
            metadata["remainingItemCount"] = page.remaining
        return {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": metadata,
            "items": page.items,
        }

    def find(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        obj = self.store.get(rt.storage_key, namespace, name)
        return None if obj is None else view(rt, json_copy(obj))

    # -- writes --------------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: str, body: Obj, opts: WriteOptions) -> Written:
        """POST: store a new object (201), or 409 AlreadyExists / 422 Invalid / 404 / 403."""
        obj = typed_body(rt, body)
        place(rt, namespace, obj)
        name = self._assign_name(rt, obj)
        self._check_namespace(rt, namespace, name)
        self._stamp_new(rt, obj)
        prepare_for_create(rt, obj)
        warnings = self._validate(rt, obj, opts, validate_name(rt, name))
        apply_defaults(rt, obj)
        if opts.origin != "apply":
            obj = self.fields.updated(rt, None, obj, opts.field_manager)
        if self.store.get(rt.storage_key, namespace if rt.namespaced else "", name) is not None:
            raise errors.already_exists(rt.group, rt.plural, name)
        self._admit(rt, None, obj)
        if opts.dry_run:
            obj["metadata"].pop("resourceVersion", None)
            return Written(view(rt, obj), True, warnings)
        return Written(view(rt, self.store.create(rt.storage_key, obj)), True, warnings)

    def replace(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Obj,
        opts: WriteOptions,
        subresource: str | None = None,
    ) -> Written:
        """PUT: replace a stored object (or its status); 409 Conflict on a stale RV."""
        old = self._stored(rt, namespace, name)
        new = typed_body(rt, body)
        place(rt, namespace, new)
        return self._update(rt, old, new, opts, subresource)

    def modify(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        mutate: Mutation,
        opts: WriteOptions,
        subresource: str | None = None,
    ) -> Written:
        """Read-modify-write: ``mutate`` gets a copy of the stored object (``None`` if absent).

        Only ``origin="apply"`` on the main resource may create; other writes to a missing
        object are 404.
        """
        stored = self.store.get(rt.storage_key, namespace if rt.namespaced else "", name)
        if stored is None and (opts.origin != "apply" or subresource):
            raise errors.not_found(rt.group, rt.plural, name)
        current = None if stored is None else view(rt, json_copy(stored))
        new = mutate(current)
        if stored is None:
            if new.get("metadata", {}).get("uid"):
                raise errors.conflict(rt.group, rt.plural, name, _uid_mismatch(new))
            new.setdefault("metadata", {}).setdefault("name", name)
            return self.create(rt, namespace, new, opts)
        place(rt, namespace, new)
        return self._update(rt, stored, new, opts, subresource)

    def _update(
        self, rt: ResourceType, old: Obj, new: Obj, opts: WriteOptions, subresource: str | None
    ) -> Written:
        check_identity(rt, old, new)
        check_precondition(rt, old, new)
        managed = new["metadata"].get("managedFields")
        new = scoped(rt, old, new, subresource)
        if opts.origin == "apply":
            new["metadata"]["managedFields"] = managed
        carry_system_fields(old, new)
        check_new_finalizers(rt, old, new)
        warnings = self._validate(rt, new, opts, [])
        apply_defaults(rt, new)
        if rt.generation and spec_changed(rt, old, new):
            new["metadata"]["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if opts.origin != "apply":
            new = self.fields.updated(rt, old, new, opts.field_manager, subresource)
        self._admit(rt, old, new)
        if unchanged(old, new):
            return Written(view(rt, json_copy(old)), False, warnings)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if opts.dry_run:
            return Written(view(rt, new), False, warnings)
        commit = self.store.remove if finalized(rt, new) else self.store.update
        return Written(view(rt, commit(rt.storage_key, new)), False, warnings)

    # -- helpers -------------------------------------------------------------------

    def _admit(self, rt: ResourceType, old: Obj | None, new: Obj) -> None:
        for admission in self.admission:
            admission(rt, old, new)

    def _stored(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        obj = self.store.get(rt.storage_key, namespace if rt.namespaced else "", name)
        if obj is None:
            raise errors.not_found(rt.group, rt.plural, name)
        return obj

    def _assign_name(self, rt: ResourceType, obj: Obj) -> str:
        metadata = obj["metadata"]
        name = metadata.get("name")
        if not name and metadata.get("generateName"):
            name = metadata["name"] = generate_name(metadata["generateName"], self.rng)
        if not name:
            error = FieldError(ErrorType.REQUIRED, "metadata.name", detail=_NAME_REQUIRED)
            raise errors.invalid(rt.group, rt.kind, "", [error])
        return str(name)

    def _check_namespace(self, rt: ResourceType, namespace: str, name: str) -> None:
        if not rt.namespaced:
            return
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.namespace_terminating(rt.group, rt.plural, name, namespace)

    def _stamp_new(self, rt: ResourceType, obj: Obj) -> None:
        metadata = obj["metadata"]
        for key in (*SYSTEM_FIELDS, "resourceVersion", "selfLink"):
            metadata.pop(key, None)
        metadata["uid"] = new_uid()
        metadata["creationTimestamp"] = format_time(self.clock())
        if rt.generation:
            metadata["generation"] = 1

    def _validate(
        self, rt: ResourceType, obj: Obj, opts: WriteOptions, found: list[FieldError]
    ) -> tuple[str, ...]:
        return check_object(rt, obj, opts.field_validation, opts.origin, found)


_NAME_REQUIRED = "name or generateName is required"


def _uid_mismatch(obj: Obj) -> str:
    uid = obj["metadata"]["uid"]
    return (
        f"uid mismatch: the provided object specified uid {uid}, and no existing object was found"
    )
