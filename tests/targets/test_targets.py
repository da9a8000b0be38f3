"""The targets: every per-target difference is a question each target answers, so code
asks the target instead of comparing its name."""

from __future__ import annotations

import pytest

from airflow_provider_flink_k8s.exceptions import ArgumentError
from airflow_provider_flink_k8s.operators.arguments import check_jar
from airflow_provider_flink_k8s.spec import FlinkCluster
from airflow_provider_flink_k8s.targets import OPERATOR, STANDALONE, TARGETS, target_of


def test_every_target_a_spec_may_name_is_known_by_that_name() -> None:
    allowed = FlinkCluster.model_fields["target"].annotation
    assert set(TARGETS) == set(allowed.__args__)  # type: ignore[union-attr]
    assert target_of("operator") is OPERATOR and target_of("standalone") is STANDALONE


def test_an_unknown_target_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="target must be one of standalone, operator, got 'k8s'"):
        target_of("k8s")


@pytest.mark.parametrize(
    ("question", "standalone", "operator"),
    [
        ("renders_workloads", True, False),
        ("reads_status_object", False, True),
        ("session_jobs_as_objects", False, True),
        ("uploads_jars", True, False),
        ("rescales_by_patching", False, True),
    ],
)
def test_what_each_target_answers(question: str, standalone: bool, operator: bool) -> None:
    assert (getattr(STANDALONE, question), getattr(OPERATOR, question)) == (standalone, operator)


def test_only_the_operator_controls_an_applications_job() -> None:
    assert OPERATOR.controls_job("application") and not OPERATOR.controls_job("session")
    assert not STANDALONE.controls_job("application")


def test_a_session_job_manifests_jar_per_target() -> None:
    assert STANDALONE.session_job_jar("file:///jobs/a.jar") == "/jobs/a.jar"
    assert STANDALONE.session_job_jar("/jobs/a.jar") == "/jobs/a.jar"
    with pytest.raises(ValueError, match="standalone target uploads the jar"):
        STANDALONE.session_job_jar("https://example.com/a.jar")
    assert OPERATOR.session_job_jar("https://example.com/a.jar") == "https://example.com/a.jar"


def test_the_jar_rules_per_target(tmp_path: object) -> None:
    with pytest.raises(ArgumentError, match="jar_id: the operator target submits"):
        check_jar(None, "abc_job.jar", "operator")
    with pytest.raises(ArgumentError, match="must be a URI the Flink operator can fetch"):
        check_jar("/jobs/a.jar", None, "operator")
    check_jar("https://example.com/a.jar", None, "operator")
    with pytest.raises(ArgumentError, match="no such file"):
        check_jar("https://example.com/a.jar", None, "standalone")  # uploaded: a local file
    check_jar(None, "abc_job.jar", "standalone")
    check_jar("https://example.com/a.jar", None, None)  # target not known yet
    with pytest.raises(ArgumentError, match="no such file"):
        check_jar("/no/such.jar", None, None)
