"""FlinkDeployments read into a spec and rendered back.

The corpus (``tests/data/flinkdeployments``) follows the Flink Kubernetes Operator's
documented examples. Each file, read with ``FlinkCluster.from_flink_deployment``:

* renders back for the operator target as a FlinkDeployment equal to the file on every
  field the file sets (defaults may be added, nothing changed or lost), valid against
  the operator's CRD;
* renders for the standalone target as valid Kubernetes objects, or is refused with a
  problem naming each FlinkDeployment field only the operator can honour.

A FlinkDeployment this provider rendered itself reads back to the same object.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
import yaml
from conftest import KUBERNETES_VERSIONS, MATRIX, cluster_spec

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.manifests import (
    MAIN_CONTAINER,
    merge_pod_templates,
    render_manifests,
)
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster

if TYPE_CHECKING:
    import jsonschema

CORPUS = Path(__file__).resolve().parents[1] / "data" / "flinkdeployments"
FILES = sorted(CORPUS.glob("*.yaml"))

_ABSENT = object()


def missing_fields(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where ``actual`` does not hold every field ``expected`` sets, with the same value.

    Mappings may have more keys in ``actual`` (added defaults); lists must have the same
    length, item by item; scalars must be equal, a string never equal to a number nor a
    boolean to a number (``"2"`` is not ``2``), though ``1`` equals ``1.0`` as in JSON.
    ``null`` sets nothing.
    """
    if expected is None:
        return []
    if actual is _ABSENT:
        return [f"{path}: missing (expected {expected!r})"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        return [
            problem
            for key, value in expected.items()
            for problem in missing_fields(value, actual.get(key, _ABSENT), f"{path}.{key}")
        ]
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return [
            problem
            for index, (item, other) in enumerate(zip(expected, actual, strict=True))
            for problem in missing_fields(item, other, f"{path}[{index}]")
        ]
    same_kind = type(expected) is type(actual) or {type(expected), type(actual)} == {int, float}
    if not same_kind or expected != actual:
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return []


def test_missing_fields_is_strict_about_values_and_lenient_about_additions() -> None:
    assert missing_fields({"a": {"b": "2"}}, {"a": {"b": "2", "c": 1}, "d": 2}) == []
    assert missing_fields({"cpu": 1}, {"cpu": 1.0}) == []
    assert missing_fields({"a": None}, {}) == []
    assert missing_fields({"a": "2"}, {"a": 2}) == [".a: expected '2', got 2"]
    assert missing_fields({"a": True}, {"a": 1}) == [".a: expected True, got 1"]
    assert missing_fields({"a": [1, 2]}, {"a": [1]}) == [".a: expected [1, 2], got [1]"]
    assert missing_fields({"a": {"b": 1}}, {}) == [".a: missing (expected {'b': 1})"]


def read_corpus(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The file's FlinkDeployment and the FlinkSessionJobs after it."""
    deployment, *session_jobs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return deployment, session_jobs


def render_operator(manifest: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = render_manifests(FlinkCluster.from_flink_deployment(manifest))
    return deployment


def schema_errors(validator: jsonschema.protocols.Validator, obj: dict[str, Any]) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(obj)
    ]


def test_the_corpus_covers_the_operators_examples() -> None:
    names = {path.stem for path in FILES}
    assert {
        "basic",
        "checkpointing-ha",
        "reactive",
        "pod-templates",
        "session-cluster-and-job",
        "autoscaling",
        "sql-runner",
        "python-job",
        "custom-logging",
        "ingress",
        "tls-secrets",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_corpus_files_are_valid_flink_deployments(
    path: Path,
    flink_deployment_validator: jsonschema.protocols.Validator,
    flink_session_job_validator: jsonschema.protocols.Validator,
) -> None:
    deployment, session_jobs = read_corpus(path)
    # kubectl fills the namespace in; the strict schema wants it.
    applied = copy.deepcopy(deployment)
    applied["metadata"].setdefault("namespace", "default")
    assert schema_errors(flink_deployment_validator, applied) == []
    for session_job in session_jobs:
        session_job["metadata"].setdefault("namespace", "default")
        assert schema_errors(flink_session_job_validator, session_job) == []


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_operator_target_renders_the_same_flink_deployment(
    path: Path, flink_deployment_validator: jsonschema.protocols.Validator
) -> None:
    deployment, _ = read_corpus(path)
    rendered = render_operator(copy.deepcopy(deployment))
    assert missing_fields(deployment, rendered) == []
    assert schema_errors(flink_deployment_validator, rendered) == []


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_rendered_pod_templates_are_kubernetes_pod_templates(path: Path) -> None:
    spec = render_operator(read_corpus(path)[0])["spec"]
    shared = {k: v for k, v in spec["podTemplate"].items() if k not in ("apiVersion", "kind")}
    for role in ("jobManager", "taskManager"):
        template = merge_pod_templates(shared, spec[role].get("podTemplate"))
        template.setdefault("spec", {}).setdefault("containers", [{"name": MAIN_CONTAINER}])
        wrapped = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "check"},
            "template": template,
        }
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(wrapped, version, strict=True)


def test_the_input_is_not_modified() -> None:
    deployment, _ = read_corpus(CORPUS / "resources-requests-limits.yaml")
    before = copy.deepcopy(deployment)
    render_operator(deployment)
    assert deployment == before


_AUTOSCALER_KEYS = (
    "job.autoscaler.enabled",
    "job.autoscaler.stabilization.interval",
    "job.autoscaler.metrics.window",
    "job.autoscaler.utilization.target",
    "job.autoscaler.target.utilization.boundary",
    "job.autoscaler.restart.time",
    "job.autoscaler.catch-up.duration",
)

STANDALONE_REFUSALS: dict[str, list[str]] = {
    "autoscaling": [f"spec.flinkConfiguration[{key!r}]" for key in _AUTOSCALER_KEYS],
    # Flink finds a main class by itself only in usrlib; the operator's native mode can.
    "basic": ["spec.job.entryClass"],
    "extended-resources": [
        "spec.jobManager.resource.ephemeralStorage",
        "spec.taskManager.resources.requests.ephemeral-storage",
        "spec.taskManager.resources.limits['nvidia.com/gpu']",
        "spec.restartNonce",
    ],
    "ingress": ["spec.ingress"],
    "ingress-tls": ["spec.job.entryClass", "spec.ingress"],
    "job-from-savepoint": [
        "spec.job.savepointTriggerNonce",
        "spec.job.savepointRedeployNonce",
        "spec.flinkConfiguration['kubernetes.operator.savepoint.history.max.count']",
        "spec.flinkConfiguration['kubernetes.operator.periodic.savepoint.interval']",
    ],
    "reactive": ["spec.job.savepointTriggerNonce"],
    "resources-flink-units": ["spec.job.entryClass"],
    "tls-secrets": ["spec.flinkConfiguration['kubernetes.secrets']"],
}
"""Corpus files the standalone target refuses, and the fields each problem names."""


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_standalone_target_renders_valid_objects_or_names_what_it_cannot(path: Path) -> None:
    deployment, _ = read_corpus(path)
    refused = STANDALONE_REFUSALS.get(path.stem)
    if refused:
        with pytest.raises(SpecError) as caught:
            FlinkCluster.from_flink_deployment(deployment, target="standalone")
        assert [problem.field for problem in caught.value.problems] == refused
        assert all(problem.rule for problem in caught.value.problems)
        return
    objects = render_manifests(FlinkCluster.from_flink_deployment(deployment, target="standalone"))
    assert [obj["kind"] for obj in objects][-2:] == ["Deployment", "Deployment"]
    for obj in objects:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


def _standalone(name: str) -> dict[str, dict[str, Any]]:
    deployment, _ = read_corpus(CORPUS / f"{name}.yaml")
    objects = render_manifests(FlinkCluster.from_flink_deployment(deployment, target="standalone"))
    return {f"{obj['kind']}/{obj['metadata']['name']}": obj for obj in objects}


def _main_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == MAIN_CONTAINER)


