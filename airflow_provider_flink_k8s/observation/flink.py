"""What Flink reported: REST facts from the JobManager and a FlinkDeployment's status.

The REST models parse the JSON of ``GET /overview``, ``GET /jobs/overview`` (or
``/jobs``, ``/jobs/:jobid``) and ``GET /jobs/:jobid/exceptions``; the FlinkDeployment
model keeps the part of ``status`` the Flink Kubernetes Operator's lifecycle lives in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from airflow_provider_flink_k8s.observation._base import (
    FrozenModel,
    get,
    get_int,
    get_items,
    get_mapping,
    get_str,
)

__all__ = [
    "FLINK_DEPLOYMENT_STATUS_KEYS",
    "FlinkDeploymentState",
    "FlinkJob",
    "FlinkOverview",
    "SavepointState",
    "operator_error",
    "root_exception_of",
    "summarize_exception",
]

FLINK_DEPLOYMENT_STATUS_KEYS: Mapping[str, tuple[str, ...] | None] = {
    "error": None,
    "jobManagerDeploymentStatus": None,
    "jobStatus": (
        "jobId",
        "jobName",
        "startTime",
        "state",
        "updateTime",
        "upgradeSavepointPath",
        "savepointInfo",
    ),
    "lifecycleState": None,
    "observedGeneration": None,
    "reconciliationStatus": ("reconciliationTimestamp", "state"),
    "taskManager": None,
}
"""The ``status`` keys a FlinkDeployment snapshot keeps (``None``: the whole value; a tuple:
those sub-keys). The serialized specs are left out; the savepoint info stays (a
savepoint wait reads it)."""

_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")
_MAX_LINE = 500


class FlinkOverview(FrozenModel):
    """``GET /overview``: what the JobManager has registered."""

    taskmanagers: int = 0
    slots_total: int = 0
    slots_available: int = 0
    jobs_running: int = 0
    jobs_finished: int = 0
    jobs_cancelled: int = 0
    jobs_failed: int = 0
    flink_version: str | None = None

    @classmethod
    def from_rest(cls, raw: Mapping[str, Any]) -> FlinkOverview:
        """Parse the body of ``GET /overview``."""
        return cls(
            taskmanagers=get_int(raw, "taskmanagers"),
            slots_total=get_int(raw, "slots-total"),
            slots_available=get_int(raw, "slots-available"),
            jobs_running=get_int(raw, "jobs-running"),
            jobs_finished=get_int(raw, "jobs-finished"),
            jobs_cancelled=get_int(raw, "jobs-cancelled"),
            jobs_failed=get_int(raw, "jobs-failed"),
            flink_version=get_str(raw, "flink-version"),
        )


class FlinkJob(FrozenModel):
    """One job the JobManager knows: its id, ``JobStatus`` and, once failed, why."""

    id: str
    name: str | None = None
    state: str = "CREATED"
    start_time: int | None = None
    """Epoch milliseconds (``start-time``)."""
    end_time: int | None = None
    """Epoch milliseconds (``end-time``), once the job ended."""
    parallelism: int | None = None
    """The highest vertex parallelism, when the job details were read."""
    root_exception: str | None = None
    tasks_total: int | None = None
    """Tasks of the job (``tasks.total`` of ``/jobs/overview``), when reported."""
    tasks_running: int | None = None
    """Of those, the ones RUNNING or FINISHED: a job is RUNNING in Flink's eyes while its
    tasks still deploy, and refuses a savepoint until they run."""
    vertex_parallelism: dict[str, int] = Field(default_factory=dict)
    """Each vertex's parallelism by vertex id, when the job details were read."""
    vertex_states: tuple[str, ...] = ()
    """Each vertex's ``ExecutionState``, when the job details were read."""
    vertex_names: dict[str, str] = Field(default_factory=dict)
    """Each vertex's name by vertex id, when the job details were read (for messages)."""

    @classmethod
    def from_rest(
        cls, raw: Mapping[str, Any], exceptions: Mapping[str, Any] | None = None
    ) -> FlinkJob:
        """Parse a job from ``/jobs/overview``, ``/jobs`` or ``/jobs/:jobid``.

        :param raw: one entry of ``jobs`` (``jid``/``id``, ``state``/``status``), or the
            job details (their ``vertices`` give ``parallelism``).
        :param exceptions: the body of ``GET /jobs/:jobid/exceptions``, if read.
        """
        vertices = get_items(raw, "vertices")
        parallelisms = [get_int(vertex, "parallelism") for vertex in vertices]
        start = get_int(raw, "start-time", default=-1)
        end = get_int(raw, "end-time", default=-1)
        tasks = get_mapping(raw, "tasks")
        return cls(
            id=get_str(raw, "jid") or get_str(raw, "id") or "",
            name=get_str(raw, "name"),
            state=(get_str(raw, "state") or get_str(raw, "status") or "CREATED").upper(),
            start_time=start if start >= 0 else None,
            end_time=end if end > 0 else None,
            parallelism=max(parallelisms) if parallelisms else None,
            root_exception=root_exception_of(exceptions) if exceptions else None,
            tasks_total=get_int(tasks, "total") if "total" in tasks else None,
            tasks_running=(
                get_int(tasks, "running") + get_int(tasks, "finished")
                if "running" in tasks
                else None
            ),
            vertex_parallelism={
                get_str(vertex, "id") or "": get_int(vertex, "parallelism") for vertex in vertices
            },
            vertex_states=tuple(
                (get_str(vertex, "status") or "CREATED").upper() for vertex in vertices
            ),
            vertex_names={
                get_str(vertex, "id") or "": get_str(vertex, "name") or "" for vertex in vertices
            },
        )


