"""Reading Flink Kubernetes Operator manifests into the spec.

Where each FlinkDeployment field lands, how ``load_cluster`` tells a FlinkDeployment from
a spec, FlinkSessionJobs, and a table of bad manifests with the field each problem
names. Rendering the results back is tested with the manifests
(``tests/manifests/test_manifest_flink_deployment.py``); both use the corpus in
``tests/data/flinkdeployments``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_flink_k8s.exceptions import SpecError, SpecWarning
from airflow_provider_flink_k8s.spec import FlinkCluster, SessionJobSpec, load_cluster

CORPUS = Path(__file__).resolve().parents[1] / "data" / "flinkdeployments"


def corpus(name: str) -> dict[str, Any]:
    """The FlinkDeployment of a corpus file."""
    document, *_ = yaml.safe_load_all((CORPUS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def read(manifest: dict[str, Any], **kwargs: Any) -> FlinkCluster:
    return FlinkCluster.from_flink_deployment(manifest, **kwargs)


BASIC = corpus("basic")


def test_basic_deployment() -> None:
    cluster = read(BASIC)
    assert cluster.name == "basic-example"
    assert cluster.namespace == "default"
    assert cluster.target == "operator"
    assert cluster.mode == "application"
    assert cluster.flink_version == "1.20"
    assert cluster.image == "flink:1.20"
    assert cluster.service_account == "flink"
    assert cluster.taskmanager.slots == 2
    assert cluster.taskmanager.replicas is None
    assert (cluster.jobmanager.cpu, cluster.jobmanager.memory) == (1.0, "2048m")
    assert cluster.taskmanager.memory_bytes == 2048 * 2**20
    assert cluster.job is not None
    assert cluster.job.jar_uri == "local:///opt/flink/examples/streaming/StateMachineExample.jar"
    assert (cluster.job.parallelism, cluster.job.upgrade_mode) == (2, "stateless")
    assert cluster.flink_configuration == {}
    assert cluster.operator.deployment_mode == "native"
    assert cluster.operator.overrides == {}
    assert cluster.operator.spelling is not None
    assert cluster.operator.spelling.flink_configuration == {"taskmanager.numberOfTaskSlots": "2"}


def test_the_spec_shares_nothing_with_the_manifest() -> None:
    manifest = corpus("pod-templates")
    before = copy.deepcopy(manifest)
    cluster = read(manifest)
    manifest["spec"]["podTemplate"]["spec"]["volumes"].clear()
    manifest["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] = "9"
    assert cluster == read(before)


def test_without_a_job_it_is_a_session_cluster() -> None:
    cluster = read(corpus("session-cluster-and-job"))
    assert cluster.mode == "session"
    assert cluster.job is None
    assert cluster.taskmanager.slots == 4


def test_keys_a_field_owns_move_into_it() -> None:
    cluster = read(corpus("checkpointing-ha"))
    assert cluster.namespace == "flink"
    assert cluster.savepoint_dir == "file:///flink-data/savepoints"
    assert cluster.checkpoint_dir == "file:///flink-data/checkpoints"
    assert cluster.high_availability.enabled
    assert cluster.high_availability.storage_dir == "file:///flink-data/ha"
    assert cluster.jobmanager.replicas == 2
    assert cluster.flink_configuration == {"execution.checkpointing.interval": "10s"}
    assert cluster.pod_template is not None
    assert cluster.pod_template["spec"]["volumes"][0]["name"] == "flink-volume"


def test_resources_nested_configuration_and_ha_by_factory_class() -> None:
    cluster = read(corpus("resources-requests-limits"))
    assert (cluster.jobmanager.cpu, cluster.jobmanager.memory) == (0.5, "1600Mi")
    assert (cluster.taskmanager.cpu, cluster.taskmanager.memory) == (1.0, "4Gi")
    assert cluster.taskmanager.replicas == 3
    assert cluster.taskmanager.slots == 4
    assert cluster.high_availability.enabled
    assert cluster.checkpoint_dir == "s3://analytics/checkpoints"
    assert cluster.image_pull_policy == "Always"
    # Limits are Flink's limit factors, the operator's own mapping of resources.limits.
    assert cluster.flink_configuration == {
        "taskmanager.memory.managed.fraction": "0.2",
        "execution.checkpointing.interval": "30s",
        "pipeline.object-reuse": "true",
        "kubernetes.taskmanager.cpu.limit-factor": "2.0",
        "kubernetes.taskmanager.memory.limit-factor": "1.5",
    }
    spelling = cluster.operator.spelling
    assert spelling is not None
    assert spelling.jobmanager_resources == {"requests": {"cpu": "500m", "memory": "1600Mi"}}
    assert spelling.taskmanager_resources == {
        "requests": {"cpu": "1", "memory": "4Gi"},
        "limits": {"cpu": 2, "memory": "6Gi"},
    }


def test_operator_only_fields_are_kept_verbatim() -> None:
    assert read(corpus("extended-resources")).operator.overrides == {
        "jobManager": {"resource": {"ephemeralStorage": "2Gi"}},
        "taskManager": {
            "resources": {
                "requests": {"ephemeral-storage": "20Gi"},
                "limits": {"nvidia.com/gpu": 1},
            }
        },
        "restartNonce": 3,
    }
    assert read(corpus("job-from-savepoint")).operator.overrides == {
        "job": {"savepointTriggerNonce": 7, "savepointRedeployNonce": 2}
    }
    ingress = corpus("ingress-tls")["spec"]["ingress"]
    assert read(corpus("ingress-tls")).operator.overrides == {"ingress": ingress}
    reactive = read(corpus("reactive"))
    assert reactive.operator.deployment_mode == "standalone"
    assert reactive.taskmanager.replicas == 2


def test_job_fields() -> None:
    job = read(corpus("job-from-savepoint")).job
    assert job is not None
    assert job.model_dump() == {
        "jar_uri": "s3://bucket/jobs/orders.jar",
        "entry_class": "com.example.orders.OrdersJob",
        "args": ["--topic", "orders", "--group", "flink"],
        "parallelism": 4,
        "max_parallelism": None,
        "upgrade_mode": "savepoint",
        "initial_savepoint": "s3://bucket/savepoints/savepoint-6f1c2a-0b4e8d3a0f1c",
        "allow_non_restored_state": True,
        "state": "running",
    }
    assert read(corpus("autoscaling")).job.max_parallelism == 720  # type: ignore[union-attr]


def set_path(manifest: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of ``manifest`` with ``path`` set to ``value`` (``...`` deletes it)."""
    changed = copy.deepcopy(manifest)
    node = changed
    for key in path[:-1]:
        node = node.setdefault(key, {})
    if value is ...:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return changed


