"""The FlinkSessionJob of a job on an operator-target session cluster."""

from __future__ import annotations

from airflow_provider_flink_k8s.manifests.sessionjob import (
    SESSION_JOB_NAME_MAX_LENGTH,
    render_session_job,
    session_job_name,
)
from airflow_provider_flink_k8s.spec import load_cluster
from airflow_provider_flink_k8s.spec.sessionjob import read_flink_session_job


def test_names_are_dns_labels_and_stay_distinct_when_cut() -> None:
    assert session_job_name("clicks", "Submit_Job.v2") == "clicks-submit-job-v2"
    long_a = session_job_name("clicks", "a" * 80)
    long_b = session_job_name("clicks", "a" * 81)
    assert len(long_a) == SESSION_JOB_NAME_MAX_LENGTH and long_a != long_b


def test_the_session_job_reads_back_into_the_spec() -> None:
    cluster = load_cluster(
        {"name": "clicks", "namespace": "ns", "mode": "session", "target": "operator"}
    )
    manifest = render_session_job(
        cluster,
        "clicks-submit",
        jar_uri="https://repo/job.jar",
        entry_class="a.Main",
        args=["--x", "1"],
        parallelism=2,
        initial_savepoint="s3://sp/1",
        allow_non_restored_state=True,
    )
    assert manifest["spec"]["deploymentName"] == "clicks"
    assert manifest["metadata"]["namespace"] == "ns"
    spec = read_flink_session_job(manifest)
    assert spec.deployment_name == "clicks"
    assert spec.job.jar_uri == "https://repo/job.jar" and spec.job.args == ["--x", "1"]
    assert spec.job.initial_savepoint == "s3://sp/1" and spec.job.parallelism == 2
