"""The error taxonomy: a bad task argument is caught as a bad argument, like a spec's; an
error crosses a deferral as a JSON record and comes back with its type and fields."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from airflow_provider_flink_k8s.exceptions import (
    ArgumentError,
    DeploymentFailed,
    DeploymentTimeout,
    FlinkConfigurationError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
    RecordedError,
    ResourceConflict,
    SavepointFailed,
    SpecError,
    SpecProblem,
    error_from_record,
    error_record,
)


def test_a_bad_task_argument_is_a_spec_error_naming_the_argument_first() -> None:
    error = ArgumentError("wait_for", "wait_for must name Flink job states; got DONE")
    assert isinstance(error, SpecError) and isinstance(error, ValueError)
    assert str(error) == "wait_for must name Flink job states; got DONE"
    assert error.problems == (SpecProblem("wait_for", str(error)),)
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.argument, str(again)) == (ArgumentError, "wait_for", str(error))


_ERRORS = [
    DeploymentFailed("ImagePullBackOff", "pod x cannot pull", details={"pods": ["x"]}),
    DeploymentTimeout("gave up after 8s", reason="TaskManagersMissing", waited_seconds=8.0),
    SavepointFailed("job", "trigger", "disk full"),
    FlinkRestUnavailable(
        "no answer", method="GET", path="/jobs", errors=("a",), request_sent=False
    ),
    FlinkRestNotFound("404", method="GET", path="/jobs/x", status=404),
    ResourceConflict(409, "AlreadyExists", "configmaps x already exists", retry_after=1.0),
    SpecError([SpecProblem("taskmanager.slots", "must be >= 1"), SpecProblem("job", "required")]),
    ArgumentError("wait_for", "wait_for must name Flink job states"),
    FlinkConfigurationError("Flink refuses it"),
    KeyError("missing"),
    RuntimeError("boom", 3),
]


def _fields(error: BaseException) -> tuple[type, str, dict[str, Any]]:
    return (type(error), str(error), vars(error))


@pytest.mark.parametrize("error", _ERRORS, ids=lambda error: type(error).__name__)
def test_an_error_crosses_a_deferral_as_json_with_its_type_and_fields(
    error: BaseException,
) -> None:
    record = json.loads(json.dumps(error_record(error)))
    assert _fields(error_from_record(record)) == _fields(error)


def test_an_error_of_another_type_comes_back_as_a_recorded_error_naming_it() -> None:
    class Unknown(Exception):
        pass

    try:
        try:
            raise ValueError("the cause")
        except ValueError as cause:
            raise Unknown("not rebuildable", object()) from cause
    except Unknown as error:
        record = json.loads(json.dumps(error_record(error)))
    rebuilt = error_from_record(record)
    assert isinstance(rebuilt, RecordedError)
    assert rebuilt.type_name.endswith("Unknown") and "not rebuildable" in rebuilt.message
    # Nothing was imported for it; its cause, a builtin, is rebuilt as it was.
    assert _fields(rebuilt.__cause__) == _fields(ValueError("the cause"))
    again = pickle.loads(pickle.dumps(rebuilt))
    assert _fields(again) == _fields(rebuilt)


def test_a_type_the_reader_names_is_rebuilt_and_a_broken_record_never_raises() -> None:
    class Known(Exception):
        pass

    record = json.loads(json.dumps(error_record(Known("the reader knows it"))))
    rebuilt = error_from_record(record, known=[Known])
    assert _fields(rebuilt) == _fields(Known("the reader knows it"))
    broken = {"type": "builtins.KeyError", "rebuild": "_rebuild_failed", "args": [1]}
    assert isinstance(error_from_record(broken), RecordedError)
    assert isinstance(error_from_record({}), RecordedError)