def conf(key: str, value: Any, base: dict[str, Any] = BASIC) -> dict[str, Any]:
    return set_path(base, ("spec", "flinkConfiguration", key), value)


@pytest.mark.parametrize(
    ("section", "memory", "spec_memory", "size"),
    [
        ("resource", "2048m", "2048m", 2048 * 2**20),  # Flink's syntax: m is MiB
        ("resource", "2Gi", "2Gi", 2 * 2**30),
        ("resource", "2 gb", "2 gb", 2 * 2**30),
        ("requests", "1536Mi", "1536Mi", 1536 * 2**20),
        ("requests", 2147483648, "2147483648", 2**31),
        # The operator reads resources as it reads resource: Flink's MemorySize first.
        ("requests", "4G", "4G", 4 * 2**30),
        ("requests", "2048m", "2048m", 2048 * 2**20),
    ],
)
@pytest.mark.filterwarnings("ignore::airflow_provider_flink_k8s.exceptions.SpecWarning")
def test_memory_forms(section: str, memory: Any, spec_memory: str, size: int) -> None:
    if section == "resource":
        manifest = set_path(BASIC, ("spec", "taskManager", "resource", "memory"), memory)
    else:
        manifest = set_path(
            BASIC, ("spec", "taskManager"), {"resources": {"requests": {"memory": memory}}}
        )
    taskmanager = read(manifest).taskmanager
    assert (taskmanager.memory, taskmanager.memory_bytes) == (spec_memory, size)


