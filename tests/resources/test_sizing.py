"""Tests for load-based sizing: tables from Flink's autoscaler, no mocks."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.resources.sizing import (
    PARALLELISM_OVERRIDES_KEY,
    AlignmentMode,
    SizingOptions,
    SizingRecommendation,
    VertexInput,
    VertexMetrics,
    align_parallelism,
    parallelism_overrides,
    recommend_parallelism,
    taskmanagers_for,
)

BALANCED, EVENLY, OFF = AlignmentMode.BALANCED, AlignmentMode.EVENLY_SPREAD, AlignmentMode.OFF
SRC, MID, SINK = f"{1:032x}", f"{2:032x}", f"{3:032x}"


def source(**overrides: Any) -> VertexMetrics:
    """A source at p=4 doing 950 rec/s at 95 % busy while its lag grows 250 rec/s.

    TPR = 950 / 0.95 = 1000 and TARGET = 950 + 250 = 1200: the worked example of the notes.
    """
    fields: dict[str, Any] = dict(
        vertex_id=SRC,
        parallelism=4,
        max_parallelism=720,
        input_rate=950.0,
        busy_time_ms_per_s=950.0,
        lag_growth_rate=250.0,
        name="source",
    )
    return VertexMetrics(**(fields | overrides))


def idle_source(**overrides: Any) -> VertexMetrics:
    fields: dict[str, Any] = dict(
        vertex_id=SRC, parallelism=10, max_parallelism=128, input_rate=0.0, busy_time_ms_per_s=0.0
    )
    return VertexMetrics(**(fields | overrides))


def decide(vertex: VertexMetrics, **options: Any) -> SizingRecommendation:
    return recommend_parallelism([vertex], SizingOptions(**options))


# -- the worked example ------------------------------------------------------------------------


def test_worked_example_from_the_notes() -> None:
    rec = decide(source())
    d = rec.decision(SRC)
    assert d.true_processing_rate == pytest.approx(1000.0)
    assert d.target_rate == 1200.0
    assert d.catch_up_rate == 0.0
    # round(0 + 1200 * 300 / 1800 + 1200 / 0.7) = round(200 + 1714.29) = 1914
    assert d.target_capacity == 1914.0
    assert d.scale_factor == pytest.approx(1.914)
    assert d.scaled_parallelism == 8  # ceil(7.656)
    # up = round(1200 / 1.0); down = round(200 + 1200 / 0.4)
    assert (d.scale_up_threshold, d.scale_down_threshold) == (1200.0, 3200.0)
    assert d.outside_bounds
    assert rec.scale
    assert (d.current_parallelism, d.new_parallelism) == (4, 8)
    assert d.reason == (
        "busy 95%: true rate 1000 rec/s < 1914 rec/s needed at 70% utilisation -> 4 -> 8"
    )
    assert rec.parallelism == 8
    assert rec.reason == "scale 1 of 1 vertices: job parallelism 4 -> 8"


@pytest.mark.parametrize(
    ("max_parallelism", "mode", "expected"),
    [
        (720, BALANCED, 8),  # 720 % 8 == 0: already aligned
        (720, EVENLY, 8),
        (100, BALANCED, 9),  # 100 // 9 = 11 < 100 // 8 = 12
        (100, EVENLY, 10),  # first divisor of 100 from 8 up
        (100, OFF, 8),
        (7, BALANCED, 7),  # bounded by max parallelism before alignment
    ],
)
def test_worked_example_on_a_keyed_vertex_is_aligned_to_key_groups(
    max_parallelism: int, mode: AlignmentMode, expected: int
) -> None:
    # The source runs at TPR 2000 (busy 47.5 %): 1914 / 2000 * 4 rounds up to 4, unchanged.
    upstream = source(busy_time_ms_per_s=475.0)
    keyed = VertexMetrics(
        MID,
        parallelism=4,
        max_parallelism=max_parallelism,
        input_rate=950.0,
        busy_time_ms_per_s=950.0,
        keyed=True,
        inputs=(VertexInput(SRC, 1.0),),
    )
    rec = recommend_parallelism([upstream, keyed], SizingOptions(alignment_mode=mode))
    assert rec.decision(SRC).new_parallelism == 4
    d = rec.decision(MID)
    assert d.target_rate == 1200.0
    assert d.bounded_parallelism == min(8, max_parallelism)
    assert d.new_parallelism == expected
    assert rec.parallelism == expected
    if expected != d.bounded_parallelism:
        assert d.reason.endswith(f"(aligned 8 -> {expected} for 100 key groups)")


def test_source_partitions_take_the_place_of_key_groups() -> None:
    # 8 is the bounded target; with 12 partitions no q in 8..11 lowers 12 // q below 1,
    # so even BALANCED walks on to the divisor 12.
    rec = decide(source(source_partitions=12))
    d = rec.decision(SRC)
    assert d.bounded_parallelism == 8
    assert d.new_parallelism == 12
    assert "for 12 source partitions" in d.reason


@pytest.mark.parametrize(
    ("vertex", "options", "expected"),
    [
        (source(source_partitions=5), {}, 5),  # raw target 8 above 5 partitions
        # a would-be scale-up from 100 is turned into 100 -> 15 (Flink's FLINK-40389 example)
        (source(parallelism=100, max_parallelism=180, source_partitions=15), {}, 15),
        # the cap also wins over vertex.min-parallelism and the scale-down factor
        (idle_source(parallelism=4, source_partitions=2), dict(vertex_min_parallelism=4), 2),
    ],
)
def test_a_source_is_never_given_more_subtasks_than_partitions(
    vertex: VertexMetrics, options: dict[str, Any], expected: int
) -> None:
    d = decide(vertex, **options).decision(SRC)
    assert d.new_parallelism == expected
    assert d.reason.endswith(f"(capped at {vertex.source_partitions} source partitions)")


# -- the job-wide rule: no vertex outside its bounds, no scaling ---------------------------------


def test_within_bounds_means_no_scaling_even_when_the_recommendation_differs() -> None:
    # TARGET 1000, TPR 2500 (busy 40 %): inside [up 1000, down round(166.7 + 2500) = 2667].
    vertex = source(parallelism=10, input_rate=1000.0, busy_time_ms_per_s=400.0, lag_growth_rate=0)
    rec = decide(vertex)
    d = rec.decision(SRC)
    assert (d.scale_up_threshold, d.scale_down_threshold) == (1000.0, 2667.0)
    assert not d.outside_bounds
    assert d.recommended_parallelism == 7  # ceil(1595 / 2500 * 10)
    assert not rec.scale
    assert d.new_parallelism == 10
    assert rec.parallelisms == {SRC: 10}
    assert "-> stays 10 (computed 7, no vertex out of bounds)" in d.reason
    assert "(within 1000 rec/s..2667 rec/s)" in d.reason
    assert rec.reason.startswith("no scaling: 1 vertex recommendation(s) differ")


def test_one_vertex_outside_its_bounds_rescales_every_changed_vertex() -> None:
    # The source alone would stay inside its bounds, yet it follows the out-of-bounds sink.
    quiet = source(parallelism=10, input_rate=1000.0, busy_time_ms_per_s=400.0, lag_growth_rate=0)
    hot = VertexMetrics(
        SINK,
        parallelism=2,
        max_parallelism=128,
        input_rate=800.0,
        busy_time_ms_per_s=1000.0,
        inputs=(VertexInput(SRC),),
    )
    rec = recommend_parallelism([quiet, hot])
    assert rec.scale
    assert not rec.decision(SRC).outside_bounds
    assert rec.decision(SINK).outside_bounds
    assert rec.parallelisms == {SRC: 7, SINK: 4}  # sink: ceil(1595 / 800 * 2)
    assert rec.parallelism == 7


def test_an_unchanged_vertex_outside_its_bounds_does_not_trigger_scaling() -> None:
    # TPR 1000 < scale-up threshold 1200, but the scale factor is capped at 1 (up factor 0).
    rec = decide(source(), scale_up_max_factor=0.0)
    d = rec.decision(SRC)
    assert d.outside_bounds
    assert not d.changed
    assert not rec.scale
    assert rec.reason == "no scaling: every vertex is at its recommended parallelism"
    assert d.reason.endswith("-> stays 4 (scale-up capped by max factor 0)")


# -- scale factor clamp and parallelism bounds ---------------------------------------------------


@pytest.mark.parametrize(
    ("busy", "down_factor", "expected"),
    [
        (100.0, 0.6, 4),  # factor 0.1595 -> clamped to 0.4 -> ceil(0.4 * 10) = 4
        (100.0, 0.3, 7),  # clamped to 0.7
        (100.0, 0.0, 10),  # no scale-down allowed at all
        (100.0, 1.0, 2),  # unclamped: ceil(0.1595 * 10)
        (400.0, 0.6, 7),  # factor 0.638 is within the clamp (but inside bounds: not applied)
    ],
)
def test_scale_down_is_limited_by_the_max_factor(
    busy: float, down_factor: float, expected: int
) -> None:
    vertex = source(parallelism=10, input_rate=1000.0, busy_time_ms_per_s=busy, lag_growth_rate=0)
    d = decide(vertex, scale_down_max_factor=down_factor).decision(SRC)
    assert d.recommended_parallelism == expected
    if d.unclamped_scale_factor < d.scale_factor:
        assert f"(scale-down capped by max factor {down_factor:g})" in d.reason


def test_the_scale_down_clamp_shows_in_the_reason() -> None:
    vertex = source(parallelism=10, input_rate=1000.0, busy_time_ms_per_s=100.0, lag_growth_rate=0)
    d = decide(vertex).decision(SRC)
    assert d.reason == (
        "busy 10%: true rate 10000 rec/s > 1595 rec/s needed at 70% utilisation -> 10 -> 4 "
        "(scale-down capped by max factor 0.6)"
    )


@pytest.mark.parametrize(
    ("vertex", "options", "lower", "upper", "expected"),
    [
        # vertex.max-parallelism caps the worked example's 8
        (source(), dict(vertex_max_parallelism=6), 1, 6, 6),
        # the vertex max parallelism (key groups) caps it too
        (source(max_parallelism=5), {}, 1, 5, 5),
        # already above vertex.max-parallelism: upper = max(p, 200) keeps the current value
        (source(parallelism=300, max_parallelism=1000), {}, 1, 300, 300),
        # vertex.min-parallelism raises a scale-down: 0.4 * 10 = 4 -> 6
        (idle_source(), dict(vertex_min_parallelism=6), 6, 128, 6),
        # already below vertex.min-parallelism: lower = min(p, 5) keeps the current value
        (idle_source(parallelism=2), dict(vertex_min_parallelism=5), 2, 128, 2),
    ],
)
def test_min_and_max_parallelism_bound_the_result(
    vertex: VertexMetrics, options: dict[str, Any], lower: int, upper: int, expected: int
) -> None:
    d = decide(vertex, **options).decision(SRC)
    assert (d.lower_bound, d.upper_bound) == (lower, upper)
    assert d.recommended_parallelism == expected


def test_the_upper_bound_shows_in_the_reason() -> None:
    d = decide(source(), vertex_max_parallelism=6).decision(SRC)
    assert d.reason.endswith("-> 4 -> 6 (limited to upper bound 6)")


# -- alignment, all three modes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target", "n", "upper", "mode", "expected"),
    [
        # Flink's AlignmentModeTest: N = 128, target 24
        (16, 24, 128, 200, BALANCED, 26),  # 128 // 26 = 4 < 128 // 24 = 5
        (16, 24, 128, 200, EVENLY, 32),
        (16, 24, 128, 200, OFF, 24),
        # worked example: 720 % 8 == 0 in every mode
        (4, 8, 720, 200, BALANCED, 8),
        (4, 8, 720, 200, EVENLY, 8),
        (4, 8, 720, 200, OFF, 8),
        # no divisor of 35 in [25, 30] and no load reduction either: the target is kept
        (22, 25, 35, 30, EVENLY, 25),
        (22, 25, 35, 30, BALANCED, 25),
        # no divisor of 12 in [7, 8]: kept, never relaxed below the target
        (5, 7, 12, 8, EVENLY, 7),
        # scale-down region is [target, current]: the divisor found may be current itself
        (6, 5, 12, 200, EVENLY, 6),
        (6, 5, 12, 200, BALANCED, 6),
        (10, 7, 720, 200, EVENLY, 8),
        # scale-down with no divisor of a prime N in the region: the target is kept
        (6, 4, 7, 200, EVENLY, 4),
        (6, 4, 7, 200, BALANCED, 4),
        # N = 15 partitions at current 100: 15 caps the result in both directions
        (100, 180, 15, 180, BALANCED, 15),
        (100, 180, 15, 180, EVENLY, 15),
        (100, 50, 15, 180, BALANCED, 15),
        (100, 16, 15, 180, EVENLY, 15),
        (100, 15, 15, 180, EVENLY, 15),
        (100, 180, 15, 180, OFF, 180),
        (100, 50, 15, 180, OFF, 50),
        # a keyed vertex is capped at its key-group count
        (20, 18, 12, 12, EVENLY, 12),
    ],
)
def test_align_parallelism(
    current: int, target: int, n: int, upper: int, mode: AlignmentMode, expected: int
) -> None:
    aligned = align_parallelism(
        current=current, target=target, key_groups_or_partitions=n, upper_bound=upper, mode=mode
    )
    assert aligned == expected


def test_alignment_applies_only_to_keyed_vertices_and_partitioned_sources() -> None:
    # Same numbers as the keyed case with max parallelism 100, but a REBALANCE input.
    upstream = source(busy_time_ms_per_s=475.0)
    forward = VertexMetrics(
        MID, 4, 100, 950.0, busy_time_ms_per_s=950.0, inputs=(VertexInput(SRC),)
    )
    rec = recommend_parallelism([upstream, forward], SizingOptions(alignment_mode=EVENLY))
    assert rec.decision(MID).new_parallelism == 8


@pytest.mark.parametrize("bad", [dict(target=0), dict(key_groups_or_partitions=0)])
def test_align_parallelism_rejects_non_positive_inputs(bad: dict[str, int]) -> None:
    args: dict[str, Any] = dict(
        current=4, target=8, key_groups_or_partitions=720, upper_bound=200, mode=BALANCED
    )
    with pytest.raises(ValueError, match=">= 1"):
        align_parallelism(**(args | bad))


# -- idle vertices, unknown rates, observed rates -------------------------------------------------


def test_an_idle_vertex_has_infinite_capacity_and_scales_down_by_the_max_factor() -> None:
    rec = decide(idle_source())
    d = rec.decision(SRC)
    assert d.true_processing_rate == math.inf
    assert d.target_rate == 0.0
    assert (d.target_capacity, d.scale_up_threshold, d.scale_down_threshold) == (0.0, 0.0, 0.0)
    assert d.unclamped_scale_factor == 0.0
    assert d.outside_bounds  # inf > 0
    assert rec.scale
    assert d.new_parallelism == 4
    assert d.reason == (
        "idle: true rate unbounded > 0 rec/s needed at 70% utilisation -> 10 -> 4 "
        "(scale-down capped by max factor 0.6)"
    )


def test_a_vertex_without_busy_time_or_observed_rate_keeps_its_parallelism() -> None:
    rec = decide(source(busy_time_ms_per_s=None))
    d = rec.decision(SRC)
    assert math.isnan(d.true_processing_rate)
    assert math.isnan(d.scale_factor)
    assert d.recommended_parallelism == 4
    assert not rec.scale
    assert d.reason == "no busy time or observed true rate -> stays 4"


@pytest.mark.parametrize(
    ("busy", "observed", "expected_tpr"),
    [
        (475.0, 1000.0, 1000.0),  # busy TPR 2000 > 1000 * 1.15: the observed rate wins
        (860.0, 1000.0, 950.0 / 0.86),  # busy TPR 1104.65 <= 1150: busy time stays
        (None, 1000.0, 1000.0),  # only the observed rate
        (0.0, 1000.0, 1000.0),  # busy TPR unbounded: the observed rate wins
    ],
)
def test_observed_true_processing_rate_replaces_busy_time_past_the_switch_threshold(
    busy: float | None, observed: float, expected_tpr: float
) -> None:
    vertex = source(busy_time_ms_per_s=busy, observed_true_processing_rate=observed)
    d = decide(vertex).decision(SRC)
    assert d.true_processing_rate == pytest.approx(expected_tpr)
    if expected_tpr == observed:
        assert d.reason.startswith("backpressure-observed: true rate 1000 rec/s")


# -- graphs: output ratios and catch-up rates propagate ------------------------------------------


def test_target_and_catch_up_rates_propagate_through_output_ratios() -> None:
    # source -> flatMap (x3) -> filter (x0.5) -> sink, plus source -> sink directly (x1)
    src = source(lag=1_800_000.0, lag_growth_rate=50.0)  # catch-up 1_800_000 / 1800 = 1000
    flat = VertexMetrics(MID, 4, 128, 2850.0, 500.0, inputs=(VertexInput(SRC, 3.0),))
    filt = VertexMetrics(
        f"{4:032x}", 4, 128, 1425.0, 500.0, inputs=(VertexInput(MID, 0.5),), name="filter"
    )
    sink = VertexMetrics(
        SINK, 4, 128, 2375.0, 500.0, inputs=(VertexInput(f"{4:032x}"), VertexInput(SRC))
    )
    rec = recommend_parallelism([sink, filt, flat, src])  # any order: sorted topologically
    targets = {d.vertex_id: (d.target_rate, d.catch_up_rate) for d in rec.decisions}
    assert targets == {
        SRC: (1000.0, 1000.0),
        MID: (3000.0, 3000.0),
        f"{4:032x}": (1500.0, 1500.0),
        SINK: (2500.0, 2500.0),
    }
    assert [d.vertex_id for d in rec.decisions] == [SINK, f"{4:032x}", MID, SRC]  # input order
    # sink capacity: round(2500 + 2500 * 300 / 1800 + 2500 / 0.7) = round(6488.1) = 6488
    assert rec.decision(SINK).target_capacity == 6488.0


def test_negative_lag_growth_lowers_the_target_but_never_below_zero() -> None:
    assert decide(source(lag_growth_rate=-300.0)).decision(SRC).target_rate == 650.0
    assert decide(source(lag_growth_rate=-5000.0)).decision(SRC).target_rate == 0.0


def test_edge_output_ratio_from_rates() -> None:
    assert VertexInput.from_rates(SRC, upstream_input_rate=400.0, edge_rate=1000.0) == VertexInput(
        SRC, 2.5
    )
    # an idle upstream flattens the ratio instead of dividing by zero
    assert VertexInput.from_rates(SRC, upstream_input_rate=0.0, edge_rate=5.0).output_ratio == 0.0


def test_processing_backlog_lifts_utilisation_bounds_and_disables_scale_down() -> None:
    # lag 1_000_000 at 1000 rec/s = 1000 s > 5 min: the source is catching up
    vertex = source(
        parallelism=10,
        input_rate=1000.0,
        busy_time_ms_per_s=100.0,
        lag=1_000_000.0,
        lag_growth_rate=0.0,
    )
    rec = decide(vertex)
    d = rec.decision(SRC)
    assert rec.processing_backlog
    assert d.scale_down_threshold == math.inf  # utilisation min 0
    assert d.scale_up_threshold == round(1_000_000 / 1800 + 1000 / 1.0)
    assert not d.outside_bounds
    assert not rec.scale
    assert not decide(
        vertex, backlog_processing_lag_threshold=timedelta(hours=1)
    ).processing_backlog


def test_capacity_rounds_half_up_like_java() -> None:
    # 2.5 rec/s at u = 1 with no restart term: Java's Math.round gives 3 (Python's round, 2)
    vertex = source(input_rate=2.5, busy_time_ms_per_s=500.0, lag_growth_rate=0.0)
    d = decide(vertex, utilization_target=1.0, restart_time=timedelta(0)).decision(SRC)
    assert d.target_capacity == 3.0


def test_zero_catch_up_duration_drops_the_restart_and_catch_up_terms() -> None:
    d = decide(source(lag=1000.0), catch_up_duration=timedelta(0)).decision(SRC)
    assert d.catch_up_rate == 0.0
    assert d.target_capacity == round(1200 / 0.7)


# -- rendering and TaskManagers ------------------------------------------------------------------


def test_parallelism_overrides_lists_every_vertex_in_input_order() -> None:
    upstream = source(busy_time_ms_per_s=475.0)
    keyed = VertexMetrics(MID, 4, 720, 950.0, 950.0, keyed=True, inputs=(VertexInput(SRC),))
    rec = recommend_parallelism([upstream, keyed])
    assert PARALLELISM_OVERRIDES_KEY == "pipeline.jobvertex-parallelism-overrides"
    assert parallelism_overrides(rec) == f"{SRC}:4,{MID}:8"
    assert rec.taskmanagers(2) == 4


@pytest.mark.parametrize(
    ("parallelism", "slots", "expected"),
    [(1, 1, 1), (8, 1, 8), (8, 2, 4), (9, 2, 5), (7, 4, 2), (4, 8, 1), (200, 3, 67)],
)
def test_taskmanagers_for(parallelism: int, slots: int, expected: int) -> None:
    assert taskmanagers_for(parallelism, slots) == expected


@pytest.mark.parametrize(("parallelism", "slots"), [(0, 1), (1, 0), (-3, 2)])
def test_taskmanagers_for_rejects_non_positive_arguments(parallelism: int, slots: int) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        taskmanagers_for(parallelism, slots)


# -- options -------------------------------------------------------------------------------------


def test_options_default_to_flinks_autoscaler_defaults() -> None:
    o = SizingOptions()
    assert (o.utilization_target, o.utilization_boundary) == (0.7, 0.3)
    assert (o.utilization_max, o.utilization_min) == (None, None)
    assert (o.scale_down_max_factor, o.scale_up_max_factor) == (0.6, 100000.0)
    assert (o.vertex_min_parallelism, o.vertex_max_parallelism) == (1, 200)
    assert o.catch_up_duration == timedelta(minutes=30)
    assert o.restart_time == timedelta(minutes=5)
    assert o.backlog_processing_lag_threshold == timedelta(minutes=5)
    assert o.observed_tpr_switch_threshold == 0.15
    assert o.alignment_mode is BALANCED
    assert o.utilization_bounds == pytest.approx((1.0, 0.4))
    assert SizingOptions(utilization_max=0.9, utilization_min=0.5).utilization_bounds == (0.9, 0.5)


def test_alignment_mode_accepts_its_wire_name() -> None:
    mode: Any = "EVENLY_SPREAD"
    assert SizingOptions(alignment_mode=mode).alignment_mode is EVENLY


@pytest.mark.parametrize(
    ("options", "field", "rule"),
    [
        (dict(utilization_target=0.0), "utilization_target", "must be in (0, 1]"),
        (dict(utilization_target=1.2), "utilization_target", "must be in (0, 1]"),
        (dict(utilization_target=math.nan), "utilization_target", "must be in (0, 1]"),
        (dict(utilization_boundary=-0.1), "utilization_boundary", "must be >= 0"),
        (dict(utilization_max=0.5), "utilization_max", "must be in [utilization_target, 1]"),
        (dict(utilization_max=1.1), "utilization_max", "must be in [utilization_target, 1]"),
        (dict(utilization_min=0.8), "utilization_min", "must be in [0, utilization_target]"),
        (dict(utilization_min=-0.1), "utilization_min", "must be in [0, utilization_target]"),
        (dict(scale_down_max_factor=1.5), "scale_down_max_factor", "must be in [0, 1]"),
        (dict(scale_down_max_factor=-0.1), "scale_down_max_factor", "must be in [0, 1]"),
        (dict(scale_up_max_factor=-1.0), "scale_up_max_factor", "must be >= 0"),
        (dict(vertex_min_parallelism=0), "vertex_min_parallelism", "must be >= 1"),
        (
            dict(vertex_min_parallelism=10, vertex_max_parallelism=5),
            "vertex_max_parallelism",
            "must be >= vertex_min_parallelism",
        ),
        (dict(catch_up_duration=timedelta(seconds=-1)), "catch_up_duration", "must be >= 0"),
        (dict(restart_time=timedelta(seconds=-1)), "restart_time", "must be >= 0"),
        (
            dict(backlog_processing_lag_threshold=timedelta(seconds=-1)),
            "backlog_processing_lag_threshold",
            "must be >= 0",
        ),
        (dict(observed_tpr_switch_threshold=-0.5), "observed_tpr_switch_threshold", ">= 0"),
        (dict(alignment_mode="balanced"), "alignment_mode", "must be one of BALANCED"),
    ],
)
def test_invalid_options_name_the_option_and_the_rule(
    options: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(ValueError, match="invalid sizing options") as caught:
        SizingOptions(**options)
    assert isinstance(caught.value, SpecError)
    assert [p.field for p in caught.value.problems] == [field]
    assert rule in caught.value.problems[0].rule


def test_every_invalid_option_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        SizingOptions(utilization_target=2.0, scale_up_max_factor=-1.0, vertex_min_parallelism=0)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"utilization_target", "scale_up_max_factor", "vertex_min_parallelism"}


# -- invalid metrics and graphs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (dict(vertex_id="source"), "vertex_id"),
        (dict(vertex_id=SRC.upper()[:-1] + "A"), "vertex_id"),
        (dict(parallelism=0), "parallelism"),
        (dict(max_parallelism=2), "max_parallelism"),
        (dict(max_parallelism=40000), "max_parallelism"),
        (dict(input_rate=-1.0), "input_rate"),
        (dict(input_rate=math.inf), "input_rate"),
        (dict(busy_time_ms_per_s=1000.5), "busy_time_ms_per_s"),
        (dict(observed_true_processing_rate=0.0), "observed_true_processing_rate"),
        (dict(lag=-1.0), "lag"),
        (dict(lag_growth_rate=math.nan), "lag_growth_rate"),
        (dict(source_partitions=-1), "source_partitions"),
        (dict(keyed=True), "keyed"),
    ],
)
def test_invalid_vertex_metrics_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as caught:
        source(**overrides)
    assert field in [p.field for p in caught.value.problems]


def test_source_only_metrics_on_a_downstream_vertex_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        VertexMetrics(
            MID, 1, 128, 1.0, 1.0, lag=5.0, source_partitions=3, inputs=(VertexInput(SRC),)
        )
    assert {p.field for p in caught.value.problems} == {"lag", "source_partitions"}


@pytest.mark.parametrize("ratio", [-1.0, math.inf, math.nan])
def test_invalid_output_ratio(ratio: float) -> None:
    with pytest.raises(SpecError, match="output_ratio"):
        VertexInput(SRC, ratio)


def downstream(vertex_id: str, *upstream: str) -> VertexMetrics:
    return VertexMetrics(
        vertex_id, 1, 128, 1.0, 1.0, inputs=tuple(VertexInput(u) for u in upstream)
    )


@pytest.mark.parametrize(
    ("vertices", "message"),
    [
        ([], "at least one job vertex is required"),
        ([source(), source()], f"duplicate {SRC}"),
        ([source(), downstream(MID, SINK)], f"unknown upstream vertex {SINK}"),
        ([source(), downstream(MID, SRC, SRC)], f"repeated or self edge {SRC}"),
        ([source(), downstream(MID, MID)], f"repeated or self edge {MID}"),
        ([source(), downstream(MID, SRC, SINK), downstream(SINK, MID)], "cycle among"),
    ],
)
def test_invalid_graphs_are_refused(vertices: list[VertexMetrics], message: str) -> None:
    with pytest.raises(SpecError, match="invalid job graph") as caught:
        recommend_parallelism(vertices)
    assert message in str(caught.value)


# -- properties ----------------------------------------------------------------------------------

modes = st.sampled_from(list(AlignmentMode))


@st.composite
def keyed_jobs(draw: st.DrawFn) -> tuple[list[VertexMetrics], SizingOptions]:
    """A source feeding a keyed vertex, both with arbitrary load and bounds."""
    max_parallelism = draw(st.integers(1, 1024))
    p = draw(st.integers(1, max_parallelism))
    partitions = draw(st.integers(0, 64))
    src = VertexMetrics(
        SRC,
        parallelism=draw(st.integers(1, 64)),
        max_parallelism=128,
        input_rate=draw(st.floats(0, 1e6)),
        busy_time_ms_per_s=draw(st.floats(0, 1000)),
        lag=draw(st.floats(0, 1e9)),
        lag_growth_rate=draw(st.floats(-1e5, 1e5)),
        source_partitions=partitions,
    )
    keyed = VertexMetrics(
        MID,
        parallelism=p,
        max_parallelism=max_parallelism,
        input_rate=draw(st.floats(0, 1e6)),
        busy_time_ms_per_s=draw(st.floats(0, 1000)),
        keyed=True,
        inputs=(VertexInput(SRC, draw(st.floats(0, 10))),),
    )
    low = draw(st.integers(1, 300))
    options = SizingOptions(
        vertex_min_parallelism=low,
        vertex_max_parallelism=draw(st.integers(low, 400)),
        scale_down_max_factor=draw(st.floats(0, 1)),
        scale_up_max_factor=draw(st.floats(0, 1e5)),
        alignment_mode=draw(modes),
    )
    return [src, keyed], options


@given(keyed_jobs())
def test_recommended_parallelism_stays_within_its_bounds(
    job: tuple[list[VertexMetrics], SizingOptions],
) -> None:
    vertices, options = job
    rec = recommend_parallelism(vertices, options)
    for v, d in zip(vertices, rec.decisions, strict=True):
        # a source's partition count caps it even below the lower bound (FLINK-40389)
        floor = min(d.lower_bound, v.source_partitions or d.lower_bound)
        assert floor <= d.recommended_parallelism <= d.upper_bound
        assert d.lower_bound <= d.bounded_parallelism <= d.upper_bound
        assert d.new_parallelism == (
            d.recommended_parallelism if rec.scale else d.current_parallelism
        )
    assert rec.scale == any(d.changed and d.outside_bounds for d in rec.decisions)
    assert rec.parallelism == max(rec.parallelisms.values())


@given(
    current=st.integers(1, 300),
    target=st.integers(1, 300),
    n=st.integers(1, 1000),
    upper=st.integers(1, 400),
)
def test_evenly_spread_lands_on_a_divisor_whenever_one_is_in_the_region(
    current: int, target: int, n: int, upper: int
) -> None:
    args = dict(current=current, target=target, key_groups_or_partitions=n, upper_bound=upper)
    evenly = align_parallelism(**args, mode=EVENLY)
    balanced = align_parallelism(**args, mode=BALANCED)
    cap = min(n, upper)
    end = cap if target > current else min(current, cap)
    divisors = [q for q in range(target, end + 1) if n % q == 0]
    if divisors:
        assert evenly == divisors[0]
        assert n % evenly == 0
        assert target <= balanced <= evenly  # BALANCED accepts more, so it stops no later
    else:
        assert evenly == min(target, cap)
    assert balanced <= max(target, cap) and evenly <= max(target, cap)
    if target > current:  # alignment never turns a scale-up into a scale-down or no-op ...
        assert min(evenly, balanced) > current or cap <= current
    else:  # ... nor a scale-down into a scale-up
        assert max(evenly, balanced) <= current


@given(st.integers(1, 10_000), st.integers(1, 64))
def test_taskmanagers_give_enough_slots_and_no_spare_taskmanager(p: int, slots: int) -> None:
    n = taskmanagers_for(p, slots)
    assert n * slots >= p > (n - 1) * slots


# -- purity --------------------------------------------------------------------------------------


def test_sizing_imports_no_airflow_or_kubernetes() -> None:
    code = (
        "import sys, airflow_provider_flink_k8s.resources.sizing;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('airflow', 'kubernetes', 'asyncio')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_decisions_are_frozen() -> None:
    d = decide(source()).decision(SRC)
    with pytest.raises(AttributeError):
        d.new_parallelism = 3  # type: ignore[misc]
    assert replace(d, new_parallelism=3).new_parallelism == 3
    with pytest.raises(KeyError):
        decide(source()).decision(MID)
