"""Rescaling a running job, decided without I/O: which strategy, the new plan, the bodies.

:class:`~airflow_provider_flink_k8s.operators.rescale.FlinkRescaleOperator` observes the
job (Flink's REST API) and the cluster, then asks this module what to do:

- :func:`plan_rescale` checks the request (every problem at once, as a
  :class:`SpecError` naming the field) and picks the strategy;
- :attr:`RescalePlan.targets` is each vertex's parallelism afterwards (the
  ``PUT /jobs/:jobid/resource-requirements`` body is built from it by
  :func:`~airflow_provider_flink_k8s.flinkrest.rescaled_requirements`);
- :func:`rescaled_cluster` is the spec to redeploy (an application cluster restored from
  a savepoint, or a FlinkDeployment patched the way the operator rescales);
- :func:`vertex_metrics` turns Flink's per-vertex metrics into the sizing model's input
  for ``parallelism="auto"``.

Strategy rules (:func:`choose_strategy`):

=====================  ==================================  =========================
asked                  adaptive scheduler, p <= max        otherwise
=====================  ==================================  =========================
``auto``               ``in_place``                        ``savepoint_restart``
``in_place``           ``in_place``                        refused (a clear error)
``savepoint_restart``  ``savepoint_restart``               ``savepoint_restart``
=====================  ==================================  =========================

A job already running every vertex at the target is a no-op (strategy ``none``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem
from airflow_provider_flink_k8s.resources.sizing import (
    PARALLELISM_OVERRIDES_KEY,
    VertexInput,
    VertexMetrics,
    taskmanagers_for,
)
from airflow_provider_flink_k8s.targets import target_of

__all__ = [
    "STRATEGIES",
    "RescalePlan",
    "Strategy",
    "VertexState",
    "adaptive_scheduler",
    "choose_strategy",
    "in_place_scaling_supported",
    "parse_parallelism",
    "plan_rescale",
    "rescaled_cluster",
    "vertex_metrics",
]

Strategy = Literal["auto", "in_place", "savepoint_restart"]
STRATEGIES: tuple[str, ...] = ("auto", "in_place", "savepoint_restart")
"""The rescale strategies a task accepts."""
SCHEDULER_KEY = "jobmanager.scheduler"
_MAX_PARALLELISM_LIMIT = 2**15


def adaptive_scheduler(configuration: Mapping[str, str]) -> bool:
    """Whether a Flink configuration runs the adaptive scheduler (``jobmanager.scheduler:
    adaptive``, or reactive mode, which implies it)."""
    scheduler = str(configuration.get(SCHEDULER_KEY, "")).strip().lower()
    reactive = str(configuration.get("scheduler-mode", "")).strip().lower() == "reactive"
    return scheduler == "adaptive" or reactive


def in_place_scaling_supported(flink_version: str) -> bool:
    """Whether Flink's resource-requirements API exists: Flink 1.18 and later."""
    try:
        text = flink_version.strip().lstrip("v").replace("_", ".")
        parts = tuple(int(part) for part in text.split(".")[:2])
    except ValueError:
        return False
    return parts >= (1, 18)


