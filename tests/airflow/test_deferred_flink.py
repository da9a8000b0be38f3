"""Deferred savepoint and teardown-with-savepoint against real Flink (the sandbox's local
runtime): every wait of the submit, savepoint and teardown tasks runs in the triggerer,
and the savepoints are on disk."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from dag_support import LocalSandbox, deferrals, provider_sleeps, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.sandbox.flink import SQL_RUNNER_JAR, live_processes

pytestmark = pytest.mark.slow


def _metadata(location: str) -> Path:
    return Path(location.removeprefix("file:").removeprefix("//")) / "_metadata"


def test_savepoint_and_teardown_with_a_savepoint_by_deferral_on_real_flink(
    local_sandbox: LocalSandbox,
    run_dag: Any,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    usrlib = local_sandbox.usrlib
    conf = {
        "cluster": {
            "name": "deferred-flink",
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
    dag_run = run_dag("flink_test_deferred", conf)
    out = capfd.readouterr().out
    tasks = ("deploy", "submit", "savepoint", "teardown")
    assert task_states(dag_run) == dict.fromkeys(tasks, "success"), out[-6000:]
    assert deferrals(caplog) == {"deploy": 1, "submit": 1, "savepoint": 2, "teardown": 3}
    assert provider_sleeps(worker_sleeps) == []
    savepoint = dag_run.get_task_instance("savepoint").xcom_pull(task_ids="savepoint")
    final = dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    assert _metadata(savepoint).is_file() and _metadata(final).is_file()
    assert savepoint != final
    assert FlinkKubernetesHook().remaining_objects("deferred-flink", "default") == ()
    assert live_processes() == ()
