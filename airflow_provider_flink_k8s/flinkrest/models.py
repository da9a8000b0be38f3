"""Flink's REST answers as pydantic models.

Field names are Python's; aliases are Flink's (``slots-total``, ``dataPort``...), so
``Model.model_validate(json)`` reads an answer and ``model_dump(by_alias=True)`` writes it
back in Flink's shape (what :mod:`airflow_provider_flink_k8s.observation` parses).
Every model allows extra keys, so a newer Flink's additions pass through untouched, and
fields a Flink version may leave out have defaults. Checked against Flink 2.3.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from airflow_provider_flink_k8s.exceptions import SavepointFailed

__all__ = [
    "CheckpointCounts",
    "CheckpointStatistics",
    "CheckpointSummary",
    "ClusterOverview",
    "DashboardConfig",
    "ExceptionEntry",
    "ExceptionHistory",
    "FlinkModel",
    "JarEntry",
    "JarFile",
    "JobDetails",
    "JobExceptions",
    "JobOverview",
    "JobVertex",
    "LatestCheckpoints",
    "ParallelismBounds",
    "RestoredCheckpoint",
    "SavepointStatus",
    "TERMINAL_JOB_STATES",
    "TaskManagerHardware",
    "TaskManagerInfo",
    "TaskManagerMemory",
    "TaskManagerResource",
    "VertexResourceRequirements",
]

TERMINAL_JOB_STATES = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})
"""``JobStatus`` values a job does not leave (``SUSPENDED`` only on this JobManager)."""


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class FlinkModel(BaseModel):
    """Base of the REST models: frozen, extra keys kept, populated by alias or by name."""

    model_config = ConfigDict(
        extra="allow", frozen=True, populate_by_name=True, alias_generator=_kebab
    )


class _CamelModel(FlinkModel):
    model_config = ConfigDict(alias_generator=to_camel)


# --- cluster --------------------------------------------------------------------------------


class ClusterOverview(FlinkModel):
    """``GET /overview``: what the JobManager has registered."""

    taskmanagers: int = 0
    taskmanagers_blocked: int = 0
    slots_total: int = 0
    slots_available: int = 0
    slots_free_and_blocked: int = 0
    jobs_running: int = 0
    jobs_finished: int = 0
    jobs_cancelled: int = 0
    jobs_failed: int = 0
    flink_version: str | None = None
    flink_commit: str | None = None


class TaskManagerResource(_CamelModel):
    """A TaskManager's ``totalResource``/``freeResource``: CPU cores and memory in MiB."""

    cpu_cores: float = 0.0
    task_heap_memory: int = 0
    task_off_heap_memory: int = 0
    managed_memory: int = 0
    network_memory: int = 0
    extended_resources: dict[str, Any] = Field(default_factory=dict)


class TaskManagerHardware(_CamelModel):
    """A TaskManager's ``hardware``: the host's cores and memory in bytes."""

    cpu_cores: int = 0
    physical_memory: int = 0
    free_memory: int = 0
    managed_memory: int = 0


class TaskManagerMemory(_CamelModel):
    """A TaskManager's ``memoryConfiguration``: each memory component in bytes."""

    framework_heap: int = 0
    task_heap: int = 0
    framework_off_heap: int = 0
    task_off_heap: int = 0
    network_memory: int = 0
    managed_memory: int = 0
    jvm_metaspace: int = 0
    jvm_overhead: int = 0
    total_flink_memory: int = 0
    total_process_memory: int = 0


class TaskManagerInfo(_CamelModel):
    """One entry of ``GET /taskmanagers``."""

    id: str
    path: str | None = None
    data_port: int | None = None
    jmx_port: int | None = None
    time_since_last_heartbeat: int | None = None
    slots_number: int = 0
    free_slots: int = 0
    assigned_tasks: int | None = None
    blocked: bool = False
    total_resource: TaskManagerResource | None = None
    free_resource: TaskManagerResource | None = None
    hardware: TaskManagerHardware | None = None
    memory_configuration: TaskManagerMemory | None = None


