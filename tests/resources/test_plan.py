"""The resource plan: replicas, requests and limits, Flink configuration, totals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.spec import load_cluster

REPO = Path(__file__).resolve().parents[2]

APP: dict[str, Any] = {
    "name": "clickstream",
    "jobmanager": {"cpu": 0.5, "memory": "1600m"},
    "taskmanager": {"cpu": 2, "memory": "4096m", "slots": 2},
    "job": {"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 5},
}


def plan(**changes: Any) -> Any:
    return plan_cluster(load_cluster({**APP, **changes}))


@pytest.mark.parametrize(
    ("parallelism", "slots", "replicas", "expected"),
    [(5, 2, None, 3), (4, 2, None, 2), (1, 4, None, 1), (8, 1, None, 8), (2, 2, 3, 3)],
)
def test_taskmanager_replicas(
    parallelism: int, slots: int, replicas: int | None, expected: int
) -> None:
    result = plan(
        taskmanager={"cpu": 1, "memory": "1728m", "slots": slots, "replicas": replicas},
        job={"jar_uri": "local:///opt/flink/usrlib/j.jar", "parallelism": parallelism},
    )
    assert result.taskmanager.replicas == expected
    assert result.total_slots == expected * slots


def test_parallelism_derived_from_pinned_replicas() -> None:
    result = plan(
        taskmanager={"memory": "1728m", "slots": 2, "replicas": 3},
        job={"jar_uri": "local:///opt/flink/usrlib/j.jar"},
    )
    assert result.parallelism == 6
    assert result.flink_configuration["parallelism.default"] == "6"


def test_session_cluster_has_one_taskmanager_and_no_parallelism() -> None:
    result = plan_cluster(load_cluster({"name": "shared"}))
    assert result.parallelism is None
    assert result.taskmanager.replicas == 1
    assert "parallelism.default" not in result.flink_configuration


def test_requests_equal_flink_process_sizes() -> None:
    result = plan()
    assert result.taskmanager.resources.to_k8s() == {
        "requests": {"cpu": "2", "memory": "4Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    assert result.jobmanager.resources.to_k8s() == {
        "requests": {"cpu": "500m", "memory": "1600Mi"},
        "limits": {"cpu": "500m", "memory": "1600Mi"},
    }
    assert result.taskmanager_memory.total_process == 4096 * 2**20
    assert result.taskmanager_memory.jvm_args() == (
        "-Xmx1664299798 -Xms1664299798 -XX:MaxDirectMemorySize=493921243 "
        "-XX:MaxMetaspaceSize=268435456"
    )
    assert result.jobmanager_memory.heap == 1024 * 2**20


def test_kubernetes_quantity_memory_is_written_in_flink_syntax() -> None:
    result = plan(taskmanager={"memory": "2Gi", "slots": 2})
    assert result.flink_configuration["taskmanager.memory.process.size"] == "2g"
    assert result.taskmanager.resources.memory_request == 2 * 2**30


def test_limit_factors() -> None:
    result = plan(
        flink_configuration={
            "kubernetes.taskmanager.cpu.limit-factor": "2",
            "kubernetes.taskmanager.memory.limit-factor": "1.5",
        }
    )
    assert result.taskmanager.resources.to_k8s()["limits"] == {"cpu": "4", "memory": "6Gi"}
    assert result.taskmanager.resources.to_k8s()["requests"] == {"cpu": "2", "memory": "4Gi"}


def test_totals() -> None:
    result = plan()  # 1 JM (0.5 CPU, 1600Mi) + 3 TMs (2 CPU, 4Gi)
    assert result.cpu_requests == 6.5
    assert result.memory_requests == 1600 * 2**20 + 3 * 4 * 2**30
    summary = result.to_dict()
    assert summary["totals"]["requests"] == {"cpu": "6500m", "memory": "13888Mi"}
    assert summary["taskmanagers"] == 3


def test_flink_configuration_agrees_with_kubernetes() -> None:
    conf = plan(
        checkpoint_dir="s3://b/cp",
        savepoint_dir="s3://b/sp",
        high_availability={"enabled": True, "storage_dir": "s3://b/ha"},
        flink_configuration={"execution.checkpointing.interval": "10s"},
    ).flink_configuration
    assert conf["taskmanager.memory.process.size"] == "4g"
    assert conf["jobmanager.memory.process.size"] == "1600m"
    assert conf["taskmanager.numberOfTaskSlots"] == "2"
    assert conf["taskmanager.cpu.cores"] == "2.0"
    assert conf["parallelism.default"] == "5"
    assert conf["execution.checkpointing.dir"] == "s3://b/cp"
    assert conf["execution.checkpointing.savepoint-dir"] == "s3://b/sp"
    assert conf["high-availability.type"] == "kubernetes"
    assert conf["high-availability.storageDir"] == "s3://b/ha"
    assert conf["kubernetes.cluster-id"] == "clickstream"
    assert conf["jobmanager.rpc.address"] == "clickstream-jobmanager"
    assert conf["execution.checkpointing.interval"] == "10s"
    assert list(conf) == sorted(conf)


def test_flink_119_uses_the_old_state_keys() -> None:
    conf = plan(
        flink_version="1.19", checkpoint_dir="s3://b/cp", savepoint_dir="s3://b/sp"
    ).flink_configuration
    assert conf["state.checkpoints.dir"] == "s3://b/cp"
    assert conf["state.savepoints.dir"] == "s3://b/sp"


def test_user_configuration_feeds_the_memory_model() -> None:
    result = plan(flink_configuration={"taskmanager.memory.managed.fraction": "0.2"})
    default = plan()
    assert result.taskmanager_memory.managed < default.taskmanager_memory.managed
    assert result.taskmanager_memory.total_process == default.taskmanager_memory.total_process


def test_worked_example_of_the_docs() -> None:
    """The numbers docs/resources.md walks through for the demo pipeline's spec."""
    example = plan_cluster(load_cluster(REPO / "example_dags" / "specs" / "clickstream.yaml"))
    assert example.taskmanager.replicas == 2
    tm = example.taskmanager_memory
    assert (tm.jvm_overhead, tm.total_flink, tm.managed, tm.network, tm.task_heap) == (
        201326592,
        1342177280,
        536870920,
        134217730,
        402653174,
    )
    assert tm.jvm_args() == (
        "-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=268435458 "
        "-XX:MaxMetaspaceSize=268435456"
    )
    assert example.jobmanager_memory.jvm_args() == (
        "-Xmx1073741824 -Xms1073741824 -XX:MaxMetaspaceSize=268435456"
    )
    assert example.to_dict()["totals"]["requests"] == {"cpu": "2500m", "memory": "5056Mi"}


