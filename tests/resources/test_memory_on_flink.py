"""Our memory model predicts what real Flink processes run with.

A session cluster rendered from a spec (a JobManager and a TaskManager) starts as real
Flink processes, sized by Flink's own BashJavaUtils as in the image; the memory each
reports through the REST API is what :mod:`airflow_provider_flink_k8s.resources.memory`
computed from the same configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flink_processes import ClusterPods, FlinkRest, start_cluster
from flink_support import render_pods
from polling import wait_until

from airflow_provider_flink_k8s.resources import jobmanager_memory, taskmanager_memory

pytestmark = pytest.mark.slow

SPEC = {
    "name": "memory",
    "mode": "session",
    "target": "standalone",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1280m", "cpu": 1, "slots": 2, "replicas": 1},
}


@pytest.fixture(scope="module")
def cluster(
    flink_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ClusterPods, FlinkRest]]:
    pods = render_pods(SPEC)
    jobmanager, taskmanagers = start_cluster(pods, tmp_path_factory.mktemp("memory"), 1)
    try:
        rest = FlinkRest(jobmanager)
        jobmanager.wait_ready(timeout=120)
        wait_until(lambda: rest.get("/overview")["slots-total"] == 2, 120, "the TaskManager")
        yield pods, rest
    finally:
        for process in [*taskmanagers, jobmanager]:
            process.stop()


def test_a_taskmanager_reports_the_memory_our_model_predicts(
    cluster: tuple[ClusterPods, FlinkRest],
) -> None:
    pods, rest = cluster
    predicted = taskmanager_memory(pods.taskmanager.configuration)
    expected = {
        "frameworkHeap": predicted.framework_heap,
        "taskHeap": predicted.task_heap,
        "frameworkOffHeap": predicted.framework_off_heap,
        "taskOffHeap": predicted.task_off_heap,
        "networkMemory": predicted.network,
        "managedMemory": predicted.managed,
        "jvmMetaspace": predicted.jvm_metaspace,
        "jvmOverhead": predicted.jvm_overhead,
        "totalFlinkMemory": predicted.total_flink,
        "totalProcessMemory": predicted.total_process,
    }

    taskmanagers = rest.get("/taskmanagers")["taskmanagers"]

    assert [tm["memoryConfiguration"] for tm in taskmanagers] == [expected]


def test_the_jobmanager_jvm_runs_with_our_memory_model(
    cluster: tuple[ClusterPods, FlinkRest],
) -> None:
    pods, rest = cluster
    predicted = jobmanager_memory(pods.jobmanager.configuration)

    options: list[Any] = rest.get("/jobmanager/environment")["jvm"]["options"]
    config = {item["key"]: item["value"] for item in rest.get("/jobmanager/config")}

    assert options[: len(predicted.jvm_args().split())] == predicted.jvm_args().split()
    assert config["jobmanager.memory.heap.size"] == f"{predicted.heap}b"