# Every unit a FlinkDeployment may size a role with, as the operator reads it
# (ResourceConfigUtils.parseResourceMemoryString): Flink's MemorySize first, so "2048m" is
# 2048 MiB and "2G" 2 GiB; what Flink refuses ("2048mi", "2Gi") as a Kubernetes quantity
# after upper-casing the unit ("2048mi" -> "2048Mi").
MEMORY_UNITS = [
    ("2048m", 2**31),
    ("2048mi", 2**31),
    ("2048Mi", 2**31),
    ("2G", 2**31),
    ("2Gi", 2**31),
    ("2147483648", 2**31),
    (2147483648, 2**31),
    ("1536m", 1536 * 2**20),
    ("1536MI", 1536 * 2**20),
]
ROLE_FORMS = {
    "resource": lambda memory: {"resource": {"cpu": 1, "memory": memory}},
    "requests": lambda memory: {"resources": {"requests": {"cpu": 1, "memory": memory}}},
    "limits": lambda memory: {"resources": {"limits": {"cpu": 1, "memory": memory}}},
    "requests and limits": lambda memory: {
        "resources": {"requests": {"memory": memory}, "limits": {"memory": memory}}
    },
}


@pytest.mark.filterwarnings("ignore::airflow_provider_flink_k8s.exceptions.SpecWarning")
@pytest.mark.parametrize(
    ("form", "memory", "size"),
    [
        (form, memory, size)
        for form in ROLE_FORMS
        for memory, size in MEMORY_UNITS
        # resource.memory is a string in the CRD; resources takes integers too.
        if form != "resource" or isinstance(memory, str)
        # Not a Kubernetes quantity, from which the operator computes a limit factor.
        if form != "requests and limits" or memory not in ("2048mi", "1536MI")
    ],
)
@pytest.mark.parametrize("role", ["jobManager", "taskManager"])
def test_memory_is_read_as_the_operator_reads_it(
    role: str, form: str, memory: Any, size: int
) -> None:
    manifest = set_path(BASIC, ("spec", role), ROLE_FORMS[form](memory))
    cluster = read(manifest)
    spec_role = cluster.jobmanager if role == "jobManager" else cluster.taskmanager
    assert spec_role.memory_bytes == size
    assert not any("memory.limit-factor" in key for key in cluster.flink_configuration)


def test_the_operators_own_example_reads() -> None:
    # The operator's current examples size the JobManager this way; read as a Kubernetes
    # quantity, 2048m would be 2.048 bytes.
    manifest = set_path(
        BASIC, ("spec", "jobManager"), {"resources": {"requests": {"memory": "2048m", "cpu": 1}}}
    )
    cluster = read(manifest)
    assert (cluster.jobmanager.memory, cluster.jobmanager.memory_bytes) == ("2048m", 2**31)


@pytest.mark.filterwarnings("ignore::airflow_provider_flink_k8s.exceptions.SpecWarning")
@pytest.mark.parametrize(
    ("request_", "limit", "factor"),
    [
        ("2048m", "3072m", "1.5"),
        ("2G", "3G", "1.5"),
        ("2Gi", "3Gi", "1.5"),
        ("2048Mi", "4Gi", "2.0"),
        ("2147483648", 4294967296, "2.0"),
    ],
)
def test_a_memory_limit_is_a_limit_factor_in_any_unit(
    request_: Any, limit: Any, factor: str
) -> None:
    manifest = set_path(
        BASIC,
        ("spec", "taskManager"),
        {"resources": {"requests": {"memory": request_}, "limits": {"memory": limit}}},
    )
    cluster = read(manifest)
    assert cluster.taskmanager.memory_bytes == 2**31
    assert cluster.flink_configuration["kubernetes.taskmanager.memory.limit-factor"] == factor


