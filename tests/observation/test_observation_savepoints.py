"""The savepoint decisions: every row of each classifier's table."""

from __future__ import annotations

from typing import Any

import pytest
from observation_builders import JOB_ID, flink_deployment, job

from airflow_provider_flink_k8s.observation import FlinkDeploymentState, FlinkJob, Lifecycle, Reason
from airflow_provider_flink_k8s.observation.flink import SavepointState
from airflow_provider_flink_k8s.observation.savepoints import (
    classify_operator_savepoint,
    classify_savepoint,
    classify_suspend,
    classify_tasks_running,
    missing_savepoint_dir,
)

TRIGGER = "f" * 32


def _job(state: str, **tasks: int) -> FlinkJob:
    raw: dict[str, Any] = job(state)
    if tasks:
        raw["tasks"] = tasks
    return FlinkJob.from_rest(raw)


def _status(**fields: Any) -> SavepointState:
    return SavepointState(job_id=JOB_ID, trigger_id=TRIGGER, **fields)


# -- classify_savepoint ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("savepoint", "job_state", "rest_error", "lifecycle", "reason", "text"),
    [
        (None, "RUNNING", "connection refused", Lifecycle.PROGRESSING, Reason.REST_UNAVAILABLE,
         "does not answer: connection refused"),
        (_status(known=False), "RUNNING", None, Lifecycle.FAILED, Reason.SAVEPOINT_FAILED,
         "Flink does not know savepoint"),
        (_status(completed=True, location="file:/sp/1"), "RUNNING", None, Lifecycle.READY,
         Reason.READY, "file:/sp/1"),
        (_status(completed=True, failure="CheckpointException: declined"), "RUNNING", None,
         Lifecycle.FAILED, Reason.SAVEPOINT_FAILED, "failed: CheckpointException: declined"),
        (_status(completed=True), "RUNNING", None, Lifecycle.FAILED, Reason.SAVEPOINT_FAILED,
         "Flink reported no location"),
        (_status(), "FAILED", None, Lifecycle.FAILED, Reason.JOB_FAILED,
         f"job {JOB_ID} is FAILED while savepoint"),
        (_status(), "CANCELED", None, Lifecycle.FAILED, Reason.JOB_CANCELED, "is CANCELED"),
        (_status(), "FINISHED", None, Lifecycle.PROGRESSING, Reason.SAVEPOINT_PENDING,
         "in progress"),
        (_status(), "RUNNING", None, Lifecycle.PROGRESSING, Reason.SAVEPOINT_PENDING,
         "in progress"),
        (None, None, None, Lifecycle.PROGRESSING, Reason.SAVEPOINT_PENDING, "in progress"),
    ],
)  # fmt: skip
def test_classify_savepoint(
    savepoint: SavepointState | None,
    job_state: str | None,
    rest_error: str | None,
    lifecycle: Lifecycle,
    reason: Reason,
    text: str,
) -> None:
    found = _job(job_state) if job_state else None
    verdict = classify_savepoint(
        savepoint, found, job_id=JOB_ID, trigger_id=TRIGGER, rest_error=rest_error
    )
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason), verdict
    assert text in verdict.message
    assert verdict.details["trigger_id"] == TRIGGER
    if lifecycle is Lifecycle.READY:
        assert verdict.details["location"] == "file:/sp/1"


def test_a_savepoint_state_reads_the_rest_status_fields() -> None:
    raw = {"job_id": JOB_ID, "trigger_id": TRIGGER, "completed": True, "location": "s3://b/sp"}
    assert SavepointState.from_rest(raw) == _status(completed=True, location="s3://b/sp")


# -- classify_tasks_running ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "rest_error", "lifecycle", "reason"),
    [
        (None, "HTTP 503", Lifecycle.PROGRESSING, Reason.REST_UNAVAILABLE),
        (None, None, Lifecycle.FAILED, Reason.JOB_NOT_FOUND),
        (_job("RUNNING", running=4, total=4), None, Lifecycle.READY, Reason.READY),
        (_job("RUNNING"), None, Lifecycle.READY, Reason.READY),  # no totals reported
        (_job("RUNNING", running=1, total=4), None, Lifecycle.PROGRESSING, Reason.JOB_PENDING),
        (_job("CREATED"), None, Lifecycle.PROGRESSING, Reason.JOB_PENDING),
        (_job("FINISHED"), None, Lifecycle.FAILED, Reason.JOB_FINISHED),
        (_job("FAILED"), None, Lifecycle.FAILED, Reason.JOB_FAILED),
    ],
)
def test_classify_tasks_running(
    found: FlinkJob | None, rest_error: str | None, lifecycle: Lifecycle, reason: Reason
) -> None:
    verdict = classify_tasks_running(found, job_id=JOB_ID, rest_error=rest_error)
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason), verdict
    if reason is Reason.JOB_PENDING and found and found.tasks_total:
        assert "1 of 4 tasks running" in verdict.message


