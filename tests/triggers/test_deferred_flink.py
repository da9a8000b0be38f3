"""Deferred savepoint and teardown-with-savepoint against real Flink (the sandbox's local
runtime): every wait of the submit, savepoint and teardown tasks runs in the triggerer,
and the savepoints are on disk. A savepoint Flink cannot write fails the savepoint and
the teardown, deferred and in the worker, with Flink's cause, and leaves the cluster and
its job running."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox, deferrals, provider_sleeps, task_states

from airflow_provider_flink_k8s.flinkrest import FlinkRestService
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox.flink import SQL_RUNNER_JAR, live_processes

pytestmark = pytest.mark.slow


def _metadata(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//")) / "_metadata"


def _conf(local_sandbox: LocalSandbox, name: str) -> dict[str, Any]:
    usrlib = local_sandbox.usrlib
    return {
        "cluster": {
            "name": name,
            "mode": "session",
            "jobmanager": {"memory": "1024m", "cpu": 0.5},
            "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
            "savepoint_dir": (local_sandbox.state / "savepoints").as_uri(),
            "flink_configuration": {"restart-strategy.type": "none"},
        },
        "jar": str(usrlib / SQL_RUNNER_JAR),
        "entry_class": "flinkk8s.SqlRunner",
        "args": ["--script", str(usrlib / "clickstream.sql")],
    }


def test_savepoint_and_teardown_with_a_savepoint_by_deferral_on_real_flink(
    local_sandbox: LocalSandbox,
    run_dag: Any,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    conf = _conf(local_sandbox, "deferred-flink")
    dag_run = run_dag("flink_test_deferred", conf)
    out = capfd.readouterr().out
    tasks = ("deploy", "submit", "savepoint", "teardown")
    assert task_states(dag_run) == dict.fromkeys(tasks, "success"), out[-6000:]
    assert deferrals(caplog) == {"deploy": 1, "submit": 1, "savepoint": 2, "teardown": 4}
    assert provider_sleeps(worker_sleeps) == []
    savepoint = dag_run.get_task_instance("savepoint").xcom_pull(task_ids="savepoint")
    final = dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    assert _metadata(savepoint).is_file() and _metadata(final).is_file()
    assert savepoint != final
    assert FlinkKubernetesHook().remaining_objects("deferred-flink", "default") == ()
    assert live_processes() == ()


def test_a_savepoint_flink_cannot_write_fails_the_tasks_and_leaves_the_cluster_and_job_running(
    local_sandbox: LocalSandbox,
    run_dag: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    conf = {**_conf(local_sandbox, "unwritable"), "savepoint_dir": "file:///proc/no-savepoints"}
    dag_run = run_dag("flink_test_deferred_failing_savepoint", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {
        "deploy": "success",
        "submit": "success",
        "savepoint": "failed",
        "teardown": "failed",
    }, out[-6000:]
    assert deferrals(caplog) == {"deploy": 1, "submit": 1, "savepoint": 2, "teardown": 2}
    # Both failed with Flink's own cause (savepoint, then the teardown's stop).
    failed = re.findall(r"savepoint ([0-9a-f]{32}) of job [0-9a-f]{32} failed: (.+)", out)
    assert len({trigger for trigger, _ in failed}) == 2, out[-6000:]
    assert all("Failed to create savepoint directory" in cause for _, cause in failed)
    # The cluster and the job are untouched: every object is there, the job RUNNING.
    hook = FlinkKubernetesHook()
    objects = hook.remaining_objects("unwritable", "default")
    rendered = render_manifests(load_cluster(conf["cluster"]))
    assert {f"{m['kind']}/{m['metadata']['name']}" for m in rendered} <= set(objects), objects
    job_id = dag_run.get_task_instance("submit").xcom_pull(task_ids="submit")
    service = FlinkRestService.for_cluster("unwritable", "default", route="service_proxy")
    with FlinkRestHook(service=service) as rest:
        assert {job.id: job.state for job in rest.jobs()} == {job_id: "RUNNING"}

        # The same failures waiting in the worker (deferrable=False).
        single = {"cluster": conf["cluster"], "savepoint_dir": conf["savepoint_dir"]}
        savepoint = run_dag("flink_test_failures_savepoint", {**single, "job_id": job_id})
        teardown = run_dag("flink_test_failures_teardown", single)
        out = capfd.readouterr().out
        assert task_states(savepoint) == {"savepoint": "failed"}, out[-6000:]
        assert task_states(teardown) == {"teardown": "failed"}, out[-6000:]
        found = re.findall(r"savepoint ([0-9a-f]{32}) of job ([0-9a-f]{32}) failed: (.+)", out)
        assert {job for _, job, _ in found} == {job_id}, out[-6000:]
        assert len({trigger for trigger, _, _ in found}) == 2  # the savepoint, the stop
        assert all("Failed to create savepoint directory" in cause for _, _, cause in found)
        assert "Deleting" not in out
        assert {job.id: job.state for job in rest.jobs()} == {job_id: "RUNNING"}
    assert hook.remaining_objects("unwritable", "default") == objects
    hook.delete_cluster("unwritable", "default", timeout=60)
    assert live_processes() == ()
