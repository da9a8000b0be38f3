"""An upgrading FlinkDeployment is not ready, even while its old job still runs."""

from __future__ import annotations

from airflow_provider_flink_k8s.observation import Lifecycle, Reason, classify_flink_deployment


def test_an_upgrade_in_progress_is_progressing_although_the_old_job_runs() -> None:
    status = {
        "lifecycleState": "UPGRADING",
        "jobManagerDeploymentStatus": "READY",
        "observedGeneration": 2,
        "jobStatus": {"state": "RUNNING", "jobId": "a" * 32},
    }
    verdict = classify_flink_deployment(status, generation=2, target="job", name="app")
    assert verdict.lifecycle is Lifecycle.PROGRESSING
    assert verdict.reason is Reason.DEPLOYING
    assert "UPGRADING" in verdict.message


def test_a_deployed_application_with_its_job_running_is_ready_with_the_job_id() -> None:
    status = {
        "lifecycleState": "DEPLOYED",
        "jobManagerDeploymentStatus": "READY",
        "jobStatus": {"state": "RUNNING", "jobId": "b" * 32},
    }
    verdict = classify_flink_deployment(status, generation=None, target="job", name="app")
    assert verdict.lifecycle is Lifecycle.READY
    assert verdict.details["job_id"] == "b" * 32


def test_a_running_job_whose_tasks_still_deploy_is_not_ready_yet() -> None:
    from datetime import datetime, timezone

    from airflow_provider_flink_k8s.observation import ClusterSnapshot, classify_cluster_job

    def snapshot(running: int) -> ClusterSnapshot:
        deployment = {
            "metadata": {"name": "c-jobmanager", "generation": 1},
            "spec": {"replicas": 1},
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "readyReplicas": 1,
                "updatedReplicas": 1,
                "availableReplicas": 1,
            },
        }
        job = {
            "jid": "c" * 32,
            "state": "RUNNING",
            "start-time": 1,
            "tasks": {"total": 4, "running": running, "deploying": 4 - running},
        }
        return ClusterSnapshot.from_k8s(
            name="c",
            jobmanager_deployment=deployment,
            taskmanager_deployment=deployment,
            overview={"taskmanagers": 1, "slots-total": 4},
            jobs=[job],
        )

    now = datetime.now(timezone.utc)
    pending = classify_cluster_job(snapshot(running=1), now=now)
    assert pending.lifecycle is Lifecycle.PROGRESSING and pending.reason is Reason.JOB_PENDING
    assert "1 of 4 tasks running" in pending.message
    assert classify_cluster_job(snapshot(running=4), now=now).lifecycle is Lifecycle.READY
