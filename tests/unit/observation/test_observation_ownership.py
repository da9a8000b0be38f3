"""Who created a cluster, and what a failed deploy does with it: pure decisions over the
cluster's objects and the task instance's key."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import (
    OWNER_ANNOTATION,
    FailureAction,
    Ownership,
    cluster_ownership,
    failure_action,
    owner_of,
    stamp_owner,
)
from airflow_provider_flink_k8s.spec import load_cluster

ME = "etl/deploy/manual__2026-12-07T06:00:00+00:00/-1"
OTHER = "etl/deploy/manual__2026-12-06T06:00:00+00:00/-1"


def _obj(owner: str | None = None, **annotations: str) -> dict[str, Any]:
    if owner is not None:
        annotations[OWNER_ANNOTATION] = owner
    metadata: dict[str, Any] = {"name": "x"}
    if annotations:
        metadata["annotations"] = annotations
    return {"kind": "ConfigMap", "metadata": metadata}


@pytest.mark.parametrize(
    ("live", "owner", "existing"),
    [
        ([None, None, None], ME, 0),  # nothing exists: this task instance creates it
        ([], ME, 0),
        ([_obj(ME), None, None], ME, 1),  # an earlier try created part of it
        ([_obj(ME), _obj(ME), _obj(ME)], ME, 3),
        ([_obj(OTHER), _obj(OTHER), None], OTHER, 2),  # another run created it
        ([_obj(None), None], None, 1),  # no record: pre-existing, someone else's
        ([_obj(ME), _obj(None)], None, 2),  # partly someone else's
        ([_obj(ME), _obj(OTHER)], None, 2),  # records disagree
    ],
)
def test_cluster_ownership(live: list[Any], owner: str | None, existing: int) -> None:
    ownership = cluster_ownership(live, ME)
    assert ownership == Ownership(task=ME, owner=owner, existing=existing)
    assert ownership.ours is (owner == ME)


@pytest.mark.parametrize(
    ("owner", "keep", "action"),
    [
        (ME, False, FailureAction.DELETE),
        (ME, True, FailureAction.KEEP),
        (OTHER, False, FailureAction.LEAVE),
        (OTHER, True, FailureAction.LEAVE),
        (None, False, FailureAction.LEAVE),
        (None, True, FailureAction.LEAVE),
    ],
)
def test_failure_action(owner: str | None, keep: bool, action: FailureAction) -> None:
    ownership = Ownership(task=ME, owner=owner, existing=3)
    assert failure_action(ownership, keep_failed_cluster=keep) is action


def test_describe_names_the_owner() -> None:
    assert Ownership(ME, ME, 1).describe() == "created by this task instance"
    assert Ownership(ME, OTHER, 1).describe() == f"created by {OTHER}"
    assert "no record" in Ownership(ME, None, 1).describe()


def test_owner_of_reads_the_annotation() -> None:
    assert owner_of(None) is None
    assert owner_of(_obj()) is None
    assert owner_of(_obj(other="x")) is None
    assert owner_of(_obj(ME, other="x")) == ME
    assert owner_of({"metadata": {"annotations": {OWNER_ANNOTATION: ""}}}) is None


def test_stamp_owner_marks_new_objects_and_carries_existing_records_forward() -> None:
    manifests = render_manifests(load_cluster({"name": "orders", "annotations": {"team": "a"}}))
    assert len(manifests) == 5
    # The ConfigMap existed without a record, the JobManager Service with another owner's.
    live: list[Any] = [_obj(None), _obj(OTHER), None, None, None]
    stamped = stamp_owner(manifests, live, Ownership(task=ME, owner=ME, existing=2))
    owners = [owner_of(m) for m in stamped]
    assert owners == [None, OTHER, ME, ME, ME]
    assert all(m["metadata"]["annotations"]["team"] == "a" for m in stamped)
    assert owner_of(manifests[2]) is None  # the input is not changed
    # Pod templates are untouched: a record must never roll the pods.
    template = stamped[3]["spec"]["template"]["metadata"].get("annotations") or {}
    assert OWNER_ANNOTATION not in template


def test_stamp_owner_adds_nothing_to_new_objects_of_a_cluster_nobody_recorded() -> None:
    manifests = render_manifests(load_cluster({"name": "orders"}))
    live: list[Any] = [_obj(None), None, None, None, None]
    stamped = stamp_owner(manifests, live, Ownership(task=ME, owner=None, existing=1))
    assert [owner_of(m) for m in stamped] == [None] * 5


def test_stamp_owner_needs_one_live_entry_per_manifest() -> None:
    with pytest.raises(ValueError, match="2 manifests but 1 live objects"):
        stamp_owner([_obj(), _obj()], [None], Ownership(ME, ME, 0))
