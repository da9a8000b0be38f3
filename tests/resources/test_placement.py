"""Placement pre-flight: first-fit-decreasing over nodes, and the namespace quota."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from airflow_provider_flink_k8s.resources.placement import (
    NodeCapacity,
    QuotaStatus,
    check_placement,
    pod_requests,
)
from airflow_provider_flink_k8s.resources.plan import ClusterPlan, plan_cluster
from airflow_provider_flink_k8s.spec import load_cluster

GI = 2**30


def plan(tm_cpu: float = 2, tms: int = 6, tm_memory: str = "4g") -> ClusterPlan:
    return plan_cluster(
        load_cluster(
            {
                "name": "etl",
                "jobmanager": {"cpu": 1, "memory": "2g"},
                "taskmanager": {"cpu": tm_cpu, "memory": tm_memory, "slots": 1, "replicas": tms},
                "job": {"jar_uri": "local:///opt/flink/usrlib/j.jar", "parallelism": tms},
            }
        )
    )


def nodes(count: int, cpu: float, memory_gi: int) -> list[NodeCapacity]:
    return [NodeCapacity(f"n{i}", cpu=cpu, memory=memory_gi * GI) for i in range(count)]


def test_fits_and_assigns_every_pod() -> None:
    result = check_placement(plan(), nodes(3, 5, 16))
    assert result.fits, result.reasons
    assert len(result.assignments) == 7
    # Largest first: the six 2-CPU TaskManagers fill n0..n2 two by two, the JobManager fits.
    assert [node for _, node in result.assignments] == ["n0", "n0", "n1", "n1", "n2", "n2", "n0"]
    assert str(result) == "fits"


def test_pod_too_big_for_any_node_names_the_largest_node() -> None:
    result = check_placement(plan(), nodes(3, 1.5, 16))
    assert not result.fits
    assert result.reasons == (
        "6 TaskManagers need 2 CPU each; the largest node has 1.5 allocatable",
    )


def test_pod_memory_too_big() -> None:
    result = check_placement(plan(tm_memory="8g"), nodes(3, 8, 6))
    assert "6 TaskManagers need 8Gi memory each; the largest node has 6Gi allocatable" in (
        result.reasons
    )


def test_pods_fit_one_by_one_but_not_all_together() -> None:
    result = check_placement(plan(), nodes(2, 4, 16))  # room for 4 of 6 TaskManagers
    assert not result.fits
    assert result.reasons == (
        "1 of 1 JobManager (1 CPU, 2Gi each) finds no node with room left "
        "(2 nodes: 8 CPU, 32Gi allocatable in total)",
        "2 of 6 TaskManagers (2 CPU, 4Gi each) find no node with room left "
        "(2 nodes: 8 CPU, 32Gi allocatable in total)",
    )
    assert len(result.assignments) == 4


def test_pod_count_limit() -> None:
    full = [NodeCapacity("n0", cpu=64, memory=256 * GI, pods=3)]
    result = check_placement(plan(), full)
    assert not result.fits
    assert len(result.assignments) == 3


def test_no_nodes() -> None:
    assert check_placement(plan(), []).reasons == (
        "no node accepts new pods (none listed, or all cordoned or tainted)",
    )


def test_node_from_kubernetes_object() -> None:
    node: dict[str, Any] = {
        "metadata": {"name": "worker-1"},
        "status": {"allocatable": {"cpu": "3500m", "memory": "16Gi", "pods": "110"}},
    }
    assert NodeCapacity.from_k8s(node) == NodeCapacity("worker-1", 3.5, 16 * GI, 110)
    assert NodeCapacity.from_k8s({**node, "spec": {"unschedulable": True}}) is None
    tainted = {**node, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}}
    assert NodeCapacity.from_k8s(tainted) is None
    soft = {**node, "spec": {"taints": [{"key": "k", "effect": "PreferNoSchedule"}]}}
    assert NodeCapacity.from_k8s(soft) is not None


def test_quota_exceeded() -> None:
    quota = QuotaStatus.from_k8s(
        {
            "metadata": {"name": "team-quota"},
            "spec": {
                "hard": {
                    "requests.cpu": "10",
                    "limits.memory": "64Gi",
                    "pods": "20",
                    "count/jobs.batch": "5",
                }
            },
            "status": {
                "hard": {"requests.cpu": "10", "limits.memory": "64Gi", "pods": "20"},
                "used": {"requests.cpu": "2", "limits.memory": "1Gi", "pods": "3"},
            },
        }
    )
    assert quota.hard["requests.cpu"] == Decimal(10)
    result = check_placement(plan(), nodes(10, 8, 32), quota)
    assert result.reasons == (
        "ResourceQuota 'team-quota': requests.cpu would reach 15 of 10 (used 2, this cluster "
        "needs 13)",
    )


def test_quota_within_limits() -> None:
    quota = QuotaStatus("q", hard={"requests.memory": Decimal(64 * GI), "pods": Decimal(10)})
    assert check_placement(plan(), nodes(10, 8, 32), [quota]).fits


def test_pod_requests_one_per_replica() -> None:
    pods = pod_requests(plan(tms=3))
    assert [p.role for p in pods] == ["JobManager", "TaskManager", "TaskManager", "TaskManager"]
    assert pods[1].cpu == 2 and pods[1].memory == 4 * GI
