"""Every REST call the hooks make, built without I/O, and the answers Flink 2.3 gave read
back into the models (recorded in ``flink23_answers.json``)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_flink import ANSWERS

from airflow_provider_flink_k8s.exceptions import SavepointFailed
from airflow_provider_flink_k8s.flinkrest import (
    CheckpointStatistics,
    ClusterOverview,
    JobDetails,
    ParallelismBounds,
    RestCall,
    SavepointStatus,
    VertexResourceRequirements,
    rescaled_requirements,
)
from airflow_provider_flink_k8s.flinkrest import requests as calls
from airflow_provider_flink_k8s.observation import FlinkJob, FlinkOverview

JOB = "f94b6f645c7df2034c249561eaa89d79"
TRIGGER = "0123456789abcdef0123456789abcdef"
JAR = "6186e2aa-8601-4070-87e3-9248db25a666_sql-runner.jar"
V1, V2 = "cbc357ccb763df2852fee8c4fc7d55f2", "f6dc7f4d2283f4605b127b9364e21148"


def _requirements(*bounds: tuple[int, int]) -> dict[str, VertexResourceRequirements]:
    return {
        vertex: VertexResourceRequirements(
            parallelism=ParallelismBounds(lower_bound=lower, upper_bound=upper)
        )
        for vertex, (lower, upper) in zip((V1, V2), bounds, strict=False)
    }


BUILT: list[tuple[str, RestCall[Any], tuple[str, str, dict[str, str], Any, bool]]] = [
    ("overview", calls.overview(), ("GET", "/overview", {}, None, True)),
    ("taskmanagers", calls.taskmanagers(), ("GET", "/taskmanagers", {}, None, True)),
    ("config", calls.config(), ("GET", "/config", {}, None, True)),
    ("jm-config", calls.jobmanager_config(), ("GET", "/jobmanager/config", {}, None, True)),
    ("jobs", calls.jobs(), ("GET", "/jobs/overview", {}, None, True)),
    ("job", calls.job(JOB), ("GET", f"/jobs/{JOB}", {}, None, True)),
    (
        "exceptions",
        calls.job_exceptions(JOB),
        ("GET", f"/jobs/{JOB}/exceptions", {}, None, True),
    ),
    ("checkpoints", calls.checkpoints(JOB), ("GET", f"/jobs/{JOB}/checkpoints", {}, None, True)),
    ("cancel", calls.cancel_job(JOB), ("PATCH", f"/jobs/{JOB}", {"mode": "cancel"}, None, True)),
    (
        "requirements",
        calls.resource_requirements(JOB),
        ("GET", f"/jobs/{JOB}/resource-requirements", {}, None, True),
    ),
    (
        "set-requirements",
        calls.set_resource_requirements(JOB, _requirements((1, 3), (2, 2))),
        (
            "PUT",
            f"/jobs/{JOB}/resource-requirements",
            {},
            {
                V1: {"parallelism": {"lowerBound": 1, "upperBound": 3}},
                V2: {"parallelism": {"lowerBound": 2, "upperBound": 2}},
            },
            True,
        ),
    ),
    (
        "savepoint",
        calls.trigger_savepoint(JOB, "s3://b/sp", trigger_id=TRIGGER),
        (
            "POST",
            f"/jobs/{JOB}/savepoints",
            {},
            {
                "target-directory": "s3://b/sp",
                "cancel-job": False,
                "formatType": "CANONICAL",
                "triggerId": TRIGGER,
            },
            True,
        ),
    ),
    (
        "savepoint-default-dir-native-cancel",
        calls.trigger_savepoint(JOB, cancel_job=True, format_type="NATIVE", trigger_id=TRIGGER),
        (
            "POST",
            f"/jobs/{JOB}/savepoints",
            {},
            {"cancel-job": True, "formatType": "NATIVE", "triggerId": TRIGGER},
            True,
        ),
    ),
    (
        "stop",
        calls.stop_with_savepoint(JOB, "file:///sp", drain=True, trigger_id=TRIGGER),
        (
            "POST",
            f"/jobs/{JOB}/stop",
            {},
            {
                "targetDirectory": "file:///sp",
                "drain": True,
                "formatType": "CANONICAL",
                "triggerId": TRIGGER,
            },
            True,
        ),
    ),
    (
        "savepoint-status",
        calls.savepoint_status(JOB, TRIGGER),
        ("GET", f"/jobs/{JOB}/savepoints/{TRIGGER}", {}, None, True),
    ),
    ("jars", calls.jars(), ("GET", "/jars", {}, None, True)),
    ("upload", calls.upload_jar("/tmp/a.jar"), ("POST", "/jars/upload", {}, None, False)),
    (
        "run",
        calls.run_jar(JAR, "flinkk8s.SqlRunner", ["--script", "a b.sql"], 2, "file:///sp", True),
        (
            "POST",
            f"/jars/{JAR}/run",
            {},
            {
                "entryClass": "flinkk8s.SqlRunner",
                "programArgsList": ["--script", "a b.sql"],
                "parallelism": 2,
                "savepointPath": "file:///sp",
                "allowNonRestoredState": True,
            },
            False,
        ),
    ),
    (
        "run-defaults",
        calls.run_jar(JAR),
        ("POST", f"/jars/{JAR}/run", {}, {"programArgsList": []}, False),
    ),
    (
        "plan",
        calls.jar_plan(JAR, "flinkk8s.SqlRunner", ["--script", "a.sql"], 4),
        (
            "POST",
            f"/jars/{JAR}/plan",
            {},
            {
                "entryClass": "flinkk8s.SqlRunner",
                "programArgsList": ["--script", "a.sql"],
                "parallelism": 4,
            },
            True,
        ),
    ),
    ("delete-jar", calls.delete_jar(JAR), ("DELETE", f"/jars/{JAR}", {}, None, True)),
    (
        "odd-ids-are-quoted",
        calls.delete_jar("../a b?.jar"),
        ("DELETE", "/jars/..%2Fa%20b%3F.jar", {}, None, True),
    ),
]


@pytest.mark.parametrize(("call", "expected"), [b[1:] for b in BUILT], ids=[b[0] for b in BUILT])
def test_calls_are_built_without_io(
    call: RestCall[Any], expected: tuple[str, str, dict[str, str], Any, bool]
) -> None:
    method, path, params, body, idempotent = expected
    assert (call.method, call.path, dict(call.params), call.body, call.idempotent) == (
        method,
        path,
        params,
        body,
        idempotent,
    )


def test_upload_names_the_local_file() -> None:
    assert calls.upload_jar("/tmp/a.jar").upload == "/tmp/a.jar"


def test_savepoint_calls_carry_a_fresh_trigger_id_by_default() -> None:
    first, second = calls.trigger_savepoint(JOB), calls.stop_with_savepoint(JOB)

    assert len(first.body["triggerId"]) == 32 and int(first.body["triggerId"], 16) >= 0
    assert first.body["triggerId"] != second.body["triggerId"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: calls.job(""),
        lambda: calls.run_jar(JAR, parallelism=0),
        lambda: calls.jar_plan(JAR, parallelism=0),
        lambda: calls.trigger_savepoint(JOB, format_type="ZIP"),  # type: ignore[arg-type]
    ],
)
def test_calls_refuse_what_flink_would(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


# --- answers --------------------------------------------------------------------------------


def test_a_plan_answer_is_its_job_graph() -> None:
    graph = {"jid": JOB, "name": "j", "type": "STREAMING", "nodes": []}
    assert calls.jar_plan(JAR).parse({"plan": graph}) == graph
    with pytest.raises(TypeError):
        calls.jar_plan(JAR).parse({"plan": []})


def test_overview_and_taskmanagers() -> None:
    overview = calls.overview().parse(ANSWERS["overview"])
    (taskmanager,) = calls.taskmanagers().parse(ANSWERS["taskmanagers"])

    assert (overview.taskmanagers, overview.slots_total, overview.flink_version) == (1, 2, "2.3.0")
    assert taskmanager.slots_number == 2 and taskmanager.free_slots == 2
    assert taskmanager.memory_configuration is not None
    assert taskmanager.memory_configuration.total_process_memory == 1342177280
    assert taskmanager.total_resource is not None and taskmanager.total_resource.cpu_cores == 1.0


def test_models_dump_back_to_flinks_shape() -> None:
    overview = calls.overview().parse(ANSWERS["overview"])
    job = calls.job(JOB).parse(ANSWERS["job"])

    assert overview.model_dump(by_alias=True, exclude_unset=True) == ANSWERS["overview"]
    assert job.model_dump(by_alias=True, exclude_unset=True) == ANSWERS["job"]
    assert FlinkOverview.from_rest(overview.model_dump(by_alias=True)).slots_total == 2
    assert FlinkJob.from_rest(job.model_dump(by_alias=True)).parallelism == 2


def test_job_details_read_vertices_and_state() -> None:
    job = calls.job(JOB).parse(ANSWERS["job"])

    assert isinstance(job, JobDetails)
    assert (job.id, job.state, job.job_type, job.parallelism) == (JOB, "RUNNING", "STREAMING", 2)
    assert [v.id for v in job.vertices] == [V1, V2]
    assert job.vertices[0].max_parallelism == 128
    assert job.all_vertices_running and not job.is_terminal
    assert job.timestamps["RUNNING"] > 0
    assert job.model_extra == {
        "application-id": JOB,
        "schedulerType": "Adaptive",
        "pending-operators": 0,
    }


def test_jobs_exceptions_config_and_jars() -> None:
    (job,) = calls.jobs().parse(ANSWERS["jobs_overview"])
    exceptions = calls.job_exceptions(JOB).parse(ANSWERS["job_exceptions"])
    config = calls.config().parse(ANSWERS["config"])
    jm_config = calls.jobmanager_config().parse(ANSWERS["jobmanager_config"])
    (jar,) = calls.jars().parse(ANSWERS["jars"])

    assert (job.id, job.state, job.end_time, job.tasks["running"]) == (JOB, "RUNNING", -1, 4)
    assert exceptions.latest is None and not exceptions.exception_history.truncated
    assert config.flink_version == "2.3.0" and config.features["web-rescale"] is True
    assert jm_config == {item["key"]: item["value"] for item in ANSWERS["jobmanager_config"]}
    assert (jar.id, jar.name, jar.entry[0].name) == (JAR, "sql-runner.jar", "flinkk8s.SqlRunner")


def test_checkpoint_statistics() -> None:
    running = calls.checkpoints(JOB).parse(ANSWERS["checkpoints"])
    stopped = calls.checkpoints(JOB).parse(ANSWERS["checkpoints_after_stop"])

    assert isinstance(running, CheckpointStatistics)
    assert (running.counts.completed, running.counts.failed) == (4, 1)
    assert running.latest.completed is not None and running.latest.completed.id == 4
    assert running.latest.savepoint is None and running.latest.restored is None
    assert stopped.latest.savepoint is not None
    assert stopped.latest.savepoint.is_savepoint
    assert stopped.latest.savepoint.external_path.startswith("file:/tmp/flink/stop/")  # type: ignore[union-attr]


def test_jar_upload_run_and_savepoint_triggers() -> None:
    assert calls.upload_jar("/x.jar").parse(ANSWERS["jar_upload"]) == JAR
    assert calls.run_jar(JAR).parse(ANSWERS["run"]) == JOB
    assert calls.trigger_savepoint(JOB).parse(ANSWERS["savepoint_trigger"]) == TRIGGER
    with pytest.raises(ValueError, match="upload status"):
        calls.upload_jar("/x.jar").parse({"status": "failure", "filename": "x"})


@pytest.mark.parametrize(
    ("answer", "completed", "location", "failure"),
    [
        ("savepoint_in_progress", False, None, None),
        ("savepoint_completed", True, "file:/tmp/flink/sp/savepoint-f94b6f-7e9f8fecb272", None),
        (
            "savepoint_failed",
            True,
            None,
            "An Exception occurred while triggering the checkpoint. IO-problem detected.",
        ),
    ],
)
def test_savepoint_status(
    answer: str, completed: bool, location: str | None, failure: str | None
) -> None:
    status = calls.savepoint_status(JOB, TRIGGER).parse(ANSWERS[answer])

    assert isinstance(status, SavepointStatus)
    assert (status.job_id, status.trigger_id) == (JOB, TRIGGER)
    assert (status.completed, status.location) == (completed, location)
    if failure is None:
        assert status.failure is None
    else:
        assert status.failure is not None and status.failure.startswith(failure)


def test_raise_for_failure() -> None:
    done = calls.savepoint_status(JOB, TRIGGER).parse(ANSWERS["savepoint_completed"])
    failed = calls.savepoint_status(JOB, TRIGGER).parse(ANSWERS["savepoint_failed"])
    pending = calls.savepoint_status(JOB, TRIGGER).parse(ANSWERS["savepoint_in_progress"])

    assert done.raise_for_failure() == "file:/tmp/flink/sp/savepoint-f94b6f-7e9f8fecb272"
    with pytest.raises(SavepointFailed, match="Hadoop is not in the classpath") as caught:
        failed.raise_for_failure()
    assert (caught.value.job_id, caught.value.trigger_id) == (JOB, TRIGGER)
    with pytest.raises(ValueError, match="in progress"):
        pending.raise_for_failure()


def test_resource_requirements_and_empty_answers() -> None:
    requirements = calls.resource_requirements(JOB).parse(ANSWERS["resource_requirements"])

    assert requirements == _requirements((1, 2), (1, 2))
    assert calls.set_resource_requirements(JOB, requirements).parse({}) is None
    assert calls.cancel_job(JOB).parse(None) is None


@pytest.mark.parametrize(
    ("answer", "call"),
    [
        ({"jobs": [{"state": "RUNNING"}]}, calls.jobs()),
        ({"taskmanager": []}, calls.taskmanagers()),
        ({"status": {}}, calls.savepoint_status(JOB, TRIGGER)),
        ("text", calls.overview()),
        (None, calls.run_jar(JAR)),
        (
            {V1: {"parallelism": {"lowerBound": 0, "upperBound": 1}}},
            calls.resource_requirements(JOB),
        ),
    ],
)
def test_answers_of_the_wrong_shape_raise_value_key_or_type_errors(answer: Any, call: Any) -> None:
    with pytest.raises((ValueError, KeyError, TypeError)):
        call.parse(answer)


def test_unknown_fields_pass_through() -> None:
    overview = ClusterOverview.model_validate({**ANSWERS["overview"], "jobs-suspended": 3})
    assert overview.model_extra == {"jobs-suspended": 3}


# --- rescaling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "parallelism", "expected"),
    [
        (((1, 2), (1, 2)), 4, ((1, 4), (1, 4))),
        (((2, 2), (2, 2)), 1, ((1, 1), (1, 1))),
        (((3, 3), (3, 3)), {V2: 5}, ((3, 3), (3, 5))),
        (((3, 4), (1, 1)), {V1: 2, V2: 2}, ((2, 2), (1, 2))),
    ],
)
def test_rescaled_requirements_never_raise_the_lower_bound(
    current: tuple[tuple[int, int], ...],
    parallelism: int | dict[str, int],
    expected: tuple[tuple[int, int], ...],
) -> None:
    assert rescaled_requirements(_requirements(*current), parallelism) == _requirements(*expected)


@pytest.mark.parametrize(
    ("parallelism", "message"), [(0, "at least 1"), ({"ab": 2}, "no vertices")]
)
def test_rescaled_requirements_refuse(parallelism: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rescaled_requirements(_requirements((1, 2), (1, 2)), parallelism)
