"""Pure status math of Deployments and ReplicaSets (kube-controller-manager's rules).

Paraphrased from the deployment controller (``sync.go::calculateStatus``,
``progress.go::syncRolloutStatus``) and ``deployment_util.go``: ``replicas`` sums the
ReplicaSets' actual pods, ``updatedReplicas`` is the new ReplicaSet's, ``Available`` is
``availableReplicas >= replicas - maxUnavailable``, and ``Progressing`` moves through
``NewReplicaSetCreated`` / ``FoundNewReplicaSet`` / ``ReplicaSetUpdated`` to
``NewReplicaSetAvailable`` or, after ``progressDeadlineSeconds`` without progress,
``ProgressDeadlineExceeded``. Nothing here reads a clock: ``now`` is an argument.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from flink_k8s_sandbox.metadata import format_time

__all__ = [
    "HASH_LABEL",
    "REVISION",
    "condition",
    "deployment_complete",
    "deployment_progressing",
    "deployment_status",
    "deployment_timed_out",
    "equal_ignore_hash",
    "fenceposts",
    "get_condition",
    "max_unavailable",
    "parse_time",
    "pod_available",
    "pod_ready",
    "replica_set_status",
    "rollout_progress",
    "set_condition",
    "template_hash",
]

Obj = dict[str, Any]
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        share = int(text[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(text)


def fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """``(maxSurge, maxUnavailable)`` resolved against ``spec.replicas`` (surge rounds up,
    unavailable down; both zero makes unavailable one)."""
    spec = deployment.get("spec", {})
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    replicas = int(spec.get("replicas", 1))
    surge = _int_or_percent(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = _int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rolling(deployment: Mapping[str, Any]) -> bool:
    strategy = deployment.get("spec", {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    replicas = int(deployment.get("spec", {}).get("replicas", 1))
    if not _rolling(deployment) or replicas == 0:
        return 0
    return min(fenceposts(deployment)[1], replicas)


def template_hash(template: Mapping[str, Any], collision_count: int = 0) -> str:
    """The ``pod-template-hash`` of a template: FNV-1a 32 of its canonical JSON (and the
    collision count), its decimal digits mapped onto safe characters as Kubernetes does."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += collision_count.to_bytes(4, "little")
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in str(value))


