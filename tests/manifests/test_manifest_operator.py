"""The operator target: how spec fields map onto the FlinkDeployment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_flink_k8s.manifests import (
    MAIN_CONTAINER,
    cluster_labels,
    cluster_selector,
    flink_version_enum,
    render_manifests,
)
from airflow_provider_flink_k8s.resources.configuration import operator_flink_configuration
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.units import parse_flink_memory

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_provider_flink_k8s.spec import FlinkCluster


def render(cluster: FlinkCluster) -> dict[str, Any]:
    (deployment,) = render_manifests(cluster)
    return deployment


def test_session_cluster(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster(target="operator")
    deployment = render(cluster)
    assert deployment["apiVersion"] == "flink.apache.org/v1beta1"
    assert deployment["kind"] == "FlinkDeployment"
    assert deployment["metadata"] == {
        "name": "orders",
        "namespace": "streaming",
        "labels": cluster_labels(cluster),
    }
    spec = deployment["spec"]
    assert spec["image"] == "flink:2.3"
    assert spec["imagePullPolicy"] == "IfNotPresent"
    assert spec["flinkVersion"] == "v2_3"
    assert spec["serviceAccount"] == "flink"
    assert spec["mode"] == "native"
    assert spec["flinkConfiguration"] == operator_flink_configuration(cluster)
    assert spec["jobManager"] == {"replicas": 1, "resource": {"cpu": 1.0, "memory": "1600m"}}
    # Unpinned TaskManager replicas are left to the operator (they would override parallelism).
    assert spec["taskManager"] == {"resource": {"cpu": 1.0, "memory": "1728m"}}
    assert "job" not in spec
    assert "logConfiguration" not in spec


def test_application_cluster(make_cluster: Callable[..., FlinkCluster]) -> None:
    job = {
        "jar_uri": "local:///opt/flink/usrlib/job.jar",
        "entry_class": "com.example.Job",
        "args": ["--input", "s3://in"],
        "parallelism": 6,
        "max_parallelism": 720,
        "upgrade_mode": "savepoint",
        "initial_savepoint": "s3://bucket/sp/1",
        "allow_non_restored_state": True,
        "state": "suspended",
    }
    overrides = {"job": job, "savepoint_dir": "s3://bucket/sp"}
    cluster = make_cluster(overrides, target="operator", mode="application")
    spec = render(cluster)["spec"]
    assert spec["job"] == {
        "jarURI": "local:///opt/flink/usrlib/job.jar",
        "entryClass": "com.example.Job",
        "args": ["--input", "s3://in"],
        "parallelism": 6,
        "upgradeMode": "savepoint",
        "state": "suspended",
        "initialSavepointPath": "s3://bucket/sp/1",
        "allowNonRestoredState": True,
    }
    # Not written: the operator would run replicas x slots, not job.parallelism.
    assert "replicas" not in spec["taskManager"]
    conf = spec["flinkConfiguration"]
    assert conf["pipeline.max-parallelism"] == "720"
    assert conf["parallelism.default"] == "6"
    assert conf["execution.checkpointing.savepoint-dir"] == "s3://bucket/sp"


def test_minimal_job_omits_optional_fields(make_cluster: Callable[..., FlinkCluster]) -> None:
    job = {"jar_uri": "local:///opt/flink/usrlib/job.jar"}
    spec = render(make_cluster({"job": job}, target="operator", mode="application"))["spec"]
    assert spec["job"] == {
        "jarURI": "local:///opt/flink/usrlib/job.jar",
        "args": [],
        "parallelism": 1,
        "upgradeMode": "stateless",
        "state": "running",
        "allowNonRestoredState": False,
    }


@pytest.mark.parametrize(
    ("memory", "flink_memory"),
    [("1728m", "1728m"), ("2Gi", "2g"), ("4g", "4g"), ("1536Mi", "1536m")],
)
def test_memory_in_flink_syntax_is_the_process_size(
    make_cluster: Callable[..., FlinkCluster], memory: str, flink_memory: str
) -> None:
    cluster = make_cluster({"taskmanager": {"memory": memory, "cpu": "500m"}}, target="operator")
    resource = render(cluster)["spec"]["taskManager"]["resource"]
    assert resource == {"cpu": 0.5, "memory": flink_memory}
    plan = plan_cluster(cluster)
    assert parse_flink_memory(resource["memory"]) == plan.taskmanager.resources.memory_request


def test_ha_and_replicas(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster({"service_account": "flink-operator-sa"}, target="operator", ha=True)
    spec = render(cluster)["spec"]
    assert spec["jobManager"]["replicas"] == 2
    assert spec["serviceAccount"] == "flink-operator-sa"
    assert spec["flinkConfiguration"]["high-availability.type"] == "kubernetes"
    assert spec["flinkConfiguration"]["high-availability.storageDir"] == "s3://bucket/ha"


def test_pod_templates_env_labels_and_logging(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster(target="operator", extras=True)
    deployment = render(cluster)
    spec = deployment["spec"]
    template = spec["podTemplate"]
    assert template["metadata"]["labels"] == {
        "app.kubernetes.io/instance": "orders",
        "app.kubernetes.io/name": "flink",
        "cost-center": "42",
        "team": "data",
    }
    assert template["metadata"]["annotations"] == {
        "owner": "data-eng@example.com",
        "prometheus.io/scrape": "true",
    }
    (main,) = template["spec"]["containers"]
    assert main["name"] == MAIN_CONTAINER
    assert [e["name"] for e in main["env"]] == ["AWS_REGION", "NODE"]
    assert main["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch"}]
    assert template["spec"]["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "flink"}
    ]
    # Role templates are left for the operator to merge over the shared one.
    assert spec["taskManager"]["podTemplate"]["spec"]["containers"][0]["name"] == "log-shipper"
    assert spec["jobManager"]["podTemplate"] == {
        "metadata": {"labels": {"role": "coordinator"}},
        "spec": {"priorityClassName": "high"},
    }
    assert spec["logConfiguration"] == {"logback-console.xml": "<configuration/>"}
    assert deployment["metadata"]["annotations"] == {"owner": "data-eng@example.com"}


def test_only_the_flink_deployment_matches_the_cluster_selector(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    cluster = make_cluster(target="operator", extras=True)
    deployment = render(cluster)
    selector = cluster_selector(cluster)
    assert selector.items() <= deployment["metadata"]["labels"].items()
    # The operator's pods are the operator's: the provider's teardown must not find them.
    pod_labels = deployment["spec"]["podTemplate"]["metadata"]["labels"]
    assert not selector.items() <= pod_labels.items()


@pytest.mark.parametrize(("version", "enum"), [("1.19", "v1_19"), ("2.0", "v2_0"), ("2.4", "v2_4")])
def test_flink_version_enum(version: str, enum: str) -> None:
    assert flink_version_enum(version) == enum


def test_pinned_taskmanager_replicas_are_written(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    cluster = make_cluster(
        {"taskmanager": {"slots": 2, "replicas": 4}}, target="operator", mode="session"
    )
    assert render(cluster)["spec"]["taskManager"]["replicas"] == 4
