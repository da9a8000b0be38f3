"""The "Flink Web UI" extra link in real DAG runs (simulated sandbox): quiet when a task
never knew its cluster, the spec's ``rest_service.web_ui_url`` when given, and kept
across a deferral."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from dag_support import task_states

from airflow_provider_flink_k8s.operators import FlinkTeardownOperator
from airflow_provider_flink_k8s.operators.base import FlinkWebUILink
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer

# A FlinkDeployment's job runs on the stand-in operator: the simulated sandbox makes it
# ready, so a deploy with the operator target completes there.
OPERATOR_SPEC: dict[str, Any] = {
    "mode": "application",
    "target": "operator",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1024m", "cpu": 0.5, "slots": 1},
    "job": {"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 1},
}


def _link(dag_run: Any, task_id: str) -> Any:
    ti = dag_run.get_task_instance(task_id)
    return ti.xcom_pull(task_ids=task_id, key=FlinkWebUILink.key)


@pytest.mark.parametrize(
    ("dag_id", "task_id", "cluster", "state"),
    [
        (
            "flink_test_link_teardown_missing",
            "teardown",
            {"name": "never-deployed", "mode": "session"},
            "success",
        ),
        (
            "flink_test_link_bad_spec",
            "deploy",
            {"name": "bad", "mode": "session", "taskmanager": {"slots": 0}},
            "failed",
        ),
    ],
)
def test_a_task_that_never_reached_its_cluster_has_no_link_and_logs_no_error_about_it(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
    task_id: str,
    cluster: dict[str, Any],
    state: str,
) -> None:
    dag_run = run_dag(dag_id, {"cluster": cluster})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {task_id: state}, out[-3000:]
    assert "XCom not found" not in out
    assert "Failed to push an xcom for task operator extra link" not in out
    assert not _link(dag_run, task_id)


@pytest.mark.parametrize("dag_id", ["flink_test_deploy", "flink_test_deploy_deferred"])
def test_the_link_is_the_address_the_spec_gives_before_and_after_a_deferral(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    dag_id: str,
) -> None:
    name = "linked" + ("d" if "deferred" in dag_id else "p")
    url = f"https://flink.example.com/{name}/"
    spec = {**OPERATOR_SPEC, "name": name, "rest_service": {"web_ui_url": url}}
    dag_run = run_dag(dag_id, {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success"}, out[-3000:]
    assert _link(dag_run, "deploy") == url
    result = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert result["web_ui_url"] == url
    assert "XCom not found" not in out


def test_without_an_address_the_link_is_the_dashboard_through_the_service_proxy_after_a_deferral(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    spec = {**OPERATOR_SPEC, "name": "proxied"}
    dag_run = run_dag("flink_test_deploy_deferred", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success"}, out[-3000:]
    link = _link(dag_run, "deploy")
    assert link.startswith("https://127.0.0.1:") or link.startswith("http://127.0.0.1:"), link
    assert link.endswith("/api/v1/namespaces/default/services/proxied-rest:rest/proxy/#/overview")


def test_a_flink_cluster_shows_as_yaml_in_the_rendered_template_view(
    simulated_sandbox: SandboxServer, run_dag: Any, dag_bag: Any
) -> None:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    dag_run = run_dag("flink_test_rendered_cluster")
    assert task_states(dag_run) == {"teardown": "success"}
    ti = dag_run.get_task_instance("teardown")
    rendered = RenderedTaskInstanceFields.get_templated_fields(ti)
    text = rendered["cluster"]
    assert isinstance(text, str) and text.startswith("name: rendered\n"), text
    spec = dag_bag.get_dag("flink_test_rendered_cluster").get_task("teardown").cluster
    assert load_cluster(text) == spec
    assert yaml.safe_load(text)["taskmanager"] == {"memory": "2g", "slots": 2}
    assert type(spec).__name__ == "FlinkCluster"
    assert FlinkTeardownOperator.template_fields_renderers["cluster"] == "yaml"


def test_with_a_flink_connection_the_link_is_the_dashboard_at_its_url(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_FLINK_INGRESS",
        json.dumps({"conn_type": "flink", "host": "https://flink.example.com/orders"}),
    )
    spec = {**OPERATOR_SPEC, "name": "ingressed"}
    dag_run = run_dag("flink_test_link_flink_conn", {"cluster": spec})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success"}, out[-3000:]
    assert _link(dag_run, "deploy") == "https://flink.example.com/orders/#/overview"
