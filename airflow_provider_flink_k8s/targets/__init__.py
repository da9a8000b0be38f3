"""Where a cluster runs, and what that changes: one :class:`~.targets.ClusterTarget` per target.

A spec's ``target`` names one of them. Code that behaves differently per target asks the
target (:func:`target_of`) instead of comparing its name, so the differences live here,
one module per target, and a new target (Flink's native Kubernetes mode, say) is one more
module answering the same questions:

- :mod:`.standalone` -- the provider's own Deployments and Services; the task talks to
  Flink's REST API for everything (jobs, savepoints, rescaling).
- :mod:`.operator` -- a ``FlinkDeployment`` the Flink Kubernetes Operator reconciles; the
  operator owns the application's job, session jobs are ``FlinkSessionJob`` objects, and
  a rescale is a patch of the FlinkDeployment.

Pure: no I/O, no Airflow.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flink_k8s.targets.base import ClusterTarget, TargetName
from airflow_provider_flink_k8s.targets.operator import OPERATOR
from airflow_provider_flink_k8s.targets.standalone import STANDALONE

__all__ = ["OPERATOR", "STANDALONE", "TARGETS", "ClusterTarget", "TargetName", "target_of"]

TARGETS: dict[str, ClusterTarget] = {target.name: target for target in (STANDALONE, OPERATOR)}
"""Every target, by name."""


def target_of(cluster: Any) -> ClusterTarget:
    """The target of ``cluster`` (a spec, or anything with a ``target`` name), or of a
    target's name.

    :raises ValueError: naming the known targets, for an unknown name.
    """
    name = cluster if isinstance(cluster, str) else getattr(cluster, "target", None)
    found = TARGETS.get(str(name))
    if found is None:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {name!r}")
    return found
