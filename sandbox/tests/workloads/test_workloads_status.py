"""Deployment and ReplicaSet status math and rolling-update arithmetic (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from flink_k8s_sandbox.workloads.rollout import (
    build_replica_set,
    new_replicas,
    old_replicas_after_scale_down,
)
from flink_k8s_sandbox.workloads.status import (
    deployment_status,
    equal_ignore_hash,
    fenceposts,
    max_unavailable,
    replica_set_status,
    rollout_progress,
    set_condition,
    template_hash,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
STAMP = "2026-01-02T03:04:05Z"


def _deployment(
    replicas: int = 4, surge: Any = "25%", unavailable: Any = "25%", **extra: Any
) -> Any:
    rolling = {"maxSurge": surge, "maxUnavailable": unavailable}
    spec = {
        "replicas": replicas,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
        "progressDeadlineSeconds": 600,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}},
        **extra,
    }
    metadata = {"name": "web", "namespace": "ns", "uid": "u-1", "generation": 1}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}


def _rs(
    name: str, spec: int, available: int = 0, ready: int | None = None, actual: int | None = None
) -> Any:
    status = {
        "replicas": spec if actual is None else actual,
        "readyReplicas": available if ready is None else ready,
        "availableReplicas": available,
    }
    metadata = {"name": name, "creationTimestamp": f"2026-01-01T00:00:0{name[-1]}Z"}
    return {"metadata": metadata, "spec": {"replicas": spec}, "status": status}


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        (4, "25%", "25%", (1, 1)),
        (10, "25%", "25%", (3, 2)),  # surge rounds up, unavailable down
        (1, "25%", "25%", (1, 0)),
        (3, 0, 0, (0, 1)),  # both zero: one may be unavailable
        (5, 2, "40%", (2, 2)),
    ],
)
def test_fenceposts(replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]) -> None:
    assert fenceposts(_deployment(replicas, surge, unavailable)) == expected


def test_max_unavailable_is_zero_for_recreate_and_capped_by_replicas() -> None:
    assert max_unavailable(_deployment(2, 0, 5)) == 2
    assert max_unavailable(_deployment(4, strategy={"type": "Recreate"})) == 0


@pytest.mark.parametrize(
    ("replicas", "old", "new", "expected"),
    [
        (4, [4], 0, 1),  # total 4 < 5: one more
        (4, [4], 1, 1),  # total 5: no room
        (4, [2], 1, 3),  # room for two
        (4, [0], 3, 4),  # never past replicas
        (2, [], 5, 2),  # scaled down at once
    ],
)
def test_new_replica_set_growth(replicas: int, old: list[int], new: int, expected: int) -> None:
    d = _deployment(replicas, 1, 1)
    old_rs = [_rs(f"old{i}", n, n) for i, n in enumerate(old)]
    new_rs = _rs("new9", new)
    assert new_replicas(d, [*old_rs, new_rs], new_rs) == expected


def test_old_replica_sets_shrink_within_max_unavailable() -> None:
    d = _deployment(4, 1, 1)
    old = _rs("old1", 4, 4)
    new = _rs("new2", 1, 0)
    assert old_replicas_after_scale_down(d, [old, new], [old], new) == {"old1": 3}  # 1 may go
    new_ready = _rs("new2", 1, 1)
    assert old_replicas_after_scale_down(d, [old, new_ready], [old], new_ready) == {"old1": 2}


def test_unhealthy_old_pods_go_first() -> None:
    d = _deployment(4, 1, 1)
    old = _rs("old1", 4, 2)  # two of its pods are unavailable
    new = _rs("new2", 1, 1)
    assert old_replicas_after_scale_down(d, [old, new], [old], new) == {"old1": 2}


def test_replica_set_status_counts_available_after_min_ready_seconds() -> None:
    rs = {
        "metadata": {"generation": 3},
        "spec": {"minReadySeconds": 10, "template": {"metadata": {"labels": {"a": "b"}}}},
    }

    def pod(ready_since: datetime | None, labels: dict[str, str]) -> Any:
        conditions = []
        if ready_since is not None:
            stamp = ready_since.strftime("%Y-%m-%dT%H:%M:%SZ")
            conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": stamp})
        return {"metadata": {"labels": labels}, "status": {"conditions": conditions}}

    pods = [
        pod(NOW - timedelta(seconds=30), {"a": "b"}),
        pod(NOW - timedelta(seconds=5), {"a": "b"}),
        pod(None, {}),
    ]
    assert replica_set_status(rs, pods, NOW) == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 3,
    }
    assert replica_set_status(rs, [], NOW) == {"replicas": 0, "observedGeneration": 3}


def test_deployment_status_and_conditions() -> None:
    d = _deployment(4, 1, 1)
    new = {**_rs("web-abc1", 4, 3), "metadata": {"name": "web-abc1"}}
    status = rollout_progress(d, deployment_status(d, [new], new, NOW), new, NOW)
    assert {k: v for k, v in status.items() if k != "conditions"} == {
        "observedGeneration": 1,
        "replicas": 4,
        "updatedReplicas": 4,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "unavailableReplicas": 1,
    }
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in status["conditions"]] == [
        ("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        ("Progressing", "True", "ReplicaSetUpdated", 'ReplicaSet "web-abc1" is progressing.'),
    ]
    assert status["conditions"][0]["lastUpdateTime"] == STAMP


def test_progress_deadline() -> None:
    d = _deployment(1, progressDeadlineSeconds=5)
    new = {**_rs("web-abc1", 1, 0), "metadata": {"name": "web-abc1"}}
    created = {
        "type": "Progressing",
        "status": "True",
        "reason": "NewReplicaSetCreated",
        "message": 'Created new replica set "web-abc1"',
        "lastUpdateTime": STAMP,
        "lastTransitionTime": STAMP,
    }
    d["status"] = {"replicas": 1, "updatedReplicas": 1, "conditions": [created]}
    early = rollout_progress(
        d, deployment_status(d, [new], new, NOW), new, NOW + timedelta(seconds=5)
    )
    assert [c["reason"] for c in early["conditions"]] == [
        "NewReplicaSetCreated",
        "MinimumReplicasUnavailable",
    ]
    late = NOW + timedelta(seconds=6)
    status = rollout_progress(d, deployment_status(d, [new], new, late), new, late)
    available, progressing = status["conditions"]
    assert (progressing["status"], progressing["reason"], progressing["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        'ReplicaSet "web-abc1" has timed out progressing.',
    )
    assert (available["status"], available["message"]) == (
        "False",
        "Deployment does not have minimum availability.",
    )


def test_set_condition_keeps_transition_time_and_moves_it_last() -> None:
    old = [
        {"type": "Progressing", "status": "True", "reason": "A", "lastTransitionTime": "t0"},
        {"type": "Available", "status": "True", "reason": "B", "lastTransitionTime": "t0"},
    ]
    same = set_condition(
        old, {"type": "Progressing", "status": "True", "reason": "A", "lastTransitionTime": "t1"}
    )
    assert same is old
    moved = set_condition(
        old, {"type": "Progressing", "status": "True", "reason": "C", "lastTransitionTime": "t1"}
    )
    assert [(c["type"], c["reason"], c["lastTransitionTime"]) for c in moved] == [
        ("Available", "B", "t0"),
        ("Progressing", "C", "t0"),
    ]


def test_template_hash_and_equality() -> None:
    template = _deployment()["spec"]["template"]
    first = template_hash(template)
    assert first == template_hash(template) and first != template_hash(template, 1)
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    labelled = {**template, "metadata": {"labels": {"app": "web", "pod-template-hash": first}}}
    assert equal_ignore_hash(template, labelled)
    assert not equal_ignore_hash(template, {**template, "spec": {"containers": [{"name": "x"}]}})


def test_build_replica_set() -> None:
    d = _deployment(4, 1, 1)
    d["metadata"]["annotations"] = {
        "team": "data",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
    }
    rs = build_replica_set(d, [], 1)
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert rs["spec"]["replicas"] == 4  # nothing else runs: up to replicas at once
    assert rs["metadata"]["annotations"] == {
        "team": "data",
        "deployment.kubernetes.io/desired-replicas": "4",
        "deployment.kubernetes.io/max-replicas": "5",
        "deployment.kubernetes.io/revision": "1",
    }
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "u-1"