def test_a_limit_the_operator_would_scale_by_another_unit_is_refused() -> None:
    # The operator sizes Flink with 2048m = 2048 MiB, but takes the limit factor from
    # the Kubernetes quantities: 3Gi / 2.048 bytes, a limit of exabytes.
    manifest = set_path(
        BASIC,
        ("spec", "taskManager"),
        {"resources": {"requests": {"memory": "2048m"}, "limits": {"memory": "3Gi"}}},
    )
    with pytest.raises(SpecError) as caught:
        read(manifest)
    assert [str(problem) for problem in caught.value.problems] == [
        "spec.taskManager.resources.limits.memory: the operator sizes Flink with 2048m "
        "= 2g but takes the limit factor from Kubernetes quantities (3Gi / 2048m = "
        "1572864000, as Kubernetes reads 2048m as 2.048 bytes); write the request and the "
        "limit in the same unit, e.g. '2Gi' and '3Gi'"
    ]


@pytest.mark.parametrize("form", ["resource", "requests"])
def test_a_fraction_flink_cannot_take_is_refused(form: str) -> None:
    # The operator hands Flink the quantity's amount as Java prints it: 1610612736.0.
    manifest = set_path(BASIC, ("spec", "taskManager"), ROLE_FORMS[form]("1.5Gi"))
    with pytest.raises(SpecError) as caught:
        read(manifest)
    field = "resource" if form == "resource" else "resources.requests"
    assert [str(problem) for problem in caught.value.problems] == [
        f"spec.taskManager.{field}.memory: '1.5Gi' is no size in Flink's syntax (whole "
        "numbers only), and as a Kubernetes quantity the operator hands it to Flink as "
        "'1610612736.0', which Flink refuses; write a whole number, e.g. '1536Mi'"
    ]


def test_a_limit_factor_needs_kubernetes_quantities() -> None:
    # The operator's limit factor reads both as Kubernetes quantities; "mi" is none.
    manifest = set_path(
        BASIC,
        ("spec", "taskManager"),
        {"resources": {"requests": {"memory": "2048mi"}, "limits": {"memory": "3Gi"}}},
    )
    with pytest.raises(SpecError) as caught:
        read(manifest)
    assert [str(problem) for problem in caught.value.problems] == [
        "spec.taskManager.resources.requests.memory: '2048mi' is not a Kubernetes quantity, "
        "and the operator computes the memory limit factor from the request's and the "
        "limit's quantities; write e.g. '2Gi'"
    ]


def test_decimal_looking_memory_in_a_flink_deployment_warns_naming_its_field() -> None:
    manifest = set_path(
        BASIC, ("spec", "taskManager"), {"resources": {"requests": {"memory": "2G"}}}
    )
    with pytest.warns(SpecWarning) as caught:
        read(manifest)
    assert [str(warning.message) for warning in caught] == [
        'spec.taskManager.resources.requests.memory: "2G" is read as Flink\'s MemorySize: '
        "2 GiB (2147483648 bytes), not 2 GB; if you meant 2 GB (decimal) write "
        '"2000000000" (bytes) or "1907m" (MiB, rounded down)'
    ]


def test_a_limit_alone_is_the_size() -> None:
    manifest = set_path(
        BASIC, ("spec", "jobManager"), {"resources": {"limits": {"cpu": 2, "memory": "3Gi"}}}
    )
    cluster = read(manifest)
    assert (cluster.jobmanager.cpu, cluster.jobmanager.memory) == (2.0, "3Gi")
    assert not any("limit-factor" in key for key in cluster.flink_configuration)


def test_parallelism_default_is_the_jobs_parallelism_when_it_has_none() -> None:
    manifest = conf(
        "parallelism.default", "6", set_path(BASIC, ("spec", "job", "parallelism"), ...)
    )
    cluster = read(manifest)
    assert cluster.job is not None and cluster.job.parallelism == 6
    assert "parallelism.default" not in cluster.flink_configuration
    # ... and a session cluster keeps it as configuration for the jobs it is given.
    session = read(conf("parallelism.default", "6", corpus("session-cluster-and-job")))
    assert session.flink_configuration == {"parallelism.default": "6"}


def test_zookeeper_ha_stays_configuration() -> None:
    manifest = conf(
        "high-availability.type", "zookeeper", conf("high-availability.storageDir", "s3://ha")
    )
    cluster = read(conf("high-availability.zookeeper.quorum", "zk:2181", manifest))
    assert not cluster.high_availability.enabled
    assert cluster.flink_configuration["high-availability.type"] == "zookeeper"
    assert cluster.flink_configuration["high-availability.storageDir"] == "s3://ha"


