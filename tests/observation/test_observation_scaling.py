"""The rescale's waits: every vertex reporting its load metrics, every vertex at its new
parallelism, the surplus slots gone -- decided by one rule for the operator and for a
wait (WaitFor kinds ``metrics``, ``parallelism`` and ``slots_released``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from observation_builders import JOB_ID, NOW, job, overview, snapshot

from airflow_provider_flink_k8s.exceptions import DeploymentTimeout
from airflow_provider_flink_k8s.observation import ClusterSnapshot, Lifecycle, Outcome, Reason
from airflow_provider_flink_k8s.observation.flink import FlinkJob, FlinkOverview
from airflow_provider_flink_k8s.observation.scaling import (
    LOAD_METRICS,
    classify_metrics,
    classify_parallelism,
    classify_slots_released,
    runs_at,
)
from airflow_provider_flink_k8s.observation.waits import WaitFor

TARGETS = {"source": 4, "sink": 4}


def _details(state: str = "RUNNING", **vertices: tuple[int, str]) -> dict[str, Any]:
    """``GET /jobs/:jobid``: vertex id -> (parallelism, ExecutionState)."""
    return {
        "jid": JOB_ID,
        "name": "clickstream",
        "state": state,
        "vertices": [
            {"id": vid, "name": vid, "parallelism": p, "status": status}
            for vid, (p, status) in vertices.items()
        ],
    }


def _job(state: str = "RUNNING", **vertices: tuple[int, str]) -> FlinkJob:
    return FlinkJob.from_rest(_details(state, **vertices))


def test_job_details_give_each_vertex_parallelism_and_state() -> None:
    found = _job(source=(4, "RUNNING"), sink=(2, "deploying"))
    assert found.vertex_parallelism == {"source": 4, "sink": 2}
    assert found.vertex_states == ("RUNNING", "DEPLOYING")
    assert found.parallelism == 4
    listed = FlinkJob.from_rest(job("RUNNING"))  # /jobs/overview has no vertices
    assert listed.vertex_parallelism == {} and listed.vertex_states == ()


def test_runs_at_compares_by_vertex_or_by_sorted_parallelisms_for_new_ids() -> None:
    assert runs_at({"source": 4, "sink": 4}, TARGETS)
    assert not runs_at({"source": 4, "sink": 2}, TARGETS)
    assert runs_at({"a": 4, "b": 4}, TARGETS)  # a resubmitted job's new vertex ids
    assert not runs_at({"a": 4}, TARGETS)
    assert not runs_at({}, {})  # a job without vertices runs at nothing


@pytest.mark.parametrize(
    ("found", "rest_error", "lifecycle", "reason"),
    [
        (_job(source=(4, "RUNNING"), sink=(4, "RUNNING")), None, Lifecycle.READY, Reason.READY),
        (
            _job(source=(4, "RUNNING"), sink=(4, "DEPLOYING")),
            None,
            Lifecycle.PROGRESSING,
            Reason.JOB_PENDING,
        ),
        (
            _job(source=(2, "RUNNING"), sink=(2, "RUNNING")),
            None,
            Lifecycle.PROGRESSING,
            Reason.JOB_PENDING,
        ),
        (
            _job("RESTARTING", source=(4, "RUNNING"), sink=(4, "RUNNING")),
            None,
            Lifecycle.PROGRESSING,
            Reason.JOB_PENDING,
        ),
        (_job("FAILED", source=(4, "FAILED")), None, Lifecycle.FAILED, Reason.JOB_FAILED),
        (_job("CANCELED"), None, Lifecycle.FAILED, Reason.JOB_CANCELED),
        (None, None, Lifecycle.FAILED, Reason.JOB_NOT_FOUND),
        (None, "connection refused", Lifecycle.PROGRESSING, Reason.REST_UNAVAILABLE),
    ],
)
def test_classify_parallelism(
    found: FlinkJob | None, rest_error: str | None, lifecycle: Lifecycle, reason: Reason
) -> None:
    verdict = classify_parallelism(found, job_id=JOB_ID, targets=TARGETS, rest_error=rest_error)
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason)
    assert JOB_ID in verdict.message


def test_a_pending_parallelism_wait_says_where_the_job_is() -> None:
    found = _job(source=(2, "RUNNING"), sink=(2, "RUNNING"))
    verdict = classify_parallelism(found, job_id=JOB_ID, targets=TARGETS)
    assert "at parallelism 2" in verdict.message and "at parallelism 4" in verdict.message
    assert verdict.details["parallelism"] == {"source": 2, "sink": 2}


@pytest.mark.parametrize(
    ("slots", "lifecycle", "reason"),
    [
        (2, Lifecycle.READY, Reason.READY),
        (1, Lifecycle.READY, Reason.READY),
        (4, Lifecycle.PROGRESSING, Reason.SLOTS_SURPLUS),
    ],
)
def test_classify_slots_released(slots: int, lifecycle: Lifecycle, reason: Reason) -> None:
    found = FlinkOverview.from_rest(overview(taskmanagers=slots // 2, slots_total=slots))
    verdict = classify_slots_released(found, expected_slots=2)
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason)


def test_slots_released_waits_while_the_rest_api_does_not_answer() -> None:
    verdict = classify_slots_released(None, expected_slots=2, rest_error="HTTP 503")
    assert verdict.reason is Reason.REST_UNAVAILABLE and "HTTP 503" in verdict.message


def test_the_waits_decide_on_the_snapshot_as_the_classifiers_do() -> None:
    seen = snapshot(jobs=[_details(source=(4, "RUNNING"), sink=(4, "RUNNING"))])
    wait = WaitFor(kind="parallelism", name="c", job_id=JOB_ID, vertex_parallelism=TARGETS)
    assert wait.decide(seen, NOW).lifecycle is Lifecycle.READY
    other = wait.model_copy(update={"vertex_parallelism": {"source": 8, "sink": 8}})
    assert other.decide(seen, NOW).lifecycle is Lifecycle.PROGRESSING
    released = WaitFor(kind="slots_released", name="c", expected_slots=0)
    assert released.decide(seen, NOW).reason is Reason.SLOTS_SURPLUS
    assert WaitFor.from_dict(wait.to_dict()) == wait


def test_a_parallelism_wait_needs_the_job_and_the_targets() -> None:
    with pytest.raises(ValueError, match="a parallelism wait needs job_id and vertex_parallelism"):
        WaitFor(kind="parallelism", name="c")


# -- the load metrics "auto" plans from -------------------------------------------------

ALL = {"source": LOAD_METRICS, "sink": LOAD_METRICS}


@pytest.mark.parametrize(
    ("found", "reported", "rest_error", "lifecycle", "reason"),
    [
        (
            _job(source=(2, "RUNNING"), sink=(2, "RUNNING")),
            ALL,
            None,
            Lifecycle.READY,
            Reason.READY,
        ),
        # A vertex reporting some of them counts: the sizing keeps what it cannot measure.
        (
            _job(source=(2, "RUNNING"), sink=(2, "RUNNING")),
            {"source": ("numRecordsOutPerSecond",), "sink": LOAD_METRICS},
            None,
            Lifecycle.READY,
            Reason.READY,
        ),
        # Flink has not fetched them from the TaskManagers yet (a job just (re)started).
        (
            _job(source=(2, "RUNNING"), sink=(2, "RUNNING")),
            {"source": LOAD_METRICS, "sink": ()},
            None,
            Lifecycle.PROGRESSING,
            Reason.METRICS_PENDING,
        ),
        (
            _job(source=(2, "RUNNING"), sink=(2, "RUNNING")),
            {},
            None,
            Lifecycle.PROGRESSING,
            Reason.METRICS_PENDING,
        ),
        (_job(), {}, None, Lifecycle.PROGRESSING, Reason.METRICS_PENDING),  # no vertices yet
        (_job("FAILED", source=(2, "FAILED")), {}, None, Lifecycle.FAILED, Reason.JOB_FAILED),
        (_job("CANCELED"), {}, None, Lifecycle.FAILED, Reason.JOB_CANCELED),
        (None, {}, None, Lifecycle.FAILED, Reason.JOB_NOT_FOUND),
        (None, {}, "connection refused", Lifecycle.PROGRESSING, Reason.REST_UNAVAILABLE),
    ],
)
def test_classify_metrics(
    found: FlinkJob | None,
    reported: dict[str, tuple[str, ...]],
    rest_error: str | None,
    lifecycle: Lifecycle,
    reason: Reason,
) -> None:
    verdict = classify_metrics(found, job_id=JOB_ID, reported=reported, rest_error=rest_error)
    assert (verdict.lifecycle, verdict.reason) == (lifecycle, reason)
    assert JOB_ID in verdict.message


def test_a_pending_metrics_wait_names_the_vertices_without_metrics() -> None:
    found = FlinkJob.from_rest(
        {
            "jid": JOB_ID,
            "state": "RUNNING",
            "vertices": [
                {"id": "v1", "name": "Source: clicks", "parallelism": 2, "status": "RUNNING"},
                {"id": "v2", "name": "Window", "parallelism": 2, "status": "RUNNING"},
                {"id": "v3", "parallelism": 2, "status": "RUNNING"},
            ],
        }
    )
    reported = {"v1": LOAD_METRICS, "v2": (), "v3": ()}
    verdict = classify_metrics(found, job_id=JOB_ID, reported=reported)
    assert verdict.details["missing"] == ["v2", "v3"]
    assert "2 of 3 vertices" in verdict.message
    assert "Window (v2), v3" in verdict.message and "Source: clicks" not in verdict.message
    # A wait that gives up on it says which vertices had none.
    timed_out = Outcome.timeout(verdict, waited=timedelta(seconds=90), job_id=JOB_ID)
    with pytest.raises(DeploymentTimeout, match=r"report no load metrics yet.*Window \(v2\), v3"):
        timed_out.raise_for_failure()


def test_the_metrics_wait_decides_on_the_snapshot_as_the_classifier_does() -> None:
    details = _details(source=(2, "RUNNING"), sink=(2, "RUNNING"))
    wait = WaitFor(kind="metrics", name="c", job_id=JOB_ID)
    assert wait.fetches == {"job_details", "metrics"} and wait.needs_rest
    assert "reporting its load metrics" in wait.description
    pending = snapshot(jobs=[details]).model_copy(update={"reported_metrics": {"source": ()}})
    verdict = wait.decide(pending, NOW)
    assert verdict.reason is Reason.METRICS_PENDING
    assert verdict.details["missing"] == ["source", "sink"]
    seen = snapshot(jobs=[details]).model_copy(update={"reported_metrics": ALL})
    assert wait.decide(seen, NOW).lifecycle is Lifecycle.READY
    assert WaitFor.from_dict(wait.to_dict()) == wait
    assert ClusterSnapshot.from_dict(seen.to_dict()) == seen  # the trigger carries it as JSON


def test_a_metrics_wait_needs_the_job() -> None:
    with pytest.raises(ValueError, match="a metrics wait needs job_id"):
        WaitFor(kind="metrics", name="c")
