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

Paths and their FieldsV1 spelling are in :mod:`.fieldsv1`, members and what a write
changed in :mod:`.members`, the ``managedFields`` entries in :mod:`.managedfields`; apply
is :mod:`.applying` (merging in :mod:`.merging`, conflicts in :mod:`.conflicts`) and any
other write :mod:`.updates`.

Simplified: no unions or version conversion; ``null`` in an applied configuration is
dropped (neither set nor owned); a pruned list item that another manager owns something
under is kept whole; a new manager whose apply changes nothing still gets a ``time``.
"""

from __future__ import annotations

from flink_k8s_sandbox.fieldmanager.applying import apply
from flink_k8s_sandbox.fieldmanager.conflicts import ApplyConflict, Conflict
from flink_k8s_sandbox.fieldmanager.managedfields import owned_fields
from flink_k8s_sandbox.fieldmanager.updates import record_update

__all__ = ["ApplyConflict", "Conflict", "apply", "owned_fields", "record_update"]