# -- the operator's savepoints -----------------------------------------------------------------


def _fd(status: dict[str, Any], generation: int = 2) -> FlinkDeploymentState:
    return FlinkDeploymentState.from_k8s(flink_deployment(status, generation=generation))


def _savepoint_info(nonce: int, location: str) -> dict[str, Any]:
    last = {"location": location, "triggerNonce": nonce, "triggerType": "MANUAL"}
    return {"savepointInfo": {"lastSavepoint": last, "savepointHistory": [last]}}


@pytest.mark.parametrize(
    ("deployment", "lifecycle", "reason", "text"),
    [
        (None, Lifecycle.FAILED, Reason.NOT_DEPLOYED, "was deleted"),
        (
            _fd({"jobStatus": {"state": "RUNNING", **_savepoint_info(7, "s3://b/sp-7")}}),
            Lifecycle.READY,
            Reason.READY,
            "s3://b/sp-7",
        ),
        (
            _fd({"jobStatus": {"state": "FAILED"}, "lifecycleState": "FAILED"}),
            Lifecycle.FAILED,
            Reason.SAVEPOINT_FAILED,
            "no savepoint for nonce 7",
        ),
        (
            _fd({"jobStatus": {"state": "RUNNING", **_savepoint_info(6, "s3://b/old")}}),
            Lifecycle.PROGRESSING,
            Reason.SAVEPOINT_PENDING,
            "in progress",
        ),
    ],
)
def test_classify_operator_savepoint(
    deployment: FlinkDeploymentState | None, lifecycle: Lifecycle, reason: Reason, text: str
) -> None:
    verdict = classify_operator_savepoint(deployment, nonce=7, name="orders")
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason), verdict
    assert text in verdict.message
    if lifecycle is Lifecycle.READY:
        assert verdict.details["location"] == "s3://b/sp-7"


@pytest.mark.parametrize(
    ("deployment", "lifecycle", "reason", "text"),
    [
        (None, Lifecycle.FAILED, Reason.NOT_DEPLOYED, "deleted meanwhile"),
        (
            _fd(
                {
                    "lifecycleState": "SUSPENDED",
                    "observedGeneration": 2,
                    "jobStatus": {"state": "FINISHED", "upgradeSavepointPath": "s3://b/up"},
                }
            ),
            Lifecycle.READY,
            Reason.READY,
            "s3://b/up",
        ),
        (
            _fd({"lifecycleState": "SUSPENDED", "observedGeneration": 2, "jobStatus": {}}),
            Lifecycle.FAILED,
            Reason.SAVEPOINT_FAILED,
            "suspended without a savepoint",
        ),
        (
            _fd({"lifecycleState": "SUSPENDED", "observedGeneration": 1, "jobStatus": {}}),
            Lifecycle.PROGRESSING,
            Reason.SAVEPOINT_PENDING,
            "in progress",
        ),
    ],
)
def test_classify_suspend(
    deployment: FlinkDeploymentState | None, lifecycle: Lifecycle, reason: Reason, text: str
) -> None:
    verdict = classify_suspend(deployment, generation=2, name="orders")
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason), verdict
    assert text in verdict.message


@pytest.mark.parametrize(
    ("directory", "configuration", "missing"),
    [
        ("file:///sp", {}, False),  # the task's or the spec's directory
        (None, {"execution.checkpointing.savepoint-dir": "s3://b/sp"}, False),
        (None, {"state.savepoints.dir": "s3://b/sp"}, False),  # the name before Flink 1.20
        (None, None, False),  # the configuration was not read: Flink decides
        (None, {}, True),
        ("", {"state.savepoints.dir": ""}, True),
    ],
)
def test_a_savepoint_with_nowhere_to_go_names_savepoint_dir(
    directory: str | None, configuration: dict[str, str] | None, missing: bool
) -> None:
    problem = missing_savepoint_dir(directory, configuration, task="the savepoint")
    if not missing:
        assert problem is None
        return
    assert problem is not None and problem.field == "savepoint_dir"
    assert problem.rule.startswith("the savepoint needs a savepoint directory: set savepoint_dir")