def _without_hash(template: Mapping[str, Any]) -> Obj:
    result = copy.deepcopy(dict(template))
    labels = (result.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return result


def equal_ignore_hash(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return _without_hash(a) == _without_hash(b)


# -- pods ------------------------------------------------------------------------------


def get_condition(conditions: Iterable[Mapping[str, Any]] | None, kind: str) -> Obj | None:
    return next((dict(c) for c in conditions or [] if c.get("type") == kind), None)


def pod_ready(pod: Mapping[str, Any]) -> bool:
    ready = get_condition(pod.get("status", {}).get("conditions"), "Ready")
    return ready is not None and ready.get("status") == "True"


def pod_available(pod: Mapping[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """Ready for at least ``minReadySeconds`` (by the Ready condition's transition time)."""
    ready = get_condition(pod.get("status", {}).get("conditions"), "Ready")
    if ready is None or ready.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time(ready.get("lastTransitionTime"))
    return since is not None and since + timedelta(seconds=min_ready_seconds) <= now


def replica_set_status(
    rs: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], now: datetime
) -> Obj:
    """A ReplicaSet's status from its active pods (``replicas`` is never omitted)."""
    spec = rs.get("spec", {})
    template_labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    counts = {
        "replicas": len(pods),
        "fullyLabeledReplicas": sum(
            all(p["metadata"].get("labels", {}).get(k) == v for k, v in template_labels.items())
            for p in pods
        ),
        "readyReplicas": sum(pod_ready(p) for p in pods),
        "availableReplicas": sum(pod_available(p, min_ready, now) for p in pods),
        "observedGeneration": rs.get("metadata", {}).get("generation", 1),
    }
    status: Obj = {k: v for k, v in counts.items() if v or k == "replicas"}
    conditions = rs.get("status", {}).get("conditions")
    if conditions:
        status["conditions"] = conditions
    return status


# -- conditions ------------------------------------------------------------------------


def condition(kind: str, status: str, reason: str, message: str, now: datetime) -> Obj:
    """A Deployment condition stamped ``now`` (update and transition time)."""
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(conditions: list[Obj], new: Obj) -> list[Obj]:
    """``SetDeploymentCondition``: same status and reason keeps the old one; same status
    keeps its transition time; the condition moves to the end."""
    current = get_condition(conditions, new["type"])
    if current is not None and (current["status"], current.get("reason")) == (
        new["status"],
        new.get("reason"),
    ):
        return conditions
    if current is not None and current["status"] == new["status"]:
        new = {**new, "lastTransitionTime": current.get("lastTransitionTime")}
    return [c for c in conditions if c.get("type") != new["type"]] + [new]


def _sum(replica_sets: Iterable[Mapping[str, Any]], field: str) -> int:
    return sum(int(rs.get("status", {}).get(field) or 0) for rs in replica_sets)


def deployment_status(
    deployment: Mapping[str, Any],
    replica_sets: Sequence[Mapping[str, Any]],
    new_rs: Mapping[str, Any] | None,
    now: datetime,
) -> Obj:
    """``calculateStatus``: the counts, ``observedGeneration`` and the Available condition."""
    spec_replicas = int(deployment.get("spec", {}).get("replicas", 1))
    available = _sum(replica_sets, "availableReplicas")
    total = sum(int(rs.get("spec", {}).get("replicas") or 0) for rs in replica_sets)
    old = deployment.get("status") or {}
    counts = {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": _sum(replica_sets, "replicas"),
        "updatedReplicas": _sum([new_rs] if new_rs else [], "replicas"),
        "readyReplicas": _sum(replica_sets, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(0, total - available),
        "collisionCount": old.get("collisionCount") or 0,
    }
    status: Obj = {k: v for k, v in counts.items() if v}
    conditions = [dict(c) for c in old.get("conditions") or []]
    if available >= spec_replicas - max_unavailable(deployment):
        minimum = condition(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            now,
        )
    else:
        minimum = condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    status["conditions"] = set_condition(conditions, minimum)
    return status


def deployment_complete(deployment: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
    replicas = int(deployment.get("spec", {}).get("replicas", 1))
    return (
        int(status.get("updatedReplicas") or 0) == replicas
        and int(status.get("replicas") or 0) == replicas
        and int(status.get("availableReplicas") or 0) == replicas
        and int(status.get("observedGeneration") or 0)
        >= int(deployment["metadata"].get("generation", 1))
    )


def deployment_progressing(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether the new status shows progress over the stored one."""

    def get(status: Mapping[str, Any], key: str) -> int:
        return int(status.get(key) or 0)

    old_pods = get(old, "replicas") - get(old, "updatedReplicas")
    new_pods = get(new, "replicas") - get(new, "updatedReplicas")
    return (
        get(new, "updatedReplicas") > get(old, "updatedReplicas")
        or new_pods < old_pods
        or get(new, "readyReplicas") > get(old, "readyReplicas")
        or get(new, "availableReplicas") > get(old, "availableReplicas")
    )


def deployment_timed_out(
    deployment: Mapping[str, Any], status: Mapping[str, Any], now: datetime
) -> bool:
    deadline = deployment.get("spec", {}).get("progressDeadlineSeconds")
    progressing = get_condition(status.get("conditions"), "Progressing")
    if deadline is None or progressing is None:
        return False
    if progressing.get("reason") == "NewReplicaSetAvailable":
        return False
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return True
    since = parse_time(progressing.get("lastUpdateTime"))
    return since is not None and since + timedelta(seconds=int(deadline)) < now


def rollout_progress(
    deployment: Mapping[str, Any],
    new_status: Obj,
    new_rs: Mapping[str, Any] | None,
    now: datetime,
) -> Obj:
    """``syncRolloutStatus``: ``new_status`` with its Progressing condition updated."""
    if deployment.get("spec", {}).get("progressDeadlineSeconds") is None:
        new_status["conditions"] = [
            c for c in new_status.get("conditions", []) if c.get("type") != "Progressing"
        ]
        return new_status
    conditions = list(new_status.get("conditions", []))
    current = get_condition(conditions, "Progressing")
    name = new_rs["metadata"]["name"] if new_rs else ""
    old = deployment.get("status") or {}
    if deployment_complete(deployment, new_status):
        message = f'ReplicaSet "{name}" has successfully progressed.'
        new = condition("Progressing", "True", "NewReplicaSetAvailable", message, now)
        conditions = set_condition(conditions, new)
    elif deployment_progressing(old, new_status):
        message = f'ReplicaSet "{name}" is progressing.'
        new = condition("Progressing", "True", "ReplicaSetUpdated", message, now)
        if current is not None:
            if current["status"] == "True":
                new["lastTransitionTime"] = current.get("lastTransitionTime")
            conditions = [c for c in conditions if c.get("type") != "Progressing"]
        conditions = [*conditions, new]
    elif deployment_timed_out(deployment, new_status, now):
        message = f'ReplicaSet "{name}" has timed out progressing.'
        new = condition("Progressing", "False", "ProgressDeadlineExceeded", message, now)
        conditions = set_condition(conditions, new)
    new_status["conditions"] = conditions
    return new_status
