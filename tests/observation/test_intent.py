"""The intent recorded in the cluster, and the rule over a found one."""

from __future__ import annotations

from airflow_provider_flink_k8s.observation.intent import (
    INTENT_ANNOTATION,
    Intent,
    claim,
    intent_of,
    intent_patch,
    retry_salt,
)

OWNER = "dag/rescale/run-1/-1"


def _intent(**changes: object) -> Intent:
    base = Intent(operation="rescale", owner=OWNER, strategy="in_place", step="planned", job_id="a")
    return base.model_copy(update=changes)


def test_no_intent_leaves_the_cluster_free() -> None:
    assert claim(None, OWNER, "rescale").decision == "free"


def test_our_unfinished_intent_is_resumed() -> None:
    found = _intent(step="requirements")
    decided = claim(found, OWNER, "rescale")
    assert decided.decision == "resume" and decided.intent == found
    assert "step requirements" in decided.message


def test_another_owners_unfinished_intent_is_busy_and_named() -> None:
    decided = claim(_intent(owner="dag/rescale/run-2/-1"), OWNER, "rescale")
    assert decided.decision == "busy"
    assert "dag/rescale/run-2/-1" in decided.message and INTENT_ANNOTATION in decided.message


def test_another_operation_of_the_same_task_is_busy() -> None:
    assert claim(_intent(operation="savepoint"), OWNER, "rescale").decision == "busy"


def test_a_finished_intent_frees_the_cluster_whoever_wrote_it() -> None:
    for step in ("done", "failed"):
        for owner in (OWNER, "other/task/run/-1"):
            decided = claim(_intent(step=step, owner=owner), OWNER, "rescale")
            assert decided.decision == "free" and decided.intent is not None


def test_the_annotation_round_trips_and_a_garbled_one_reads_as_none() -> None:
    intent = _intent(targets={"v1": 4}, trigger_id="t" * 32, savepoint_path="file:/sp")
    raw = {"metadata": {"annotations": {INTENT_ANNOTATION: intent.to_annotation()}}}
    assert intent_of(raw) == intent
    assert intent_of({"metadata": {"annotations": {INTENT_ANNOTATION: "{not json"}}}) is None
    assert intent_of({"metadata": {}}) is None and intent_of(None) is None


def test_the_patch_sets_or_removes_the_annotation() -> None:
    intent = _intent()
    assert intent_patch(intent) == {
        "metadata": {"annotations": {INTENT_ANNOTATION: intent.to_annotation()}}
    }
    assert intent_patch(None) == {"metadata": {"annotations": {INTENT_ANNOTATION: None}}}


def test_a_new_attempt_after_our_own_failure_on_the_job_gets_new_ids() -> None:
    failed = _intent(step="failed", trigger_id="f" * 32)
    assert retry_salt(failed, OWNER, "a") == "f" * 32
    assert retry_salt(failed, OWNER, "another-job") == ""
    assert retry_salt(failed, "other/task/run/-1", "a") == ""
    assert retry_salt(_intent(step="done", trigger_id="f" * 32), OWNER, "a") == ""
    assert retry_salt(None, OWNER, "a") == ""
