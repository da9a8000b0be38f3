"""The error taxonomy: a bad task argument is caught as a bad argument, like a spec's."""

from __future__ import annotations

import pickle

from airflow_provider_flink_k8s.exceptions import ArgumentError, SpecError, SpecProblem


def test_a_bad_task_argument_is_a_spec_error_naming_the_argument_first() -> None:
    error = ArgumentError("wait_for", "wait_for must name Flink job states; got DONE")
    assert isinstance(error, SpecError) and isinstance(error, ValueError)
    assert str(error) == "wait_for must name Flink job states; got DONE"
    assert error.problems == (SpecProblem("wait_for", str(error)),)
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.argument, str(again)) == (ArgumentError, "wait_for", str(error))