def parse_parallelism(value: Any) -> int | Literal["auto"]:
    """A ``parallelism`` argument: a positive int (also as digits) or ``"auto"``.

    :raises SpecError: naming ``parallelism`` and the rule.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return "auto"
        if text.lstrip("-").isdigit():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        rule = f"must be a whole number >= 1 or 'auto', got {value!r}"
        raise SpecError([SpecProblem("parallelism", rule)], subject="rescale request")
    if value < 1:
        rule = f"must be >= 1, got {value}"
        raise SpecError([SpecProblem("parallelism", rule)], subject="rescale request")
    return value


@dataclass(frozen=True)
class VertexState:
    """One vertex of the running job (``GET /jobs/:jobid``)."""

    vertex_id: str
    parallelism: int
    max_parallelism: int
    name: str = ""


@dataclass(frozen=True)
class RescalePlan:
    """What a rescale does: from and to which parallelism, how, and the TaskManagers.

    ``strategy`` is ``none`` when every vertex already runs at its target.
    ``targets`` is each vertex's parallelism afterwards: the new parallelism, capped at
    the vertex's own max parallelism (a vertex that cannot grow stays below).
    """

    job_id: str
    old_parallelism: int
    new_parallelism: int
    max_parallelism: int
    strategy: Literal["none", "in_place", "savepoint_restart"]
    targets: Mapping[str, int] = field(default_factory=dict)
    taskmanagers_before: int = 0
    taskmanagers_after: int = 0
    reason: str = ""

    @property
    def noop(self) -> bool:
        """Whether the job already runs at the requested parallelism."""
        return self.strategy == "none"

    def reached(self, vertices: Sequence[VertexState]) -> bool:
        """Whether ``vertices`` (of the job after the rescale) run at the targets."""
        found = {vertex.vertex_id: vertex.parallelism for vertex in vertices}
        if set(found) != set(self.targets):  # a restarted job may have new vertex ids
            targets = sorted(self.targets.values())
            return bool(found) and sorted(found.values()) == targets
        return found == dict(self.targets)


def choose_strategy(
    requested: str, *, adaptive: bool, new_parallelism: int, max_parallelism: int
) -> Literal["in_place", "savepoint_restart"]:
    """The strategy for ``requested`` (see the module's table).

    :raises SpecError: for an unknown strategy, or ``in_place`` without the adaptive
        scheduler.
    """
    problems = _strategy_problems(requested, adaptive=adaptive)
    if problems:
        raise SpecError(problems, subject="rescale request")
    if requested == "savepoint_restart":
        return "savepoint_restart"
    if requested == "in_place" or (adaptive and new_parallelism <= max_parallelism):
        return "in_place"
    return "savepoint_restart"


def _strategy_problems(requested: str, *, adaptive: bool) -> list[SpecProblem]:
    if requested not in STRATEGIES:
        rule = f"must be one of {', '.join(STRATEGIES)}, got {requested!r}"
        return [SpecProblem("strategy", rule)]
    if requested == "in_place" and not adaptive:
        rule = (
            "in_place needs Flink's adaptive scheduler: set 'jobmanager.scheduler: adaptive' "
            "in the cluster's flink_configuration (or use 'savepoint_restart' or 'auto')"
        )
        return [SpecProblem("strategy", rule)]
    return []


def plan_rescale(
    *,
    job_id: str,
    job_state: str,
    vertices: Sequence[VertexState],
    parallelism: int,
    strategy: str,
    adaptive: bool,
    slots_per_taskmanager: int,
    taskmanagers: int,
    job_max_parallelism: int | None = None,
    other_slots: int = 0,
) -> RescalePlan:
    """Check a rescale of a running job and plan it.

    TaskManagers afterwards: ``ceil((parallelism + other_slots) / slots)`` -- the slots
    this job needs plus those other running jobs of a session cluster hold.

    :param job_state: Flink's ``JobStatus``; only a RUNNING job is rescaled.
    :param vertices: the job's vertices now.
    :param parallelism: the new job parallelism.
    :param strategy: ``auto``, ``in_place`` or ``savepoint_restart``.
    :param adaptive: whether the cluster runs the adaptive scheduler.
    :param slots_per_taskmanager: ``taskmanager.numberOfTaskSlots``.
    :param taskmanagers: TaskManagers now.
    :param job_max_parallelism: the job's max parallelism (else the largest vertex's).
    :param other_slots: slots other running jobs of the cluster use.
    :raises SpecError: listing every problem (``parallelism``, ``strategy``, ``job_id``),
        before anything is changed.
    """
    problems: list[SpecProblem] = []
    if job_state.upper() != "RUNNING":
        rule = f"job {job_id} is {job_state}; only a RUNNING job can be rescaled"
        problems.append(SpecProblem("job_id", rule))
    if not vertices:
        problems.append(SpecProblem("job_id", f"job {job_id} has no vertices yet"))
    maximum = _max_parallelism(vertices, job_max_parallelism)
    if parallelism < 1:
        problems.append(SpecProblem("parallelism", f"must be >= 1, got {parallelism}"))
    elif parallelism > maximum:
        rule = (
            f"must be <= the job's max parallelism {maximum} (its number of key groups; "
            f"set job.max_parallelism / pipeline.max-parallelism higher), got {parallelism}"
        )
        problems.append(SpecProblem("parallelism", rule))
    problems += _strategy_problems(strategy, adaptive=adaptive)
    if problems:
        raise SpecError(problems, subject="rescale request")
    targets = {v.vertex_id: min(parallelism, v.max_parallelism) for v in vertices}
    old = max(v.parallelism for v in vertices)
    needed = taskmanagers_for(parallelism + max(other_slots, 0), slots_per_taskmanager)
    base = RescalePlan(
        job_id=job_id,
        old_parallelism=old,
        new_parallelism=parallelism,
        max_parallelism=maximum,
        strategy="none",
        targets=targets,
        taskmanagers_before=taskmanagers,
        taskmanagers_after=taskmanagers,
    )
    if all(v.parallelism == targets[v.vertex_id] for v in vertices):
        reason = f"job {job_id} already runs at parallelism {parallelism}: nothing to do"
        return replace(base, reason=reason)
    chosen = choose_strategy(
        strategy, adaptive=adaptive, new_parallelism=parallelism, max_parallelism=maximum
    )
    why = {
        "in_place": "the adaptive scheduler rescales the running job",
        "savepoint_restart": (
            "stop with a savepoint, restart at the new parallelism"
            + ("" if adaptive else " (no adaptive scheduler)")
        ),
    }[chosen]
    reason = f"{strategy} -> {chosen}: {why}; TaskManagers {taskmanagers} -> {needed}"
    return replace(base, strategy=chosen, taskmanagers_after=needed, reason=reason)


def _max_parallelism(vertices: Sequence[VertexState], job_max: int | None) -> int:
    if job_max is not None and job_max > 0:
        return job_max
    return max((v.max_parallelism for v in vertices), default=_MAX_PARALLELISM_LIMIT)


def rescaled_cluster(
    cluster: Any,
    parallelism: int,
    *,
    savepoint: str | None = None,
    taskmanagers: int | None = None,
    vertex_ids: Sequence[str] = (),
) -> Any:
    """The cluster spec after a rescale (a new, validated :class:`FlinkCluster`).

    - Application cluster: ``job.parallelism`` is the new parallelism and, with
      ``savepoint``, ``job.initial_savepoint`` is where it restores from.
    - Operator target with the adaptive scheduler on Flink >= 1.18 and the job's
      ``vertex_ids`` known: ``pipeline.jobvertex-parallelism-overrides`` lists every vertex
      at the new parallelism (the operator scales in place); ``job.parallelism`` follows.
    - Pinned ``taskmanager.replicas`` become ``taskmanagers`` when that is given.

    :raises SpecError: when the result breaks a spec rule.
    """
    data = cluster.model_dump()
    if data.get("job") is not None:
        data["job"]["parallelism"] = parallelism
        if savepoint is not None:
            data["job"]["initial_savepoint"] = savepoint
    if taskmanagers is not None and data["taskmanager"].get("replicas") is not None:
        data["taskmanager"]["replicas"] = taskmanagers
    overrides = (
        target_of(cluster).rescales_by_patching
        and vertex_ids
        and _operator_scales_in_place(cluster)
    )
    if overrides:
        value = ",".join(f"{vertex}:{parallelism}" for vertex in vertex_ids)
        data["flink_configuration"] = {
            **data["flink_configuration"],
            PARALLELISM_OVERRIDES_KEY: value,
        }
    from airflow_provider_flink_k8s.spec import load_cluster  # spec imports resources

    return load_cluster(data)


def _operator_scales_in_place(cluster: Any) -> bool:
    conf = cluster.flink_configuration
    return adaptive_scheduler(conf) and in_place_scaling_supported(cluster.flink_version)


# -- parallelism="auto": Flink's metrics into the sizing model ----------------------------


def vertex_metrics(
    job: Mapping[str, Any], metrics: Mapping[str, Mapping[str, Any]]
) -> list[VertexMetrics]:
    """The sizing model's input from ``GET /jobs/:jobid`` (its ``vertices`` and ``plan``)
    and each vertex's load.

    ``metrics`` per vertex id: ``busy_time_ms_per_s`` (``busyTimeMsPerSecond``, MAX over
    subtasks) and ``input_rate`` (records/s summed over subtasks; for a source, the
    records it emits), optionally
    ``lag``, ``lag_growth_rate``, ``source_partitions``, ``observed_true_processing_rate``.
    Edges come from the plan's ``inputs`` (a ``HASH`` ship strategy is a keyed input); an
    edge's output ratio is the downstream's input rate (split evenly between its inputs)
    over the upstream's.

    :raises SpecError: naming a vertex without metrics or a metric out of range.
    """
    vertices = list(job.get("vertices") or [])
    inputs = _plan_inputs(job)
    problems = [
        SpecProblem(f"metrics.{v['id']}", "no metrics for this vertex")
        for v in vertices
        if v["id"] not in metrics
    ]
    if problems:
        raise SpecError(problems, subject="rescale metrics")
    rates = {v["id"]: float(metrics[v["id"]].get("input_rate", 0.0)) for v in vertices}
    result = []
    for v in vertices:
        found = metrics[v["id"]]
        edges = inputs.get(v["id"], [])
        keyed = any(keyed for _, keyed in edges)
        result.append(
            VertexMetrics(
                vertex_id=v["id"],
                name=str(v.get("name") or ""),
                parallelism=int(v["parallelism"]),
                max_parallelism=int(v.get("maxParallelism") or _MAX_PARALLELISM_LIMIT),
                input_rate=rates[v["id"]],
                busy_time_ms_per_s=_optional(found.get("busy_time_ms_per_s")),
                observed_true_processing_rate=_optional(found.get("observed_true_processing_rate")),
                lag=float(found.get("lag", 0.0)) if not edges else 0.0,
                lag_growth_rate=float(found.get("lag_growth_rate", 0.0)) if not edges else 0.0,
                source_partitions=int(found.get("source_partitions", 0)) if not edges else 0,
                keyed=keyed,
                inputs=tuple(_edge(up, v["id"], len(edges), rates) for up, _ in edges),
            )
        )
    return result


def _optional(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _plan_inputs(job: Mapping[str, Any]) -> dict[str, list[tuple[str, bool]]]:
    nodes = ((job.get("plan") or {}).get("nodes")) or []
    edges: dict[str, list[tuple[str, bool]]] = {}
    for node in nodes:
        for edge in node.get("inputs") or []:
            keyed = str(edge.get("ship_strategy", "")).upper() == "HASH"
            edges.setdefault(str(node["id"]), []).append((str(edge["id"]), keyed))
    return edges


def _edge(upstream: str, downstream: str, fan_in: int, rates: Mapping[str, float]) -> VertexInput:
    edge_rate = rates.get(downstream, 0.0) / max(fan_in, 1)
    upstream_rate = rates.get(upstream, 0.0)
    return VertexInput.from_rates(upstream, upstream_input_rate=upstream_rate, edge_rate=edge_rate)
