"""Who created a cluster, and what a failed deploy does with it: pure decisions over the
cluster's objects and the task instance's key."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation.ownership import (
    FINAL_SAVEPOINT_ANNOTATION,
    OWNER_ANNOTATION,
    TEARDOWN_ANNOTATION,
    Claim,
    ClaimDecision,
    EarlierTeardown,
    FailureAction,
    Ownership,
    anchor_index,
    claim_decision,
    cleanup_action,
    cluster_ownership,
    deleted_by,
    deletion_targets,
    earlier_teardown,
    failure_action,
    is_deleting,
    owner_of,
    stamp_owner,
    teardown_record,
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


TEARDOWN = "etl/teardown/manual__2026-12-06T06:00:00+00:00/-1"


def _deleting(owner: str | None = ME) -> dict[str, Any]:
    obj = _obj(owner)
    obj["metadata"]["deletionTimestamp"] = "2026-12-07T06:00:00Z"
    return obj


def _minimal(name: str, target: str = "standalone") -> dict[str, Any]:
    return {
        "name": name,
        "target": target,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": {"memory": "1024m", "cpu": 0.25, "slots": 1, "replicas": 1},
    }


def test_the_anchor_is_the_configmap_or_the_flinkdeployment() -> None:
    standalone = render_manifests(load_cluster(_minimal("a")))
    assert standalone[anchor_index(standalone)]["kind"] == "ConfigMap"
    operator = render_manifests(load_cluster(_minimal("b", target="operator")))
    assert operator[anchor_index(operator)]["kind"] == "FlinkDeployment"
    assert anchor_index([{"kind": "Service"}, {"kind": "Deployment"}]) == 0
    with pytest.raises(ValueError, match="at least one object"):
        anchor_index([])


def test_deleting_is_a_deletion_timestamp_or_a_teardowns_record() -> None:
    assert not is_deleting(None)
    assert not is_deleting(_obj(ME))
    assert is_deleting(_deleting())
    marked = _obj(ME, **{TEARDOWN_ANNOTATION: TEARDOWN})
    assert is_deleting(marked)
    assert deleted_by(marked) == TEARDOWN
    assert deleted_by(_deleting()) is None
    assert deleted_by(None) is None
    assert deleted_by(_obj(ME, **{TEARDOWN_ANNOTATION: ""})) is None


@pytest.mark.parametrize(
    "result",
    [None, "file:/savepoints/savepoint-1a2b3c-0d", {"a1": "file:/sp/a", "b2": "file:/sp/b"}],
)
def test_a_teardowns_record_gives_its_retry_the_final_savepoint_back(result: Any) -> None:
    record = teardown_record(TEARDOWN, result)
    assert record[TEARDOWN_ANNOTATION] == TEARDOWN
    assert (FINAL_SAVEPOINT_ANNOTATION in record) is (result is not None)
    anchor = _obj(OTHER, **record)
    assert deleted_by(anchor) == TEARDOWN
    assert earlier_teardown(anchor, TEARDOWN) == EarlierTeardown(result)


@pytest.mark.parametrize(
    "anchor",
    [
        None,  # gone: nothing recorded to resume from
        _obj(ME),  # not being torn down
        _obj(ME, **teardown_record(OTHER, "file:/sp/x")),  # another task instance's teardown
        _deleting(),  # deleted, but not recorded by this teardown
    ],
)
def test_a_teardown_starts_over_unless_the_anchor_records_it(anchor: Any) -> None:
    assert earlier_teardown(anchor, TEARDOWN) is None


def test_a_final_savepoint_record_of_another_shape_is_refused() -> None:
    anchor = _obj(ME, **{TEARDOWN_ANNOTATION: TEARDOWN, FINAL_SAVEPOINT_ANNOTATION: '{"a1": 3}'})
    with pytest.raises(ValueError, match="no savepoint path nor map"):
        earlier_teardown(anchor, TEARDOWN)


MARKED = _obj(OTHER, **{TEARDOWN_ANNOTATION: TEARDOWN})


@pytest.mark.parametrize(
    ("created", "anchor", "on_exists", "expected"),
    [
        (True, _obj(ME), "fail", ClaimDecision(Claim.CREATED, ME)),
        (False, None, "update", ClaimDecision(Claim.DELETING, None)),  # gone in between
        (False, _deleting(OTHER), "update", ClaimDecision(Claim.DELETING, OTHER)),
        (False, MARKED, "adopt", ClaimDecision(Claim.DELETING, OTHER, TEARDOWN)),
        (False, _obj(ME), "fail", ClaimDecision(Claim.RESUME, ME)),  # an earlier try
        (False, _obj(OTHER), "update", ClaimDecision(Claim.UPDATE, OTHER)),
        (False, _obj(OTHER), "adopt", ClaimDecision(Claim.ADOPT, OTHER)),
        (False, _obj(OTHER), "fail", ClaimDecision(Claim.FAIL, OTHER)),
        (False, _obj(None), "update", ClaimDecision(Claim.UPDATE, None)),  # no record
        (False, _obj(None), "fail", ClaimDecision(Claim.FAIL, None)),
    ],
)
def test_claim_decision(
    created: bool, anchor: dict[str, Any] | None, on_exists: str, expected: ClaimDecision
) -> None:
    decision = claim_decision(created=created, anchor=anchor, task=ME, on_exists=on_exists)
    assert decision == expected
    assert decision.ours is (expected.claim in (Claim.CREATED, Claim.RESUME))


def test_claim_decision_refuses_an_unknown_on_exists() -> None:
    with pytest.raises(ValueError, match="on_exists"):
        claim_decision(created=True, anchor=None, task=ME, on_exists="replace")


@pytest.mark.parametrize(
    ("decision", "sentence"),
    [
        (ClaimDecision(Claim.CREATED, ME), "Flink cluster ns/x created by this task instance"),
        (
            ClaimDecision(Claim.RESUME, ME),
            "Flink cluster ns/x was created by an earlier try of this task instance",
        ),
        (
            ClaimDecision(Claim.DELETING, OTHER, TEARDOWN),
            f"Flink cluster ns/x is being deleted (by {TEARDOWN})",
        ),
        (ClaimDecision(Claim.DELETING, None), "Flink cluster ns/x is being deleted"),
        (
            ClaimDecision(Claim.FAIL, OTHER),
            f"Flink cluster ns/x already exists, created by {OTHER}",
        ),
        (
            ClaimDecision(Claim.UPDATE, None),
            "Flink cluster ns/x already exists, with no record of its creator",
        ),
    ],
)
def test_a_claim_describes_who_holds_the_cluster(decision: ClaimDecision, sentence: str) -> None:
    assert decision.describe("ns/x") == sentence


@pytest.mark.parametrize(
    ("live", "keep", "action"),
    [
        ([None, None], False, None),  # nothing was written
        ([], True, None),
        ([_obj(OTHER), None], False, FailureAction.LEAVE),  # another run's
        ([_obj(None)], False, FailureAction.LEAVE),  # no record
        ([_obj(ME), _obj(ME)], False, FailureAction.DELETE),
        ([_obj(ME), None], True, FailureAction.KEEP),
        ([_obj(OTHER), _obj(ME)], False, FailureAction.DELETE),  # only ours is deleted
    ],
)
def test_cleanup_action(live: list[Any], keep: bool, action: FailureAction | None) -> None:
    assert cleanup_action(live, ME, keep_failed_cluster=keep) is action


def test_deletion_targets() -> None:
    objects = [_obj(ME), _obj(OTHER), _obj(None), _deleting(ME)]
    assert deletion_targets(objects) == [0, 1, 2, 3]
    assert deletion_targets(objects, owner=ME) == [0, 3]  # a cleanup: only ours
    assert deletion_targets(objects, owner=OTHER) == [1]
    assert deletion_targets(objects, owners=frozenset({OTHER, None})) == [1, 2]
    assert deletion_targets(objects, owners=frozenset()) == []
