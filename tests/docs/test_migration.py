"""docs/migration.md holds: every Python block is a DAG that runs on the sandbox as written
(``tests/conftest.py`` puts them in the DAGs folder, see ``doc_snippets``); the official
provider's DAG becomes ours by the switch the doc's table gives (the import and the class
names); the official arguments keep their meaning."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from dag_support import LocalSandbox, task_states
from doc_snippets import snippets
from kubernetes import client, config

from flink_k8s_sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "migration.md").read_text(encoding="utf-8")
_SWITCH_ROW = re.compile(r"^\| `(?P<official>[^`]+)` \| `(?P<ours>[^`]+)` \|$", re.MULTILINE)


def _switch(code: str) -> str:
    """The official provider's code with the doc's switch table applied: whole import
    lines first, then class names."""
    rows = [(row["official"], row["ours"]) for row in _SWITCH_ROW.finditer(DOC)]
    assert len(rows) == 4, rows
    for official, ours in sorted(rows, key=lambda row: -len(row[0])):
        code = code.replace(official, ours)
    return code


def test_the_official_dag_becomes_ours_by_the_switch_the_table_gives() -> None:
    blocks = [s for s in snippets(REPO / "docs" / "migration.md") if s.language == "python"]
    assert len(blocks) == 4
    (official,) = [i for i, block in enumerate(blocks) if block.switched]
    ours = blocks[official + 1]
    assert "apache.flink" in blocks[official].text
    switched = _switch(blocks[official].text)
    assert "apache.flink" not in switched and "FlinkKubernetes" not in switched
    assert switched == ours.text
    # Every other block is one of the DAGs the suite runs (tests/docs/test_doc_dags.py).
    assert all(block.is_dag for i, block in enumerate(blocks) if i != official)


def test_the_guides_dags_import(dag_bag: Any) -> None:
    for dag_id in (
        "flink_migration_switch",
        "flink_migration_teardown",
        "flink_migration_standalone",
    ):
        assert dag_bag.get_dag(dag_id) is not None, dag_bag.import_errors


@pytest.fixture(scope="module")
def custom(simulated_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    simulated_sandbox.write_kubeconfig(kubeconfig)
    api = config.new_client_from_config(str(kubeconfig))
    for namespace in ("flink", "kubeopts"):
        client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})
    yield client.CustomObjectsApi(api)
    api.close()


def _flink_deployment(custom: Any, namespace: str) -> dict[str, Any] | None:
    try:
        return dict(
            custom.get_namespaced_custom_object(
                "flink.apache.org", "v1beta1", namespace, "flinkdeployments", "clickstream-app"
            )
        )
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def test_the_switched_official_dag_deploys_and_its_sensor_waits_by_name_with_the_log(
    custom: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_migration_switch")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "wait": "success"}, out[-4000:]
    deployed = _flink_deployment(custom, "flink")
    assert deployed is not None and deployed["status"]["jobManagerDeploymentStatus"] == "READY"
    waited = dag_run.get_task_instance("wait").xcom_pull(task_ids="wait")
    assert (waited["name"], waited["namespace"]) == ("clickstream-app", "flink")
    # attach_log: the JobManager's log in the sensor's task log, on success.
    assert "JobManager log (clickstream-app-" in out, out[-4000:]
    assert "sandbox: simulated container flink-main-container started" in out


def test_the_teardown_example_deploys_then_suspends_with_a_savepoint_and_deletes(
    custom: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_migration_teardown")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "teardown": "success"}, out[-4000:]
    savepoint = dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    assert isinstance(savepoint, str) and "savepoint" in savepoint, savepoint
    assert _flink_deployment(custom, "flink") is None


def _two_contexts(sandbox: SandboxServer, path: Path) -> Path:
    """A kubeconfig whose current context points nowhere; context ``sandbox`` reaches it."""
    document = sandbox.kubeconfig_dict("default", None)
    (context,) = document["contexts"]
    (cluster,) = document["clusters"]
    context["name"] = "sandbox"
    nowhere = {
        "name": "nowhere",
        "cluster": {**cluster["cluster"], "server": "https://127.0.0.1:9"},
    }
    document["clusters"].append(nowhere)
    document["contexts"].append(
        {"name": "nowhere", "context": {**context["context"], "cluster": "nowhere"}}
    )
    document["current-context"] = "nowhere"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_config_file_and_cluster_context_override_the_connection_deferred_too(
    custom: Any,
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nowhere = {"conn_type": "kubernetes", "extra": {"kube_config_path": "/nonexistent/config"}}
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_NOWHERE", json.dumps(nowhere))
    kubeconfig = _two_contexts(simulated_sandbox, tmp_path / "config")
    conf = {"namespace": "kubeopts", "config_file": str(kubeconfig), "context": "sandbox"}
    dag_run = run_dag("flink_test_kube_options", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "wait": "success"}, out[-4000:]
    assert _flink_deployment(custom, "kubeopts") is not None
    assert "JobManager log (clickstream-app-" in out, out[-4000:]


def test_in_cluster_overrides_the_connection(
    run_dag: Any, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_PLAIN", json.dumps({"conn_type": "kubernetes"}))
    dag_run = run_dag("flink_test_in_cluster")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    assert "Service host/port is not set" in out, out[-4000:]


@pytest.mark.slow
def test_the_standalone_example_runs_the_same_file_on_real_flink(
    local_sandbox: LocalSandbox, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_migration_standalone")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success", "teardown": "success"}, out[-4000:]
    result = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert (result["target"], result["mode"]) == ("standalone", "application")
    assert result["job_id"]
