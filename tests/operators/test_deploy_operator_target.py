"""FlinkDeployOperator with the operator target: FlinkDeployment files, as they are.

The simulated sandbox runs the stand-in Flink Kubernetes Operator, which moves each
FlinkDeployment through the operator's states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dag_support import task_states
from kubernetes import client, config

from flink_k8s_sandbox import SandboxServer

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "example_dags" / "specs" / "clickstream_operator.yaml"
)


@pytest.fixture(scope="module")
def custom(simulated_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    simulated_sandbox.write_kubeconfig(kubeconfig)
    api = config.new_client_from_config(str(kubeconfig))
    client.CoreV1Api(api).create_namespace({"metadata": {"name": "apps"}})
    yield client.CustomObjectsApi(api)
    api.close()


def _user_fields(given: Any, applied: Any) -> None:
    """Every field of ``given`` is in ``applied`` with the same value."""
    if isinstance(given, dict):
        assert isinstance(applied, dict)
        for key, value in given.items():
            assert key in applied, key
            _user_fields(value, applied[key])
    else:
        assert given == applied or str(given) == str(applied), (given, applied)


def test_an_application_file_deploys_unchanged_and_waits_for_the_job(
    custom: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("flink_test_application_file", {"namespace": "apps"})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "success"}, out[-4000:]
    result = dag_run.get_task_instance("deploy").xcom_pull(task_ids="deploy")
    assert result["target"] == "operator" and result["namespace"] == "apps"
    assert result["job_id"]
    applied = custom.get_namespaced_custom_object(
        "flink.apache.org", "v1beta1", "apps", "flinkdeployments", "clickstream-app"
    )
    given = yaml.safe_load(EXAMPLE.read_text())
    _user_fields(given["spec"], applied["spec"])
    assert applied["status"]["lifecycleState"] in ("DEPLOYED", "STABLE")
    # The same file again: nothing changes, the task succeeds at once.
    generation = applied["metadata"]["generation"]
    dag_run = run_dag("flink_test_application_file", {"namespace": "apps"})
    assert task_states(dag_run) == {"deploy": "success"}
    again = custom.get_namespaced_custom_object(
        "flink.apache.org", "v1beta1", "apps", "flinkdeployments", "clickstream-app"
    )
    assert again["metadata"]["generation"] == generation


def test_a_flink_deployment_the_operator_refuses_fails_the_task_with_its_error(
    custom: Any, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    manifest = yaml.safe_load(EXAMPLE.read_text())
    manifest["metadata"] = {"name": "refused", "namespace": "apps"}
    manifest["spec"]["image"] = "registry.example.com/does-not-exist:1.0"
    dag_run = run_dag("flink_test_deploy", {"cluster": manifest})
    out = capfd.readouterr().out
    assert task_states(dag_run) == {"deploy": "failed"}
    # The pod's pull failure or the operator's ERROR, whichever is seen first.
    assert "DeploymentFailed: ErrImagePull" in out or "DeploymentFailed: ImagePullBackOff" in out
    assert 'image "registry.example.com/does-not-exist:1.0"' in out, out[-4000:]
    # The task instance created the FlinkDeployment, so its failure deleted it.
    assert "Deleting Flink cluster apps/refused, which this task instance created" in out
    with pytest.raises(client.ApiException) as missing:
        custom.get_namespaced_custom_object(
            "flink.apache.org", "v1beta1", "apps", "flinkdeployments", "refused"
        )
    assert missing.value.status == 404
