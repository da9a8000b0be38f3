"""Lost is not pending: a job a JobManager restart made Flink forget, told from one not
submitted yet (JobSighting, rows 7-9 of classify_cluster_job, WaitFor.remember)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from observation_builders import (
    JM_POD,
    JOB_ID,
    NOW,
    job,
    pod,
    running,
    snapshot,
    waiting,
    with_jobmanager,
)

from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    JobSighting,
    Lifecycle,
    Reason,
    classify_cluster_job,
)
from airflow_provider_flink_k8s.observation.waits import WaitFor

OTHER_JOB = "0" * 32
NEW_POD = f"{JM_POD[:-5]}zyxwv"
UID = "5e6f7a8b-abcde"
NEW_UID = "5e6f7a8b-zyxwv"
SEEN = JobSighting(job_id=JOB_ID, pod=JM_POD, pod_uid=UID, restart_count=0)
HA_HINT = (
    "Flink without high availability forgets its jobs when the JobManager restarts: enable "
    "it (the spec's high_availability.enabled with a storage_dir) so a restarted "
    "JobManager recovers them."
)


def _restarted(restarts: int = 1) -> list[dict[str, Any]]:
    return with_jobmanager(pod("jobmanager", containers=[running(restarts=restarts, ago=5)]))


def _replaced() -> list[dict[str, Any]]:
    return with_jobmanager(pod("jobmanager", NEW_POD, created_ago=10))


def _unready() -> list[dict[str, Any]]:
    raw = pod("jobmanager", NEW_POD, containers=[running(ready=False, ago=2)], created_ago=3)
    return with_jobmanager(raw)


def _classify(snap: ClusterSnapshot, **kwargs: Any) -> tuple[Lifecycle, Reason, str]:
    verdict = classify_cluster_job(snap, now=NOW, **kwargs)
    return verdict.lifecycle, verdict.reason, verdict.message


# -- the memory -----------------------------------------------------------------------


def test_a_listed_job_is_remembered_with_the_jobmanager_pod_that_listed_it() -> None:
    assert JobSighting.after(snapshot(jobs=[job("RUNNING")]), JOB_ID, None) == SEEN
    restarted = snapshot(jobs=[job("RUNNING")], pods=_restarted(2))
    assert JobSighting.after(restarted, JOB_ID, SEEN) == SEEN.model_copy(
        update={"restart_count": 2}
    )


def test_without_a_job_id_the_latest_listed_job_is_remembered() -> None:
    jobs = [job("FINISHED", OTHER_JOB, start=1), job("RUNNING", start=2)]
    assert JobSighting.after(snapshot(jobs=jobs), None, None) == SEEN


@pytest.mark.parametrize(
    "snap",
    [
        pytest.param(snapshot(), id="job-not-listed"),
        pytest.param(snapshot(jobs=[job("RUNNING", OTHER_JOB)]), id="another-job-listed"),
        pytest.param(
            snapshot(jobs=[job("RUNNING")], pods=[*_replaced(), pod("jobmanager")]),
            id="two-jobmanager-pods",
        ),
        pytest.param(
            snapshot(jobs=[job("RUNNING")], pods=with_jobmanager(pod("jobmanager"))[1:]),
            id="no-jobmanager-pod",
        ),
        pytest.param(snapshot(jobs=[job("RUNNING")], pods=_unready()), id="not-ready"),
    ],
)
def test_the_memory_stays_as_it_was_unless_one_jobmanager_lists_the_job(
    snap: ClusterSnapshot,
) -> None:
    assert JobSighting.after(snap, JOB_ID, None) is None
    assert JobSighting.after(snap, JOB_ID, SEEN) == SEEN


def test_a_pod_without_uid_is_no_jobmanager_to_remember() -> None:
    raw = pod("jobmanager")
    del raw["metadata"]["uid"]
    snap = snapshot(jobs=[job("RUNNING")], pods=with_jobmanager(raw))
    assert JobSighting.after(snap, JOB_ID, None) is None


def test_the_restart_count_is_the_flink_containers() -> None:
    sidecar = {**running(restarts=5), "name": "log-shipper"}
    raw = pod("jobmanager", containers=[sidecar, running(restarts=1)])
    seen = JobSighting.after(snapshot(jobs=[job("RUNNING")], pods=with_jobmanager(raw)), None, None)
    assert seen is not None and seen.restart_count == 1


# -- the decision (rows 7-9) ------------------------------------------------------------


def test_a_replaced_jobmanager_that_lists_no_job_lost_it() -> None:
    verdict = classify_cluster_job(snapshot(pods=_replaced()), now=NOW, job_id=JOB_ID, seen=SEEN)
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, Reason.JOB_LOST)
    assert verdict.message == (
        f"Flink job {JOB_ID} of Flink cluster clickstream is lost: the JobManager pod "
        f"{JM_POD} (uid {UID}) was replaced by {NEW_POD} (uid {NEW_UID}) after the job was "
        f"seen, and Flink no longer lists the job. {HA_HINT}"
    )
    assert verdict.details == {
        "job_id": JOB_ID,
        "jobmanager_pod": NEW_POD,
        "previous_pod": JM_POD,
        "previous_pod_uid": UID,
        "pod_uid": NEW_UID,
        "previous_restart_count": 0,
        "restart_count": 0,
        "change": "replaced",
    }


def test_a_restarted_jobmanager_container_that_lists_no_job_lost_it() -> None:
    verdict = classify_cluster_job(snapshot(pods=_restarted()), now=NOW, seen=SEEN)
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, Reason.JOB_LOST)
    assert verdict.message == (
        f"Flink job {JOB_ID} of Flink cluster clickstream is lost: the JobManager pod "
        f"{JM_POD} restarted its container (restart count 0 -> 1) after the job was seen, "
        f"and Flink no longer lists the job. {HA_HINT}"
    )
    assert verdict.details["change"] == "restarted"
    assert verdict.details["job_id"] == JOB_ID


def test_the_same_jobmanager_no_longer_listing_the_job_is_not_decided_yet() -> None:
    assert _classify(snapshot(), job_id=JOB_ID, seen=SEEN) == (
        Lifecycle.PROGRESSING,
        Reason.JOB_NOT_FOUND,
        f"Flink cluster clickstream: Flink no longer lists job {JOB_ID}, which the same "
        f"JobManager pod {JM_POD} listed before; waiting for the next observation",
    )


NOT_YET = f"Flink cluster clickstream runs no job {JOB_ID} yet"


@pytest.mark.parametrize(
    ("snap", "seen"),
    [
        # never seen: not submitted yet, even though the JobManager restarted
        pytest.param(snapshot(pods=_restarted()), None, id="never-seen"),
        pytest.param(snapshot(pods=_replaced()), None, id="never-seen-replaced"),
        # the memory is about another job than the one followed
        pytest.param(
            snapshot(pods=_replaced()),
            SEEN.model_copy(update={"job_id": OTHER_JOB}),
            id="another-job-seen",
        ),
        # which JobManager answers is unclear
        pytest.param(snapshot(pods=[*_replaced(), pod("jobmanager")]), SEEN, id="two-pods"),
        pytest.param(snapshot(pods=_unready()), SEEN, id="replacement-not-ready"),
        # REST was not asked (no REST hook): Flink did not say it forgot the job
        pytest.param(snapshot(pods=_replaced(), overview=None), SEEN, id="no-rest-answer"),
    ],
)
def test_without_certainty_a_job_not_listed_is_not_submitted_yet(
    snap: ClusterSnapshot, seen: JobSighting | None
) -> None:
    assert _classify(snap, job_id=JOB_ID, seen=seen) == (
        Lifecycle.PROGRESSING,
        Reason.JOB_NOT_FOUND,
        NOT_YET,
    )


def test_a_rest_api_that_does_not_answer_is_waited_for_even_after_a_restart() -> None:
    snap = snapshot(pods=_replaced(), overview=None, rest_error="connection refused")
    lifecycle, reason, _ = _classify(snap, job_id=JOB_ID, seen=SEEN)
    assert (lifecycle, reason) == (Lifecycle.PROGRESSING, Reason.REST_UNAVAILABLE)


def test_a_jobmanager_that_recovered_the_job_high_availability_decides_by_its_state() -> None:
    snap = snapshot(jobs=[job("RUNNING")], pods=_replaced())
    assert _classify(snap, job_id=JOB_ID, seen=SEEN)[:2] == (Lifecycle.READY, Reason.READY)


def test_without_a_job_id_a_restarted_jobmanager_with_another_job_follows_it() -> None:
    snap = snapshot(jobs=[job("RUNNING", OTHER_JOB)], pods=_replaced())
    verdict = classify_cluster_job(snap, now=NOW, seen=SEEN)
    assert (verdict.lifecycle, verdict.details["job_id"]) == (Lifecycle.READY, OTHER_JOB)


def test_a_crash_looping_jobmanager_is_reported_as_such_before_the_lost_job() -> None:
    crashing = waiting("CrashLoopBackOff", restarts=3)
    snap = snapshot(pods=with_jobmanager(pod("jobmanager", containers=[crashing])))
    assert _classify(snap, job_id=JOB_ID, seen=SEEN)[:2] == (
        Lifecycle.FAILED,
        Reason.CRASH_LOOP_BACK_OFF,
    )


# -- the wait carries the memory ---------------------------------------------------------


def _job_wait(**fields: Any) -> WaitFor:
    return WaitFor(kind="job", name="clickstream", target_states=("FINISHED",), **fields)


def test_a_wait_loop_remembers_then_fails_the_lost_job() -> None:
    wait = _job_wait(job_id=JOB_ID)
    seen_running = snapshot(jobs=[job("RUNNING")])
    assert wait.decide(seen_running, NOW).lifecycle is Lifecycle.PROGRESSING
    wait = wait.remember(seen_running)
    assert wait.job_seen == SEEN
    assert wait.remember(seen_running) is wait  # nothing new: the same wait
    down = snapshot(pods=_restarted(), overview=None, rest_error="connection refused")
    assert wait.decide(down, NOW).reason is Reason.REST_UNAVAILABLE
    wait = wait.remember(down)
    assert wait.job_seen == SEEN  # Flink did not answer: the memory stays
    assert wait.decide(snapshot(pods=_restarted()), NOW).reason is Reason.JOB_LOST


def test_a_wait_that_never_saw_its_job_keeps_waiting_for_it() -> None:
    wait = _job_wait(job_id=JOB_ID)
    for snap in (snapshot(), snapshot(pods=_restarted()), snapshot(pods=_replaced())):
        assert wait.decide(snap, NOW).reason is Reason.JOB_NOT_FOUND
        wait = wait.remember(snap)
    assert wait.job_seen is None
    assert wait.decide(snapshot(jobs=[job("RUNNING")], pods=_replaced()), NOW).reason is (
        Reason.JOB_PENDING
    )


@pytest.mark.parametrize(
    "wait",
    [
        WaitFor(name="clickstream"),
        WaitFor(kind="job", name="clickstream", target="operator"),
    ],
)
def test_only_a_standalone_job_wait_remembers(wait: WaitFor) -> None:
    assert wait.remember(snapshot(jobs=[job("RUNNING")])) is wait


def test_the_memory_is_plain_json_in_the_wait() -> None:
    wait = _job_wait(job_seen=SEEN)
    data = json.loads(json.dumps(wait.to_dict()))
    assert data["job_seen"] == {
        "job_id": JOB_ID,
        "pod": JM_POD,
        "pod_uid": UID,
        "restart_count": 0,
    }
    assert WaitFor.from_dict(data) == wait


def test_the_wait_loop_of_operators_and_the_trigger_carries_the_memory() -> None:
    # The bookkeeping both loops share (ClusterObserver.wait in the worker, the
    # trigger's AsyncClusterObserver.wait): decide, then remember for the next snapshot.
    from airflow_provider_flink_k8s.hooks._waiting import WaitSteps

    steps = WaitSteps(_job_wait(job_id=JOB_ID), timeout=60, on_verdict=None)
    assert steps.step(snapshot(jobs=[job("RUNNING")]), waited=1) is None
    assert steps.step(snapshot(overview=None, rest_error="connection refused"), 2) is None
    outcome = steps.step(snapshot(pods=_replaced()), waited=3)
    assert outcome is not None and outcome.verdict.reason is Reason.JOB_LOST
    assert outcome.job_id == JOB_ID