class DashboardConfig(FlinkModel):
    """``GET /config``: the web UI's settings, the version and the enabled features."""

    refresh_interval: int | None = None
    timezone_name: str | None = None
    timezone_offset: int | None = None
    flink_version: str | None = None
    flink_revision: str | None = None
    features: dict[str, bool] = Field(default_factory=dict)


# --- jobs -----------------------------------------------------------------------------------


class JobOverview(FlinkModel):
    """One entry of ``GET /jobs/overview``; times are epoch milliseconds (-1: not yet)."""

    id: str = Field(alias="jid")
    name: str | None = None
    state: str
    job_type: str | None = Field(default=None, alias="jobType")
    start_time: int = -1
    end_time: int = -1
    duration: int | None = None
    last_modification: int | None = None
    tasks: dict[str, int] = Field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        """Whether the job reached a state it does not leave."""
        return self.state in TERMINAL_JOB_STATES


class JobVertex(FlinkModel):
    """One vertex of ``GET /jobs/:jobid``: its parallelism and ``ExecutionState``."""

    id: str
    name: str | None = None
    parallelism: int
    max_parallelism: int | None = Field(default=None, alias="maxParallelism")
    status: str
    start_time: int = -1
    end_time: int = -1
    duration: int | None = None
    tasks: dict[str, int] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)


class JobDetails(FlinkModel):
    """``GET /jobs/:jobid``: the job's ``JobStatus``, timestamps and vertices."""

    id: str = Field(alias="jid")
    name: str | None = None
    is_stoppable: bool = Field(default=False, alias="isStoppable")
    state: str
    job_type: str | None = None
    start_time: int = -1
    end_time: int = -1
    duration: int | None = None
    max_parallelism: int | None = Field(default=None, alias="maxParallelism")
    now: int | None = None
    timestamps: dict[str, int] = Field(default_factory=dict)
    vertices: list[JobVertex] = Field(default_factory=list)
    status_counts: dict[str, int] = Field(default_factory=dict)
    plan: dict[str, Any] | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the job reached a state it does not leave."""
        return self.state in TERMINAL_JOB_STATES

    @property
    def parallelism(self) -> int | None:
        """The highest vertex parallelism (``None`` before the job has vertices)."""
        return max((vertex.parallelism for vertex in self.vertices), default=None)

    @property
    def all_vertices_running(self) -> bool:
        """The job and every vertex RUNNING: what a savepoint needs."""
        return (
            self.state == "RUNNING"
            and bool(self.vertices)
            and all(vertex.status == "RUNNING" for vertex in self.vertices)
        )


class ExceptionEntry(_CamelModel):
    """One failure in a job's ``exceptionHistory``."""

    exception_name: str | None = None
    stacktrace: str | None = None
    timestamp: int | None = None
    task_name: str | None = None
    endpoint: str | None = None
    task_manager_id: str | None = None
    failure_labels: dict[str, str] = Field(default_factory=dict)
    concurrent_exceptions: list[dict[str, Any]] = Field(default_factory=list)


class ExceptionHistory(FlinkModel):
    """``exceptionHistory``: the newest failures first."""

    entries: list[ExceptionEntry] = Field(default_factory=list)
    truncated: bool = False


class JobExceptions(FlinkModel):
    """``GET /jobs/:jobid/exceptions`` (``root-exception`` only from Flink 1.x)."""

    exception_history: ExceptionHistory = Field(
        default_factory=ExceptionHistory, alias="exceptionHistory"
    )
    root_exception: str | None = None

    @property
    def latest(self) -> ExceptionEntry | None:
        """The newest failure, if any."""
        entries = self.exception_history.entries
        return entries[0] if entries else None


# --- checkpoints and savepoints -------------------------------------------------------------


