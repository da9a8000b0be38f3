"""classify_flink_deployment and classify_operator_deployment: the operator's lifecycle table."""

from __future__ import annotations

from typing import Any

import pytest
from observation_builders import (
    JOB_ID,
    NOW,
    ROOT_EXCEPTION,
    SCHEDULER_MESSAGE,
    flink_deployment,
    operator_error_json,
    pod,
)

from airflow_provider_flink_k8s.observation import (
    ClusterSnapshot,
    Lifecycle,
    Reason,
    Verdict,
    classify_flink_deployment,
    classify_operator_deployment,
    operator_error,
)
from airflow_provider_flink_k8s.observation.flinkdeployment import Target

FD = "FlinkDeployment clickstream"
CRASH = (
    "[flink-main-container] CrashLoop - "
    "org.apache.flink.configuration.IllegalConfigurationException: bad key"
)
PULL = '[flink-main-container] Back-off pulling image "flink:9.9"'
HA = (
    "HA metadata not available to restore from last state. It is possible that the job has "
    "finished or terminally failed, or the configmaps have been deleted. Manual restore required."
)


def status(
    lifecycle: str | None = None,
    jm: str | None = None,
    job_state: str | None = None,
    error: str | None = None,
    observed: int | None = 2,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if lifecycle:
        out["lifecycleState"] = lifecycle
    if jm:
        out["jobManagerDeploymentStatus"] = jm
    if job_state:
        out["jobStatus"] = {"jobId": JOB_ID, "jobName": "clickstream", "state": job_state}
    if error is not None:
        out["error"] = error
    if observed is not None:
        out["observedGeneration"] = observed
    return out


TABLE = [
    # Settling.
    (
        {},
        "job",
        Lifecycle.PROGRESSING,
        Reason.RECONCILING,
        f"the operator has not reconciled {FD} yet",
    ),
    (
        status("STABLE", "READY", "RUNNING", observed=1),
        "job",
        Lifecycle.PROGRESSING,
        Reason.RECONCILING,
        f"the operator has not reconciled generation 2 of {FD} yet (observed 1)",
    ),
    (
        status("DELETING", "READY", "RUNNING"),
        "job",
        Lifecycle.DELETED,
        Reason.DELETED,
        f"{FD} is DELETING",
    ),
    (status("DELETED"), "cluster", Lifecycle.DELETED, Reason.DELETED, f"{FD} is DELETED"),
    # Ready.
    (
        status("STABLE", "READY", "RUNNING"),
        "job",
        Lifecycle.READY,
        Reason.READY,
        f"{FD} is STABLE with its JobManager READY",
    ),
    (
        status("DEPLOYED", "READY", "RUNNING"),
        "job",
        Lifecycle.READY,
        Reason.READY,
        f"{FD} is DEPLOYED with its JobManager READY",
    ),
    (
        status("STABLE", "READY"),
        "cluster",
        Lifecycle.READY,
        Reason.READY,
        f"{FD} is STABLE with its JobManager READY",
    ),
    # Progressing.
    (
        status("CREATED", "MISSING"),
        "cluster",
        Lifecycle.PROGRESSING,
        Reason.DEPLOYING,
        f"{FD} is CREATED, JobManager MISSING",
    ),
    (
        status("DEPLOYED", "DEPLOYING", "RECONCILING"),
        "job",
        Lifecycle.PROGRESSING,
        Reason.DEPLOYING,
        f"{FD} is DEPLOYED, JobManager DEPLOYING",
    ),
    (
        status("DEPLOYED", "DEPLOYED_NOT_READY"),
        "cluster",
        Lifecycle.PROGRESSING,
        Reason.DEPLOYING,
        f"{FD} is DEPLOYED, JobManager DEPLOYED_NOT_READY",
    ),
    (
        status(
            "UPGRADING", "MISSING", "RECONCILING", error=operator_error_json("savepoint timed out")
        ),
        "job",
        Lifecycle.PROGRESSING,
        Reason.DEPLOYING,
        f"{FD} is UPGRADING, JobManager MISSING; last error: savepoint timed out",
    ),
    (
        status("ROLLING_BACK", "DEPLOYING"),
        "job",
        Lifecycle.PROGRESSING,
        Reason.DEPLOYING,
        f"{FD} is ROLLING_BACK, JobManager DEPLOYING",
    ),
    (
        status("DEPLOYED", "READY", "CREATED"),
        "job",
        Lifecycle.PROGRESSING,
        Reason.JOB_PENDING,
        f"{FD}: Flink job {JOB_ID} is CREATED, waiting for RUNNING",
    ),
    (
        status("DEPLOYED", "READY", "RESTARTING"),
        "job",
        Lifecycle.PROGRESSING,
        Reason.JOB_PENDING,
        f"{FD}: Flink job {JOB_ID} is RESTARTING, waiting for RUNNING",
    ),
    (
        status("DEPLOYED", "READY"),
        "job",
        Lifecycle.PROGRESSING,
        Reason.JOB_PENDING,
        f"{FD}: Flink job is CREATED, waiting for RUNNING",
    ),
    # Failed.
    (
        status(
            "FAILED",
            "READY",
            "FAILED",
            error=operator_error_json(
                ROOT_EXCEPTION, exception="org.apache.flink.runtime.JobException"
            ),
        ),
        "job",
        Lifecycle.FAILED,
        Reason.JOB_FAILED,
        f"{FD}: Flink job {JOB_ID} FAILED: org.apache.flink.runtime.JobException: Recovery is "
        "suppressed by NoRestartBackoffTimeStrategy\n"
        "Caused by: java.lang.ArithmeticException: / by zero",
    ),
    (
        status(
            "DEPLOYED",
            "ERROR",
            "RECONCILING",
            error=operator_error_json(CRASH, reason="CrashLoopBackOff"),
        ),
        "job",
        Lifecycle.FAILED,
        Reason.CRASH_LOOP_BACK_OFF,
        f"{FD}: the JobManager deployment failed (CrashLoopBackOff): {CRASH}",
    ),
    (
        status("DEPLOYED", "ERROR", error=operator_error_json(PULL, reason="ImagePullBackOff")),
        "cluster",
        Lifecycle.FAILED,
        Reason.IMAGE_PULL_BACK_OFF,
        f"{FD}: the JobManager deployment failed (ImagePullBackOff): {PULL}",
    ),
    (
        status(
            "DEPLOYED",
            "ERROR",
            error=operator_error_json("volume mount failed", reason="FailedMount"),
        ),
        "cluster",
        Lifecycle.FAILED,
        Reason.FLINK_DEPLOYMENT_ERROR,
        f"{FD}: the JobManager deployment failed (FailedMount): volume mount failed",
    ),
    (
        status(
            "FAILED",
            "MISSING",
            "RECONCILING",
            error=operator_error_json(
                HA,
                exception="org.apache.flink.kubernetes.operator.exception.RecoveryFailureException",
            ),
        ),
        "job",
        Lifecycle.FAILED,
        Reason.FLINK_DEPLOYMENT_ERROR,
        f"{FD} FAILED: {HA}",
    ),
    (
        status("CREATED", error="Forbidden: job.parallelism must be positive"),
        "job",
        Lifecycle.FAILED,
        Reason.FLINK_DEPLOYMENT_ERROR,
        f"{FD} FAILED: Forbidden: job.parallelism must be positive",
    ),
    (
        status("ROLLED_BACK", "READY", "RUNNING"),
        "job",
        Lifecycle.FAILED,
        Reason.ROLLED_BACK,
        f"{FD} was rolled back to its last stable spec",
    ),
    (
        status("SUSPENDED", "MISSING", "SUSPENDED"),
        "job",
        Lifecycle.FAILED,
        Reason.SUSPENDED,
        f"{FD} is SUSPENDED",
    ),
    (
        status("STABLE", "READY", "CANCELED"),
        "job",
        Lifecycle.FAILED,
        Reason.JOB_CANCELED,
        f"{FD}: Flink job {JOB_ID} is CANCELED and will never be RUNNING",
    ),
    (
        status("STABLE", "MISSING", "FINISHED"),
        "job",
        Lifecycle.FAILED,
        Reason.JOB_FINISHED,
        f"{FD}: Flink job {JOB_ID} is FINISHED and will never be RUNNING",
    ),
    (
        status("STABLE", "MISSING", error=operator_error_json("JobManager deployment not found")),
        "cluster",
        Lifecycle.FAILED,
        Reason.FLINK_DEPLOYMENT_ERROR,
        f"{FD}: the JobManager deployment is gone: JobManager deployment not found",
    ),
]


@pytest.mark.parametrize(("raw", "target", "lifecycle", "reason", "message"), TABLE)
def test_lifecycle_states_table(
    raw: dict[str, Any], target: Target, lifecycle: Lifecycle, reason: Reason, message: str
) -> None:
    verdict = classify_flink_deployment(raw, generation=2, target=target, name="clickstream")
    assert (verdict.lifecycle, verdict.reason, verdict.message) == (lifecycle, reason, message)


def test_a_status_without_observed_generation_is_not_held_back() -> None:
    raw = status("STABLE", "READY", "RUNNING", observed=None)
    assert classify_flink_deployment(raw, generation=5, target="job").lifecycle is Lifecycle.READY


def test_operator_error_reads_json_and_text() -> None:
    assert operator_error(None) == (None, "")
    assert operator_error("plain text ") == (None, "plain text")
    assert operator_error(operator_error_json(CRASH, reason="CrashLoopBackOff")) == (
        "CrashLoopBackOff",
        CRASH,
    )
    nested = (
        '{"type":"org.apache.flink.kubernetes.operator.exception.ReconciliationException",'
        '"message":"org.apache.flink.util.FlinkRuntimeException: upgrade failed",'
        '"throwableList":[{"type":"java.util.concurrent.TimeoutException",'
        '"message":"savepoint timed out"}]}'
    )
    assert operator_error(nested) == (
        None,
        "org.apache.flink.util.FlinkRuntimeException: upgrade failed; "
        "caused by: savepoint timed out",
    )
    assert operator_error("[1, 2]") == (None, "[1, 2]")


def _operator_snapshot(
    raw_status: dict[str, Any],
    pods: list[dict[str, Any]] | None = None,
    *,
    generation: int = 2,
    deleting: bool = False,
) -> ClusterSnapshot:
    return ClusterSnapshot.from_k8s(
        name="clickstream",
        flink_deployment=flink_deployment(raw_status, generation=generation, deleting=deleting),
        pods=pods or [],
    )


def _native_taskmanager(**kwargs: Any) -> dict[str, Any]:
    raw = pod("taskmanager", "clickstream-taskmanager-1-1", **kwargs)
    raw["metadata"]["labels"] = {
        "app": "clickstream",
        "component": "taskmanager",
        "type": "flink-native-kubernetes",
    }
    return raw


def test_operator_target_reports_a_taskmanager_pod_failure_while_progressing() -> None:
    stuck = _native_taskmanager(unschedulable=SCHEDULER_MESSAGE, unschedulable_ago=120)
    verdict = classify_operator_deployment(
        _operator_snapshot(status("DEPLOYED", "READY", "CREATED"), [stuck]), target="job", now=NOW
    )
    assert verdict == Verdict(
        Lifecycle.FAILED,
        Reason.UNSCHEDULABLE,
        "TaskManager pod clickstream-taskmanager-1-1 cannot be scheduled (Unschedulable for 2m0s): "
        f"{SCHEDULER_MESSAGE}",
        {"pod": "clickstream-taskmanager-1-1", "unschedulable_seconds": 120},
    )


@pytest.mark.parametrize(
    ("raw", "lifecycle"),
    [
        (status("STABLE", "READY", "RUNNING"), Lifecycle.READY),
        (status("STABLE", "READY", "RUNNING", observed=1), Lifecycle.PROGRESSING),
    ],
)
def test_operator_target_trusts_ready_and_reconciling_verdicts(
    raw: dict[str, Any], lifecycle: Lifecycle
) -> None:
    stuck = _native_taskmanager(unschedulable=SCHEDULER_MESSAGE, unschedulable_ago=600)
    verdict = classify_operator_deployment(_operator_snapshot(raw, [stuck]), target="job", now=NOW)
    assert verdict.lifecycle is lifecycle


def test_operator_target_missing_and_deleting() -> None:
    missing = classify_operator_deployment(
        ClusterSnapshot(name="clickstream"), target="cluster", now=NOW
    )
    assert (missing.lifecycle, missing.message) == (Lifecycle.MISSING, f"{FD} does not exist")
    deleting = classify_operator_deployment(
        _operator_snapshot(status("STABLE", "READY"), deleting=True), target="cluster", now=NOW
    )
    assert (deleting.lifecycle, deleting.message) == (Lifecycle.DELETED, f"{FD} is being deleted")


def test_the_snapshot_keeps_only_the_lifecycle_part_of_the_status() -> None:
    snap = _operator_snapshot(status("STABLE", "READY", "RUNNING"), generation=3)
    assert snap.flink_deployment is not None
    assert snap.flink_deployment is not None
    assert snap.flink_deployment.generation == 3
    assert snap.flink_deployment.status == {
        "lifecycleState": "STABLE",
        "jobManagerDeploymentStatus": "READY",
        "jobStatus": {"jobId": JOB_ID, "jobName": "clickstream", "state": "RUNNING"},
        "observedGeneration": 2,
        "reconciliationStatus": {"reconciliationTimestamp": 1746100000000, "state": "DEPLOYED"},
    }
