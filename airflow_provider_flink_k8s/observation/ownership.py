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

**Claiming.** Who owns a cluster is decided in the cluster, never by a read before a
write: a deploy first *creates* (``POST``, create-only) the cluster's anchor -- its
ConfigMap (standalone) or FlinkDeployment (operator target), :func:`anchor_index` --
stamped with its key. Exactly one of two racing deploys gets the object created; the
other gets ``409 AlreadyExists``, reads the anchor back, and :func:`claim_decision`
decides from the record on it.

**Tearing down.** A teardown first writes :data:`TEARDOWN_ANNOTATION` (its own key) on
the anchor -- with the anchor's ``resourceVersion`` as a precondition, so it marks the
cluster it looked at and no other -- and only then deletes. A deploy that finds the
anchor marked, or being deleted, knows the cluster is going away (:func:`deleted_by`).
Later passes of the teardown delete only objects recording an owner its first pass
saw (:func:`deletion_targets`): a cluster claimed anew meanwhile belongs to its new owner.
The same write records the final savepoint(s) the teardown took
(:data:`FINAL_SAVEPOINT_ANNOTATION`, :func:`teardown_record`): a retry that finds its own
record on the anchor (:func:`earlier_teardown`) goes on deleting and returns those
savepoints -- it cannot ask Flink again, the JobManager may already be gone.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "ANCHOR_KINDS",
    "Claim",
    "ClaimDecision",
    "EarlierTeardown",
    "FINAL_SAVEPOINT_ANNOTATION",
    "FailureAction",
    "OWNER_ANNOTATION",
    "Ownership",
    "TEARDOWN_ANNOTATION",
    "anchor_index",
    "claim_decision",
    "cleanup_action",
    "cluster_ownership",
    "deleted_by",
    "deletion_targets",
    "earlier_teardown",
    "failure_action",
    "is_deleting",
    "owner_of",
    "stamp_owner",
    "teardown_record",
]

OWNER_ANNOTATION = "airflow-provider-flink-k8s/created-by"
"""Annotation naming the task instance (``dag_id/task_id/run_id/map_index``) that
created an object."""

TEARDOWN_ANNOTATION = "airflow-provider-flink-k8s/deleted-by"
"""Annotation a teardown writes on the cluster's anchor before it deletes anything: the
task instance (``dag_id/task_id/run_id/map_index``) deleting the cluster."""

FINAL_SAVEPOINT_ANNOTATION = "airflow-provider-flink-k8s/final-savepoint"
"""Annotation a teardown writes on the anchor together with :data:`TEARDOWN_ANNOTATION`:
the final savepoint it took before deleting, as JSON (a path, or ``{job_id: path}``);
absent when it took none."""

FinalSavepoint = str | dict[str, str] | None
"""What a teardown returns: the final savepoint's path, ``{job_id: path}``, or none."""

