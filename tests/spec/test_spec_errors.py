"""How a bad spec is refused: one exception from every entry point, every problem at once.

Also the README's example of a refusal (run here and compared with the README's text),
the hints for an unknown field, and the warnings about memory written in units a
Kubernetes user may mean as decimal.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import airflow_provider_flink_k8s.exceptions as exceptions_module
import airflow_provider_flink_k8s.spec as spec_module
from airflow_provider_flink_k8s.exceptions import SpecError, SpecWarning
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster

README = Path(__file__).resolve().parents[2] / "README.md"

BROKEN: dict[str, Any] = {"name": "clickstream", "taskmanager": {"slots": 0}}
BROKEN_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkDeployment",
    "metadata": {"name": "clickstream"},
    "spec": {"flinkVersion": "v2_1", "taskManager": {"replicas": 0}},
}


def _entry_points() -> dict[str, Any]:
    return {
        "FlinkCluster(...)": lambda: FlinkCluster(**BROKEN),
        "FlinkCluster.model_validate": lambda: FlinkCluster.model_validate(BROKEN),
        "FlinkCluster.model_validate_json": lambda: FlinkCluster.model_validate_json(
            '{"name": "clickstream", "taskmanager": {"slots": 0}}'
        ),
        "load_cluster": lambda: load_cluster(BROKEN),
        "from_flink_deployment": lambda: FlinkCluster.from_flink_deployment(BROKEN_DEPLOYMENT),
        "load_cluster(FlinkDeployment)": lambda: load_cluster(BROKEN_DEPLOYMENT),
    }


@pytest.mark.parametrize("entry_point", list(_entry_points()))
def test_every_entry_point_raises_spec_error(entry_point: str) -> None:
    call = _entry_points()[entry_point]
    try:
        call()
    except SpecError as error:
        assert error.problems, entry_point
        # pydantic's own wording stays out of it.
        assert "errors.pydantic.dev" not in str(error)
        assert "Value error" not in str(error)
    else:  # pragma: no cover - the assertion is the test
        pytest.fail(f"{entry_point} accepted a bad spec")


def test_spec_error_is_importable_where_users_look() -> None:
    assert spec_module.SpecError is exceptions_module.SpecError
    assert spec_module.SpecProblem is exceptions_module.SpecProblem
    assert spec_module.SpecWarning is exceptions_module.SpecWarning
    assert {"SpecError", "SpecProblem", "SpecWarning"} <= set(spec_module.__all__)


def test_direct_construction_names_the_field_like_load_cluster() -> None:
    with pytest.raises(SpecError) as direct:
        FlinkCluster(**BROKEN)
    with pytest.raises(SpecError) as loaded:
        load_cluster(BROKEN)
    assert direct.value.problems == loaded.value.problems
    assert [str(problem) for problem in direct.value.problems] == [
        "taskmanager.slots: Input should be greater than or equal to 1"
    ]


def test_a_valid_cluster_still_nests_in_other_models() -> None:
    # The spec's own models still hold one another: validation inside pydantic works.
    cluster = FlinkCluster(name="shared", taskmanager={"slots": 2})
    again = FlinkCluster.model_validate(cluster.model_dump())
    assert again == cluster


# --- every problem in one pass -------------------------------------------------------


def test_field_errors_and_rules_between_fields_are_reported_together() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(
            name="clickstream",
            mode="application",
            taskmanager={"slots": 0},
            labels={"app": "mine"},
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "taskmanager.slots: Input should be greater than or equal to 1",
        "job: required in application mode (give job.jar_uri), or use mode 'session'",
        "labels['app']: is set by the provider to find the cluster's objects; use another key",
    ]


def test_rules_reading_a_broken_field_are_not_checked_with_a_stand_in() -> None:
    # job.parallelism 8 > 2 replicas x slots would be checked with the default slots (1)
    # if the broken slots were replaced: that rule waits until slots is fixed.
    with pytest.raises(SpecError) as caught:
        FlinkCluster(
            name="clickstream",
            taskmanager={"slots": 0, "replicas": 2},
            job={"jar_uri": "local:///opt/flink/usrlib/job.jar", "parallelism": 8},
        )
    assert [problem.field for problem in caught.value.problems] == ["taskmanager.slots"]


def test_a_broken_job_does_not_count_as_a_missing_one() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="clickstream", mode="application", job={"parallelism": 2})
    assert [str(problem) for problem in caught.value.problems] == ["job.jar_uri: required"]


def test_a_broken_name_does_not_hide_the_other_problems() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="Click_Stream", mode="application")
    assert [problem.field for problem in caught.value.problems] == ["name", "job"]


def _readme_example() -> tuple[str, str]:
    """The README's refusal example: its Python block and the text block after it."""
    text = README.read_text(encoding="utf-8")
    match = re.search(
        r"A bad spec is refused.*?```python\n(?P<code>.*?)```\s*\n```text\n(?P<output>.*?)```",
        text,
        re.DOTALL,
    )
    assert match, "README.md lost its example of a refused spec"
    return match["code"], match["output"]


