"""The standalone target: which objects, their names, labels, sizes, args and checksum."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from conftest import MATRIX, cluster_spec

from airflow_provider_flink_k8s.manifests import (
    CONFIG_CHECKSUM_ANNOTATION,
    MAIN_CONTAINER,
    cluster_labels,
    cluster_selector,
    label_selector,
    object_names,
    render_manifests,
    selector_labels,
)
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.spec import FlinkCluster

if TYPE_CHECKING:
    from collections.abc import Callable

Render = list[dict[str, Any]]


def by_kind(objects: Render) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def deployment(objects: Render, role: str) -> dict[str, Any]:
    return by_kind(objects)[("Deployment", f"orders-{role}")]


def main_container(objects: Render, role: str) -> dict[str, Any]:
    containers = deployment(objects, role)["spec"]["template"]["spec"]["containers"]
    assert containers[0]["name"] == MAIN_CONTAINER
    return dict(containers[0])


def checksum(objects: Render, role: str = "jobmanager") -> str:
    annotations = deployment(objects, role)["spec"]["template"]["metadata"]["annotations"]
    return str(annotations[CONFIG_CHECKSUM_ANNOTATION])


def dumps(objects: Render) -> str:
    return json.dumps(objects, indent=1)


# --- objects and order -------------------------------------------------------------------


def test_objects_in_apply_order_without_ha(make_cluster: Callable[..., FlinkCluster]) -> None:
    objects = render_manifests(make_cluster())
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ConfigMap", "orders-config"),
        ("Service", "orders-jobmanager"),
        ("Service", "orders-rest"),
        ("Deployment", "orders-jobmanager"),
        ("Deployment", "orders-taskmanager"),
    ]
    assert all(o["metadata"]["namespace"] == "streaming" for o in objects)
    pod = deployment(objects, "jobmanager")["spec"]["template"]["spec"]
    assert "serviceAccountName" not in pod


def test_ha_adds_service_account_role_and_binding(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    objects = render_manifests(make_cluster(ha=True))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects][:3] == [
        ("ServiceAccount", "orders"),
        ("Role", "orders"),
        ("RoleBinding", "orders"),
    ]
    role = by_kind(objects)[("Role", "orders")]
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
    ]
    binding = by_kind(objects)[("RoleBinding", "orders")]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "orders",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "orders", "namespace": "streaming"}
    ]
    for role_name in ("jobmanager", "taskmanager"):
        pod = deployment(objects, role_name)["spec"]["template"]["spec"]
        assert pod["serviceAccountName"] == "orders"


def test_ha_with_a_given_service_account_binds_it_and_creates_none(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    objects = render_manifests(make_cluster({"service_account": "flink-ha"}, ha=True))
    kinds = [o["kind"] for o in objects]
    assert "ServiceAccount" not in kinds
    binding = by_kind(objects)[("RoleBinding", "orders")]
    assert binding["subjects"][0]["name"] == "flink-ha"
    assert (
        deployment(objects, "taskmanager")["spec"]["template"]["spec"]["serviceAccountName"]
        == "flink-ha"
    )


def test_service_account_without_ha_is_used_without_rbac(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    objects = render_manifests(make_cluster({"service_account": "reader"}))
    assert {o["kind"] for o in objects} == {"ConfigMap", "Service", "Deployment"}
    pod = deployment(objects, "jobmanager")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "reader"


def test_zookeeper_ha_needs_no_rbac_but_advertises_the_pod_ip(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    conf = {
        "high-availability.type": "zookeeper",
        "high-availability.zookeeper.quorum": "zk:2181",
        "high-availability.storageDir": "s3://bucket/ha",
    }
    objects = render_manifests(make_cluster({"flink_configuration": conf}))
    assert {o["kind"] for o in objects} == {"ConfigMap", "Service", "Deployment"}
    assert main_container(objects, "jobmanager")["args"] == [
        "jobmanager",
        "-Djobmanager.rpc.address=$(POD_IP)",
    ]


# --- determinism and isolation -----------------------------------------------------------


@pytest.mark.parametrize("options", MATRIX)
def test_rendering_is_deterministic(options: dict[str, Any]) -> None:
    spec = cluster_spec(**options)
    first = dumps(render_manifests(FlinkCluster.model_validate(spec)))
    second = dumps(render_manifests(FlinkCluster.model_validate(copy.deepcopy(spec))))
    assert first == second


def test_same_spec_written_in_another_key_order_renders_identically() -> None:
    spec = cluster_spec(extras=True, ha=True)
    reordered = copy.deepcopy(spec)
    reordered["labels"] = dict(reversed(list(spec["labels"].items())))
    reordered["annotations"] = {"z": "1", **spec["annotations"]}
    spec["annotations"] = {**spec["annotations"], "z": "1"}
    reordered["flink_configuration"] = {"b.key": "2", "a.key": "1"}
    spec["flink_configuration"] = {"a.key": "1", "b.key": "2"}
    assert dumps(render_manifests(FlinkCluster.model_validate(spec))) == dumps(
        render_manifests(FlinkCluster.model_validate(reordered))
    )


def test_rendered_objects_share_nothing_with_the_spec() -> None:
    cluster = FlinkCluster.model_validate(cluster_spec(extras=True))
    before = dumps(render_manifests(cluster))
    for obj in render_manifests(cluster):
        if obj["kind"] == "Deployment":
            pod = obj["spec"]["template"]["spec"]
            pod["containers"][0]["env"].clear()
            pod["tolerations"].append({"key": "x"})
            pod["volumes"].clear()
        obj["metadata"]["labels"].clear()
    assert dumps(render_manifests(cluster)) == before


def test_a_given_plan_is_used(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster(mode="application")
    assert render_manifests(cluster, plan=plan_cluster(cluster)) == render_manifests(cluster)


# --- labels and selectors ----------------------------------------------------------------


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("options", MATRIX)
def test_every_object_carries_the_cluster_labels_and_annotations(
    make_cluster: Callable[..., FlinkCluster], options: dict[str, Any]
) -> None:
    cluster = make_cluster(**options)
    for obj in render_manifests(cluster):
        labels = obj["metadata"]["labels"]
        assert cluster_labels(cluster).items() <= labels.items(), obj["kind"]
        assert _matches(cluster_selector(cluster), labels)
        assert cluster.annotations.items() <= obj["metadata"].get("annotations", {}).items()
        if obj["kind"] == "Deployment":
            template = obj["spec"]["template"]["metadata"]
            assert cluster_labels(cluster).items() <= template["labels"].items()
            assert cluster.annotations.items() <= template["annotations"].items()


@pytest.mark.parametrize("options", MATRIX)
def test_selectors_match_their_own_pods_only(
    make_cluster: Callable[..., FlinkCluster], options: dict[str, Any]
) -> None:
    cluster = make_cluster(**options)
    objects = render_manifests(cluster)
    pods = {
        role: deployment(objects, role)["spec"]["template"]["metadata"]["labels"]
        for role in ("jobmanager", "taskmanager")
    }
    for role, other in (("jobmanager", "taskmanager"), ("taskmanager", "jobmanager")):
        selector = deployment(objects, role)["spec"]["selector"]["matchLabels"]
        assert selector == selector_labels(cluster, role)
        assert _matches(selector, pods[role])
        assert not _matches(selector, pods[other])
    for name in ("orders-jobmanager", "orders-rest"):
        service = by_kind(objects)[("Service", name)]
        assert _matches(service["spec"]["selector"], pods["jobmanager"])
        assert not _matches(service["spec"]["selector"], pods["taskmanager"])


def test_pod_templates_cannot_override_the_selector_labels(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    template = {
        "metadata": {
            "labels": {
                "app.kubernetes.io/component": "taskmanager",
                "app.kubernetes.io/instance": "other",
                "component": "x",
                "app": "y",
                "team": "data",
            }
        }
    }
    objects = render_manifests(make_cluster({"jobmanager": {"pod_template": template}}))
    labels = deployment(objects, "jobmanager")["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "jobmanager"
    assert labels["app.kubernetes.io/instance"] == "orders"
    assert labels["component"] == "jobmanager"
    assert labels["app"] == "orders"
    assert labels["team"] == "data"


def test_label_selector_string(make_cluster: Callable[..., FlinkCluster]) -> None:
    assert label_selector(cluster_selector(make_cluster())) == (
        "app.kubernetes.io/instance=orders,app.kubernetes.io/managed-by=airflow-provider-flink-k8s"
    )


def test_object_names(make_cluster: Callable[..., FlinkCluster]) -> None:
    names = object_names(make_cluster())
    assert (names.config_map, names.jobmanager, names.taskmanager, names.rest_service) == (
        "orders-config",
        "orders-jobmanager",
        "orders-taskmanager",
        "orders-rest",
    )
    assert names.rbac == names.flink_deployment == "orders"


# --- sizes and replicas ------------------------------------------------------------------


def test_requests_and_limits_equal_the_plan(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster()
    objects = render_manifests(cluster)
    tm = main_container(objects, "taskmanager")["resources"]
    jm = main_container(objects, "jobmanager")["resources"]
    assert tm == {
        "requests": {"cpu": "1", "memory": "1728Mi"},
        "limits": {"cpu": "1", "memory": "1728Mi"},
    }
    assert jm["requests"] == {"cpu": "1", "memory": "1600Mi"}
    plan = plan_cluster(cluster)
    assert tm == plan.taskmanager.resources.to_k8s()
    assert jm == plan.jobmanager.resources.to_k8s()


def test_limit_factors_raise_the_limits_only(make_cluster: Callable[..., FlinkCluster]) -> None:
    conf = {
        "kubernetes.taskmanager.memory.limit-factor": "1.5",
        "kubernetes.taskmanager.cpu.limit-factor": "2",
    }
    overrides = {"flink_configuration": conf, "taskmanager": {"cpu": 0.5, "memory": "2g"}}
    tm = main_container(render_manifests(make_cluster(overrides)), "taskmanager")["resources"]
    assert tm == {
        "requests": {"cpu": "500m", "memory": "2Gi"},
        "limits": {"cpu": "1", "memory": "3Gi"},
    }


def test_replicas_come_from_the_plan(make_cluster: Callable[..., FlinkCluster]) -> None:
    job = {"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 5}
    objects = render_manifests(make_cluster({"job": job}, mode="application"))
    assert deployment(objects, "taskmanager")["spec"]["replicas"] == 3  # ceil(5 / 2 slots)
    assert deployment(objects, "jobmanager")["spec"]["replicas"] == 1
    ha = render_manifests(make_cluster(ha=True))
    assert deployment(ha, "jobmanager")["spec"]["replicas"] == 2


def test_strategies(make_cluster: Callable[..., FlinkCluster]) -> None:
    objects = render_manifests(make_cluster())
    assert deployment(objects, "jobmanager")["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment(objects, "taskmanager")["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }


# --- containers --------------------------------------------------------------------------


def test_container_basics(make_cluster: Callable[..., FlinkCluster]) -> None:
    objects = render_manifests(
        make_cluster({"image": "registry.example.com/flink:2.3-job", "image_pull_policy": "Always"})
    )
    jm, tm = main_container(objects, "jobmanager"), main_container(objects, "taskmanager")
    for container in (jm, tm):
        assert container["image"] == "registry.example.com/flink:2.3-job"
        assert container["imagePullPolicy"] == "Always"
        assert container["securityContext"] == {"runAsUser": 9999}
        assert container["volumeMounts"] == [
            {"name": "flink-config-volume", "mountPath": "/opt/flink/conf"}
        ]
    assert [(p["name"], p["containerPort"]) for p in jm["ports"]] == [
        ("rpc", 6123),
        ("blob-server", 6124),
        ("webui", 8081),
    ]
    assert [(p["name"], p["containerPort"]) for p in tm["ports"]] == [("rpc", 6122)]
    assert jm["livenessProbe"]["tcpSocket"] == {"port": 6123}
    assert jm["readinessProbe"]["httpGet"] == {"path": "/overview", "port": 8081}
    assert tm["livenessProbe"]["tcpSocket"] == tm["readinessProbe"]["tcpSocket"] == {"port": 6122}
    volumes = deployment(objects, "taskmanager")["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "flink-config-volume", "configMap": {"name": "orders-config"}}]


def test_default_image_is_the_official_one(make_cluster: Callable[..., FlinkCluster]) -> None:
    objects = render_manifests(make_cluster({"flink_version": "1.20"}))
    assert main_container(objects, "jobmanager")["image"] == "flink:1.20"


def test_env_entrypoint_variables_then_the_spec(make_cluster: Callable[..., FlinkCluster]) -> None:
    env = [
        {"name": "JOB_MANAGER_RPC_ADDRESS", "value": "custom"},
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ]
    objects = render_manifests(make_cluster({"env": env}, ha=True))
    assert main_container(objects, "jobmanager")["env"] == [
        {"name": "JOB_MANAGER_RPC_ADDRESS", "value": "custom"},
        {
            "name": "POD_IP",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
        },
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ]
    assert main_container(objects, "taskmanager")["env"] == [
        {"name": "JOB_MANAGER_RPC_ADDRESS", "value": "custom"},
        {"name": "TASK_MANAGER_NUMBER_OF_TASK_SLOTS", "value": "2"},
        {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
    ]


def test_env_given_as_a_mapping(make_cluster: Callable[..., FlinkCluster]) -> None:
    objects = render_manifests(make_cluster({"env": {"A": 1}}))
    env = main_container(objects, "jobmanager")["env"]
    assert env == [
        {"name": "JOB_MANAGER_RPC_ADDRESS", "value": "orders-jobmanager"},
        {"name": "A", "value": "1"},
    ]


# --- arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ha", "expected"),
    [(False, ["jobmanager"]), (True, ["jobmanager", "-Djobmanager.rpc.address=$(POD_IP)"])],
)
def test_session_jobmanager_args(
    make_cluster: Callable[..., FlinkCluster], ha: bool, expected: list[str]
) -> None:
    objects = render_manifests(make_cluster(ha=ha))
    assert main_container(objects, "jobmanager")["args"] == expected
    assert main_container(objects, "taskmanager")["args"] == ["taskmanager"]


def _app_args(
    make_cluster: Callable[..., FlinkCluster], job: dict[str, Any], **options: Any
) -> Any:
    spec_job = {"jar_uri": "local:///opt/flink/usrlib/job.jar", **job}
    objects = render_manifests(make_cluster({"job": spec_job}, mode="application", **options))
    assert main_container(objects, "taskmanager")["args"] == ["taskmanager"]
    return main_container(objects, "jobmanager")["args"]


def test_application_args_full(make_cluster: Callable[..., FlinkCluster]) -> None:
    job = {
        "entry_class": "com.example.Job",
        "args": ["--input", "s3://in", "-s", "x"],
        "initial_savepoint": "s3://bucket/sp/savepoint-1",
        "allow_non_restored_state": True,
    }
    assert _app_args(make_cluster, job, ha=True) == [
        "standalone-job",
        "--job-classname",
        "com.example.Job",
        "--allowNonRestoredState",
        "--fromSavepoint",
        "s3://bucket/sp/savepoint-1",
        "-Djobmanager.rpc.address=$(POD_IP)",
        "--",
        "--input",
        "s3://in",
        "-s",
        "x",
    ]


def test_application_args_minimal(make_cluster: Callable[..., FlinkCluster]) -> None:
    # No entry class: standalone-job reads the jar manifest's Main-Class from usrlib.
    assert _app_args(make_cluster, {}) == ["standalone-job"]


@pytest.mark.parametrize(
    ("jar_uri", "extra"),
    [
        ("local:///opt/flink/usrlib/nested/job.jar", []),
        ("local:///opt/flink/lib/job.jar", []),
        ("local:///jobs/job.jar", ["-Dpipeline.classpaths=file:///jobs/job.jar"]),
        ("file:///jobs/job.jar", ["-Dpipeline.classpaths=file:///jobs/job.jar"]),
        ("s3://bucket/jobs/job.jar", ["--jars", "s3://bucket/jobs/job.jar"]),
        ("https://repo.example.com/job.jar", ["--jars", "https://repo.example.com/job.jar"]),
    ],
)
def test_the_job_jar_is_put_on_the_classpath(
    make_cluster: Callable[..., FlinkCluster], jar_uri: str, extra: list[str]
) -> None:
    job = {"jar_uri": jar_uri, "entry_class": "com.example.Job", "args": ["a"]}
    assert _app_args(make_cluster, job) == [
        "standalone-job",
        "--job-classname",
        "com.example.Job",
        *extra,
        "--",
        "a",
    ]


# --- services ----------------------------------------------------------------------------


def test_jobmanager_service(make_cluster: Callable[..., FlinkCluster]) -> None:
    service = by_kind(render_manifests(make_cluster()))[("Service", "orders-jobmanager")]
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "rpc", "port": 6123, "targetPort": 6123, "protocol": "TCP"},
        {"name": "blob-server", "port": 6124, "targetPort": 6124, "protocol": "TCP"},
        {"name": "webui", "port": 8081, "targetPort": 8081, "protocol": "TCP"},
    ]


@pytest.mark.parametrize("rest", ["ClusterIP", "NodePort", "LoadBalancer"])
def test_rest_service(make_cluster: Callable[..., FlinkCluster], rest: str) -> None:
    cluster = make_cluster({"annotations": {"owner": "me"}}, rest=rest)
    service = by_kind(render_manifests(cluster))[("Service", "orders-rest")]
    assert service["spec"]["type"] == rest
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("rest", 8081, 8081)
    annotations = service["metadata"]["annotations"]
    if rest == "ClusterIP":
        assert "nodePort" not in port
        assert annotations == {"owner": "me"}
    else:
        assert port["nodePort"] == 30081
        assert annotations == {"owner": "me", "service.beta.kubernetes.io/internal": "true"}


def test_node_port_left_to_kubernetes(make_cluster: Callable[..., FlinkCluster]) -> None:
    cluster = make_cluster({"rest_service": {"type": "NodePort"}})
    service = by_kind(render_manifests(cluster))[("Service", "orders-rest")]
    assert "nodePort" not in service["spec"]["ports"][0]


# --- the ConfigMap and the checksum ------------------------------------------------------


def test_config_map_holds_the_plan_configuration(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    cluster = make_cluster({"flink_configuration": {"state.backend.type": "rocksdb"}}, ha=True)
    config_map = by_kind(render_manifests(cluster))[("ConfigMap", "orders-config")]
    assert sorted(config_map["data"]) == ["config.yaml", "log4j-console.properties"]
    loaded = yaml.safe_load(config_map["data"]["config.yaml"])
    assert loaded == dict(plan_cluster(cluster).flink_configuration)
    assert loaded["state.backend.type"] == "rocksdb"
    assert loaded["jobmanager.rpc.address"] == "orders-jobmanager"
    assert list(loaded) == sorted(loaded)
    assert "rootLogger.level = INFO" in config_map["data"]["log4j-console.properties"]


def test_log_configuration_replaces_and_extends(
    make_cluster: Callable[..., FlinkCluster],
) -> None:
    logs = {"log4j-console.properties": "rootLogger.level = DEBUG\n", "logback-console.xml": "<c/>"}
    config_map = render_manifests(make_cluster({"log_configuration": logs}))[0]
    assert config_map["data"]["log4j-console.properties"] == "rootLogger.level = DEBUG\n"
    assert config_map["data"]["logback-console.xml"] == "<c/>"
    assert list(config_map["data"]) == sorted(config_map["data"])


def _diff_paths(a: Any, b: Any, path: str = "") -> set[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return {
            p
            for key in set(a) | set(b)
            for p in _diff_paths(a.get(key), b.get(key), f"{path}/{key}")
        }
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return {
            p
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for p in _diff_paths(x, y, f"{path}/{i}")
        }
    return set() if a == b else {path}


@pytest.mark.parametrize(
    "overrides",
    [
        {"flink_configuration": {"execution.checkpointing.interval": "30s"}},
        {"log_configuration": {"log4j-console.properties": "rootLogger.level = WARN\n"}},
        {"checkpoint_dir": "s3://bucket/checkpoints"},
    ],
    ids=["flink_configuration", "log_configuration", "checkpoint_dir"],
)
def test_a_config_change_changes_the_checksum_and_only_config_fields(
    make_cluster: Callable[..., FlinkCluster], overrides: dict[str, Any]
) -> None:
    before = render_manifests(make_cluster())
    after = render_manifests(make_cluster(overrides))
    assert checksum(before) != checksum(after)
    assert checksum(after, "jobmanager") == checksum(after, "taskmanager")
    changed = set()
    for old, new in zip(before, after, strict=True):
        changed |= {f"{new['kind']}:{p}" for p in _diff_paths(old, new)}
    annotation = "/spec/template/metadata/annotations/" + CONFIG_CHECKSUM_ANNOTATION
    assert changed - {p for p in changed if p.startswith("ConfigMap:/data/")} == {
        f"Deployment:{annotation}"
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"image": "flink:2.3-custom"},
        {"labels": {"team": "other"}},
        {"annotations": {"note": "x"}},
        {"env": {"A": "1"}},
        {"taskmanager": {"slots": 2, "replicas": 4}},
        {"pod_template": {"spec": {"nodeSelector": {"pool": "b"}}}},
        {"rest_service": {"type": "NodePort"}},
        {"service_account": "other"},
    ],
)
def test_nothing_but_the_config_changes_the_checksum(
    make_cluster: Callable[..., FlinkCluster], overrides: dict[str, Any]
) -> None:
    before, after = render_manifests(make_cluster()), render_manifests(make_cluster(overrides))
    assert dumps(before) != dumps(after)
    assert checksum(before) == checksum(after)
    assert checksum(before, "taskmanager") == checksum(after, "taskmanager")
