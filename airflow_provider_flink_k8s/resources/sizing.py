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

import contextlib
import math
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "PARALLELISM_OVERRIDES_KEY",
    "AlignmentMode",
    "SizingOptions",
    "SizingRecommendation",
    "VertexDecision",
    "VertexInput",
    "VertexMetrics",
    "align_parallelism",
    "parallelism_overrides",
    "recommend_parallelism",
    "taskmanagers_for",
]

PARALLELISM_OVERRIDES_KEY = "pipeline.jobvertex-parallelism-overrides"

_INT_MAX = 2**31 - 1
_MAX_PARALLELISM_LIMIT = 2**15  # Flink's KeyGroupRangeAssignment.UPPER_BOUND_MAX_PARALLELISM
_VERTEX_ID = re.compile(r"[0-9a-f]{32}")


class AlignmentMode(str, Enum):
    """``job.autoscaler.scaling.parallelism-alignment.mode``: how a target meets ``N``."""

    BALANCED = "BALANCED"
    EVENLY_SPREAD = "EVENLY_SPREAD"
    OFF = "OFF"


def _nonnegative(value: timedelta) -> bool:
    return isinstance(value, timedelta) and value >= timedelta(0)


@dataclass(frozen=True)
class SizingOptions:
    """The autoscaler options that shape a decision; defaults are Flink's.

    ================================  ==============================================  ========
    attribute                         Flink key, after ``job.autoscaler.``            default
    ================================  ==============================================  ========
    utilization_target                utilization.target                              0.7
    utilization_boundary              target.utilization.boundary                     0.3
    utilization_max                   utilization.max                                 unset
    utilization_min                   utilization.min                                 unset
    scale_down_max_factor             scale-down.max-factor                           0.6
    scale_up_max_factor               scale-up.max-factor                             100000
    vertex_min_parallelism            vertex.min-parallelism                          1
    vertex_max_parallelism            vertex.max-parallelism                          200
    catch_up_duration                 catch-up.duration                               30 min
    restart_time                      restart.time                                    5 min
    backlog_processing_lag_threshold  backlog-processing.lag-threshold                5 min
    observed_tpr_switch_threshold     observed-true-processing-rate.switch-threshold  0.15
    alignment_mode                    scaling.parallelism-alignment.mode              BALANCED
    ================================  ==============================================  ========

    Unset utilisation max/min mean target plus/minus boundary. Durations count in whole
    seconds, as Flink's ``Duration.toSeconds()`` does.

    :raises SpecError: (a ``ValueError``) listing every option that breaks its rule.
    """

    utilization_target: float = 0.7
    utilization_boundary: float = 0.3
    utilization_max: float | None = None
    utilization_min: float | None = None
    scale_down_max_factor: float = 0.6
    scale_up_max_factor: float = 100000.0
    vertex_min_parallelism: int = 1
    vertex_max_parallelism: int = 200
    catch_up_duration: timedelta = timedelta(minutes=30)
    restart_time: timedelta = timedelta(minutes=5)
    backlog_processing_lag_threshold: timedelta = timedelta(minutes=5)
    observed_tpr_switch_threshold: float = 0.15
    alignment_mode: AlignmentMode = AlignmentMode.BALANCED

    def __post_init__(self) -> None:
        with contextlib.suppress(ValueError):  # an unknown mode is reported below
            object.__setattr__(self, "alignment_mode", AlignmentMode(self.alignment_mode))
        if problems := self._problems():
            raise SpecError(problems, subject="sizing options")

    def _problems(self) -> tuple[SpecProblem, ...]:
        u = self.utilization_target
        checks = [
            ("utilization_target", 0 < u <= 1, "must be in (0, 1]"),
            ("utilization_boundary", self.utilization_boundary >= 0, "must be >= 0"),
            ("scale_down_max_factor", 0 <= self.scale_down_max_factor <= 1, "must be in [0, 1]"),
            ("scale_up_max_factor", self.scale_up_max_factor >= 0, "must be >= 0"),
            ("vertex_min_parallelism", self.vertex_min_parallelism >= 1, "must be >= 1"),
            (
                "vertex_max_parallelism",
                self.vertex_max_parallelism >= self.vertex_min_parallelism,
                "must be >= vertex_min_parallelism",
            ),
            ("catch_up_duration", _nonnegative(self.catch_up_duration), "must be >= 0"),
            ("restart_time", _nonnegative(self.restart_time), "must be >= 0"),
            (
                "backlog_processing_lag_threshold",
                _nonnegative(self.backlog_processing_lag_threshold),
                "must be >= 0",
            ),
            (
                "observed_tpr_switch_threshold",
                self.observed_tpr_switch_threshold >= 0,
                "must be >= 0",
            ),
            (
                "alignment_mode",
                isinstance(self.alignment_mode, AlignmentMode),
                f"must be one of {', '.join(m.value for m in AlignmentMode)}",
            ),
        ]
        if self.utilization_max is not None:
            ok = u <= self.utilization_max <= 1
            checks.append(("utilization_max", ok, "must be in [utilization_target, 1]"))
        if self.utilization_min is not None:
            ok = 0 <= self.utilization_min <= u
            checks.append(("utilization_min", ok, "must be in [0, utilization_target]"))
        return tuple(
            SpecProblem(name, f"{rule}, got {getattr(self, name)!r}")
            for name, ok, rule in checks
            if not ok  # written as "not ok" so NaN fails every rule
        )

    @property
    def utilization_bounds(self) -> tuple[float, float]:
        """``(max, min)`` utilisation: the explicit values, else target plus/minus boundary."""
        upper = self.utilization_max
        lower = self.utilization_min
        return (
            self.utilization_target + self.utilization_boundary if upper is None else upper,
            self.utilization_target - self.utilization_boundary if lower is None else lower,
        )