def test_summary_is_a_short_table_people_can_read() -> None:
    # 1 JM (0.5 CPU, 1600m) + 3 TMs (2 CPU, 4g, limit factors 2 and 1.5)
    result = plan(
        flink_configuration={
            "kubernetes.taskmanager.cpu.limit-factor": "2",
            "kubernetes.taskmanager.memory.limit-factor": "1.5",
        }
    )
    text = result.summary()
    lines = text.splitlines()
    assert len(lines) == 5, text
    header, jm, tm, slots, total = lines
    assert header.split() == [
        "pods", "cpu", "req/lim", "memory", "req/lim", "heap", "off-heap", "managed", "meta",
    ]  # fmt: skip
    tm_memory = result.taskmanager_memory
    assert tm.split()[:4] == ["TaskManager", "3", "2/4", "4Gi/6Gi"]
    assert jm.split()[:4] == ["JobManager", "1", "500m/500m", "1600Mi/1600Mi"]
    assert jm.split()[6] == "-"  # a JobManager has no managed memory
    # The JVM sizes are Flink's own (the oracle-tested memory model), shown in MiB.
    assert tm.split()[4] == f"{tm_memory.heap / 2**20:.1f}Mi"
    assert slots == "slots: 2 per TaskManager, 6 in all; parallelism 5"
    assert total == "total: requests 6500m CPU, 13888Mi; limits 12500m CPU, 20032Mi"
    # No dict on one line, nothing wider than a terminal.
    assert "{" not in text and max(map(len, lines)) <= 100


def test_summary_of_a_session_cluster_says_it_has_no_job() -> None:
    session = plan_cluster(
        load_cluster({**APP, "mode": "session", "job": None, "taskmanager": APP["taskmanager"]})
    )
    assert session.summary().splitlines()[3] == (
        "slots: 2 per TaskManager, 2 in all; session cluster (no job)"
    )


def test_to_dict_is_plain_json_with_the_same_facts() -> None:
    import json

    result = plan()
    data = json.loads(json.dumps(result.to_dict()))
    assert data["taskmanagers"] == 3 and data["total_slots"] == 6
    assert data["taskmanager"]["jvm_args"] == result.taskmanager_memory.jvm_args()