def root_exception_of(exceptions: Mapping[str, Any]) -> str | None:
    """The failure text of ``GET /jobs/:jobid/exceptions``.

    ``root-exception`` where Flink still reports it (1.x), else the newest entry of
    ``exceptionHistory`` (its stack trace, or its exception class).
    """
    root = get_str(exceptions, "root-exception")
    if root:
        return root
    entries = get_items(get_mapping(exceptions, "exceptionHistory"), "entries")
    if not entries:
        return None
    return get_str(entries[0], "stacktrace") or get_str(entries[0], "exceptionName")


def summarize_exception(text: str, *, max_lines: int = 6) -> str:
    """A Java stack trace without its frames: the exception and its ``Caused by`` lines.

    When more than ``max_lines`` remain, the first one and the deepest causes are kept.
    """
    lines = [
        line.rstrip()[:_MAX_LINE]
        for line in text.strip().splitlines()
        if line.strip() and not _FRAME.match(line)
    ]
    if len(lines) > max_lines:
        lines = [lines[0], "...", *lines[len(lines) - max_lines + 1 :]]
    return "\n".join(lines)


def operator_error(error: str | None) -> tuple[str | None, str]:
    """Read a FlinkDeployment's ``status.error``: ``(reason, message)``.

    The operator writes a JSON object (``type``, ``message``, ``additionalMetadata``,
    ``throwableList``); ``additionalMetadata.reason`` names a deployment failure's cause
    (``CrashLoopBackOff``, ``ErrImagePull``...). Older operators wrote plain text, which
    comes back as the message with no reason.
    """
    if not error:
        return None, ""
    try:
        parsed = json.loads(error)
    except ValueError:
        return None, error.strip()
    if not isinstance(parsed, Mapping):
        return None, error.strip()
    reason = get_str(get_mapping(parsed, "additionalMetadata"), "reason")
    message = get_str(parsed, "message") or get_str(parsed, "type") or error
    throwables = get_items(parsed, "throwableList")
    if throwables:
        cause = get_str(throwables[-1], "message") or get_str(throwables[-1], "type")
        if cause and cause not in message:
            message = f"{message}; caused by: {cause}"
    return reason, message.strip()


def _trim_status(status: Mapping[str, Any]) -> dict[str, Any]:
    trimmed: dict[str, Any] = {}
    for key, subkeys in FLINK_DEPLOYMENT_STATUS_KEYS.items():
        value = get(status, key)
        if value is None:
            continue
        if subkeys is not None and isinstance(value, Mapping):
            value = {sub: value[sub] for sub in subkeys if value.get(sub) is not None}
        trimmed[key] = value
    return trimmed


class FlinkDeploymentState(FrozenModel):
    """A ``flink.apache.org/v1beta1`` FlinkDeployment: its generation and lifecycle status."""

    name: str
    generation: int | None = None
    status: dict[str, Any] = Field(default_factory=dict)
    """The raw ``status`` (camelCase), restricted to :data:`FLINK_DEPLOYMENT_STATUS_KEYS`."""
    deleting: bool = False

    @classmethod
    def from_k8s(cls, raw: Mapping[str, Any]) -> FlinkDeploymentState:
        """Parse a raw FlinkDeployment (custom objects always come as raw JSON)."""
        metadata = get_mapping(raw, "metadata")
        generation = get_int(metadata, "generation", default=-1)
        return cls(
            name=get_str(metadata, "name") or "",
            generation=generation if generation >= 0 else None,
            status=_trim_status(get_mapping(raw, "status")),
            deleting=get(metadata, "deletionTimestamp") is not None,
        )


class SavepointState(FrozenModel):
    """What Flink answered about one savepoint (or stop-with-savepoint) trigger."""

    job_id: str
    trigger_id: str
    known: bool = True
    """``False``: Flink does not know the trigger (``404``: the JobManager lost it)."""
    completed: bool = False
    location: str | None = None
    failure: str | None = None
    """Flink's failure cause, when it completed the operation with one."""

    @classmethod
    def from_rest(cls, raw: Mapping[str, Any]) -> SavepointState:
        """From the fields of a REST ``SavepointStatus`` (``job_id``, ``trigger_id``,
        ``completed``, ``location``, ``failure``)."""
        return cls(
            job_id=get_str(raw, "job_id") or "",
            trigger_id=get_str(raw, "trigger_id") or "",
            completed=bool(raw.get("completed")),
            location=get_str(raw, "location"),
            failure=get_str(raw, "failure"),
        )