def test_the_readme_example_prints_what_the_readme_shows() -> None:
    code, output = _readme_example()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {})
    assert printed.getvalue() == output


# --- an unknown field: the closest name and the valid ones ---------------------------


def test_unknown_field_names_the_closest_valid_one_and_lists_them() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="clickstream", taskmanger={"slots": 2})
    (problem,) = caught.value.problems
    assert problem.field == "taskmanger"
    assert problem.rule.startswith("unknown field; did you mean 'taskmanager'? Valid fields: ")
    assert "annotations, checkpoint_dir, " in problem.rule
    assert problem.rule.endswith("target, taskmanager")


def test_unknown_nested_field_lists_the_nested_models_fields() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="clickstream", taskmanager={"slot": 2})
    (problem,) = caught.value.problems
    assert str(problem) == (
        "taskmanager.slot: unknown field; did you mean 'slots'? "
        "Valid fields: cpu, memory, pod_template, replicas, slots"
    )


def test_unknown_field_without_a_close_name_lists_the_valid_ones() -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="clickstream", high_availability={"zookeeper": True})
    (problem,) = caught.value.problems
    assert str(problem) == (
        "high_availability.zookeeper: unknown field; valid fields: enabled, storage_dir"
    )


# --- memory: decimal-looking units warn, tiny byte counts are refused -----------------


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        (
            "2G",
            'taskmanager.memory: "2G" is read as Flink\'s MemorySize: 2 GiB '
            "(2147483648 bytes), not 2 GB; if you meant 2 GB (decimal) write "
            '"2000000000" (bytes) or "1907m" (MiB, rounded down)',
        ),
        (
            "2GB",
            'taskmanager.memory: "2GB" is read as Flink\'s MemorySize: 2 GiB '
            "(2147483648 bytes), not 2 GB; if you meant 2 GB (decimal) write "
            '"2000000000" (bytes) or "1907m" (MiB, rounded down)',
        ),
        (
            "2000M",
            'taskmanager.memory: "2000M" is read as Flink\'s MemorySize: 2000 MiB '
            "(2097152000 bytes), not 2000 MB; if you meant 2000 MB (decimal) write "
            '"2000000000" (bytes) or "1907m" (MiB, rounded down)',
        ),
    ],
)
def test_decimal_looking_memory_warns_how_flink_reads_it(memory: str, message: str) -> None:
    with pytest.warns(SpecWarning) as caught:
        cluster = FlinkCluster(name="clickstream", taskmanager={"memory": memory})
    assert [str(warning.message) for warning in caught] == [message]
    # Accepted, read as Flink reads it.
    assert cluster.taskmanager.memory == memory


@pytest.mark.parametrize("memory", ["2g", "2gb", "2048m", "2Gi", "1728m", "2147483648"])
def test_flink_and_binary_forms_do_not_warn(memory: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpecWarning)
        FlinkCluster(name="clickstream", taskmanager={"memory": memory})


def test_decimal_jobmanager_memory_warns_naming_the_jobmanager() -> None:
    with pytest.warns(SpecWarning, match=r'^jobmanager\.memory: "4G" is read as'):
        FlinkCluster(name="clickstream", jobmanager={"memory": "4G"})


@pytest.mark.parametrize("memory", [1024, "1024", "1048575", " 2048 "])
def test_a_bare_number_below_one_mebibyte_is_refused_as_bytes(memory: Any) -> None:
    with pytest.raises(SpecError) as caught:
        FlinkCluster(name="clickstream", taskmanager={"memory": memory})
    (problem,) = caught.value.problems
    assert problem.field == "taskmanager.memory"
    number = str(memory).strip()
    assert problem.rule == (
        f"{number} is read as {number} bytes (a bare number is bytes), less than 1 MiB; "
        f"add a unit, e.g. '{number}m' for {number} MiB"
    )


def test_a_bare_number_of_one_mebibyte_or_more_is_bytes() -> None:
    cluster = FlinkCluster(name="clickstream", jobmanager={"memory": 2**31})
    assert cluster.jobmanager.memory_bytes == 2**31