def test_the_providers_own_labels_read_back_as_none() -> None:
    labels = {
        "app": "basic-example",
        "app.kubernetes.io/instance": "basic-example",
        "app.kubernetes.io/managed-by": "airflow-provider-flink-k8s",
        "app.kubernetes.io/name": "flink",
        "team": "data",
    }
    cluster = read(set_path(BASIC, ("metadata", "labels"), labels))
    assert cluster.labels == {"team": "data"}


# --- load_cluster ----------------------------------------------------------------------


def test_load_cluster_takes_a_flink_deployment_in_every_form(tmp_path: Path) -> None:
    expected = read(BASIC)
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(BASIC), encoding="utf-8")
    assert load_cluster(BASIC) == expected
    assert load_cluster(yaml.safe_dump(BASIC)) == expected
    assert load_cluster(json.dumps(BASIC)) == expected
    assert load_cluster(path) == expected
    assert load_cluster(str(path)) == expected
    assert load_cluster(CORPUS / "basic.yaml") == expected


def test_load_cluster_target() -> None:
    cluster = load_cluster(corpus("sql-runner"), target="standalone")
    assert cluster.target == "standalone"
    spec = {"name": "shared", "target": "standalone"}
    assert load_cluster(spec, target="operator").target == "operator"
    assert load_cluster(spec).target == "standalone"


def test_load_cluster_names_the_flink_deployment_fields() -> None:
    manifest = set_path(BASIC, ("spec", "jobManager", "resource", "memory"), "lots")
    with pytest.raises(SpecError) as caught:
        load_cluster(yaml.safe_dump(manifest))
    assert str(caught.value).startswith("invalid FlinkDeployment (1 problem):\n")
    assert caught.value.problems[0].field == "spec.jobManager.resource.memory"


def test_a_spec_with_api_version_is_read_as_a_manifest() -> None:
    with pytest.raises(SpecError) as caught:
        load_cluster({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})
    fields = [problem.field for problem in caught.value.problems]
    assert fields[:2] == ["apiVersion", "kind"]


# --- FlinkSessionJob ---------------------------------------------------------------------


def session_job() -> dict[str, Any]:
    _, job = yaml.safe_load_all(
        (CORPUS / "session-cluster-and-job.yaml").read_text(encoding="utf-8")
    )
    assert isinstance(job, dict)
    return job