def test_standalone_cluster_has_the_operators_sizes_and_configuration() -> None:
    objects = _standalone("resources-requests-limits")
    taskmanager = objects["Deployment/resources-example-taskmanager"]
    assert taskmanager["metadata"]["namespace"] == "analytics"
    assert taskmanager["spec"]["replicas"] == 3
    # requests are the size, limits come from the limit factors (limit / request)
    assert _main_container(taskmanager)["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"},
        "limits": {"cpu": "2", "memory": "6Gi"},
    }
    jobmanager = objects["Deployment/resources-example-jobmanager"]
    assert _main_container(jobmanager)["resources"]["requests"] == {
        "cpu": "500m",
        "memory": "1600Mi",
    }
    assert _main_container(jobmanager)["imagePullPolicy"] == "Always"
    assert jobmanager["spec"]["template"]["spec"]["serviceAccountName"] == "flink-analytics"
    config = yaml.safe_load(objects["ConfigMap/resources-example-config"]["data"]["config.yaml"])
    assert {
        key: config[key]
        for key in (
            "taskmanager.numberOfTaskSlots",
            "taskmanager.memory.managed.fraction",
            "execution.checkpointing.dir",
            "execution.checkpointing.savepoint-dir",
            "high-availability.type",
            "high-availability.storageDir",
            "pipeline.object-reuse",
            "parallelism.default",
            "taskmanager.memory.process.size",
        )
    } == {
        "taskmanager.numberOfTaskSlots": "4",
        "taskmanager.memory.managed.fraction": "0.2",
        "execution.checkpointing.dir": "s3://analytics/checkpoints",
        "execution.checkpointing.savepoint-dir": "s3://analytics/savepoints",
        "high-availability.type": "kubernetes",
        "high-availability.storageDir": "s3://analytics/ha",
        "pipeline.object-reuse": "true",
        "parallelism.default": "12",
        "taskmanager.memory.process.size": "4g",
    }


