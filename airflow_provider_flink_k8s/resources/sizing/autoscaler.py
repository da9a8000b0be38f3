"""Load-based sizing: a parallelism per job vertex, computed the way Flink's autoscaler does it.

The idea is *load = work / capacity*. For each job vertex the caller passes metrics already
aggregated over one window (:class:`VertexMetrics`); :func:`recommend_parallelism` then
follows ``flink-autoscaler`` (``ScalingMetricEvaluator``, ``JobVertexScaler``,
``ParallelismAligner``, ``ScalingExecutor``) step by step:

1. **True processing rate** ``TPR = input rate / (busy ms/s / 1000)``: what the vertex could
   do at 100 % busy. ``+inf`` when nothing comes in (idle). If a backpressure-derived
   observed rate is also given, it replaces the busy-time estimate when that one exceeds it
   by more than ``observed_tpr_switch_threshold`` (or is unbounded).
2. **Target data rate**, in topological order. Source: ``max(0, input rate + lag growth)``
   and ``catch-up rate = lag / catch-up duration``. Downstream: the sum over input edges of
   the upstream values times the edge's output ratio.
3. **Capacity** ``capacity(u, restart) = round(CATCH_UP + [TARGET * restart / catch-up] +
   TARGET / u)`` (Java rounding, ``u`` clamped to ``[0, 1]``, ``u = 0`` gives ``+inf``).
   Scale-up threshold: ``capacity(utilization max, no restart)``; scale-down threshold:
   ``capacity(utilization min, with restart)``; while a source processes backlog (lag
   longer than ``backlog_processing_lag_threshold`` at its input rate) ``max = 1, min = 0``.
4. **Scale factor** ``capacity(utilization target, with restart) / TPR`` clamped to
   ``[1 - scale_down_max_factor, 1 + scale_up_max_factor]``; ``ceil(factor * p)`` bounded
   to ``[min(p, vertex min), min(max parallelism, max(p, vertex max))]``.
5. **Alignment** (sources with a known partition count, vertices with a keyed input) to the
   ``N`` key groups or partitions, by :func:`align_parallelism`; a source is capped at its
   partition count, even below the lower bound (Flink's FLINK-40389).
6. **Job decision**: a vertex is *outside its bounds* when ``TPR < scale-up threshold`` or
   ``TPR > scale-down threshold``. If no vertex whose parallelism would change is outside its
   bounds, nothing scales; otherwise every changed vertex does.

Out of scope (the caller passes already-aggregated window metrics): metric windows and
history, stabilisation intervals, the delayed scale-down interval, ineffective scale-up
detection, the observed-scalability coefficient, restart-time tracking, memory tuning, and
the cluster-resource and quota gates.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem

if TYPE_CHECKING:
    from collections.abc import Sequence

from airflow_provider_flink_k8s.resources.sizing.alignment import align_parallelism
from airflow_provider_flink_k8s.resources.sizing.model import (
    INT_MAX,
    SizingOptions,
    SizingRecommendation,
    VertexDecision,
    VertexMetrics,
)

__all__ = ["recommend_parallelism"]


def recommend_parallelism(
    vertices: Sequence[VertexMetrics], options: SizingOptions | None = None
) -> SizingRecommendation:
    """Recommend a parallelism per job vertex from window-aggregated load.

    Per vertex (see the module docstring for the formulas):

    ==========================================  =========================================
    situation                                   recommended parallelism
    ==========================================  =========================================
    no busy time and no observed rate           current (``nan`` numbers)
    otherwise                                   ``ceil(clamped factor * p)``, bounded, aligned
    ==========================================  =========================================

    The job then scales only if a vertex whose recommendation differs is outside its
    bounds (:class:`SizingRecommendation` has the table).

    :param vertices: every job vertex; ids unique, inputs naming vertices of this list.
    :param options: the autoscaler options; Flink's defaults when omitted.
    :raises SpecError: (a ``ValueError``) listing every problem in the graph.
    """
    options = options or SizingOptions()
    order = _topological_order(vertices)
    backlog = _processing_backlog(vertices, options)
    rates: dict[str, tuple[float, float]] = {}
    drafts: dict[str, VertexDecision] = {}
    for v in order:
        target, catch_up = rates[v.vertex_id] = _target_rates(v, rates, options)
        drafts[v.vertex_id] = _size_vertex(v, target, catch_up, backlog, options)
    scale = any(d.changed and d.outside_bounds for d in drafts.values())
    decisions = []
    for v in vertices:
        d = drafts[v.vertex_id]
        applied = d.recommended_parallelism if scale else d.current_parallelism
        d = replace(d, new_parallelism=applied)
        decisions.append(replace(d, reason=_reason(v, d, scale, options)))
    return SizingRecommendation(scale, tuple(decisions), backlog)


def _topological_order(vertices: Sequence[VertexMetrics]) -> list[VertexMetrics]:
    problems: list[SpecProblem] = []
    if not vertices:
        problems.append(SpecProblem("vertices", "at least one job vertex is required"))
    by_id: dict[str, VertexMetrics] = {}
    for i, v in enumerate(vertices):
        if v.vertex_id in by_id:
            problems.append(SpecProblem(f"vertices[{i}].vertex_id", f"duplicate {v.vertex_id}"))
        by_id[v.vertex_id] = v
    for i, v in enumerate(vertices):
        seen: set[str] = set()
        for j, edge in enumerate(v.inputs):
            where = f"vertices[{i}].inputs[{j}]"
            if edge.vertex_id not in by_id:
                problems.append(SpecProblem(where, f"unknown upstream vertex {edge.vertex_id}"))
            elif edge.vertex_id == v.vertex_id or edge.vertex_id in seen:
                problems.append(SpecProblem(where, f"repeated or self edge {edge.vertex_id}"))
            seen.add(edge.vertex_id)
    if problems:
        raise SpecError(problems, subject="job graph")
    order: list[VertexMetrics] = []
    done: set[str] = set()
    pending = list(by_id.values())
    while pending:
        ready = [v for v in pending if all(e.vertex_id in done for e in v.inputs)]
        if not ready:
            cycle = ", ".join(v.vertex_id for v in pending)
            raise SpecError([SpecProblem("vertices", f"cycle among {cycle}")], subject="job graph")
        order += ready
        done.update(v.vertex_id for v in ready)
        pending = [v for v in pending if v.vertex_id not in done]
    return order


def _seconds(duration: timedelta) -> int:
    return duration // timedelta(seconds=1)


def _div(a: float, b: float) -> float:
    """``a / b`` with Java's double semantics (``x / 0`` is ``inf``, ``0 / 0`` is ``nan``)."""
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def _java_round(x: float) -> float:
    """Java's ``Math.round(double)``: half up, exactly; non-finite values pass through."""
    if not math.isfinite(x):
        return x
    floor = math.floor(x)
    return float(floor + (1 if x - floor >= 0.5 else 0))


