"""With ``deferrable=True`` the submit, savepoint and teardown tasks never wait in the
worker: each acts, defers to FlinkClusterTrigger (``dag.test()`` runs it inline), and
resumes -- more than once when the operation has several waits.

Two witnesses, neither changing behaviour: Airflow's own ``[DAG TEST] running trigger in
line`` log record, counted per task (each is one deferral), and a counter around
``time.sleep`` (it still sleeps) that records which module called it -- no provider
module may sleep while a deferrable task runs. The same counter sees the worker-side
wait's sleeps when the tasks do not defer, so it does count.

On the simulated sandbox (the Flink REST stand-in and the stand-in Flink Kubernetes
Operator); ``test_deferred_flink.py`` runs the standalone DAG against real Flink.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from dag_support import PROVIDER, deferrals, orders_jar, provider_sleeps, task_states

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from flink_k8s_sandbox import SandboxServer

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "specs"


def _standalone(name: str, state: Path) -> dict[str, Any]:
    return {
        "name": name,
        "mode": "session",
        "jobmanager": {"memory": "1024m", "cpu": 0.5},
        "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 2, "replicas": 1},
        "savepoint_dir": (state / "savepoints").as_uri(),
    }


def _results(dag_run: Any, *task_ids: str) -> dict[str, Any]:
    return {t: dag_run.get_task_instance(t).xcom_pull(task_ids=t) for t in task_ids}


def test_deferrable_submit_savepoint_and_teardown_wait_only_in_the_triggerer(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    conf = {"cluster": _standalone("deferred", tmp_path), "jar": str(orders_jar(tmp_path))}
    dag_run = run_dag("flink_test_deferred", {**conf, "entry_class": None, "args": []})
    out = capfd.readouterr().out
    tasks = ("deploy", "submit", "savepoint", "teardown")
    assert task_states(dag_run) == dict.fromkeys(tasks, "success"), out[-6000:]
    # savepoint: tasks running, then the savepoint; teardown: tasks running, the stop's
    # savepoint, every object but the anchor gone, then the anchor gone.
    assert deferrals(caplog) == {"deploy": 1, "submit": 1, "savepoint": 2, "teardown": 4}
    assert provider_sleeps(worker_sleeps) == []
    results = _results(dag_run, "submit", "savepoint", "teardown")
    assert results["savepoint"].startswith("file:") and results["teardown"].startswith("file:")
    assert results["savepoint"] != results["teardown"]
    assert "Deleted " in out and "nothing is left" in out
    assert FlinkKubernetesHook().remaining_objects("deferred", "default") == ()


def test_without_deferral_the_same_operators_wait_in_the_worker(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    cluster = _standalone("in-worker", tmp_path)
    cluster["flink_configuration"] = {"jobmanager.scheduler": "adaptive"}  # for its rescale
    conf = {
        "cluster": cluster,
        "jar": str(orders_jar(tmp_path)),
        "entry_class": None,
        "parallelism": 1,
        "rescale_parallelism": 2,
    }
    dag_run = run_dag("flink_test_simulated", conf)
    assert set(task_states(dag_run).values()) == {"success"}
    assert deferrals(caplog) == {}
    # The counter counts: the worker-side waits sleep in the one wait loop.
    assert f"{PROVIDER}hooks.observer" in provider_sleeps(worker_sleeps)


def test_operator_target_savepoint_and_suspending_teardown_defer(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    app = yaml.safe_load((EXAMPLE / "clickstream_operator.yaml").read_text())
    app["metadata"]["name"] = "deferred-app"
    app["spec"]["flinkConfiguration"]["state.savepoints.dir"] = (tmp_path / "sp").as_uri()
    dag_run = run_dag("flink_test_deferred_operator", {"cluster": app})
    out = capfd.readouterr().out
    tasks = ("deploy", "savepoint", "teardown")
    assert task_states(dag_run) == dict.fromkeys(tasks, "success"), out[-6000:]
    # savepoint: the nonce's savepoint; teardown: suspended with a savepoint, everything
    # but the FlinkDeployment (the anchor) gone, then the FlinkDeployment gone.
    assert deferrals(caplog) == {"deploy": 1, "savepoint": 1, "teardown": 3}
    assert provider_sleeps(worker_sleeps) == []
    results = _results(dag_run, "savepoint", "teardown")
    assert all(isinstance(path, str) and path for path in results.values()), results
    assert "FlinkDeployment deferred-app suspended; savepoint" in out
    assert FlinkKubernetesHook().get_object(FLINK_DEPLOYMENT, "default", "deferred-app") is None


def test_a_flink_session_job_is_awaited_and_removed_in_the_triggerer(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    worker_sleeps: list[str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    spec = {
        "name": "deferred-sess",
        "mode": "session",
        "target": "operator",
        "jobmanager": {"memory": "1024m", "cpu": 0.25},
        "taskmanager": {"memory": "1024m", "cpu": 0.25, "slots": 1, "replicas": 1},
    }
    conf = {"cluster": copy.deepcopy(spec), "jar": "https://example.com/job.jar"}
    dag_run = run_dag("flink_test_deferred_session_job", conf)
    out = capfd.readouterr().out
    tasks = ("deploy", "submit", "teardown")
    assert task_states(dag_run) == dict.fromkeys(tasks, "success"), out[-6000:]
    # teardown: the FlinkSessionJob gone, then the cluster but its anchor, then the anchor.
    assert deferrals(caplog) == {"deploy": 1, "submit": 1, "teardown": 3}
    assert provider_sleeps(worker_sleeps) == []
    assert len(_results(dag_run, "submit")["submit"]) == 32
    assert "Deleting FlinkSessionJob deferred-sess-submit" in out
    hook = FlinkKubernetesHook()
    assert hook.get_object(FLINK_SESSION_JOB, "default", "deferred-sess-submit") is None
    assert hook.remaining_objects("deferred-sess", "default") == ()
