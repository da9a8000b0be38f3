"""Every call the REST hooks make, built without I/O: a :class:`RestCall` says what to send
and how to read the answer; the sync and async hooks only send it.

Each builder mirrors one endpoint of Flink's REST API (``rest_v1_dispatcher.yml``) and
marks whether repeating the call is harmless (``idempotent``), which the retry policy
(:mod:`.retries`) reads. Savepoint and stop-with-savepoint calls carry a ``triggerId``
chosen here: Flink registers an operation once per ``(job, triggerId)`` and answers a
repeat with the same trigger, so they are safe to repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from pydantic import TypeAdapter

from airflow_provider_flink_k8s.flinkrest.errors import summarize_java_error
from airflow_provider_flink_k8s.flinkrest.models import (
    CheckpointStatistics,
    ClusterOverview,
    DashboardConfig,
    JarFile,
    JobDetails,
    JobExceptions,
    JobOverview,
    ParallelismBounds,
    SavepointStatus,
    TaskManagerInfo,
    VertexResourceRequirements,
)

__all__ = [
    "FORMAT_TYPES",
    "FormatType",
    "Method",
    "RestCall",
    "cancel_job",
    "checkpoints",
    "config",
    "delete_jar",
    "jar_plan",
    "jars",
    "job",
    "job_exceptions",
    "jobmanager_config",
    "jobs",
    "new_trigger_id",
    "overview",
    "rescaled_requirements",
    "resource_requirements",
    "run_jar",
    "savepoint_status",
    "set_resource_requirements",
    "stop_with_savepoint",
    "subtask_metrics",
    "taskmanagers",
    "trigger_savepoint",
    "upload_jar",
]

T = TypeVar("T")
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
FormatType = Literal["CANONICAL", "NATIVE"]
FORMAT_TYPES: tuple[FormatType, ...] = ("CANONICAL", "NATIVE")

_REQUIREMENTS = TypeAdapter(dict[str, VertexResourceRequirements])
_TASKMANAGERS = TypeAdapter(list[TaskManagerInfo])
_JOBS = TypeAdapter(list[JobOverview])
_JARS = TypeAdapter(list[JarFile])


@dataclass(frozen=True)
class RestCall(Generic[T]):
    """One call to Flink's REST API and how to read its answer.

    :param method: the HTTP method.
    :param path: the API path, path parameters already quoted (``/jobs/<id>``).
    :param parse: reads the decoded JSON answer (``None`` for an empty body) into ``T``;
        raises ``ValueError``/``KeyError``/``TypeError`` (pydantic's errors are
        ``ValueError``) for an answer of the wrong shape.
    :param params: query parameters.
    :param body: the JSON body, if any.
    :param upload: a local jar to send as the multipart field ``jarfile``.
    :param idempotent: whether sending it twice has the effect of sending it once.
    """

    method: Method
    path: str
    parse: Callable[[Any], T] = field(repr=False, compare=False)
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    upload: str | None = None
    idempotent: bool = True


def new_trigger_id() -> str:
    """A fresh trigger id: 32 hex digits, the form of Flink's ``TriggerId``."""
    return uuid.uuid4().hex


# --- cluster --------------------------------------------------------------------------------


def overview() -> RestCall[ClusterOverview]:
    """``GET /overview``."""
    return RestCall("GET", "/overview", ClusterOverview.model_validate)


def taskmanagers() -> RestCall[list[TaskManagerInfo]]:
    """``GET /taskmanagers``."""
    return RestCall(
        "GET", "/taskmanagers", lambda b: _TASKMANAGERS.validate_python(b["taskmanagers"])
    )


def config() -> RestCall[DashboardConfig]:
    """``GET /config`` (the web UI's configuration)."""
    return RestCall("GET", "/config", DashboardConfig.model_validate)


def jobmanager_config() -> RestCall[dict[str, str]]:
    """``GET /jobmanager/config``: the JobManager's effective configuration."""
    return RestCall("GET", "/jobmanager/config", _key_values)


# --- jobs -----------------------------------------------------------------------------------


def jobs() -> RestCall[list[JobOverview]]:
    """``GET /jobs/overview``."""
    return RestCall("GET", "/jobs/overview", lambda b: _JOBS.validate_python(b["jobs"]))


def job(job_id: str) -> RestCall[JobDetails]:
    """``GET /jobs/:jobid``."""
    return RestCall("GET", _job_path(job_id), JobDetails.model_validate)


def job_exceptions(job_id: str) -> RestCall[JobExceptions]:
    """``GET /jobs/:jobid/exceptions``."""
    return RestCall("GET", _job_path(job_id, "exceptions"), JobExceptions.model_validate)


def checkpoints(job_id: str) -> RestCall[CheckpointStatistics]:
    """``GET /jobs/:jobid/checkpoints``."""
    return RestCall("GET", _job_path(job_id, "checkpoints"), CheckpointStatistics.model_validate)