ANCHOR_KINDS = ("FlinkDeployment", "ConfigMap")
"""The kinds that anchor a cluster, by preference: what a deploy creates first to claim
it, and what a teardown marks first."""


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

    ======================  =======================  ==========
    cluster                 ``keep_failed_cluster``  action
    ======================  =======================  ==========
    ours                    ``False``                DELETE
    ours                    ``True``                 KEEP
    not ours                either                   LEAVE
    ======================  =======================  ==========
    """
    if not ownership.ours:
        return FailureAction.LEAVE
    return FailureAction.KEEP if keep_failed_cluster else FailureAction.DELETE


def anchor_index(manifests: Sequence[Mapping[str, Any]]) -> int:
    """Which of a cluster's rendered ``manifests`` is its anchor: the FlinkDeployment
    (operator target), else the ConfigMap (standalone); the first manifest otherwise.

    :raises ValueError: when there are no manifests.
    """
    if not manifests:
        raise ValueError("a cluster has at least one object")
    for kind in ANCHOR_KINDS:
        for index, manifest in enumerate(manifests):
            if manifest.get("kind") == kind:
                return index
    return 0


def deleted_by(obj: Mapping[str, Any] | None) -> str | None:
    """The teardown an object records (:data:`TEARDOWN_ANNOTATION`), ``None`` when none."""
    if obj is None:
        return None
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(TEARDOWN_ANNOTATION)
    return value if isinstance(value, str) and value else None


def teardown_record(deleter: str, result: FinalSavepoint) -> dict[str, str]:
    """The annotations a teardown writes on the anchor before deleting anything: itself
    and, when it took one, its final savepoint (:func:`earlier_teardown` reads them)."""
    record = {TEARDOWN_ANNOTATION: deleter}
    if result is not None:
        record[FINAL_SAVEPOINT_ANNOTATION] = json.dumps(result, sort_keys=True)
    return record


@dataclass(frozen=True)
class EarlierTeardown:
    """A teardown pass of this task instance that had started deleting the cluster."""

    result: FinalSavepoint
    """The final savepoint(s) it took (``None``: none)."""


def earlier_teardown(anchor: Mapping[str, Any] | None, task: str) -> EarlierTeardown | None:
    """The earlier teardown of this task instance the cluster's ``anchor`` records, with
    its final savepoint; ``None`` when the anchor is absent, records no teardown, or
    another task instance's.

    ======================================  ===============================================
    the anchor                              a retry of the teardown ``task``
    ======================================  ===============================================
    records ``task`` as its teardown        deletes on, returns the recorded savepoint(s)
                                            (no new one: its jobs were stopped already)
    absent, unmarked, or another's mark     starts from the beginning
    ======================================  ===============================================

    :raises ValueError: when the recorded savepoint is not what :func:`teardown_record`
        writes.
    """
    if deleted_by(anchor) != task or anchor is None:
        return None
    annotations = (anchor.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(FINAL_SAVEPOINT_ANNOTATION)
    if text is None:
        return EarlierTeardown(None)
    found = json.loads(text)
    if isinstance(found, str) or (
        isinstance(found, dict) and all(isinstance(v, str) for v in found.values())
    ):
        return EarlierTeardown(found)
    raise ValueError(f"{FINAL_SAVEPOINT_ANNOTATION} is no savepoint path nor map: {text!r}")


def is_deleting(obj: Mapping[str, Any] | None) -> bool:
    """Whether an object is going away: a ``deletionTimestamp``, or a teardown's record."""
    if obj is None:
        return False
    return bool((obj.get("metadata") or {}).get("deletionTimestamp")) or (
        deleted_by(obj) is not None
    )


class Claim(str, Enum):
    """What a deploy does after trying to create the cluster's anchor."""

    CREATED = "created"
    """It created the anchor: the cluster is this task instance's, new."""
    RESUME = "resume"
    """The anchor records this task instance: an earlier try created it; go on."""
    DELETING = "deleting"
    """The cluster is being deleted (or went away between the create and the read):
    wait until the anchor is gone, then claim again."""
    UPDATE = "update"
    """Another run's cluster (or one without a record), ``on_exists="update"``: apply
    the spec over it, keeping its record."""
    ADOPT = "adopt"
    """Likewise with ``on_exists="adopt"``: apply nothing, just wait."""
    FAIL = "fail"
    """Likewise with ``on_exists="fail"``: refuse it, naming its owner."""


