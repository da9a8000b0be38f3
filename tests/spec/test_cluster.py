"""The cluster spec: defaults, loading, and a table of bad specs with their messages."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster

VALID: dict[str, Any] = {
    "name": "clickstream",
    "namespace": "analytics",
    "taskmanager": {"cpu": 1, "memory": "1728m", "slots": 2},
    "job": {"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 4},
    "savepoint_dir": "s3://bucket/savepoints",
}


def mutate(path: str, value: Any, base: dict[str, Any] = VALID) -> dict[str, Any]:
    """A copy of ``base`` with the dotted ``path`` set to ``value`` (``...`` deletes it)."""
    spec = copy.deepcopy(base)
    *parents, leaf = path.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return spec


def problems_of(spec: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_cluster(spec)
    return [str(problem) for problem in caught.value.problems]


def test_valid_spec_gets_defaults() -> None:
    cluster = load_cluster(VALID)
    assert cluster.mode == "application"  # derived from the job
    assert cluster.target == "standalone"
    assert cluster.flink_version == "2.3"
    assert cluster.effective_image == "flink:2.3"
    assert cluster.jobmanager.memory == "1600m"
    assert cluster.jobmanager.memory_bytes == 1600 * 2**20
    assert cluster.taskmanager.memory_bytes == 1728 * 2**20
    assert cluster.job is not None and cluster.job.upgrade_mode == "stateless"


def test_session_mode_is_the_default_without_a_job() -> None:
    cluster = FlinkCluster(name="shared")
    assert cluster.mode == "session"
    assert cluster.job is None


@pytest.mark.parametrize(
    ("memory", "expected_bytes"),
    [
        ("1600m", 1600 * 2**20),  # Flink's m is MiB ...
        ("2Gi", 2 * 2**30),  # ... a Kubernetes quantity works too
        ("4g", 4 * 2**30),
        ("1.5Gi", 1536 * 2**20),
        (2147483648, 2 * 2**30),
        ("2048 mb", 2048 * 2**20),
    ],
)
def test_memory_accepts_flink_and_kubernetes_syntax(memory: Any, expected_bytes: int) -> None:
    cluster = load_cluster(mutate("taskmanager.memory", memory))
    assert cluster.taskmanager.memory_bytes == expected_bytes


@pytest.mark.parametrize(("cpu", "cores"), [(2, 2.0), (0.5, 0.5), ("500m", 0.5), ("1.5", 1.5)])
def test_cpu_accepts_cores_and_millicores(cpu: Any, cores: float) -> None:
    assert load_cluster(mutate("jobmanager.cpu", cpu)).jobmanager.cpu == cores


@pytest.mark.parametrize("version", ["2.3", "v2_3", "2.3.0", 2.3])
def test_flink_version_forms(version: Any) -> None:
    assert load_cluster(mutate("flink_version", version)).flink_version == "2.3"


def test_nested_flink_configuration_is_flattened() -> None:
    spec = mutate(
        "flink_configuration",
        {
            "execution": {"checkpointing": {"interval": "10s"}},
            "state.backend.type": "rocksdb",
            "jobmanager.scheduler": "adaptive",
            "pipeline.object-reuse": True,
        },
    )
    conf = load_cluster(spec).flink_configuration
    assert conf == {
        "execution.checkpointing.interval": "10s",
        "state.backend.type": "rocksdb",
        "jobmanager.scheduler": "adaptive",
        "pipeline.object-reuse": "true",
    }


def test_env_as_mapping_becomes_env_vars() -> None:
    cluster = load_cluster(mutate("env", {"TZ": "UTC", "RETRIES": 3}))
    assert cluster.env == [{"name": "TZ", "value": "UTC"}, {"name": "RETRIES", "value": "3"}]


def test_load_from_yaml_text_json_text_and_files(tmp_path: Path) -> None:
    assert load_cluster(yaml.safe_dump(VALID)) == load_cluster(VALID)
    assert load_cluster(json.dumps(VALID)) == load_cluster(VALID)
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert load_cluster(path) == load_cluster(VALID)
    assert load_cluster(str(path)) == load_cluster(VALID)


def test_model_instance_is_returned_unchanged() -> None:
    cluster = load_cluster(VALID)
    assert load_cluster(cluster) is cluster


def test_constructing_directly_refuses_with_the_same_message() -> None:
    with pytest.raises(ValueError, match=r"taskmanager\.slots"):
        FlinkCluster.model_validate(mutate("taskmanager.slots", 0))


def test_every_problem_is_reported_at_once() -> None:
    spec = mutate("jobmanager.replicas", 2, mutate("job", ..., mutate("mode", "application")))
    spec = mutate("labels", {"app": "mine"}, spec)
    assert problems_of(spec) == [
        "job: required in application mode (give job.jar_uri), or use mode 'session'",
        "jobmanager.replicas: 2 JobManagers need high availability (set "
        "high_availability.enabled and high_availability.storage_dir), or use 1",
        "labels['app']: is set by the provider to find the cluster's objects; use another key",
    ]


BAD_SPECS: list[tuple[str, dict[str, Any], str]] = [
    (
        "name not DNS",
        mutate("name", "Click_Stream"),
        "name: 'Click_Stream' is not a DNS-1035 label",
    ),
    (
        "name starts with digit",
        mutate("name", "1cluster"),
        "name: '1cluster' is not a DNS-1035 label",
    ),
    ("name too long", mutate("name", "a" * 46), "name: must be at most 45 characters (got 46)"),
    ("name missing", mutate("name", ...), "name: required"),
    (
        "namespace not DNS",
        mutate("namespace", "Analytics"),
        "namespace: 'Analytics' is not a DNS-1123 label",
    ),
    ("cpu zero", mutate("taskmanager.cpu", 0), "taskmanager.cpu: cpu must be > 0"),
    ("cpu negative", mutate("jobmanager.cpu", "-1"), "jobmanager.cpu: cpu must be > 0"),
    (
        "cpu garbage",
        mutate("jobmanager.cpu", "lots"),
        "jobmanager.cpu: cpu must be > 0: 'lots' is not a Kubernetes quantity",
    ),
    (
        "cpu below 1m",
        mutate("jobmanager.cpu", 0.0001),
        "jobmanager.cpu: cpu must be at least 0.001 (1m)",
    ),
    (
        "memory garbage",
        mutate("taskmanager.memory", "lots"),
        "taskmanager.memory: 'lots' is neither a Flink memory size",
    ),
    (
        "memory unit",
        mutate("taskmanager.memory", "2xb"),
        "taskmanager.memory: '2xb' is neither a Flink memory size (Memory size unit 'xb' does not "
        "match any of the recognized units",
    ),
    (
        "memory zero",
        mutate("jobmanager.memory", "0m"),
        "jobmanager.memory: '0m' must be a positive memory size",
    ),
    (
        "memory bool",
        mutate("jobmanager.memory", True),
        "jobmanager.memory: True is not a memory size",
    ),
    (
        "tm memory below metaspace+overhead",
        mutate("taskmanager.memory", "400m"),
        "taskmanager.memory: does not fit Flink's memory model: TaskManager memory configuration "
        "failed: Sum of configured JVM Metaspace",
    ),
    (
        "jm memory too small",
        mutate("jobmanager.memory", "448m"),
        "jobmanager.memory: does not fit Flink's memory model: The configured Total Flink Memory "
        "(0 bytes) is less than the configured Off-heap Memory (128.000mb (134217728 bytes)).",
    ),
    (
        "tm memory model via overrides",
        mutate("flink_configuration", {"taskmanager.memory.managed.fraction": "1.5"}),
        "taskmanager.memory: does not fit Flink's memory model",
    ),
    (
        "slots zero",
        mutate("taskmanager.slots", 0),
        "taskmanager.slots: Input should be greater than or equal to 1",
    ),
    (
        "replicas zero",
        mutate("taskmanager.replicas", 0),
        "taskmanager.replicas: Input should be greater than or equal to 1",
    ),
    (
        "parallelism zero",
        mutate("job.parallelism", 0),
        "job.parallelism: Input should be greater than or equal to 1",
    ),
    (
        "parallelism above max",
        mutate("job.max_parallelism", 2),
        "job.parallelism (4) must be <= job.max_parallelism (2)",
    ),
    (
        "max parallelism above Flink's limit",
        mutate("job.max_parallelism", 40000),
        "job.max_parallelism: Input should be less than or equal to 32768",
    ),
    (
        "parallelism above pinned slots",
        mutate("taskmanager.replicas", 1),
        "job.parallelism: 4 exceeds the 2 slots of 1 TaskManager(s) x 2 slot(s)",
    ),
    (
        "jm replicas without HA",
        mutate("jobmanager.replicas", 3),
        "jobmanager.replicas: 3 JobManagers need high availability",
    ),
    (
        "HA without storage",
        mutate("high_availability", {"enabled": True}),
        "high_availability.storage_dir is required when high availability is enabled",
    ),
    (
        "application without job",
        mutate("mode", "application", mutate("job", ...)),
        "job: required in application mode",
    ),
    ("session with job", mutate("mode", "session"), "job: only allowed in application mode"),
    ("job without jar", mutate("job.jar_uri", ...), "job.jar_uri: required"),
    (
        "empty jar",
        mutate("job.jar_uri", ""),
        "job.jar_uri: String should have at least 1 character",
    ),
    (
        "bad upgrade mode",
        mutate("job.upgrade_mode", "rolling"),
        "job.upgrade_mode: Input should be 'stateless', 'savepoint' or 'last-state'",
    ),
    (
        "savepoint mode without dir",
        mutate("job.upgrade_mode", "savepoint", mutate("savepoint_dir", ...)),
        "job.upgrade_mode: 'savepoint' needs a savepoint directory",
    ),
    (
        "last-state without HA",
        mutate("job.upgrade_mode", "last-state"),
        "job.upgrade_mode: 'last-state' needs high availability",
    ),
    (
        "last-state without checkpoints",
        mutate("job.upgrade_mode", "last-state"),
        "job.upgrade_mode: 'last-state' needs a checkpoint directory",
    ),
    ("unknown top-level field", mutate("parallelism", 4), "parallelism: unknown field"),
    (
        "unknown nested field",
        mutate("taskmanager.memory_mb", 4),
        "taskmanager.memory_mb: unknown field",
    ),
    ("bad mode", mutate("mode", "per-job"), "mode: Input should be 'session' or 'application'"),
    (
        "bad target",
        mutate("target", "native"),
        "target: Input should be 'standalone' or 'operator'",
    ),
    (
        "bad flink version",
        mutate("flink_version", "1.12"),
        "flink_version: '1.12' is not a supported Flink version",
    ),
    (
        "bad pull policy",
        mutate("image_pull_policy", "Sometimes"),
        "image_pull_policy: Input should be 'Always', 'IfNotPresent' or 'Never'",
    ),
    (
        "bad service type",
        mutate("rest_service", {"type": "Ingress"}),
        "rest_service.type: Input should be 'ClusterIP', 'NodePort' or 'LoadBalancer'",
    ),
    (
        "node port out of range",
        mutate("rest_service", {"type": "NodePort", "node_port": 8081}),
        "rest_service.node_port: Input should be greater than or equal to 30000",
    ),
    (
        "node port with ClusterIP",
        mutate("rest_service", {"node_port": 30081}),
        "rest_service.node_port is only allowed with type NodePort or LoadBalancer",
    ),
    (
        "owned key in overrides",
        mutate("flink_configuration", {"taskmanager.numberOfTaskSlots": 4}),
        "flink_configuration['taskmanager.numberOfTaskSlots']: is set by the field "
        "taskmanager.slots",
    ),
    (
        "owned dir key",
        mutate("flink_configuration", {"execution.checkpointing.savepoint-dir": "s3://x"}),
        "flink_configuration['execution.checkpointing.savepoint-dir']: is set by the field "
        "savepoint_dir",
    ),
    (
        "limit factor below 1",
        mutate("flink_configuration", {"kubernetes.taskmanager.memory.limit-factor": "0.5"}),
        "flink_configuration['kubernetes.taskmanager.memory.limit-factor']: must be a number "
        ">= 1.0",
    ),
    (
        "flink configuration not a mapping",
        mutate("flink_configuration", ["a=b"]),
        "flink_configuration: flink_configuration must be a mapping",
    ),
    (
        "bad label key",
        mutate("labels", {"team/a/b": "x"}),
        "labels: label key 'team/a/b' has an invalid prefix 'team/a'",
    ),
    (
        "bad label value",
        mutate("labels", {"team": "a b"}),
        "labels: label 'team' has an invalid value 'a b'",
    ),
    (
        "managed label",
        mutate("labels", {"app.kubernetes.io/instance": "x"}),
        "labels['app.kubernetes.io/instance']: is set by the provider",
    ),
    (
        "bad env list",
        mutate("env", [{"value": "x"}]),
        "env: env entries must be Kubernetes EnvVar objects with a 'name'",
    ),
    (
        "bad pod template",
        mutate("pod_template", {"containers": []}),
        "pod_template: must be a Kubernetes PodTemplateSpec (metadata, spec); unknown keys: "
        "containers",
    ),
    (
        "bad service account",
        mutate("service_account", "Flink SA"),
        "service_account: 'Flink SA' is not a DNS-1123 subdomain",
    ),
]


@pytest.mark.parametrize(
    ("spec", "message"), [(s, m) for _, s, m in BAD_SPECS], ids=[case for case, _, _ in BAD_SPECS]
)
def test_bad_spec_is_refused_naming_the_field_and_rule(spec: dict[str, Any], message: str) -> None:
    problems = problems_of(spec)
    assert any(problem.startswith(message) for problem in problems), problems


def test_spec_error_lists_problems_in_its_message() -> None:
    with pytest.raises(SpecError) as caught:
        load_cluster(mutate("taskmanager.slots", 0))
    assert str(caught.value) == (
        "invalid cluster spec (1 problem):\n"
        "  - taskmanager.slots: Input should be greater than or equal to 1"
    )
    assert caught.value.problems == (
        SpecProblem("taskmanager.slots", "Input should be greater than or equal to 1"),
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.yaml", "spec file 'missing.yaml' does not exist"),
        ("name: [unclosed", "spec text is not valid YAML/JSON"),
        ("- just\n- a list\n", "spec text must be a mapping of cluster fields, not list"),
    ],
)
def test_unreadable_sources(source: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("[", r"\[")):
        load_cluster(source)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            mutate("log_configuration", {"log4j console": "x"}),
            "log_configuration['log4j console']: must be a file name",
        ),
        (
            mutate("log_configuration", {"config.yaml": "x"}),
            "log_configuration['config.yaml']: the Flink configuration comes from the spec",
        ),
        (
            mutate("job", {"jar_uri": "s3://bucket/job.jar"}),
            "job.entry_class: required for a jar outside /opt/flink/usrlib on the "
            "standalone target",
        ),
    ],
)
def test_more_bad_specs(spec: dict[str, Any], message: str) -> None:
    assert any(p.startswith(message) for p in problems_of(spec)), problems_of(spec)


def test_operator_target_finds_the_entry_class_itself() -> None:
    spec = mutate("target", "operator", mutate("job", {"jar_uri": "s3://bucket/job.jar"}))
    assert load_cluster(spec).job is not None
