"""Who created a cluster, and what a failed deploy may delete.

A deploy writes the key of its task instance (``dag_id/task_id/run_id/map_index``: the
same on every try) into :data:`OWNER_ANNOTATION` of each object it creates, in the same
request that creates it. That record lives in the cluster, so a retry -- or the fresh
operator instance that resumes a deferred wait -- reads it back instead of trusting a
worker's memory. These functions decide over the objects a deploy is about to apply, as
they are now (``None`` where absent):

==========================================================  ============================
the cluster's objects                                        owner
==========================================================  ============================
none exists                                                  this task instance (it is
                                                             about to create them)
every one records the same owner                             that owner
otherwise (one without a record, or records that differ)     nobody
==========================================================  ============================

The cluster is *ours* when its owner is this task instance: the objects are new, or an
earlier try of the same task instance created them. A failed (or killed) deploy deletes
only a cluster that is ours (:func:`failure_action`); a cluster another run created, or
one that existed without a record, is left as it is.

A server-side apply that leaves out an annotation the same field manager applied before
removes it: :func:`stamp_owner` carries every existing record forward.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "FailureAction",
    "OWNER_ANNOTATION",
    "Ownership",
    "cluster_ownership",
    "failure_action",
    "owner_of",
    "stamp_owner",
]

OWNER_ANNOTATION = "airflow-provider-flink-k8s/created-by"
"""Annotation naming the task instance (``dag_id/task_id/run_id/map_index``) that
created an object."""


@dataclass(frozen=True)
class Ownership:
    """Who created a cluster, as this task instance sees it."""

    task: str
    """This task instance's key."""
    owner: str | None
    """The task instance that created the cluster; ``None``: nobody recorded (or the
    records disagree)."""
    existing: int
    """How many of the cluster's objects existed."""

    @property
    def ours(self) -> bool:
        """Whether this task instance created the cluster (this try or an earlier one)."""
        return self.owner == self.task

    def describe(self) -> str:
        """``created by this task instance`` / ``created by <key>`` / ``... no record``."""
        if self.ours:
            return "created by this task instance"
        if self.owner is not None:
            return f"created by {self.owner}"
        return "not created by this task instance (no record of who created it)"


class FailureAction(str, Enum):
    """What a failed or killed deploy does with the cluster."""

    DELETE = "delete"
    """Ours: delete it and wait until it is gone."""
    KEEP = "keep"
    """Ours, but the user asked to keep it (``keep_failed_cluster``)."""
    LEAVE = "leave"
    """Not ours: leave it as it is."""


def owner_of(obj: Mapping[str, Any] | None) -> str | None:
    """The owner an object records, ``None`` when absent or without a record."""
    if obj is None:
        return None
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(OWNER_ANNOTATION)
    return value if isinstance(value, str) and value else None


def cluster_ownership(live: Sequence[Mapping[str, Any] | None], task: str) -> Ownership:
    """Who created the cluster whose objects are ``live`` (see the module's table).

    :param live: the cluster's objects as they are now, ``None`` for an absent one.
    :param task: this task instance's key.
    """
    existing = [obj for obj in live if obj is not None]
    if not existing:
        return Ownership(task=task, owner=task, existing=0)
    owners = {owner_of(obj) for obj in existing}
    owner = owners.pop() if len(owners) == 1 else None
    return Ownership(task=task, owner=owner, existing=len(existing))


def stamp_owner(
    manifests: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any] | None],
    ownership: Ownership,
) -> list[dict[str, Any]]:
    """Copies of ``manifests`` with the owner record to apply (``live`` in the same order).

    An existing object keeps the record it has (none stays none); a new one gets the
    cluster's owner, when there is one.
    """
    if len(manifests) != len(live):
        raise ValueError(f"{len(manifests)} manifests but {len(live)} live objects")
    stamped = []
    for manifest, current in zip(manifests, live, strict=True):
        obj = copy.deepcopy(dict(manifest))
        owner = owner_of(current) if current is not None else ownership.owner
        if owner is not None:
            metadata = obj.setdefault("metadata", {})
            metadata["annotations"] = {
                **(metadata.get("annotations") or {}),
                OWNER_ANNOTATION: owner,
            }
        stamped.append(obj)
    return stamped


def failure_action(ownership: Ownership, *, keep_failed_cluster: bool) -> FailureAction:
    """What a failed or killed deploy does with its cluster.

    ======================  =====================  ==========
    cluster                 ``keep_failed_cluster``  action
    ======================  =====================  ==========
    ours                    ``False``              DELETE
    ours                    ``True``               KEEP
    not ours                either                 LEAVE
    ======================  =====================  ==========
    """
    if not ownership.ours:
        return FailureAction.LEAVE
    return FailureAction.KEEP if keep_failed_cluster else FailureAction.DELETE