def cancel_job(job_id: str) -> RestCall[None]:
    """``PATCH /jobs/:jobid?mode=cancel``: 202, also for a job already cancelled (so a
    repeat is harmless); 409 for a job that finished or failed; 404 for an unknown one."""
    return RestCall("PATCH", _job_path(job_id), _nothing, params={"mode": "cancel"})


def resource_requirements(job_id: str) -> RestCall[dict[str, VertexResourceRequirements]]:
    """``GET /jobs/:jobid/resource-requirements``: per vertex id, parallelism bounds."""
    return RestCall(
        "GET", _job_path(job_id, "resource-requirements"), _REQUIREMENTS.validate_python
    )


def rescaled_requirements(
    current: Mapping[str, VertexResourceRequirements],
    parallelism: int | Mapping[str, int],
) -> dict[str, VertexResourceRequirements]:
    """New requirements that run each vertex at ``parallelism`` (one for all vertices,
    or per vertex id; vertices left out keep theirs).

    As the Flink Kubernetes Operator does (FLINK-34311), the upper bound becomes the
    target and the lower bound never rises: ``lower = min(target, current lower)``.

    :raises ValueError: for a parallelism below 1 or a vertex the job does not have.
    """
    targets = (
        dict.fromkeys(current, parallelism) if isinstance(parallelism, int) else dict(parallelism)
    )
    unknown = sorted(set(targets) - set(current))
    if unknown:
        raise ValueError(f"the job has no vertices {unknown}")
    result: dict[str, VertexResourceRequirements] = {}
    for vertex, requirement in current.items():
        target = targets.get(vertex)
        if target is None:
            result[vertex] = requirement
            continue
        if target < 1:
            raise ValueError(f"parallelism of {vertex} must be at least 1, not {target}")
        lower = min(target, requirement.parallelism.lower_bound)
        bounds = ParallelismBounds(lower_bound=lower, upper_bound=target)
        result[vertex] = VertexResourceRequirements(parallelism=bounds)
    return result


def set_resource_requirements(
    job_id: str, requirements: Mapping[str, VertexResourceRequirements]
) -> RestCall[None]:
    """``PUT /jobs/:jobid/resource-requirements`` (needs ``jobmanager.scheduler: adaptive``)."""
    body = {
        vertex: requirement.model_dump(by_alias=True, exclude_unset=False)
        for vertex, requirement in requirements.items()
    }
    return RestCall("PUT", _job_path(job_id, "resource-requirements"), _nothing, body=body)


def subtask_metrics(
    job_id: str, vertex_id: str, names: Sequence[str]
) -> RestCall[dict[str, dict[str, float]]]:
    """``GET /jobs/:jobid/vertices/:vertexid/subtasks/metrics?get=...``: each metric
    aggregated over the vertex's subtasks, ``{name: {"min", "max", "avg", "sum"}}``
    (metrics Flink does not have are left out)."""
    path = _job_path(job_id, "vertices", vertex_id, "subtasks", "metrics")
    return RestCall("GET", path, _aggregated_metrics, params={"get": ",".join(names)})


# --- savepoints -----------------------------------------------------------------------------


def trigger_savepoint(
    job_id: str,
    target_directory: str | None = None,
    *,
    cancel_job: bool = False,
    format_type: FormatType = "CANONICAL",
    trigger_id: str | None = None,
) -> RestCall[str]:
    """``POST /jobs/:jobid/savepoints``; the answer is the trigger id.

    :param target_directory: where to write it; ``None`` uses ``state.savepoints.dir``.
    :param trigger_id: the operation's id (a fresh one by default); repeating the call
        with the same id starts nothing new.
    """
    body = {
        "target-directory": target_directory,
        "cancel-job": cancel_job,
        "formatType": _format_type(format_type),
        "triggerId": trigger_id or new_trigger_id(),
    }
    return RestCall("POST", _job_path(job_id, "savepoints"), _request_id, body=_compact(body))


def stop_with_savepoint(
    job_id: str,
    target_directory: str | None = None,
    *,
    drain: bool = False,
    format_type: FormatType = "CANONICAL",
    trigger_id: str | None = None,
) -> RestCall[str]:
    """``POST /jobs/:jobid/stop``; the answer is the trigger id (poll it with
    :func:`savepoint_status`).

    :param drain: emit ``MAX_WATERMARK`` first (ends event-time windows) -- for a job
        that will not resume.
    """
    body = {
        "targetDirectory": target_directory,
        "drain": drain,
        "formatType": _format_type(format_type),
        "triggerId": trigger_id or new_trigger_id(),
    }
    return RestCall("POST", _job_path(job_id, "stop"), _request_id, body=_compact(body))


def savepoint_status(job_id: str, trigger_id: str) -> RestCall[SavepointStatus]:
    """``GET /jobs/:jobid/savepoints/:triggerid`` read into a :class:`SavepointStatus`."""
    path = _job_path(job_id, "savepoints", trigger_id)
    return RestCall("GET", path, lambda body: _savepoint_status(job_id, trigger_id, body))


# --- jars -----------------------------------------------------------------------------------