@dataclass(frozen=True)
class ClaimDecision:
    """A claim's outcome: what to do, and who holds (or deletes) the cluster."""

    claim: Claim
    holder: str | None
    """The task instance the anchor records (this one for CREATED/RESUME)."""
    deleter: str | None = None
    """For DELETING: the teardown the anchor records, when it records one."""

    @property
    def ours(self) -> bool:
        """Whether the cluster is this task instance's (created now or by an earlier try)."""
        return self.claim in (Claim.CREATED, Claim.RESUME)

    def describe(self, where: str) -> str:
        """A sentence about the cluster ``where`` (``namespace/name``) for logs and errors."""
        if self.claim is Claim.CREATED:
            return f"Flink cluster {where} created by this task instance"
        if self.claim is Claim.RESUME:
            return f"Flink cluster {where} was created by an earlier try of this task instance"
        if self.claim is Claim.DELETING:
            by = f" (by {self.deleter})" if self.deleter else ""
            return f"Flink cluster {where} is being deleted{by}"
        holder = f"created by {self.holder}" if self.holder else "with no record of its creator"
        return f"Flink cluster {where} already exists, {holder}"


def claim_decision(
    *, created: bool, anchor: Mapping[str, Any] | None, task: str, on_exists: str
) -> ClaimDecision:
    """What a deploy does after ``POST``-ing the cluster's anchor.

    =====================================================  =================
    the create, then the anchor as read back               claim
    =====================================================  =================
    the create succeeded (201)                             CREATED
    409, then the anchor is gone (deleted in between)      DELETING
    409, the anchor is being deleted or a teardown's       DELETING (naming
    record is on it                                        the teardown)
    409, the anchor records this task instance             RESUME
    409, another owner or none: ``on_exists``              UPDATE/ADOPT/FAIL
    =====================================================  =================

    :param created: whether the create succeeded.
    :param anchor: the anchor as read back after a 409 (``None``: gone).
    :param task: this task instance's key.
    :param on_exists: ``update``, ``adopt`` or ``fail``.
    :raises ValueError: for another ``on_exists``.
    """
    if on_exists not in ("update", "adopt", "fail"):
        raise ValueError(f"on_exists must be 'update', 'adopt' or 'fail', not {on_exists!r}")
    if created:
        return ClaimDecision(Claim.CREATED, task)
    if anchor is None or is_deleting(anchor):
        return ClaimDecision(Claim.DELETING, owner_of(anchor), deleted_by(anchor))
    holder = owner_of(anchor)
    if holder == task:
        return ClaimDecision(Claim.RESUME, task)
    return ClaimDecision(Claim(on_exists), holder)


def cleanup_action(
    live: Sequence[Mapping[str, Any] | None], task: str, *, keep_failed_cluster: bool
) -> FailureAction | None:
    """What a failed or killed deploy does, from the cluster's objects as they are at the
    moment of deleting (``None`` where absent); it deletes only the objects recording
    ``task``.

    ==========================================  =======================  ==========
    the cluster's objects                       ``keep_failed_cluster``  action
    ==========================================  =======================  ==========
    none exists                                 either                   ``None``
    none records this task instance             either                   LEAVE
    some record this task instance              ``False``                DELETE
    some record this task instance              ``True``                 KEEP
    ==========================================  =======================  ==========
    """
    existing = [obj for obj in live if obj is not None]
    if not existing:
        return None
    if not any(owner_of(obj) == task for obj in existing):
        return FailureAction.LEAVE
    return FailureAction.KEEP if keep_failed_cluster else FailureAction.DELETE


def deletion_targets(
    objects: Sequence[Mapping[str, Any]],
    *,
    owner: str | None = None,
    owners: frozenset[str | None] | None = None,
) -> list[int]:
    """Which of a cluster's listed ``objects`` a deletion pass deletes (or waits for).

    :param owner: only objects recording this owner (a failed deploy's cleanup: only
        what its task instance created); ``None``: any.
    :param owners: only objects recording one of these owners (a teardown's later
        passes: the owners its first pass saw); ``None``: any.
    :return: the indices of the objects concerned, marked for deletion or not.
    """
    chosen = []
    for index, obj in enumerate(objects):
        recorded = owner_of(obj)
        if owner is not None and recorded != owner:
            continue
        if owners is not None and recorded not in owners:
            continue
        chosen.append(index)
    return chosen
