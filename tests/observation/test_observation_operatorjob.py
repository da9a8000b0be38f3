"""FlinkSessionJob classification and operator savepoints, row by row of the docstrings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_flink_k8s.observation import Lifecycle, Reason
from airflow_provider_flink_k8s.observation.operatorjob import (
    SavepointProgress,
    classify_session_job,
    manual_savepoint,
    suspend_savepoint,
)


def _job(status: dict[str, Any] | None = None, **metadata: Any) -> dict[str, Any]:
    return {"metadata": {"name": "j", "generation": 1, **metadata}, "status": status or {}}


STABLE = {"lifecycleState": "STABLE", "observedGeneration": 1}


@pytest.mark.parametrize(
    ("obj", "targets", "lifecycle", "reason"),
    [
        (None, ("RUNNING",), Lifecycle.MISSING, Reason.NOT_DEPLOYED),
        (_job(STABLE, deletionTimestamp="x"), ("RUNNING",), Lifecycle.DELETED, Reason.DELETED),
        (_job({"lifecycleState": "DELETING"}), ("RUNNING",), Lifecycle.DELETED, Reason.DELETED),
        (
            _job({"observedGeneration": 1}, generation=2),
            ("RUNNING",),
            Lifecycle.PROGRESSING,
            Reason.RECONCILING,
        ),
        (
            _job(
                {
                    "lifecycleState": "CREATED",
                    "observedGeneration": 1,
                    "error": json.dumps({"message": "Session cluster deployment is not found"}),
                }
            ),
            ("RUNNING",),
            Lifecycle.FAILED,
            Reason.FLINK_DEPLOYMENT_ERROR,
        ),
        (
            _job({**STABLE, "jobStatus": {"state": "RUNNING", "jobId": "a" * 32}}),
            ("RUNNING",),
            Lifecycle.READY,
            Reason.READY,
        ),
        (
            _job({**STABLE, "jobStatus": {"state": "FAILED"}, "error": "boom"}),
            ("RUNNING",),
            Lifecycle.FAILED,
            Reason.JOB_FAILED,
        ),
        (
            _job({**STABLE, "jobStatus": {"state": "RUNNING"}}),
            ("FINISHED",),
            Lifecycle.PROGRESSING,
            Reason.JOB_PENDING,
        ),
        (
            _job({"lifecycleState": "SUSPENDED", "observedGeneration": 1}),
            ("RUNNING",),
            Lifecycle.FAILED,
            Reason.SUSPENDED,
        ),
        (_job({"observedGeneration": 1}), ("RUNNING",), Lifecycle.PROGRESSING, Reason.RECONCILING),
    ],
)
def test_classify_session_job(
    obj: dict[str, Any] | None, targets: tuple[str, ...], lifecycle: Lifecycle, reason: Reason
) -> None:
    verdict = classify_session_job(obj, target_states=targets, name="j")
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason), verdict.message


def test_a_failed_session_job_quotes_the_operators_error() -> None:
    obj = _job(
        {
            **STABLE,
            "jobStatus": {"state": "FAILED", "jobId": "b" * 32},
            "error": "java.lang.ArithmeticException: / by zero",
        }
    )
    verdict = classify_session_job(obj, name="j")
    assert "ArithmeticException" in verdict.message
    assert verdict.details["job_id"] == "b" * 32


def _sp(location: str, nonce: int | None = None) -> dict[str, Any]:
    return {"location": location, **({"triggerNonce": nonce} if nonce is not None else {})}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"jobStatus": {"state": "RUNNING"}}, SavepointProgress()),
        (
            {"jobStatus": {"state": "RUNNING", "savepointInfo": {"lastSavepoint": _sp("f:/a", 6)}}},
            SavepointProgress(),
        ),
        (
            {"jobStatus": {"state": "RUNNING", "savepointInfo": {"lastSavepoint": _sp("f:/a", 7)}}},
            SavepointProgress(location="f:/a"),
        ),
        (
            {
                "jobStatus": {
                    "savepointInfo": {
                        "savepointHistory": [_sp("f:/h", 7)],
                        "lastSavepoint": _sp("f:/p"),
                    }
                }
            },
            SavepointProgress(location="f:/h"),
        ),
    ],
)
def test_manual_savepoint_by_nonce(status: dict[str, Any], expected: SavepointProgress) -> None:
    assert manual_savepoint(status, 7) == expected


def test_manual_savepoint_of_a_failed_job_is_an_error() -> None:
    status = {"lifecycleState": "FAILED", "jobStatus": {"state": "FAILED"}, "error": "oops"}
    progress = manual_savepoint(status, 7)
    assert progress.done and progress.location is None and "oops" in str(progress.error)


@pytest.mark.parametrize(
    ("status", "generation", "location", "failed"),
    [
        ({"lifecycleState": "UPGRADING", "observedGeneration": 1}, 2, None, False),
        ({"lifecycleState": "SUSPENDED", "observedGeneration": 1}, 2, None, False),
        (
            {
                "lifecycleState": "SUSPENDED",
                "observedGeneration": 2,
                "jobStatus": {"upgradeSavepointPath": "f:/u"},
            },
            2,
            "f:/u",
            False,
        ),
        (
            {
                "lifecycleState": "SUSPENDED",
                "observedGeneration": 2,
                "jobStatus": {"savepointInfo": {"lastSavepoint": _sp("f:/l")}},
            },
            2,
            "f:/l",
            False,
        ),
        ({"lifecycleState": "SUSPENDED", "observedGeneration": 2}, 2, None, True),
        ({"lifecycleState": "FAILED", "error": "nope"}, 2, None, True),
    ],
)
def test_suspend_savepoint(
    status: dict[str, Any], generation: int, location: str | None, failed: bool
) -> None:
    progress = suspend_savepoint(status, generation)
    assert progress.location == location
    assert (progress.error is not None) is failed
