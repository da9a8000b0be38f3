"""``operator.overrides``: the FlinkDeployment fields a spec keeps verbatim.

Only fields the spec has no field for belong there (anything else would contradict a
spec field); each is listed below with what the operator does with it, which is also why
the standalone target -- no operator -- refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_flink_k8s.exceptions import SpecProblem
from airflow_provider_flink_k8s.targets import target_of

__all__ = ["OVERRIDE_FIELDS", "override_problems"]

_NO_OPERATOR = "the standalone target runs no operator to act on it"

OVERRIDE_FIELDS: dict[str, str] = {
    "ingress": (
        "the operator creates an Ingress for the REST API from it; the standalone target "
        "renders none: expose the REST API with rest_service (NodePort or LoadBalancer) "
        "and an Ingress of your own"
    ),
    "restartNonce": f"asks the operator to restart the cluster when it changes; {_NO_OPERATOR}",
    "job.savepointTriggerNonce": f"asks the operator for a savepoint; {_NO_OPERATOR}",
    "job.checkpointTriggerNonce": f"asks the operator for a checkpoint; {_NO_OPERATOR}",
    "job.savepointRedeployNonce": (
        f"asks the operator to redeploy from initialSavepointPath; {_NO_OPERATOR}"
    ),
    "job.autoscalerResetNonce": f"asks the operator to reset its autoscaler; {_NO_OPERATOR}",
    **{
        f"{crd}.{field}": (
            "is set on the Flink container by the operator; on the standalone target set it "
            f"in the container resources of flink-main-container in {role}.pod_template"
        )
        for crd, role in (("jobManager", "jobmanager"), ("taskManager", "taskmanager"))
        for field in (
            "resource.ephemeralStorage",
            "resources.requests.*",
            "resources.limits.*",
            "resources.claims",
        )
    },
}
"""Paths (``*``: any key but ``cpu``/``memory``) -> what the field does, and why the
standalone target cannot honour it."""

_SIZED = frozenset({"cpu", "memory"})
_PLAIN_KEY = re.compile(r"^[A-Za-z_][-A-Za-z0-9_]*$")


def _field(path: tuple[str, ...]) -> str:
    """``operator.overrides.a.b``, with keys holding dots or slashes as ``['nvidia.com/gpu']``."""
    field = "operator.overrides"
    for key in path:
        field += f".{key}" if _PLAIN_KEY.match(key) else f"[{key!r}]"
    return field


def _match(path: tuple[str, ...]) -> str | None:
    """The :data:`OVERRIDE_FIELDS` pattern ``path`` is (or lies inside), if any."""
    for pattern in OVERRIDE_FIELDS:
        parts = tuple(pattern.split("."))
        if len(path) < len(parts):
            continue
        head = path[: len(parts)]
        if all(p == h or (p == "*" and h not in _SIZED) for p, h in zip(parts, head, strict=True)):
            return pattern
    return None


def _leaves(
    overrides: Mapping[str, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Paths down to the first allowed field, or to a leaf that is none."""
    for key, value in overrides.items():
        path = (*prefix, str(key))
        if _match(path) is None and isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path


def override_problems(overrides: Mapping[str, Any], target: str) -> Iterator[SpecProblem]:
    """What is wrong with ``operator.overrides`` for ``target``.

    A field not in :data:`OVERRIDE_FIELDS` is refused on either target; on the standalone
    target every field is, with the reason.
    """
    for path in _leaves(overrides):
        field = _field(path)
        pattern = _match(path)
        if pattern is None:
            yield SpecProblem(
                field,
                "is not a FlinkDeployment field the spec lacks; overrides hold only ingress, "
                "restartNonce, job.*Nonce, ephemeral storage and extra resources of "
                "jobManager/taskManager -- set the rest through the spec's fields",
            )
        elif target_of(target).renders_workloads:  # no FlinkDeployment to override
            yield SpecProblem(field, OVERRIDE_FIELDS[pattern])