class CheckpointCounts(FlinkModel):
    """``counts`` of ``GET /jobs/:jobid/checkpoints``."""

    model_config = ConfigDict(alias_generator=None)

    restored: int = 0
    total: int = 0
    in_progress: int = 0
    completed: int = 0
    failed: int = 0


class CheckpointSummary(FlinkModel):
    """One checkpoint or savepoint of the statistics (sizes in bytes, times in ms)."""

    model_config = ConfigDict(alias_generator=None)

    id: int
    status: str
    is_savepoint: bool = False
    savepoint_format: str | None = Field(default=None, alias="savepointFormat")
    checkpoint_type: str | None = None
    trigger_timestamp: int | None = None
    latest_ack_timestamp: int | None = None
    checkpointed_size: int | None = None
    state_size: int | None = None
    end_to_end_duration: int | None = None
    num_subtasks: int | None = None
    num_acknowledged_subtasks: int | None = None
    external_path: str | None = None
    discarded: bool | None = None
    failure_timestamp: int | None = None
    failure_message: str | None = None


class RestoredCheckpoint(FlinkModel):
    """``latest.restored``: what the job started from."""

    model_config = ConfigDict(alias_generator=None)

    id: int
    restore_timestamp: int | None = None
    is_savepoint: bool = False
    external_path: str | None = None


class LatestCheckpoints(FlinkModel):
    """``latest``: the newest completed checkpoint, savepoint, failure and restore."""

    model_config = ConfigDict(alias_generator=None)

    completed: CheckpointSummary | None = None
    savepoint: CheckpointSummary | None = None
    failed: CheckpointSummary | None = None
    restored: RestoredCheckpoint | None = None


class CheckpointStatistics(FlinkModel):
    """``GET /jobs/:jobid/checkpoints``; ``summary`` (min/max/percentiles) stays raw."""

    model_config = ConfigDict(alias_generator=None)

    counts: CheckpointCounts = Field(default_factory=CheckpointCounts)
    latest: LatestCheckpoints = Field(default_factory=LatestCheckpoints)
    history: list[CheckpointSummary] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)


class SavepointStatus(FlinkModel):
    """Where a savepoint (or stop-with-savepoint) trigger is: ``GET
    /jobs/:jobid/savepoints/:triggerid`` read into one value.

    ``completed`` with a ``location`` succeeded; ``completed`` with a ``failure`` (Flink's
    reason, stack trace cut off) failed; not ``completed`` is still in progress.
    """

    model_config = ConfigDict(alias_generator=None)

    job_id: str
    trigger_id: str
    completed: bool
    location: str | None = None
    failure: str | None = None

    def raise_for_failure(self) -> str:
        """The savepoint's location.

        :raises SavepointFailed: when Flink completed it with a failure.
        :raises ValueError: when it is still in progress.
        """
        if not self.completed:
            raise ValueError(f"savepoint {self.trigger_id} of job {self.job_id} is in progress")
        if self.failure is not None or not self.location:
            cause = self.failure or "Flink reported no location"
            raise SavepointFailed(self.job_id, self.trigger_id, cause)
        return self.location


# --- jars -----------------------------------------------------------------------------------


class JarEntry(FlinkModel):
    """An entry class Flink found in a jar's manifest."""

    name: str
    description: str | None = None


class JarFile(FlinkModel):
    """One entry of ``GET /jars``; ``id`` is what ``/jars/:jarid/run`` takes."""

    id: str
    name: str
    uploaded: int | None = None
    entry: list[JarEntry] = Field(default_factory=list)


# --- resource requirements (in-place rescaling) ---------------------------------------------


class ParallelismBounds(_CamelModel):
    """A vertex's ``parallelism``: the adaptive scheduler runs it between the bounds."""

    lower_bound: int = Field(ge=1)
    upper_bound: int = Field(ge=1)


class VertexResourceRequirements(FlinkModel):
    """A vertex's entry in ``/jobs/:jobid/resource-requirements`` (keyed by vertex id)."""

    parallelism: ParallelismBounds