def test_standalone_application_runs_the_job_with_its_arguments() -> None:
    objects = _standalone("python-job")
    args = _main_container(objects["Deployment/python-example-jobmanager"])["args"]
    assert args == [
        "standalone-job",
        "--job-classname",
        "org.apache.flink.client.python.PythonDriver",
        "-Dpipeline.classpaths=file:///opt/flink/opt/flink-python-1.20.0.jar",
        "--",
        "-pyclientexec",
        "/usr/local/bin/python3",
        "-py",
        "/opt/flink/usrlib/python_demo.py",
    ]


def test_standalone_session_cluster_from_a_session_deployment() -> None:
    objects = _standalone("session-cluster-and-job")
    jobmanager = objects["Deployment/basic-session-deployment-example-jobmanager"]
    assert _main_container(jobmanager)["args"] == ["jobmanager"]
    config = objects["ConfigMap/basic-session-deployment-example-config"]["data"]
    assert "taskmanager.numberOfTaskSlots: '4'" in config["config.yaml"]


# --- the operator target keeps the source's spelling ---------------------------------


def _respelled(name: str, **changes: Any) -> dict[str, Any]:
    """A corpus file read, changed through the spec's fields, and rendered."""
    deployment, _ = read_corpus(CORPUS / f"{name}.yaml")
    fields = FlinkCluster.from_flink_deployment(deployment).model_dump()
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = fields
        for key in parents:
            node = node[key]
        node[leaf] = value
    (rendered,) = render_manifests(load_cluster(fields))
    return rendered["spec"]


def test_nested_configuration_stays_nested_with_its_literals() -> None:
    conf = _respelled("resources-requests-limits")["flinkConfiguration"]
    assert conf["taskmanager"] == {"numberOfTaskSlots": 4, "memory": {"managed": {"fraction": 0.2}}}
    assert conf["pipeline"] == {"object-reuse": True}
    assert conf["execution"]["checkpointing"]["savepoint-dir"] == "s3://analytics/savepoints"
    ha = "org.apache.flink.kubernetes.highavailability.KubernetesHaServicesFactory"
    assert conf["high-availability"] == ha
    # What the spec adds comes flat, after the source's keys; the limit factors the
    # reader derived from resources.limits stay out (they are the limits).
    assert list(conf)[-1:] == ["parallelism.default"]
    assert not any("limit-factor" in key for key in conf)


def test_changed_values_keep_the_sources_key_names_and_forms() -> None:
    spec = _respelled(
        "resources-requests-limits",
        taskmanager__slots=6,
        taskmanager__memory="8Gi",
        savepoint_dir="s3://analytics/savepoints-v2",
    )
    conf = spec["flinkConfiguration"]
    assert conf["taskmanager"]["numberOfTaskSlots"] == "6"
    assert conf["execution"]["checkpointing"]["savepoint-dir"] == "s3://analytics/savepoints-v2"
    # limits follow the request through the factor (6Gi / 4Gi = 1.5)
    assert spec["taskManager"]["resources"] == {
        "requests": {"cpu": "1", "memory": "8Gi"},
        "limits": {"cpu": 2, "memory": "12Gi"},
    }


