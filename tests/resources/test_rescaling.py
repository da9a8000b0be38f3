"""The pure rescale planning: strategy rules, checks, the plan, the spec after, metrics."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.resources.rescaling import (
    VertexState,
    adaptive_scheduler,
    choose_strategy,
    in_place_scaling_supported,
    parse_parallelism,
    plan_rescale,
    rescaled_cluster,
    vertex_metrics,
)
from airflow_provider_flink_k8s.resources.sizing import PARALLELISM_OVERRIDES_KEY
from airflow_provider_flink_k8s.spec import load_cluster

SOURCE, WINDOW = "a" * 32, "b" * 32
VERTICES = (VertexState(SOURCE, 2, 128, "Source"), VertexState(WINDOW, 2, 128, "Window"))


def _plan(**changes: Any) -> Any:
    arguments: dict[str, Any] = {
        "job_id": "j1",
        "job_state": "RUNNING",
        "vertices": VERTICES,
        "parallelism": 4,
        "strategy": "auto",
        "adaptive": True,
        "slots_per_taskmanager": 2,
        "taskmanagers": 1,
        **changes,
    }
    return plan_rescale(**arguments)


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ({"jobmanager.scheduler": "adaptive"}, True),
        ({"jobmanager.scheduler": " Adaptive "}, True),
        ({"scheduler-mode": "reactive"}, True),
        ({"jobmanager.scheduler": "default"}, False),
        ({}, False),
    ],
)
def test_adaptive_scheduler(conf: dict[str, str], expected: bool) -> None:
    assert adaptive_scheduler(conf) is expected


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.17", False), ("1.18", True), ("2.3", True), ("v1_20", True), ("1.17.2", False)],
)
def test_in_place_needs_flink_1_18(version: str, expected: bool) -> None:
    assert in_place_scaling_supported(version) is expected


@pytest.mark.parametrize(("value", "expected"), [(4, 4), ("4", 4), (" auto ", "auto")])
def test_parse_parallelism(value: Any, expected: Any) -> None:
    assert parse_parallelism(value) == expected


@pytest.mark.parametrize("value", [0, -1, "0", "four", 2.5, True, None])
def test_parse_parallelism_refuses(value: Any) -> None:
    with pytest.raises(SpecError, match="parallelism: must be"):
        parse_parallelism(value)


@pytest.mark.parametrize(
    ("asked", "adaptive", "new", "expected"),
    [
        ("auto", True, 4, "in_place"),
        ("auto", False, 4, "savepoint_restart"),
        ("auto", True, 200, "savepoint_restart"),
        ("in_place", True, 4, "in_place"),
        ("savepoint_restart", True, 4, "savepoint_restart"),
        ("savepoint_restart", False, 4, "savepoint_restart"),
    ],
)
def test_choose_strategy(asked: str, adaptive: bool, new: int, expected: str) -> None:
    assert choose_strategy(asked, adaptive=adaptive, new_parallelism=new, max_parallelism=128) == (
        expected
    )


def test_in_place_without_the_adaptive_scheduler_is_refused() -> None:
    with pytest.raises(SpecError, match="strategy: in_place needs Flink's adaptive scheduler"):
        choose_strategy("in_place", adaptive=False, new_parallelism=4, max_parallelism=128)


def test_plan_scales_up_in_place_with_taskmanagers_for_the_slots() -> None:
    plan = _plan()
    assert (plan.strategy, plan.old_parallelism, plan.new_parallelism) == ("in_place", 2, 4)
    assert (plan.taskmanagers_before, plan.taskmanagers_after) == (1, 2)
    assert plan.targets == {SOURCE: 4, WINDOW: 4}
    assert "auto -> in_place" in plan.reason and not plan.noop


def test_plan_counts_slots_of_other_jobs() -> None:
    assert _plan(other_slots=3).taskmanagers_after == 4  # ceil((4 + 3) / 2)


def test_plan_at_the_current_parallelism_is_a_noop() -> None:
    plan = _plan(parallelism=2, strategy="savepoint_restart")
    assert plan.noop and plan.strategy == "none"
    assert plan.taskmanagers_after == plan.taskmanagers_before == 1
    assert "already runs at parallelism 2" in plan.reason


def test_a_vertex_capped_by_its_max_parallelism_stays_below() -> None:
    vertices = (VertexState(SOURCE, 1, 1, "Source"), VertexState(WINDOW, 2, 128, "Window"))
    plan = _plan(vertices=vertices)
    assert plan.targets == {SOURCE: 1, WINDOW: 4}
    assert _plan(vertices=vertices, parallelism=2).noop


def test_plan_lists_every_problem_before_any_change() -> None:
    with pytest.raises(SpecError) as error:
        _plan(job_state="FINISHED", parallelism=500, strategy="in_place", adaptive=False)
    fields = [problem.field for problem in error.value.problems]
    assert fields == ["job_id", "parallelism", "strategy"]
    assert "only a RUNNING job" in str(error.value)
    assert "max parallelism 128" in str(error.value)


@pytest.mark.parametrize("strategy", ["sideways", ""])
def test_plan_refuses_an_unknown_strategy(strategy: str) -> None:
    with pytest.raises(SpecError, match="strategy: must be one of auto, in_place"):
        _plan(strategy=strategy)


def test_the_job_max_parallelism_wins_over_the_vertices() -> None:
    with pytest.raises(SpecError, match="max parallelism 3"):
        _plan(job_max_parallelism=3)


def test_reached_accepts_new_vertex_ids_after_a_restart() -> None:
    plan = _plan()
    assert plan.reached([VertexState(SOURCE, 4, 128), VertexState(WINDOW, 4, 128)])
    assert not plan.reached([VertexState(SOURCE, 4, 128), VertexState(WINDOW, 2, 128)])
    assert plan.reached([VertexState("c" * 32, 4, 128), VertexState("d" * 32, 4, 128)])


def _application(**fields: Any) -> Any:
    spec = {
        "name": "app",
        "taskmanager": {"slots": 2, "replicas": 1},
        "flink_configuration": {"jobmanager.scheduler": "adaptive"},
        "savepoint_dir": "file:///sp",
        "job": {"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 2},
        **fields,
    }
    return load_cluster(spec)


def test_rescaled_application_cluster_restores_from_the_savepoint() -> None:
    cluster = rescaled_cluster(_application(), 4, savepoint="file:///sp/x", taskmanagers=2)
    assert cluster.job.parallelism == 4
    assert cluster.job.initial_savepoint == "file:///sp/x"
    assert cluster.taskmanager.replicas == 2
    assert PARALLELISM_OVERRIDES_KEY not in cluster.flink_configuration


def test_rescaled_operator_cluster_uses_overrides_when_the_vertices_are_known() -> None:
    operator = _application(target="operator", flink_version="1.20")
    cluster = rescaled_cluster(operator, 4, taskmanagers=2, vertex_ids=[SOURCE, WINDOW])
    overrides = cluster.flink_configuration[PARALLELISM_OVERRIDES_KEY]
    assert overrides == f"{SOURCE}:4,{WINDOW}:4"
    assert cluster.job.parallelism == 4
    unknown = rescaled_cluster(operator, 4, taskmanagers=2)
    assert PARALLELISM_OVERRIDES_KEY not in unknown.flink_configuration


def test_rescaled_cluster_refuses_a_parallelism_over_the_max() -> None:
    cluster = _application(
        job={"jar_uri": "local:///opt/flink/usrlib/j.jar", "parallelism": 2, "max_parallelism": 4}
    )
    with pytest.raises(SpecError, match="max_parallelism"):
        rescaled_cluster(cluster, 8)


JOB = {
    "vertices": [
        {"id": SOURCE, "name": "Source", "parallelism": 2, "maxParallelism": 128},
        {"id": WINDOW, "name": "Window", "parallelism": 2, "maxParallelism": 128},
    ],
    "plan": {
        "nodes": [
            {"id": SOURCE},
            {"id": WINDOW, "inputs": [{"id": SOURCE, "ship_strategy": "HASH"}]},
        ]
    },
}


def test_vertex_metrics_reads_the_graph_and_the_loads() -> None:
    loads = {
        SOURCE: {"busy_time_ms_per_s": 100.0, "input_rate": 1000.0},
        WINDOW: {"busy_time_ms_per_s": 900.0, "input_rate": 500.0},
    }
    source, window = vertex_metrics(JOB, loads)
    assert source.is_source and not source.keyed and source.input_rate == 1000.0
    assert window.keyed and window.inputs[0].vertex_id == SOURCE
    assert window.inputs[0].output_ratio == pytest.approx(0.5)
    assert (window.parallelism, window.max_parallelism) == (2, 128)


def test_vertex_metrics_names_a_vertex_without_metrics() -> None:
    with pytest.raises(SpecError, match=f"metrics.{WINDOW}: no metrics"):
        vertex_metrics(JOB, {SOURCE: {"input_rate": 1.0}})
