"""Lifecycle, Verdict and the Outcome event protocol; the errors a wait ends with."""

from __future__ import annotations

import json
import pickle
import re
from datetime import timedelta
from typing import Any

import pytest

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.observation import (
    DeploymentFailed,
    DeploymentTimeout,
    Lifecycle,
    Outcome,
    Reason,
    Verdict,
)

READY = Verdict.ready("Flink cluster clickstream is ready", taskmanagers=2)
FAILED = Verdict.failed(
    Reason.CRASH_LOOP_BACK_OFF,
    "JobManager pod clickstream-jobmanager-7d9f8c6b5-abcde is in CrashLoopBackOff "
    "(restarted 4 times)",
    pod="clickstream-jobmanager-7d9f8c6b5-abcde",
    restart_count=4,
)
WAITING = Verdict.progressing(
    Reason.TASK_MANAGERS_MISSING, "1 of 2 TaskManagers registered with the JobManager"
)
DELETED = Verdict(Lifecycle.DELETED, Reason.DELETED, "FlinkDeployment clickstream is DELETING")
MISSING = Verdict(
    Lifecycle.MISSING, Reason.NOT_DEPLOYED, "Flink cluster clickstream has no Deployment"
)


@pytest.mark.parametrize(
    ("lifecycle", "terminal"),
    [
        (Lifecycle.PROGRESSING, False),
        (Lifecycle.READY, True),
        (Lifecycle.FAILED, True),
        (Lifecycle.MISSING, False),
        (Lifecycle.DELETED, True),
    ],
)
def test_terminal_lifecycles(lifecycle: Lifecycle, terminal: bool) -> None:
    assert lifecycle.terminal is terminal
    assert Verdict(lifecycle, Reason.READY, "").terminal is terminal


def test_reasons_are_unique_camel_case_words() -> None:
    values = [reason.value for reason in Reason]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"(OOM|[A-Z][a-z]+)([A-Z][a-z]*)*", value) for value in values), values


def test_to_event_is_plain_json() -> None:
    event = Outcome(FAILED, job_id="a1b2").to_event()
    assert event == {
        "status": "failed",
        "reason": "CrashLoopBackOff",
        "message": FAILED.message,
        "details": {"pod": "clickstream-jobmanager-7d9f8c6b5-abcde", "restart_count": 4},
        "job_id": "a1b2",
        "waited_seconds": None,
    }
    assert json.loads(json.dumps(event)) == event


@pytest.mark.parametrize(
    "outcome",
    [
        Outcome(READY),
        Outcome(FAILED, job_id="a1b2"),
        Outcome(DELETED),
        Outcome(MISSING),
        Outcome.timeout(WAITING, waited=timedelta(minutes=10)),
        Outcome.from_error(RuntimeError("403 Forbidden")),
    ],
)
def test_events_round_trip(outcome: Outcome) -> None:
    event = json.loads(json.dumps(outcome.to_event()))
    assert Outcome.from_event(event) == outcome


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"status": "success", "reason": "Ready"}, "unknown outcome status 'success'"),
        ({"status": "READY", "reason": "Ready"}, "unknown outcome status 'READY'"),
        ({"reason": "Ready"}, "unknown outcome status None"),
        ({"status": "ready", "reason": "AllGood"}, "unknown outcome reason 'AllGood'"),
        ({"status": "ready", "reason": "Ready", "extra": 1}, "unknown outcome event keys: extra"),
        ({"status": "ready", "reason": "Ready", "message": 3}, "message is a string"),
        ({"status": "ready", "reason": "Ready", "details": []}, "details a mapping"),
        ({"status": "ready", "reason": "Ready", "job_id": 7}, "job_id is a string"),
        (
            {"status": "ready", "reason": "Ready", "waited_seconds": "600"},
            "waited_seconds is a number",
        ),
        ("ready", "an outcome event is a mapping"),
    ],
)
def test_from_event_refuses_what_it_does_not_know(event: Any, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        Outcome.from_event(event)


def test_from_event_fills_optional_keys() -> None:
    outcome = Outcome.from_event({"status": "ready", "reason": "Ready"})
    assert outcome == Outcome(Verdict(Lifecycle.READY, Reason.READY, "", {}))


def test_raise_for_failure_returns_success_for_chaining() -> None:
    outcome = Outcome(READY, job_id="a1b2")
    assert outcome.raise_for_failure() is outcome
    assert outcome.raise_for_failure().job_id == "a1b2"
    for gone in (DELETED, MISSING):
        assert Outcome(gone).raise_for_failure(success=(Lifecycle.MISSING, Lifecycle.DELETED))


@pytest.mark.parametrize("verdict", [FAILED, DELETED])
def test_raise_for_failure_raises_deployment_failed(verdict: Verdict) -> None:
    with pytest.raises(DeploymentFailed) as caught:
        Outcome(verdict).raise_for_failure()
    assert (caught.value.reason, caught.value.message) == (verdict.reason.value, verdict.message)
    assert caught.value.details == dict(verdict.details)
    assert str(caught.value) == f"{verdict.reason.value}: {verdict.message}"


def test_raise_for_failure_raises_timeout_when_the_wait_gave_up() -> None:
    with pytest.raises(DeploymentTimeout) as caught:
        Outcome.timeout(WAITING, waited=timedelta(minutes=10, seconds=5)).raise_for_failure()
    assert str(caught.value) == (
        "gave up after 10m5s, still progressing: 1 of 2 TaskManagers registered with the JobManager"
    )
    assert (caught.value.reason, caught.value.waited_seconds) == ("TaskManagersMissing", 605.0)
    # A ready verdict that still came with a timeout is a timeout.
    with pytest.raises(DeploymentTimeout):
        Outcome.timeout(READY, waited=timedelta(seconds=1)).raise_for_failure()


@pytest.mark.parametrize("verdict", [WAITING, MISSING])
def test_raise_for_failure_on_an_unfinished_wait(verdict: Verdict) -> None:
    with pytest.raises(
        DeploymentTimeout, match=f"the wait ended while still {verdict.lifecycle.value}"
    ):
        Outcome(verdict).raise_for_failure()


def test_ready_is_a_failure_for_a_deletion_wait_only_by_timeout() -> None:
    with pytest.raises(DeploymentTimeout):
        Outcome(READY).raise_for_failure(success=(Lifecycle.MISSING, Lifecycle.DELETED))


def test_from_error_is_a_failure_naming_the_error() -> None:
    outcome = Outcome.from_error(PermissionError("pods is forbidden"), job_id="a1b2")
    assert outcome.verdict == Verdict(
        Lifecycle.FAILED,
        Reason.OBSERVATION_FAILED,
        "PermissionError: pods is forbidden",
        {"error": "PermissionError"},
    )
    assert outcome.job_id == "a1b2"


def test_errors_belong_to_the_tree_and_pickle() -> None:
    failed = DeploymentFailed("JobFailed", "boom", details={"job_id": "a1b2"})
    timeout = DeploymentTimeout("gave up", reason="RestUnavailable", waited_seconds=60.0)
    for error in (failed, timeout):
        assert isinstance(error, FlinkK8sError)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert vars(copy) == vars(error)
        assert str(copy) == str(error)