def jars() -> RestCall[list[JarFile]]:
    """``GET /jars``: the uploaded jars."""
    return RestCall("GET", "/jars", lambda b: _JARS.validate_python(b["files"]))


def upload_jar(path: str) -> RestCall[str]:
    """``POST /jars/upload`` (multipart); the answer is the jar id. Not idempotent: each
    upload stores another copy."""
    return RestCall("POST", "/jars/upload", _jar_id, upload=path, idempotent=False)


def run_jar(
    jar_id: str,
    entry_class: str | None = None,
    args: Sequence[str] = (),
    parallelism: int | None = None,
    savepoint_path: str | None = None,
    allow_non_restored_state: bool = False,
    *,
    job_id: str | None = None,
) -> RestCall[str]:
    """``POST /jars/:jarid/run``; the answer is the job id. Not idempotent: each run
    submits another job.

    :param job_id: the id the job gets (32 hex digits; Flink's ``jobId``); Flink refuses
        a second job with an id it knows, so a retried submission with a stable id
        cannot start a duplicate. ``None``: Flink picks one.
    """
    if parallelism is not None and parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, not {parallelism}")
    if job_id is not None and not _is_hex32(job_id):
        raise ValueError(f"job_id must be 32 hexadecimal digits, not {job_id!r}")
    body = {
        "entryClass": entry_class,
        "programArgsList": list(args),
        "parallelism": parallelism,
        "savepointPath": savepoint_path,
        "allowNonRestoredState": allow_non_restored_state or None,
        "jobId": job_id,
    }
    path = f"/jars/{_segment(jar_id)}/run"
    return RestCall("POST", path, _job_id, body=_compact(body), idempotent=False)


def jar_plan(
    jar_id: str,
    entry_class: str | None = None,
    args: Sequence[str] = (),
    parallelism: int | None = None,
) -> RestCall[dict[str, Any]]:
    """``POST /jars/:jarid/plan``: the job graph the jar's program builds with these
    arguments, without running it (the answer's ``plan``). Flink runs the program's
    ``main`` up to its ``execute`` to build it, so a class the jar lacks, or arguments
    the program refuses, fail here as they would fail ``/run``. Changes nothing."""
    if parallelism is not None and parallelism < 1:
        raise ValueError(f"parallelism must be at least 1, not {parallelism}")
    body = {
        "entryClass": entry_class,
        "programArgsList": list(args),
        "parallelism": parallelism,
    }
    path = f"/jars/{_segment(jar_id)}/plan"
    return RestCall("POST", path, _plan, body=_compact(body))


def delete_jar(jar_id: str) -> RestCall[None]:
    """``DELETE /jars/:jarid`` (Flink answers 400 for a jar it does not have)."""
    return RestCall("DELETE", f"/jars/{_segment(jar_id)}", _nothing)


# --- parsing helpers ------------------------------------------------------------------------


def _savepoint_status(job_id: str, trigger_id: str, body: Any) -> SavepointStatus:
    state = body["status"]["id"]
    operation = body.get("operation") or {}
    if state != "COMPLETED":
        return SavepointStatus(job_id=job_id, trigger_id=trigger_id, completed=False)
    cause = operation.get("failure-cause")
    failure = None
    if cause is not None:
        text = cause.get("stack-trace") or cause.get("class") or "unknown failure"
        failure = summarize_java_error(str(text)) or str(cause.get("class"))
    return SavepointStatus(
        job_id=job_id,
        trigger_id=trigger_id,
        completed=True,
        location=operation.get("location"),
        failure=failure,
    )


def _aggregated_metrics(body: Any) -> dict[str, dict[str, float]]:
    return {
        str(item["id"]): {
            key: float(value) for key, value in item.items() if key != "id" and value is not None
        }
        for item in body or []
    }


def _request_id(body: Any) -> str:
    return str(body["request-id"])


def _plan(body: Any) -> dict[str, Any]:
    plan = body["plan"]
    if not isinstance(plan, dict):
        raise TypeError(f"a plan is an object, not {type(plan).__name__}")
    return plan


def _job_id(body: Any) -> str:
    return str(body["jobid"])


def _jar_id(body: Any) -> str:
    if body.get("status") != "success":
        raise ValueError(f"upload status is {body.get('status')!r}")
    return PurePosixPath(str(body["filename"])).name


def _key_values(body: Any) -> dict[str, str]:
    return {str(item["key"]): str(item["value"]) for item in body}


def _nothing(body: Any) -> None:
    return None


def _job_path(job_id: str, *rest: str) -> str:
    return "/".join(["/jobs", _segment(job_id), *(_segment(part) for part in rest)])


def _segment(value: str) -> str:
    if not value:
        raise ValueError("a path parameter is empty")
    return quote(value, safe="")


def _is_hex32(value: str) -> bool:
    return len(value) == 32 and all(char in "0123456789abcdefABCDEF" for char in value)


def _format_type(value: str) -> str:
    if value not in FORMAT_TYPES:
        raise ValueError(f"format_type must be one of {FORMAT_TYPES}, not {value!r}")
    return value


def _compact(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}