def _processing_backlog(vertices: Sequence[VertexMetrics], options: SizingOptions) -> bool:
    threshold = _seconds(options.backlog_processing_lag_threshold)
    return any(v.is_source and _div(v.lag, v.input_rate) > threshold for v in vertices)


def _target_rates(
    v: VertexMetrics, known: dict[str, tuple[float, float]], options: SizingOptions
) -> tuple[float, float]:
    if v.is_source:
        catch_up_s = _seconds(options.catch_up_duration)
        catch_up = 0.0 if catch_up_s == 0 else v.lag / catch_up_s
        return max(0.0, float(v.input_rate + v.lag_growth_rate)), catch_up
    target = catch_up = 0.0
    for edge in v.inputs:
        upstream_target, upstream_catch_up = known[edge.vertex_id]
        target += upstream_target * edge.output_ratio
        catch_up += upstream_catch_up * edge.output_ratio
    return target, catch_up


def _true_processing_rate(v: VertexMetrics, switch_threshold: float) -> float:
    busy_tpr = math.nan
    if v.busy_time_ms_per_s is not None:
        busy = v.busy_time_ms_per_s / 1000
        busy_tpr = math.inf if v.input_rate == 0 else _div(v.input_rate, busy)
    observed = v.observed_true_processing_rate
    if observed is None:
        return busy_tpr
    if not math.isfinite(busy_tpr) or busy_tpr > observed * (1 + switch_threshold):
        return observed
    return busy_tpr


def _capacity(
    target: float, catch_up: float, utilization: float, options: SizingOptions, *, restart: bool
) -> float:
    """``AutoScalerUtils.getTargetProcessingCapacity``."""
    u = min(1.0, max(0.0, utilization))
    if u == 0:
        return math.inf
    catch_up_s = _seconds(options.catch_up_duration)
    restart_rate = 0.0
    if restart and catch_up_s != 0:
        restart_rate = target * _seconds(options.restart_time) / catch_up_s
    return _java_round(catch_up + restart_rate + target / u)