@dataclass(frozen=True)
class VertexInput:
    """One input edge: the upstream vertex and records sent here per record it takes in.

    :param vertex_id: the upstream job vertex id.
    :param output_ratio: records this edge carries per record the upstream vertex receives.
    :raises SpecError: if the ratio is negative or not finite.
    """

    vertex_id: str
    output_ratio: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.output_ratio) and self.output_ratio >= 0):
            rule = f"must be finite and >= 0, got {self.output_ratio!r}"
            raise SpecError([SpecProblem("output_ratio", rule)], subject="vertex input")

    @classmethod
    def from_rates(
        cls, vertex_id: str, *, upstream_input_rate: float, edge_rate: float
    ) -> VertexInput:
        """The edge from observed rates: ``edge_rate / upstream_input_rate``, 0 if idle.

        :param upstream_input_rate: records/s the upstream vertex receives.
        :param edge_rate: records/s on this edge (the downstream input rate when it has one
            input, else the upstream's records-out rate).
        """
        ratio = 0.0 if upstream_input_rate == 0 else edge_rate / upstream_input_rate
        return cls(vertex_id, ratio)


@dataclass(frozen=True)
class VertexMetrics:
    """One job vertex and its metrics, aggregated over the caller's metric window.

    A vertex without ``inputs`` is a source. Give ``busy_time_ms_per_s`` (Flink's
    ``busyTimeMsPerSecond``, MAX over subtasks by default), ``observed_true_processing_rate``
    (``numRecordsInPerSecond / (1 - backPressuredTimeMsPerSecond / 1000)`` of a catching-up
    source), or both; with neither the vertex keeps its parallelism.

    :param vertex_id: the 32-character lower-case hex ``JobVertexID``.
    :param parallelism: current parallelism.
    :param max_parallelism: the vertex max parallelism (number of key groups).
    :param input_rate: records/s received, summed over subtasks.
    :param lag: source only: pending records now.
    :param lag_growth_rate: source only: records/s the lag grows (negative when shrinking).
    :param source_partitions: source only: partition count, 0 when unknown.
    :param keyed: whether an input edge is keyed (``HASH``).
    :param inputs: the input edges; empty for a source.
    :raises SpecError: listing every field that breaks its rule.
    """

    vertex_id: str
    parallelism: int
    max_parallelism: int
    input_rate: float
    busy_time_ms_per_s: float | None = None
    observed_true_processing_rate: float | None = None
    lag: float = 0.0
    lag_growth_rate: float = 0.0
    source_partitions: int = 0
    keyed: bool = False
    inputs: tuple[VertexInput, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if problems := self._problems():
            raise SpecError(problems, subject=f"vertex metrics {self.vertex_id!r}")

    @property
    def is_source(self) -> bool:
        """Whether the vertex has no inputs."""
        return not self.inputs

    def _problems(self) -> list[SpecProblem]:
        busy, observed = self.busy_time_ms_per_s, self.observed_true_processing_rate
        source_only = "only a source (a vertex without inputs) has it"
        checks = [
            ("vertex_id", bool(_VERTEX_ID.fullmatch(self.vertex_id)), "must be 32 lower-case hex"),
            ("parallelism", self.parallelism >= 1, "must be >= 1"),
            (
                "max_parallelism",
                self.parallelism <= self.max_parallelism <= _MAX_PARALLELISM_LIMIT,
                f"must be in [parallelism, {_MAX_PARALLELISM_LIMIT}]",
            ),
            ("input_rate", _finite_nonnegative(self.input_rate), "must be finite and >= 0"),
            ("busy_time_ms_per_s", busy is None or 0 <= busy <= 1000, "must be in [0, 1000]"),
            ("observed_true_processing_rate", observed is None or observed > 0, "must be > 0"),
            ("lag", _finite_nonnegative(self.lag), "must be finite and >= 0"),
            ("lag_growth_rate", math.isfinite(self.lag_growth_rate), "must be finite"),
            ("source_partitions", self.source_partitions >= 0, "must be >= 0"),
        ]
        if not self.is_source:
            checks += [
                ("lag", self.lag == 0, source_only),
                ("lag_growth_rate", self.lag_growth_rate == 0, source_only),
                ("source_partitions", self.source_partitions == 0, source_only),
            ]
        elif self.keyed:
            checks.append(("keyed", False, "a source has no keyed input"))
        return [
            SpecProblem(name, f"{rule}, got {getattr(self, name)!r}")
            for name, ok, rule in checks
            if not ok
        ]


def _finite_nonnegative(value: float) -> bool:
    return math.isfinite(value) and value >= 0


@dataclass(frozen=True)
class VertexDecision:
    """What :func:`recommend_parallelism` decided for one vertex, with every number it used.

    Rates are records/s. ``true_processing_rate`` is ``inf`` when idle and ``nan`` when
    unknown (then every derived number is ``nan`` and the vertex keeps its parallelism).
    ``scaled_parallelism`` is ``ceil(scale_factor * current)``, ``bounded_parallelism`` that
    value within ``[lower_bound, upper_bound]``, ``recommended_parallelism`` the aligned one,
    and ``new_parallelism`` what applies: the recommendation if the job scales, else current.
    Alignment only moves up, except that a source is capped at its partition count, which
    wins over ``lower_bound`` and the scale-down factor (as in Flink since FLINK-40389).
    """

    vertex_id: str
    name: str
    current_parallelism: int
    new_parallelism: int
    recommended_parallelism: int
    true_processing_rate: float
    target_rate: float
    catch_up_rate: float
    target_capacity: float
    scale_up_threshold: float
    scale_down_threshold: float
    unclamped_scale_factor: float
    scale_factor: float
    scaled_parallelism: int
    lower_bound: int
    upper_bound: int
    bounded_parallelism: int
    outside_bounds: bool
    reason: str = ""

    @property
    def changed(self) -> bool:
        """Whether the recommendation differs from the current parallelism."""
        return self.recommended_parallelism != self.current_parallelism


@dataclass(frozen=True)
class SizingRecommendation:
    """The job-wide outcome: whether to scale, and each vertex's decision (in input order).

    ======================================================  =========================
    per-vertex recommendations                              outcome
    ======================================================  =========================
    none changes                                            ``scale=False``
    some change, none of those is outside its bounds        ``scale=False``, all kept
    some change, at least one of those is outside bounds    ``scale=True``, all applied
    ======================================================  =========================
    """

    scale: bool
    decisions: tuple[VertexDecision, ...]
    processing_backlog: bool = False

    @property
    def parallelisms(self) -> dict[str, int]:
        """The applied parallelism per vertex id."""
        return {d.vertex_id: d.new_parallelism for d in self.decisions}

    @property
    def parallelism(self) -> int:
        """The job parallelism: the largest vertex parallelism (slots with one sharing group)."""
        return max((d.new_parallelism for d in self.decisions), default=0)

    @property
    def reason(self) -> str:
        """One line on the job-wide outcome."""
        changed = [d for d in self.decisions if d.changed]
        if not changed:
            return "no scaling: every vertex is at its recommended parallelism"
        if not self.scale:
            return (
                f"no scaling: {len(changed)} vertex recommendation(s) differ, "
                "but no vertex is outside its utilisation bounds"
            )
        current = max(d.current_parallelism for d in self.decisions)
        return (
            f"scale {len(changed)} of {len(self.decisions)} vertices: "
            f"job parallelism {current} -> {self.parallelism}"
        )

    def decision(self, vertex_id: str) -> VertexDecision:
        """The decision for ``vertex_id``.

        :raises KeyError: if no vertex has that id.
        """
        for d in self.decisions:
            if d.vertex_id == vertex_id:
                return d
        raise KeyError(vertex_id)

    def taskmanagers(self, slots_per_taskmanager: int) -> int:
        """TaskManagers needed for :attr:`parallelism` (see :func:`taskmanagers_for`)."""
        return taskmanagers_for(self.parallelism, slots_per_taskmanager)


def taskmanagers_for(parallelism: int, slots_per_taskmanager: int) -> int:
    """TaskManagers giving ``parallelism`` slots: ``ceil(parallelism / slots)``.

    :raises ValueError: if either argument is below 1.
    """
    if parallelism < 1 or slots_per_taskmanager < 1:
        raise ValueError("parallelism and slots_per_taskmanager must both be >= 1")
    return -(-parallelism // slots_per_taskmanager)


def parallelism_overrides(recommendation: SizingRecommendation) -> str:
    """Render :data:`PARALLELISM_OVERRIDES_KEY` as the autoscaler writes it.

    ``"<vertexIdHex>:<p>,..."`` with every vertex, changed or not, in input order. Write it
    only when ``recommendation.scale``; otherwise it repeats the current parallelisms.
    """
    return ",".join(f"{d.vertex_id}:{d.new_parallelism}" for d in recommendation.decisions)


def align_parallelism(
    *,
    current: int,
    target: int,
    key_groups_or_partitions: int,
    upper_bound: int,
    mode: AlignmentMode,
) -> int:
    """Align a bounded ``target`` to ``N`` key groups or partitions (``ParallelismAligner``).

    The search runs upward from ``target`` to ``min(N, upper_bound)`` on a scale-up and to
    ``min(current, N, upper_bound)`` otherwise, so it never crosses the current parallelism;
    only the cap can move the result below ``target`` (even below ``current``).

    ===================  ==========================================  ====================
    mode                 accepts the first ``q`` in the region with  when none is accepted
    ===================  ==========================================  ====================
    ``BALANCED``         ``N % q == 0`` or ``N // q < N // target``  ``min(target, cap)``
    ``EVENLY_SPREAD``    ``N % q == 0``                              ``min(target, cap)``
    ``OFF``              (no search)                                 ``target``
    ===================  ==========================================  ====================

    ``cap = min(N, upper_bound)``: a source never keeps more subtasks than partitions.

    :param upper_bound: ``min(max parallelism, parallelism upper limit)``.
    :raises ValueError: if ``target`` or ``key_groups_or_partitions`` is below 1.
    """
    if target < 1 or key_groups_or_partitions < 1:
        raise ValueError("target and key_groups_or_partitions must both be >= 1")
    if mode is AlignmentMode.OFF:
        return target
    n = key_groups_or_partitions
    cap = min(n, upper_bound)
    end = cap if target > current else min(current, cap)
    for q in range(target, end + 1):
        if n % q == 0 or (mode is AlignmentMode.BALANCED and n // q < n // target):
            return q
    return min(target, cap)


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
    scaled = min(math.ceil(factor * v.parallelism), _INT_MAX)
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
