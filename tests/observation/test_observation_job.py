"""classify_job, classify_cluster_job, select_job, job_states and running_job: Flink's
JobStatus, decided."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

import pytest
from observation_builders import (
    JM_POD,
    JOB_ID,
    NOW,
    ROOT_EXCEPTION,
    job,
    job_exceptions,
    pod,
    snapshot,
    terminated,
    waiting,
    with_jobmanager,
)

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.observation import (
    JOB_STATES,
    FlinkJob,
    Lifecycle,
    Reason,
    classify_cluster_job,
    classify_job,
    job_states,
    running_job,
    select_job,
    summarize_exception,
)
from airflow_provider_flink_k8s.observation.job import ROOT_EXCEPTION_LIMIT

SUMMARY = (
    "org.apache.flink.runtime.JobException: Recovery is suppressed by "
    "NoRestartBackoffTimeStrategy\n"
    "Caused by: java.lang.ArithmeticException: / by zero"
)
JOB = f"Flink job {JOB_ID}"


@pytest.mark.parametrize(
    ("state", "targets", "lifecycle", "reason", "message"),
    [
        ("RUNNING", ("RUNNING",), Lifecycle.READY, Reason.READY, f"{JOB} is RUNNING"),
        ("running", ("RUNNING",), Lifecycle.READY, Reason.READY, f"{JOB} is RUNNING"),
        ("FINISHED", ("FINISHED",), Lifecycle.READY, Reason.READY, f"{JOB} is FINISHED"),
        ("FINISHED", ("RUNNING", "FINISHED"), Lifecycle.READY, Reason.READY, f"{JOB} is FINISHED"),
        ("FAILED", ("RUNNING",), Lifecycle.FAILED, Reason.JOB_FAILED, f"{JOB} FAILED: {SUMMARY}"),
        (
            "CANCELED",
            ("RUNNING",),
            Lifecycle.FAILED,
            Reason.JOB_CANCELED,
            f"{JOB} is CANCELED and will never be RUNNING",
        ),
        (
            "FINISHED",
            ("RUNNING",),
            Lifecycle.FAILED,
            Reason.JOB_FINISHED,
            f"{JOB} is FINISHED and will never be RUNNING",
        ),
        (
            "CANCELED",
            ("RUNNING", "FINISHED"),
            Lifecycle.FAILED,
            Reason.JOB_CANCELED,
            f"{JOB} is CANCELED and will never be RUNNING or FINISHED",
        ),
        *[
            (
                state,
                ("RUNNING",),
                Lifecycle.PROGRESSING,
                Reason.JOB_PENDING,
                f"{JOB} is {state}, waiting for RUNNING",
            )
            for state in JOB_STATES
            if state not in ("RUNNING", "FAILED", "CANCELED", "FINISHED")
        ],
        (
            "SOMETHING_NEW",
            ("FINISHED",),
            Lifecycle.PROGRESSING,
            Reason.JOB_PENDING,
            f"{JOB} is SOMETHING_NEW, waiting for FINISHED",
        ),
    ],
)
def test_job_states_table(
    state: str, targets: Collection[str], lifecycle: Lifecycle, reason: Reason, message: str
) -> None:
    verdict = classify_job(
        state, target_states=targets, root_exception=ROOT_EXCEPTION, job_id=JOB_ID
    )
    assert (verdict.lifecycle, verdict.reason, verdict.message) == (lifecycle, reason, message)


def test_a_failed_job_keeps_its_root_exception_in_details() -> None:
    verdict = classify_job("FAILED", root_exception=ROOT_EXCEPTION, job_id=JOB_ID)
    assert verdict.details == {
        "state": "FAILED",
        "job_id": JOB_ID,
        "root_exception": ROOT_EXCEPTION.strip(),
    }
    huge = classify_job("FAILED", root_exception="x" * (ROOT_EXCEPTION_LIMIT * 2))
    assert len(huge.details["root_exception"]) == ROOT_EXCEPTION_LIMIT


def test_a_failed_job_without_root_exception_says_so() -> None:
    verdict = classify_job("FAILED", root_exception=None)
    assert verdict.message == "Flink job FAILED (Flink reported no root exception)"


@pytest.mark.parametrize("targets", [(), ("RUNING",), ["RUNNING", "DONE"]])
def test_unknown_target_states_are_refused(targets: Collection[str]) -> None:
    with pytest.raises(ValueError, match="target_states must name Flink job states"):
        classify_job("RUNNING", target_states=targets)


def test_job_states_is_one_rule_naming_its_field() -> None:
    assert job_states("running") == ("RUNNING",)
    assert job_states(["finished", " FAILED", "FINISHED"]) == ("FINISHED", "FAILED")
    with pytest.raises(ValueError) as refused:
        job_states(["RUNNING", "DONE"], field="wait_for")
    message = str(refused.value)
    assert message.startswith("wait_for must name Flink job states (INITIALIZING, ")
    assert message.endswith("; got RUNNING, DONE (not job states: DONE)")
    for bad, got in (((), "none"), (5, "5 (not job states: 5)"), (None, "None (not")):
        with pytest.raises(ValueError, match=f"target_states must name .*; got {re.escape(got)}"):
            job_states(bad)


A, B, C = "a" * 32, "b" * 32, "c" * 32


def test_running_job_is_the_given_one_else_the_only_running_one() -> None:
    jobs = [FlinkJob(id=A, state="FINISHED"), FlinkJob(id=B, name="clicks", state="RUNNING")]
    assert running_job(jobs, None, cluster="demo", action="savepoint") == B
    assert running_job(jobs, A, cluster="demo", action="savepoint") == A
    assert running_job(jobs, "", cluster="demo", action="savepoint") == B


@pytest.mark.parametrize(
    ("jobs", "job_id", "rule"),
    [
        ([], None, "cluster demo runs no RUNNING job to rescale (jobs: none)"),
        (
            [FlinkJob(id=A, state="CANCELED")],
            None,
            f"cluster demo runs no RUNNING job to rescale (jobs: {A} (CANCELED))",
        ),
        (
            [FlinkJob(id=A, name="x", state="RUNNING"), FlinkJob(id=B, state="RUNNING")],
            None,
            f"cluster demo runs 2 RUNNING jobs ({A} (x), {B}); name the one to rescale with job_id",
        ),
        (
            [FlinkJob(id=A, state="RUNNING")],
            C,
            f"cluster demo has no job {C} (jobs: {A} (RUNNING))",
        ),
    ],
)
def test_no_job_to_act_on_is_a_bad_job_id(
    jobs: list[FlinkJob], job_id: str | None, rule: str
) -> None:
    with pytest.raises(SpecError) as refused:
        running_job(jobs, job_id, cluster="demo", action="rescale")
    (problem,) = refused.value.problems
    assert (problem.field, problem.rule) == ("job_id", rule)
    assert refused.value.subject == "rescale request"


def test_summarize_exception_keeps_the_exception_and_its_deepest_causes() -> None:
    assert summarize_exception(ROOT_EXCEPTION) == SUMMARY
    chain = "\n".join(f"Caused by: E{i}: level {i}\n\tat x.y(Z.java:{i})" for i in range(10))
    assert summarize_exception("Top: boom\n" + chain, max_lines=4) == (
        "Top: boom\n...\nCaused by: E7: level 7\nCaused by: E8: level 8\nCaused by: E9: level 9"
    )


CLUSTER_JOB = [
    pytest.param(
        {"jobs": [job("RUNNING")]},
        {},
        Lifecycle.READY,
        Reason.READY,
        f"{JOB} is RUNNING",
        id="running",
    ),
    pytest.param(
        {"jobs": [job("FAILED")], "job_exceptions": {JOB_ID: job_exceptions()}},
        {},
        Lifecycle.FAILED,
        Reason.JOB_FAILED,
        f"{JOB} FAILED: {SUMMARY}",
        id="failed-flink-2-history",
    ),
    pytest.param(
        {"jobs": [job("FAILED")], "job_exceptions": {JOB_ID: job_exceptions(legacy=True)}},
        {},
        Lifecycle.FAILED,
        Reason.JOB_FAILED,
        f"{JOB} FAILED: {SUMMARY}",
        id="failed-flink-1-root-exception",
    ),
    pytest.param(
        {"jobs": [job("FINISHED")]},
        {"target_states": ("FINISHED",)},
        Lifecycle.READY,
        Reason.READY,
        f"{JOB} is FINISHED",
        id="batch-finished",
    ),
    pytest.param(
        {"jobs": [job("INITIALIZING")]},
        {},
        Lifecycle.PROGRESSING,
        Reason.JOB_PENDING,
        f"{JOB} is INITIALIZING, waiting for RUNNING",
        id="initializing",
    ),
    pytest.param(
        {"jobs": []},
        {},
        Lifecycle.PROGRESSING,
        Reason.JOB_NOT_FOUND,
        "Flink cluster clickstream runs no job yet",
        id="not-submitted",
    ),
    pytest.param(
        {"jobs": [job("RUNNING", "0" * 32)]},
        {"job_id": JOB_ID},
        Lifecycle.PROGRESSING,
        Reason.JOB_NOT_FOUND,
        f"Flink cluster clickstream runs no job {JOB_ID} yet",
        id="other-job",
    ),
    pytest.param(
        {"overview": None, "rest_error": "503 Service Unavailable"},
        {},
        Lifecycle.PROGRESSING,
        Reason.REST_UNAVAILABLE,
        "Flink cluster clickstream: the JobManager REST API does not answer yet: "
        "503 Service Unavailable",
        id="rest-unavailable",
    ),
    pytest.param(
        {
            "jobs": [job("FAILED")],
            "pods": with_jobmanager(
                pod(
                    "jobmanager",
                    containers=[waiting("CrashLoopBackOff", restarts=3, last=terminated())],
                )
            ),
        },
        {},
        Lifecycle.FAILED,
        Reason.CRASH_LOOP_BACK_OFF,
        f"JobManager pod {JM_POD} is in CrashLoopBackOff (restarted 3 times, last exit code 1)",
        id="pod-failure-first",
    ),
    pytest.param(
        {"jobmanager_deployment": None, "taskmanager_deployment": None, "pods": []},
        {},
        Lifecycle.MISSING,
        Reason.NOT_DEPLOYED,
        "Flink cluster clickstream has no JobManager or TaskManager Deployment",
        id="missing",
    ),
]


@pytest.mark.parametrize(("overrides", "kwargs", "lifecycle", "reason", "message"), CLUSTER_JOB)
def test_cluster_job_table(
    overrides: dict[str, Any],
    kwargs: dict[str, Any],
    lifecycle: Lifecycle,
    reason: Reason,
    message: str,
) -> None:
    verdict = classify_cluster_job(snapshot(**overrides), now=NOW, **kwargs)
    assert (verdict.lifecycle, verdict.reason, verdict.message) == (lifecycle, reason, message)


def test_select_job_by_id_or_latest_start() -> None:
    old = FlinkJob.from_rest(job("FINISHED", "1" * 32, start=1000))
    new = FlinkJob.from_rest(job("RUNNING", "2" * 32, start=2000))
    undated = FlinkJob(id="3" * 32)
    assert select_job([old, new, undated]) == new
    assert select_job([old, new], "1" * 32) == old
    assert select_job([old, new], "9" * 32) is None
    assert select_job([]) is None
    assert select_job([undated, FlinkJob(id="4" * 32)]).id == "4" * 32  # type: ignore[union-attr]


def test_a_job_failed_a_moment_ago_waits_for_its_root_exception() -> None:
    # Flink lists a job FAILED a moment before its exception history has the cause: the
    # wait gives it CAUSE_GRACE, then fails with or without one.
    from observation_builders import NOW, job, job_exceptions, snapshot

    from airflow_provider_flink_k8s.observation.job import CAUSE_GRACE

    ended_ms = int(NOW.timestamp() * 1000)
    failed = {**job("FAILED"), "end-time": ended_ms}
    pending = classify_cluster_job(snapshot(jobs=[failed]), now=NOW)
    assert (pending.lifecycle, pending.reason) == (Lifecycle.PROGRESSING, Reason.JOB_PENDING)
    assert "waiting for Flink to record why" in pending.message
    later = classify_cluster_job(snapshot(jobs=[failed]), now=NOW + CAUSE_GRACE)
    assert (later.lifecycle, later.reason) == (Lifecycle.FAILED, Reason.JOB_FAILED)
    explained = snapshot(jobs=[failed], job_exceptions={JOB_ID: job_exceptions()})
    assert classify_cluster_job(explained, now=NOW).reason is Reason.JOB_FAILED
    awaited = classify_cluster_job(snapshot(jobs=[failed]), now=NOW, target_states=("FAILED",))
    assert awaited.lifecycle is Lifecycle.READY