def _size_vertex(
    v: VertexMetrics, target: float, catch_up: float, backlog: bool, options: SizingOptions
) -> VertexDecision:
    tpr = _true_processing_rate(v, options.observed_tpr_switch_threshold)
    upper_u, lower_u = (1.0, 0.0) if backlog else options.utilization_bounds
    p = v.parallelism
    lower = min(p, options.vertex_min_parallelism)
    upper = min(v.max_parallelism, max(p, options.vertex_max_parallelism))
    capacity = _capacity(target, catch_up, options.utilization_target, options, restart=True)
    decision = VertexDecision(
        vertex_id=v.vertex_id,
        name=v.name,
        current_parallelism=p,
        new_parallelism=p,
        recommended_parallelism=p,
        true_processing_rate=tpr,
        target_rate=target,
        catch_up_rate=catch_up,
        target_capacity=capacity,
        scale_up_threshold=_capacity(target, catch_up, upper_u, options, restart=False),
        scale_down_threshold=_capacity(target, catch_up, lower_u, options, restart=True),
        unclamped_scale_factor=math.nan,
        scale_factor=math.nan,
        scaled_parallelism=p,
        lower_bound=lower,
        upper_bound=upper,
        bounded_parallelism=p,
        outside_bounds=False,
    )
    if math.isnan(tpr):
        return decision
    raw_factor = capacity / tpr
    factor, scaled, bounded, recommended = _parallelism_steps(v, raw_factor, lower, upper, options)
    return replace(
        decision,
        recommended_parallelism=recommended,
        unclamped_scale_factor=raw_factor,
        scale_factor=factor,
        scaled_parallelism=scaled,
        bounded_parallelism=bounded,
        outside_bounds=tpr < decision.scale_up_threshold or tpr > decision.scale_down_threshold,
    )


def _parallelism_steps(
    v: VertexMetrics, raw_factor: float, lower: int, upper: int, options: SizingOptions
) -> tuple[float, int, int, int]:
    """Clamped factor, ``ceil(factor * p)``, that within the bounds, and that aligned."""
    floor, ceiling = 1 - options.scale_down_max_factor, 1 + options.scale_up_max_factor
    factor = min(max(raw_factor, floor), ceiling)
    scaled = min(math.ceil(factor * v.parallelism), INT_MAX)
    bounded = min(max(lower, scaled), upper)
    if not (v.source_partitions > 0 or v.keyed):
        return factor, scaled, bounded, bounded
    aligned = align_parallelism(
        current=v.parallelism,
        target=bounded,
        key_groups_or_partitions=_alignment_base(v),
        upper_bound=upper,
        mode=options.alignment_mode,
    )
    return factor, scaled, bounded, aligned


def _alignment_base(v: VertexMetrics) -> int:
    return v.source_partitions if v.source_partitions > 0 else v.max_parallelism


def _rate(x: float) -> str:
    if math.isnan(x):
        return "unknown"
    if math.isinf(x):
        return "unbounded"
    return f"{x:.0f} rec/s" if abs(x) >= 100 else f"{x:.3g} rec/s"


def _reason(v: VertexMetrics, d: VertexDecision, scale: bool, options: SizingOptions) -> str:
    p, tpr = d.current_parallelism, d.true_processing_rate
    if math.isnan(tpr):
        return f"no busy time or observed true rate -> stays {p}"
    if math.isinf(tpr) and v.input_rate == 0:
        load = "idle"
    elif tpr == v.observed_true_processing_rate:
        load = "backpressure-observed"
    else:
        load = f"busy {(v.busy_time_ms_per_s or 0) / 10:.0f}%"
    cap = d.target_capacity
    cmp = "<" if tpr < cap else ">" if tpr > cap else "="
    text = (
        f"{load}: true rate {_rate(tpr)} {cmp} {_rate(cap)} needed at "
        f"{options.utilization_target * 100:.0f}% utilisation"
    )
    if not d.outside_bounds:
        text += f" (within {_rate(d.scale_up_threshold)}..{_rate(d.scale_down_threshold)})"
    if not d.changed:
        text += f" -> stays {p}"
    elif not scale:
        text += f" -> stays {p} (computed {d.recommended_parallelism}, no vertex out of bounds)"
    else:
        text += f" -> {p} -> {d.recommended_parallelism}"
    return text + "".join(f" ({note})" for note in _notes(v, d, options))


def _notes(v: VertexMetrics, d: VertexDecision, options: SizingOptions) -> list[str]:
    notes = []
    if d.unclamped_scale_factor < d.scale_factor:
        notes.append(f"scale-down capped by max factor {options.scale_down_max_factor:g}")
    elif d.unclamped_scale_factor > d.scale_factor:
        notes.append(f"scale-up capped by max factor {options.scale_up_max_factor:g}")
    if d.scaled_parallelism > d.upper_bound:
        notes.append(f"limited to upper bound {d.upper_bound}")
    elif d.scaled_parallelism < d.lower_bound:
        notes.append(f"raised to lower bound {d.lower_bound}")
    unit = "source partitions" if v.source_partitions > 0 else "key groups"
    if d.recommended_parallelism < d.bounded_parallelism:
        notes.append(f"capped at {_alignment_base(v)} {unit}")
    elif d.recommended_parallelism > d.bounded_parallelism:
        notes.append(
            f"aligned {d.bounded_parallelism} -> {d.recommended_parallelism} "
            f"for {_alignment_base(v)} {unit}"
        )
    return notes
