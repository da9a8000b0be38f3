"""The values of load-based sizing: options, per-vertex metrics, decisions, the recommendation."""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem

if TYPE_CHECKING:
    pass

__all__ = [
    "AlignmentMode",
    "PARALLELISM_OVERRIDES_KEY",
    "SizingOptions",
    "SizingRecommendation",
    "VertexDecision",
    "VertexInput",
    "VertexMetrics",
    "parallelism_overrides",
    "taskmanagers_for",
]

PARALLELISM_OVERRIDES_KEY = "pipeline.jobvertex-parallelism-overrides"
"""Flink's key for per-vertex parallelism (``vertex-id:parallelism`` pairs)."""

INT_MAX = 2**31 - 1
"""Java's Integer.MAX_VALUE: Flink's parallelisms are ints."""
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