def test_session_job() -> None:
    manifest = session_job()
    manifest["spec"]["job"]["savepointTriggerNonce"] = 1
    manifest["spec"]["flinkConfiguration"] = {"pipeline": {"name": "speed"}}
    parsed = SessionJobSpec.from_flink_session_job(manifest)
    assert parsed.name == "basic-session-job-example"
    assert parsed.deployment_name == "basic-session-deployment-example"
    assert parsed.job.jar_uri.endswith("TopSpeedWindowing.jar")
    assert (parsed.job.parallelism, parsed.job.upgrade_mode) == (4, "stateless")
    assert parsed.flink_configuration == {"pipeline.name": "speed"}
    assert parsed.overrides == {"job": {"savepointTriggerNonce": 1}}


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("kind",), "FlinkDeployment", "kind: 'FlinkDeployment' is not a FlinkSessionJob"),
        (("spec", "deploymentName"), ..., "spec.deploymentName: required"),
        (("spec", "job", "jarURI"), ..., "spec.job.jarURI: required"),
        (("spec", "job", "parallelism"), 0, "spec.job.parallelism: Input should be greater"),
        (("spec", "clusterId"), "x", "spec.clusterId: unknown FlinkSessionJob field"),
    ],
)
def test_bad_session_jobs(path: tuple[str, ...], value: Any, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        SessionJobSpec.from_flink_session_job(set_path(session_job(), path, value))
    assert any(str(p).startswith(problem) for p in caught.value.problems), caught.value


# --- bad FlinkDeployments ----------------------------------------------------------------

RESOURCES = {"requests": {"cpu": 1, "memory": "2Gi"}, "limits": {"memory": "1Gi"}}

BAD: list[tuple[str, dict[str, Any], str]] = [
    (
        "old api version",
        set_path(BASIC, ("apiVersion",), "flink.apache.org/v1alpha1"),
        "apiVersion: 'flink.apache.org/v1alpha1' is not supported",
    ),
    ("no api version", set_path(BASIC, ("apiVersion",), ...), "apiVersion: required"),
    (
        "another kind",
        set_path(BASIC, ("kind",), "FlinkSessionJob"),
        "kind: 'FlinkSessionJob' is not a FlinkDeployment",
    ),
    (
        "unknown top-level field",
        set_path(BASIC, ("specification",), {}),
        "specification: unknown FlinkDeployment field",
    ),
    ("status", set_path(BASIC, ("status",), {}), "status: is written by the operator"),
    ("no spec", set_path(BASIC, ("spec",), ...), "spec: required"),
    (
        "unknown spec field",
        set_path(BASIC, ("spec", "parallelism"), 2),
        "spec.parallelism: unknown FlinkDeployment field",
    ),
    (
        "unknown resource field",
        set_path(BASIC, ("spec", "taskManager", "resource", "memroy"), "2g"),
        "spec.taskManager.resource.memroy: unknown FlinkDeployment field",
    ),
    (
        "server metadata",
        set_path(BASIC, ("metadata", "uid"), "1234"),
        "metadata.uid: unknown FlinkDeployment field",
    ),
    ("no name", set_path(BASIC, ("metadata", "name"), ...), "metadata.name: required"),
    (
        "name not DNS",
        set_path(BASIC, ("metadata", "name"), "Basic_Example"),
        "metadata.name: 'Basic_Example' is not a DNS-1035 label",
    ),
    (
        "memory garbage",
        set_path(BASIC, ("spec", "taskManager", "resource", "memory"), "2 GiBs"),
        "spec.taskManager.resource.memory: '2 GiBs' is neither a Flink memory size",
    ),
    (
        "memory zero",
        set_path(BASIC, ("spec", "jobManager", "resource", "memory"), "0m"),
        "spec.jobManager.resource.memory: '0m' must be a positive memory size",
    ),
    (
        "memory not a string",
        set_path(BASIC, ("spec", "jobManager", "resource", "memory"), 2048),
        "spec.jobManager.resource.memory: must be a string, not 2048",
    ),
    (
        "memory quantity garbage",
        set_path(BASIC, ("spec", "jobManager"), {"resources": {"requests": {"memory": "2XB"}}}),
        "spec.jobManager.resources.requests.memory: '2XB' is neither a Flink memory size",
    ),
    (
        "process size garbage",
        conf("taskmanager.memory.process.size", "lots"),
        "spec.flinkConfiguration['taskmanager.memory.process.size']: 'lots' is neither",
    ),
    (
        "memory too small for Flink",
        set_path(BASIC, ("spec", "taskManager", "resource", "memory"), "400m"),
        "spec.taskManager.resource.memory: does not fit Flink's memory model",
    ),
    (
        "cpu as text",
        set_path(BASIC, ("spec", "jobManager", "resource", "cpu"), "500m"),
        "spec.jobManager.resource.cpu: must be a number of cores, not '500m'",
    ),
    (
        "cpu zero",
        set_path(BASIC, ("spec", "jobManager", "resource", "cpu"), 0),
        "spec.jobManager.resource.cpu: 0 must be greater than 0",
    ),
    (
        "resource and resources",
        set_path(BASIC, ("spec", "jobManager", "resources"), RESOURCES),
        "spec.jobManager: give either resource or resources, not both",
    ),
    (
        "limit below request",
        set_path(BASIC, ("spec", "taskManager"), {"resources": RESOURCES}),
        "spec.taskManager.resources.limits.memory: must be a number >= 1.0",
    ),
    (
        "no flink version",
        set_path(BASIC, ("spec", "flinkVersion"), ...),
        "spec.flinkVersion: required",
    ),
    (
        "unsupported flink version",
        set_path(BASIC, ("spec", "flinkVersion"), "v1_17"),
        "spec.flinkVersion: 'v1_17' is not a supported Flink version",
    ),
    (
        "flink version as a number",
        set_path(BASIC, ("spec", "flinkVersion"), 1.2),
        "spec.flinkVersion: must be a string, not 1.2",
    ),
    (
        "bad deployment mode",
        set_path(BASIC, ("spec", "mode"), "hybrid"),
        "spec.mode: Input should be 'native' or 'standalone'",
    ),
    (
        "job without jar",
        set_path(BASIC, ("spec", "job", "jarURI"), ...),
        "spec.job.jarURI: required",
    ),
    (
        "parallelism as text",
        set_path(BASIC, ("spec", "job", "parallelism"), "2"),
        "spec.job.parallelism: must be an integer, not '2'",
    ),
    (
        "bad upgrade mode",
        set_path(BASIC, ("spec", "job", "upgradeMode"), "rolling"),
        "spec.job.upgradeMode: Input should be 'stateless', 'savepoint' or 'last-state'",
    ),
    (
        "last-state without HA",
        set_path(BASIC, ("spec", "job", "upgradeMode"), "last-state"),
        "spec.job.upgradeMode: 'last-state' needs high availability",
    ),
    (
        "standby JobManagers without HA",
        set_path(BASIC, ("spec", "jobManager", "replicas"), 2),
        "spec.jobManager.replicas: 2 JobManagers need high availability",
    ),
    (
        "args not strings",
        set_path(BASIC, ("spec", "job", "args"), ["--n", 3]),
        "spec.job.args: must be a list of strings; 3 is not a string",
    ),
    (
        "slots not a number",
        conf("taskmanager.numberOfTaskSlots", "two"),
        "spec.flinkConfiguration['taskmanager.numberOfTaskSlots']: must be a whole number >= 1",
    ),
    (
        "savepoint directories disagree",
        conf(
            "execution.checkpointing.savepoint-dir",
            "s3://a",
            conf("state.savepoints.dir", "s3://b"),
        ),
        "spec.flinkConfiguration['execution.checkpointing.savepoint-dir']: and "
        "'state.savepoints.dir' name the same setting but disagree",
    ),
    (
        "key flat and nested",
        conf("taskmanager", {"numberOfTaskSlots": 3}),
        "spec.flinkConfiguration['taskmanager.numberOfTaskSlots']: is given twice",
    ),
    (
        "key without value",
        conf("state.backend.type", None),
        "spec.flinkConfiguration['state.backend.type']: has no value",
    ),
    (
        "process size against resource",
        conf("jobmanager.memory.process.size", "1g"),
        "spec.flinkConfiguration['jobmanager.memory.process.size']: is '1g', but "
        "spec.jobManager.resource.memory sizes the process",
    ),
    (
        "parallelism.default against job",
        conf("parallelism.default", "8"),
        "spec.flinkConfiguration['parallelism.default']: is 8, but the operator runs the job "
        "with parallelism 2",
    ),
    (
        "cluster id",
        conf("kubernetes.cluster-id", "other"),
        "spec.flinkConfiguration['kubernetes.cluster-id']: must be the deployment's name",
    ),
    (
        "limit factor against limits",
        conf(
            "kubernetes.taskmanager.memory.limit-factor",
            "3.0",
            set_path(
                BASIC,
                ("spec", "taskManager"),
                {"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "4Gi"}}},
            ),
        ),
        "spec.flinkConfiguration['kubernetes.taskmanager.memory.limit-factor']: is '3.0', but "
        "spec.taskManager.resources.limits.memory sets the factor to 2.0",
    ),
    (
        "provider label",
        set_path(BASIC, ("metadata", "labels"), {"app": "orders"}),
        "metadata.labels['app']: is set by the provider",
    ),
    (
        "pod identity label",
        set_path(
            BASIC,
            ("spec", "podTemplate"),
            {"metadata": {"labels": {"app.kubernetes.io/name": "orders"}}},
        ),
        "spec.podTemplate.metadata.labels['app.kubernetes.io/name']: the provider sets it",
    ),
    (
        "flink config as a log file",
        set_path(BASIC, ("spec", "logConfiguration"), {"flink-conf.yaml": "a: b"}),
        "spec.logConfiguration['flink-conf.yaml']: the Flink configuration comes from the spec",
    ),
    (
        "ingress not a mapping",
        set_path(BASIC, ("spec", "ingress"), "x"),
        "spec.ingress: must be a mapping",
    ),
]


@pytest.mark.parametrize(
    ("manifest", "problem"), [(m, p) for _, m, p in BAD], ids=[case for case, _, _ in BAD]
)
def test_bad_flink_deployment_names_the_field(manifest: dict[str, Any], problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        read(manifest)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(problem) for p in problems), problems


def test_an_unknown_field_names_the_closest_valid_one() -> None:
    manifest = set_path(BASIC, ("spec", "taskManager", "resource", "memroy"), "2048m")
    with pytest.raises(SpecError) as caught:
        read(manifest)
    assert [str(problem) for problem in caught.value.problems] == [
        "spec.taskManager.resource.memroy: unknown FlinkDeployment field; did you mean "
        "'memory'? Valid fields: cpu, ephemeralStorage, memory"
    ]


def test_every_problem_is_reported_at_once() -> None:
    manifest = set_path(BASIC, ("apiVersion",), "v1")
    manifest = set_path(manifest, ("spec", "taskManager", "resource", "memory"), "lots")
    manifest = set_path(manifest, ("spec", "job", "parallelism"), "2")
    with pytest.raises(SpecError) as caught:
        read(manifest)
    assert [p.field for p in caught.value.problems] == [
        "apiVersion",
        "spec.taskManager.resource.memory",
        "spec.job.parallelism",
    ]


# --- operator.overrides in a written spec -------------------------------------------------

SPEC: dict[str, Any] = {"name": "orders", "target": "operator"}


def overrides_problems(overrides: dict[str, Any], target: str = "operator") -> list[str]:
    spec = {**SPEC, "target": target, "operator": {"overrides": overrides}}
    try:
        load_cluster(spec)
    except SpecError as error:
        return [str(problem) for problem in error.problems]
    return []


def test_overrides_hold_only_fields_the_spec_lacks() -> None:
    allowed = {
        "ingress": {"template": "{{name}}.example.com"},
        "restartNonce": 1,
        "job": {"checkpointTriggerNonce": 2},
        "jobManager": {"resource": {"ephemeralStorage": "1Gi"}},
        "taskManager": {"resources": {"limits": {"nvidia.com/gpu": 1}, "claims": []}},
    }
    assert overrides_problems(allowed) == []
    problems = overrides_problems(
        {
            "image": "flink:2.0",
            "taskManager": {"replicas": 3, "resources": {"requests": {"cpu": 2}}},
        }
    )
    assert [p.split(":")[0] for p in problems] == [
        "operator.overrides.image",
        "operator.overrides.taskManager.replicas",
        "operator.overrides.taskManager.resources.requests.cpu",
    ]


def test_standalone_refuses_every_override_naming_it() -> None:
    problems = overrides_problems(
        {
            "ingress": {"template": "x"},
            "taskManager": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
        },
        target="standalone",
    )
    assert [p.split(": ")[0] for p in problems] == [
        "operator.overrides.ingress",
        "operator.overrides.taskManager.resources.limits['nvidia.com/gpu']",
    ]
    assert "rest_service" in problems[0]
    assert "taskmanager.pod_template" in problems[1]


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        (
            "kubernetes.operator.periodic.savepoint.interval",
            "configures the Flink Kubernetes Operator",
        ),
        ("job.autoscaler.enabled", "autoscaler"),
        ("kubernetes.secrets", "mount the Secret with a volume in pod_template"),
        ("kubernetes.rest-service.exposed.type", "use rest_service.type"),
    ],
)
def test_standalone_refuses_what_only_the_operator_or_native_flink_reads(
    key: str, hint: str
) -> None:
    spec = {**SPEC, "target": "standalone", "flink_configuration": {key: "x"}}
    with pytest.raises(SpecError) as caught:
        load_cluster(spec)
    (problem,) = caught.value.problems
    assert problem.field == f"flink_configuration[{key!r}]"
    assert hint in problem.rule
    assert load_cluster({**spec, "target": "operator"}).flink_configuration == {key: "x"}
