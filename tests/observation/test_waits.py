"""WaitFor: validation, the plain-JSON round trip, and which classifier decides."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from observation_builders import (
    JOB_ID,
    NOW,
    SLOTS,
    TASKMANAGERS,
    flink_deployment,
    job,
    job_exceptions,
    snapshot,
)
from pydantic import ValidationError

from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    Lifecycle,
    Reason,
    classify_cluster,
    classify_cluster_job,
    classify_operator_deployment,
)
from airflow_provider_flink_k8s.observation.waits import WaitFor


def _fd_status(job_state: str) -> dict[str, Any]:
    return {
        "lifecycleState": "DEPLOYED",
        "jobManagerDeploymentStatus": "READY",
        "jobStatus": {"jobId": JOB_ID, "jobName": "clickstream", "state": job_state},
        "observedGeneration": 1,
    }


def _both(job_state: str = "CREATED") -> ClusterSnapshot:
    """A snapshot with both halves: the standalone objects and REST (a healthy cluster
    whose job is ``job_state``), and a FlinkDeployment whose job is ``job_state`` too."""
    return snapshot(jobs=[job(job_state)], flink_deployment=flink_deployment(_fd_status(job_state)))


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"target_states": ["RUNNING", "RUNING"]}, "target_states", "got RUNNING, RUNING"),
        ({"target_states": []}, "target_states", "got none"),
        ({"expected_taskmanagers": -1}, "expected_taskmanagers", "greater than or equal to 0"),
        ({"expected_slots": -2}, "expected_slots", "greater than or equal to 0"),
        ({"crashloop_restarts": -1}, "crashloop_restarts", "greater than or equal to 0"),
        ({"unschedulable_grace_seconds": -1}, "unschedulable_grace_seconds", "greater than or"),
        ({"progress_deadline_seconds": 0}, "progress_deadline_seconds", "greater than 0"),
        ({"name": ""}, "name", "at least 1 character"),
        ({"namespace": ""}, "namespace", "at least 1 character"),
        ({"kind": "snapshot"}, "kind", "'cluster', 'job', 'tasks_running'"),
        ({"kind": "savepoint", "job_id": JOB_ID}, "savepoint", "needs trigger_id"),
        ({"kind": "tasks_running"}, "tasks_running", "needs job_id"),
        ({"kind": "operator_savepoint", "target": "operator"}, "", "needs savepoint_nonce"),
        ({"kind": "session_job", "target": "operator"}, "", "needs session_job"),
        ({"kind": "suspended"}, "suspended", "is about the operator target"),
        ({"target": "helm"}, "target", "'standalone' or 'operator'"),
    ],
)
def test_a_bad_field_is_refused_naming_the_field_and_the_rule(
    fields: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        WaitFor(**{"name": "clickstream", **fields})
    text = str(caught.value)
    assert field in text and rule in text, text


def test_an_unknown_target_state_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="RUNNING, FAILING, FAILED"):
        WaitFor(name="c", kind="job", target_states=("DONE",))


def test_target_states_are_upper_cased_and_a_single_state_is_a_tuple() -> None:
    assert WaitFor(name="c", target_states=["running", "Finished"]).target_states == (
        "RUNNING",
        "FINISHED",
    )
    assert WaitFor(name="c", target_states="canceled").target_states == ("CANCELED",)


def test_from_dict_refuses_what_to_dict_never_writes() -> None:
    with pytest.raises(ValidationError, match="expected_slots"):
        WaitFor.from_dict({"name": "c", "expected_slots": "many"})


# -- plain JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wait",
    [
        WaitFor(name="c"),
        WaitFor(
            kind="job",
            name="clickstream",
            namespace="analytics",
            target="operator",
            job_id=JOB_ID,
            target_states=("RUNNING", "FINISHED"),
            crashloop_restarts=5,
            unschedulable_grace_seconds=0,
        ),
        WaitFor(name="c", expected_taskmanagers=3, expected_slots=12, progress_deadline_seconds=30),
        WaitFor(kind="savepoint", name="c", job_id=JOB_ID, trigger_id="f" * 32),
        WaitFor(kind="suspended", name="c", target="operator", generation=3),
        WaitFor(kind="operator_savepoint", name="c", target="operator", savepoint_nonce=2**40),
        WaitFor(kind="session_job", name="c", target="operator", session_job="c-submit"),
    ],
)
def test_to_dict_is_plain_json_with_every_field_and_from_dict_inverts_it(wait: WaitFor) -> None:
    data = wait.to_dict()
    assert set(data) == set(WaitFor.model_fields)
    text = json.dumps(data)
    again = WaitFor.from_dict(json.loads(text))
    assert again == wait
    assert again.to_dict() == data


def test_needs_rest_and_description() -> None:
    assert WaitFor(name="c").needs_rest
    assert not WaitFor(name="c", target="operator").needs_rest
    assert WaitFor(name="c", namespace="n").description == "Flink cluster n/c ready"
    job_wait = WaitFor(kind="job", name="c", target_states=("RUNNING", "FINISHED"))
    assert job_wait.description == "the job of Flink cluster default/c RUNNING or FINISHED"
    by_id = WaitFor(kind="job", name="c", job_id=JOB_ID)
    assert by_id.description == f"job {JOB_ID} of Flink cluster default/c RUNNING"


# -- decide(): which classifier ------------------------------------------------------------


def test_standalone_cluster_is_classify_cluster_with_the_expected_counts() -> None:
    state = _both()
    wait = WaitFor(name="clickstream", expected_taskmanagers=TASKMANAGERS, expected_slots=SLOTS)
    verdict = wait.decide(state, NOW)
    assert verdict == classify_cluster(
        state, expected_taskmanagers=TASKMANAGERS, expected_slots=SLOTS, now=NOW
    )
    assert verdict.lifecycle is Lifecycle.READY and "TaskManagers" in verdict.message
    more = WaitFor(name="clickstream", expected_taskmanagers=3, expected_slots=SLOTS)
    assert more.decide(state, NOW).reason is Reason.TASK_MANAGERS_MISSING


def test_standalone_job_is_classify_cluster_job_with_the_target_states() -> None:
    state = _both("RUNNING")
    wait = WaitFor(kind="job", name="clickstream", job_id=JOB_ID)
    verdict = wait.decide(state, NOW)
    assert verdict == classify_cluster_job(state, now=NOW, job_id=JOB_ID)
    assert verdict.lifecycle is Lifecycle.READY and verdict.details["job_id"] == JOB_ID
    finished = WaitFor(kind="job", name="clickstream", target_states=("FINISHED",))
    assert finished.decide(state, NOW).lifecycle is Lifecycle.PROGRESSING


def test_a_failed_standalone_job_fails_the_wait_with_the_root_exception() -> None:
    state = snapshot(jobs=[job("FAILED")], job_exceptions={JOB_ID: job_exceptions()})
    verdict = WaitFor(kind="job", name="clickstream").decide(state, NOW)
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, Reason.JOB_FAILED)
    assert "ArithmeticException: / by zero" in verdict.message


def test_operator_cluster_reads_the_flinkdeployment_not_the_job() -> None:
    state = _both("CREATED")
    wait = WaitFor(name="clickstream", target="operator")
    verdict = wait.decide(state, NOW)
    assert verdict == classify_operator_deployment(state, target="cluster", now=NOW)
    assert verdict.lifecycle is Lifecycle.READY and "FlinkDeployment" in verdict.message


def test_operator_job_waits_for_the_flinkdeployments_job() -> None:
    state = _both("CREATED")
    wait = WaitFor(kind="job", name="clickstream", target="operator")
    verdict = wait.decide(state, NOW)
    assert verdict == classify_operator_deployment(state, target="job", now=NOW)
    assert verdict.lifecycle is Lifecycle.PROGRESSING
    running = _both("RUNNING")
    assert wait.decide(running, NOW).lifecycle is Lifecycle.READY


def test_the_four_combinations_decide_differently_on_one_snapshot() -> None:
    state = _both("CREATED")
    verdicts = {
        (target, kind): WaitFor(
            kind=kind,
            name="clickstream",
            target=target,
            expected_taskmanagers=TASKMANAGERS,
            expected_slots=SLOTS,
        ).decide(state, NOW)
        for target in ("standalone", "operator")
        for kind in ("cluster", "job")
    }
    assert verdicts["standalone", "cluster"].lifecycle is Lifecycle.READY
    assert verdicts["standalone", "job"].reason is Reason.JOB_PENDING
    assert verdicts["operator", "cluster"].lifecycle is Lifecycle.READY
    assert verdicts["operator", "job"].lifecycle is Lifecycle.PROGRESSING
    assert verdicts["standalone", "cluster"].message != verdicts["operator", "cluster"].message


def test_the_progress_deadline_applies_to_a_standalone_cluster_wait() -> None:
    # REST never answered, and the last sign of progress is older than the deadline.
    state = snapshot(overview=None, rest_error="connection refused")
    relaxed = WaitFor(name="clickstream", expected_taskmanagers=2, expected_slots=4)
    assert relaxed.decide(state, NOW).reason is Reason.REST_UNAVAILABLE
    strict = relaxed.model_copy(update={"progress_deadline_seconds": 10.0})
    verdict = strict.decide(state, NOW)
    assert (verdict.lifecycle, verdict.reason) == (
        Lifecycle.FAILED,
        Reason.PROGRESS_DEADLINE_EXCEEDED,
    )
    assert strict.decide(state, NOW - timedelta(days=1)).lifecycle is Lifecycle.PROGRESSING


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        WaitFor(name="c").decide(snapshot(), datetime(2025, 5, 1, 12))


# -- the other kinds: what they fetch, and their decisions ---------------------------------

TRIGGER = "f" * 32


@pytest.mark.parametrize(
    ("fields", "fetches"),
    [
        ({}, {"workloads", "overview"}),
        ({"kind": "job"}, {"workloads", "overview", "jobs"}),
        ({"target": "operator"}, {"workloads"}),
        ({"kind": "job", "target": "operator"}, {"workloads"}),
        ({"kind": "tasks_running", "job_id": JOB_ID}, {"jobs"}),
        ({"kind": "savepoint", "job_id": JOB_ID, "trigger_id": TRIGGER}, {"savepoint", "jobs"}),
        (
            {"kind": "operator_savepoint", "target": "operator", "savepoint_nonce": 1},
            {"flink_deployment"},
        ),
        ({"kind": "suspended", "target": "operator"}, {"flink_deployment"}),
        ({"kind": "session_job", "target": "operator", "session_job": "s"}, {"session_job"}),
        ({"kind": "session_jobs_deleted", "target": "operator"}, {"session_jobs"}),
        ({"kind": "deleted"}, {"remaining"}),
        (
            {"kind": "parallelism", "job_id": JOB_ID, "vertex_parallelism": {"v": 2}},
            {"job_details"},
        ),
        ({"kind": "slots_released", "expected_slots": 2}, {"overview"}),
        ({"kind": "metrics", "job_id": JOB_ID}, {"job_details", "metrics"}),
    ],
)
def test_each_kind_fetches_only_what_its_decision_reads(
    fields: dict[str, Any], fetches: set[str]
) -> None:
    wait = WaitFor(name="c", **fields)
    assert wait.fetches == fetches
    rest = {"overview", "jobs", "job_details", "metrics", "savepoint"}
    assert wait.needs_rest == bool(fetches & rest)
    assert wait.description  # every kind describes itself


def _session_job(name: str, state: str | None = "RUNNING") -> dict[str, Any]:
    status = {"lifecycleState": "STABLE", "observedGeneration": 1}
    if state:
        status["jobStatus"] = {"jobId": JOB_ID, "state": state}
    return {"metadata": {"name": name, "generation": 1}, "status": status}


def test_the_other_kinds_decide_on_their_part_of_the_snapshot() -> None:
    from airflow_provider_flink_k8s.observation.flink import SavepointState

    done = SavepointState(job_id=JOB_ID, trigger_id=TRIGGER, completed=True, location="file:/s")
    seen = snapshot(jobs=[job("RUNNING")], flink_deployment=flink_deployment()).model_copy(
        update={
            "savepoint": done,
            "session_jobs": (_session_job("c-submit"), _session_job("other", "FAILED")),
            "remaining": ("Service/c-rest",),
        }
    )
    savepoint = WaitFor(kind="savepoint", name="c", job_id=JOB_ID, trigger_id=TRIGGER)
    assert savepoint.decide(seen, NOW).details["location"] == "file:/s"
    tasks = WaitFor(kind="tasks_running", name="c", job_id=JOB_ID)
    assert tasks.decide(seen, NOW).lifecycle is Lifecycle.READY
    operator = {"name": "c", "target": "operator"}
    session = WaitFor(kind="session_job", session_job="c-submit", **operator)
    assert session.decide(seen, NOW).details["job_id"] == JOB_ID
    missing = WaitFor(kind="session_job", session_job="gone", **operator)
    assert missing.decide(seen, NOW).lifecycle is Lifecycle.MISSING
    jobs_gone = WaitFor(kind="session_jobs_deleted", **operator).decide(seen, NOW)
    assert jobs_gone.lifecycle is Lifecycle.PROGRESSING
    assert "FlinkSessionJob/c-submit, FlinkSessionJob/other" in jobs_gone.message
    deleted = WaitFor(kind="deleted", name="c").decide(seen, NOW)
    assert deleted.reason is Reason.DELETING and "Service/c-rest" in deleted.message
    gone = WaitFor(kind="deleted", name="c").decide(ClusterSnapshot(), NOW)
    assert gone.lifecycle is Lifecycle.READY
    fd = WaitFor(kind="suspended", generation=1, **operator).decide(seen, NOW)
    assert fd.reason is Reason.SAVEPOINT_PENDING
    nonce = WaitFor(kind="operator_savepoint", savepoint_nonce=3, **operator)
    assert nonce.decide(ClusterSnapshot(), NOW).reason is Reason.NOT_DEPLOYED