def test_old_key_names_come_back_under_the_old_names() -> None:
    conf = _respelled("checkpointing-ha", checkpoint_dir="file:///flink-data/cp")[
        "flinkConfiguration"
    ]
    assert conf["state.checkpoints.dir"] == "file:///flink-data/cp"
    assert conf["state.savepoints.dir"] == "file:///flink-data/savepoints"
    assert "execution.checkpointing.dir" not in conf
    assert "execution.checkpointing.savepoint-dir" not in conf


def test_what_the_source_left_out_stays_out() -> None:
    spec = _respelled("autoscaling")
    # The operator derives TaskManagers from the parallelism (and the autoscaler changes
    # it); pinning replicas would override both.
    assert "replicas" not in spec["taskManager"]
    unset = _respelled("basic", image=None, service_account=None)
    assert "image" not in unset
    assert "serviceAccount" not in unset


# --- the provider's own FlinkDeployments read back ----------------------------------


@pytest.mark.parametrize("options", MATRIX)
def test_a_rendered_flink_deployment_reads_back_to_itself(options: dict[str, Any]) -> None:
    cluster = FlinkCluster.model_validate(cluster_spec(target="operator", **options))
    (deployment,) = render_manifests(cluster)
    assert render_operator(copy.deepcopy(deployment)) == deployment


def test_overrides_of_a_written_spec_are_rendered(
    flink_deployment_validator: jsonschema.protocols.Validator,
) -> None:
    spec = cluster_spec(target="operator", mode="application")
    spec["operator"] = {
        "overrides": {
            "ingress": {"template": "{{name}}.flink.example.com", "className": "nginx"},
            "restartNonce": 2,
            "taskManager": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
        }
    }
    (deployment,) = render_manifests(FlinkCluster.model_validate(spec))
    assert deployment["spec"]["ingress"] == spec["operator"]["overrides"]["ingress"]
    assert deployment["spec"]["restartNonce"] == 2
    # Extra resources need the ResourceRequirements form; the size goes in its requests.
    assert deployment["spec"]["taskManager"]["resources"] == {
        "requests": {"cpu": "1", "memory": "1728Mi"},
        "limits": {"nvidia.com/gpu": 1},
    }
    assert "resource" not in deployment["spec"]["taskManager"]
    assert schema_errors(flink_deployment_validator, deployment) == []


def test_memory_in_the_resources_form_renders_as_the_operator_reads_it() -> None:
    deployment, _ = read_corpus(CORPUS / "resources-flink-units.yaml")
    cluster = FlinkCluster.from_flink_deployment(deployment)
    # Unchanged, "2048m" goes back as written: the operator reads it as 2048 MiB.
    (same,) = render_manifests(cluster)
    assert same["spec"]["taskManager"]["resources"]["requests"]["memory"] == "2048m"
    assert same["spec"]["taskManager"]["resources"]["limits"]["memory"] == "3072m"

    changed = cluster.model_dump()
    changed["taskmanager"]["memory"] = "4096m"
    (rendered,) = render_manifests(FlinkCluster.model_validate(changed))
    assert rendered["spec"]["taskManager"]["resources"] == {
        "requests": {"cpu": "1", "memory": "4Gi"},
        "limits": {"cpu": "2", "memory": "6Gi"},
    }
    again = FlinkCluster.from_flink_deployment(rendered)
    assert again.taskmanager.memory_bytes == 4 * 2**30
    assert again.flink_configuration["kubernetes.taskmanager.memory.limit-factor"] == "1.5"


def test_a_changed_memory_limit_keeps_request_and_limit_in_one_unit() -> None:
    # The request is unchanged ("2048m") but the limit is not: written as "4Gi" beside
    # it, the operator would take 4Gi / 2.048 bytes as the factor; both go as quantities.
    deployment, _ = read_corpus(CORPUS / "resources-flink-units.yaml")
    changed = FlinkCluster.from_flink_deployment(deployment).model_dump()
    changed["flink_configuration"]["kubernetes.taskmanager.memory.limit-factor"] = "2.0"
    (rendered,) = render_manifests(FlinkCluster.model_validate(changed))
    resources = rendered["spec"]["taskManager"]["resources"]
    assert (resources["requests"]["memory"], resources["limits"]["memory"]) == ("2Gi", "4Gi")
    again = FlinkCluster.from_flink_deployment(rendered)
    assert again.flink_configuration["kubernetes.taskmanager.memory.limit-factor"] == "2.0"
