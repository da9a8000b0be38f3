"""Pure rolling-update arithmetic: how far to scale the new and the old ReplicaSets.

Paraphrased from the deployment controller's ``rolling.go`` and
``deployment_util.go::NewRSNewReplicas``: the new ReplicaSet grows while all pods stay
within ``replicas + maxSurge``; old ReplicaSets shrink while at least
``replicas - maxUnavailable`` pods stay available -- unhealthy old pods first, then the
oldest ReplicaSets' pods. Each function returns the replica counts to write.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from flink_k8s_sandbox.workloads.refs import controller_reference
from flink_k8s_sandbox.workloads.status import (
    HASH_LABEL,
    REVISION,
    fenceposts,
    max_unavailable,
    template_hash,
)

__all__ = [
    "annotate_replica_set",
    "build_replica_set",
    "new_replicas",
    "old_replicas_after_scale_down",
    "revision_of",
    "spec_replicas",
]

RS = Mapping[str, Any]
Obj = dict[str, Any]
_DESIRED = "deployment.kubernetes.io/desired-replicas"
_MAX = "deployment.kubernetes.io/max-replicas"
_NOT_COPIED = {
    REVISION,
    _DESIRED,
    _MAX,
    "deployment.kubernetes.io/revision-history",
    "kubectl.kubernetes.io/last-applied-configuration",
}


def spec_replicas(rs: RS) -> int:
    return int(rs.get("spec", {}).get("replicas") or 0)


def _available(rs: RS) -> int:
    return int(rs.get("status", {}).get("availableReplicas") or 0)


def new_replicas(deployment: RS, all_rs: Sequence[RS], new_rs: RS | None) -> int:
    """The new ReplicaSet's next ``spec.replicas`` under a rolling update."""
    replicas = int(deployment.get("spec", {}).get("replicas", 1))
    current_new = spec_replicas(new_rs) if new_rs is not None else 0
    if current_new >= replicas:
        return replicas
    surge, _ = fenceposts(deployment)
    current_total = sum(spec_replicas(rs) for rs in all_rs)
    if current_total >= replicas + surge:
        return current_new
    scale_up = min(replicas + surge - current_total, replicas - current_new)
    return current_new + scale_up


def _by_age(replica_sets: Sequence[RS]) -> list[RS]:
    return sorted(
        replica_sets,
        key=lambda rs: (rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]),
    )


def old_replicas_after_scale_down(
    deployment: RS, all_rs: Sequence[RS], old_rs: Sequence[RS], new_rs: RS | None
) -> dict[str, int]:
    """``reconcileOldReplicaSets``: the old ReplicaSets to resize, by name."""
    if sum(spec_replicas(rs) for rs in old_rs) == 0:
        return {}
    replicas = int(deployment.get("spec", {}).get("replicas", 1))
    min_available = replicas - max_unavailable(deployment)
    new_unavailable = (spec_replicas(new_rs) - _available(new_rs)) if new_rs is not None else 0
    max_scaled_down = sum(spec_replicas(rs) for rs in all_rs) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return {}
    sizes = {rs["metadata"]["name"]: spec_replicas(rs) for rs in old_rs}
    cleaned = 0
    for rs in _by_age(old_rs):  # unhealthy pods of old ReplicaSets go first
        name = rs["metadata"]["name"]
        if cleaned >= max_scaled_down or sizes[name] == 0 or sizes[name] == _available(rs):
            continue
        down = min(max_scaled_down - cleaned, sizes[name] - _available(rs))
        sizes[name] -= down
        cleaned += down
    available = sum(_available(rs) for rs in all_rs)
    budget = available - min_available
    for rs in _by_age(old_rs):
        name = rs["metadata"]["name"]
        if budget <= 0:
            break
        down = min(sizes[name], budget)
        sizes[name] -= down
        budget -= down
    return {
        name: size for name, size in sizes.items() if size != spec_replicas(_named(old_rs, name))
    }


def _named(replica_sets: Sequence[RS], name: str) -> RS:
    return next(rs for rs in replica_sets if rs["metadata"]["name"] == name)


def revision_of(rs: RS) -> int:
    """The ``deployment.kubernetes.io/revision`` of a ReplicaSet (0 when unset)."""
    try:
        return int(rs["metadata"].get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _recreate(deployment: RS) -> bool:
    return (deployment.get("spec", {}).get("strategy") or {}).get("type") == "Recreate"


def annotate_replica_set(deployment: RS, rs: Obj, revision: int | None) -> None:
    """Copy the Deployment's annotations onto ``rs`` (in place) with ``desired-replicas``,
    ``max-replicas`` and, when higher than its own, ``revision``."""
    replicas = int(deployment.get("spec", {}).get("replicas", 1))
    surge = 0 if _recreate(deployment) else fenceposts(deployment)[0]
    annotations = rs["metadata"].setdefault("annotations", {})
    for key, value in (deployment["metadata"].get("annotations") or {}).items():
        if key not in _NOT_COPIED:
            annotations[key] = value
    annotations[_DESIRED] = str(replicas)
    annotations[_MAX] = str(replicas + surge)
    if revision is not None and revision_of(rs) < revision:
        annotations[REVISION] = str(revision)


def build_replica_set(deployment: RS, old_rs: Sequence[RS], revision: int) -> Obj:
    """The new ReplicaSet of a Deployment: ``<name>-<pod-template-hash>``, the hash in its
    labels, selector and template, sized as the first step of the rollout."""
    collisions = int((deployment.get("status") or {}).get("collisionCount") or 0)
    spec = deployment["spec"]
    template = copy.deepcopy(spec.get("template") or {})
    pod_hash = template_hash(template, collisions)
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
    rs: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deployment['metadata']['name']}-{pod_hash}",
            "labels": dict(template["metadata"]["labels"]),
            "ownerReferences": [controller_reference(deployment)],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": int(spec.get("minReadySeconds") or 0),
            "selector": selector,
            "template": template,
        },
    }
    replicas = int(spec.get("replicas", 1))
    rs["spec"]["replicas"] = (
        replicas if _recreate(deployment) else new_replicas(deployment, [*old_rs, rs], rs)
    )
    annotate_replica_set(deployment, rs, revision)
    return rs
