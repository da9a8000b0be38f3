"""The workload controllers: Deployments make ReplicaSets, ReplicaSets make pods.

:mod:`.status` and :mod:`.rollout` are the pure math (status, conditions, rolling-update
arithmetic, the new ReplicaSet); :mod:`.deployment` and :mod:`.replicaset` are the
controllers. The controllers load lazily, so importing the math pulls in no asyncio.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flink_k8s_sandbox.workloads.deployment import DeploymentController
    from flink_k8s_sandbox.workloads.replicaset import ReplicaSetController

__all__ = ["DeploymentController", "ReplicaSetController"]


def __getattr__(name: str) -> Any:
    if name == "DeploymentController":
        from flink_k8s_sandbox.workloads.deployment import DeploymentController

        return DeploymentController
    if name == "ReplicaSetController":
        from flink_k8s_sandbox.workloads.replicaset import ReplicaSetController

        return ReplicaSetController
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
