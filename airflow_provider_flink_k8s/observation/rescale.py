"""The next step of a rescale, decided from what is observed and what was recorded.

A rescale is a reconciliation: the operator observes the cluster (Flink's job list, the
job's vertices, the savepoint trigger's status, the TaskManager replicas and slots),
reads the :class:`~airflow_provider_flink_k8s.observation.intent.Intent` it recorded, and
asks :func:`next_step` what to do. Each answer is safe to repeat -- the decision rests on
the cluster, not on the worker's memory -- so a task killed at any point and retried
converges:

- a stopped job whose savepoint is known is restarted from it, never stopped again;
- a job already resubmitted under the intent's job id is awaited, never resubmitted;
- the savepoint is taken under the intent's trigger id (Flink starts one per id);
- in place, TaskManagers beyond the planned count are scaled down even when the job
  already runs at the new parallelism.

Each :class:`Step` carries the intent to record *before* its action (the operator writes
it when it differs from the recorded one), so the cluster names the step being taken.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_flink_k8s.observation.intent import Intent
from airflow_provider_flink_k8s.observation.job import GLOBALLY_TERMINAL_JOB_STATES
from airflow_provider_flink_k8s.observation.scaling import runs_at

__all__ = [
    "Action",
    "JobView",
    "RescaleObservation",
    "SavepointView",
    "Step",
    "next_step",
    "rescale_result",
]

Action = Literal[
    "scale_taskmanagers",
    "await_slots",
    "await_release",
    "set_requirements",
    "await_vertices",
    "stop_with_savepoint",
    "await_savepoint",
    "await_stop",
    "resubmit",
    "redeploy",
    "await_job",
    "done",
    "failed",
]
WAITS: frozenset[str] = frozenset(
    {
        "await_slots",
        "await_release",
        "await_vertices",
        "await_savepoint",
        "await_stop",
        "await_job",
    }
)
"""The actions that only wait; each is one :class:`~.waits.WaitFor` (the operator maps
them), decided by the same rule the planner applies here."""


@dataclass(frozen=True)
class JobView:
    """One job as ``GET /jobs/:jobid`` shows it: state, vertices and times (epoch ms)."""

    id: str
    state: str
    parallelisms: Mapping[str, int] = field(default_factory=dict)
    """Each vertex's parallelism, by vertex id."""
    vertex_states: tuple[str, ...] = ()
    vertex_start_times: tuple[int, ...] = ()
    end_time: int = -1
    timestamps: Mapping[str, int] = field(default_factory=dict)
    """When the job last entered each ``JobStatus``."""

    @property
    def running(self) -> bool:
        """RUNNING with every vertex RUNNING."""
        return (
            self.state == "RUNNING"
            and bool(self.vertex_states)
            and all(state == "RUNNING" for state in self.vertex_states)
        )

    def at(self, targets: Mapping[str, int]) -> bool:
        """Whether every vertex runs at its target (:func:`.scaling.runs_at`)."""
        return runs_at(self.parallelisms, targets)

    @property
    def resumed_at(self) -> float | None:
        """When the last vertex started (epoch seconds): the job processing again."""
        starts = [t for t in self.vertex_start_times if t > 0]
        if not starts or len(starts) != len(self.vertex_start_times):
            return None
        return max(starts) / 1000.0


@dataclass(frozen=True)
class SavepointView:
    """The stop-with-savepoint operation of the recorded trigger id."""

    completed: bool
    location: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class RescaleObservation:
    """What the operator saw before deciding.

    :param jobs: every job the JobManager lists, id -> ``JobStatus``.
    :param job: the job acted on (``intent.job_id``), when listed.
    :param new_job: the resubmitted job (``intent.new_job_id``, or an application
        cluster's new job), when listed.
    :param requirements: the job's per-vertex parallelism upper bounds (in place).
    :param savepoint: the recorded trigger's status; ``None`` when Flink does not know it.
    :param latest_savepoint: the stopped job's latest savepoint (``GET
        /jobs/:jobid/checkpoints``), for when the trigger's status has expired.
    :param taskmanagers: the TaskManager replicas asked for.
    :param slots_total: task slots registered with the JobManager.
    :param slots_per_taskmanager: ``taskmanager.numberOfTaskSlots``.
    :param mode: ``session`` (resubmit the jar) or ``application`` (redeploy).
    """

    jobs: Mapping[str, str]
    job: JobView | None
    taskmanagers: int
    slots_total: int
    slots_per_taskmanager: int
    new_job: JobView | None = None
    requirements: Mapping[str, int] | None = None
    savepoint: SavepointView | None = None
    latest_savepoint: str | None = None
    mode: Literal["session", "application"] = "session"


@dataclass(frozen=True)
class Step:
    """What to do next, and the intent to record before doing it.

    :param action: the step (``await_*`` are waits: observe again once they are over).
    :param intent: the intent to hold while acting (recorded first when it changed).
    :param count: ``scale_taskmanagers``: the replicas; ``await_slots``: the task slots
        to be registered (at least); ``await_release``: the task slots left (at most).
    :param detail: a log line: why this step.
    :param failed_job: ``failed``: the job whose failure ended the rescale, if one did
        (the task reports its root exception).
    """

    action: Action
    intent: Intent
    detail: str = ""
    count: int | None = None
    failed_job: str | None = None

    @property
    def waits(self) -> bool:
        """Whether the step only waits (nothing is changed)."""
        return self.action in WAITS


def next_step(intent: Intent, seen: RescaleObservation) -> Step:
    """The next step of the rescale ``intent`` records, given ``seen``."""
    if intent.strategy == "in_place":
        return _in_place(intent, seen)
    return _savepoint_restart(intent, seen)


# -- in place ------------------------------------------------------------------------------


def _in_place(intent: Intent, seen: RescaleObservation) -> Step:
    job = seen.job
    if job is None or job.state in GLOBALLY_TERMINAL_JOB_STATES:
        state = "gone" if job is None else job.state
        cause = f"job {intent.job_id} is {state} during the rescale"
        return _failed(intent, cause, job.id if job is not None and job.state == "FAILED" else None)
    slots = seen.slots_per_taskmanager
    after = intent.taskmanagers_after
    requirements_set = seen.requirements is not None and dict(seen.requirements) == dict(
        intent.targets
    )
    if not requirements_set:
        if after > intent.taskmanagers_before:
            if seen.taskmanagers < after:
                why = f"{intent.new_parallelism} slots needed: TaskManagers -> {after}"
                return Step("scale_taskmanagers", intent.at("scale_up"), why, after)
            if seen.slots_total < after * slots:
                why = f"{after * slots} task slots registered"
                return Step("await_slots", intent, why, after * slots)
        why = f"every vertex up to {intent.new_parallelism}"
        return Step("set_requirements", intent.at("requirements"), why)
    if not (job.running and job.at(intent.targets)):
        why = f"every vertex of job {job.id} RUNNING at {intent.new_parallelism}"
        return Step("await_vertices", intent, why)
    if seen.taskmanagers > after:
        why = f"at {intent.new_parallelism}; TaskManagers {seen.taskmanagers} -> {after}"
        return Step("scale_taskmanagers", intent.at("scale_down"), why, after)
    if seen.slots_total > after * slots:
        why = f"the surplus TaskManagers gone ({after * slots} slots)"
        return Step("await_release", intent, why, after * slots)
    return _done(intent, job)


# -- savepoint and restart -----------------------------------------------------------------


def _savepoint_restart(intent: Intent, seen: RescaleObservation) -> Step:
    if intent.stopped_at is None and seen.job is not None and seen.job.end_time > 0:
        # When the old job stopped: for the downtime, whichever step first sees it.
        intent = intent.model_copy(update={"stopped_at": seen.job.end_time / 1000.0})
    new = seen.new_job
    if new is not None and intent.step in ("resubmitting", "redeploying"):
        return _follow_new_job(intent, new, seen)
    old = seen.jobs.get(intent.job_id or "")
    path = intent.savepoint_path or _completed(seen.savepoint)
    if path is None and seen.savepoint is not None and seen.savepoint.failure:
        running = f"; job {intent.job_id} runs on" if old == "RUNNING" else ""
        cause = f"the savepoint of job {intent.job_id} failed: {seen.savepoint.failure}{running}"
        return _failed(intent, cause)
    if path is None and old == "FINISHED":
        path = seen.latest_savepoint  # the trigger's status expired from Flink's cache
    if path is None:
        if old is None or old in GLOBALLY_TERMINAL_JOB_STATES:
            state = "gone" if old is None else old
            cause = f"job {intent.job_id} is {state} and no savepoint is known"
            return _failed(intent, cause, intent.job_id if old == "FAILED" else None)
        if intent.step == "planned" or seen.savepoint is None:
            # Never sent, or sent and never reached Flink: the same trigger id again
            # starts at most one savepoint.
            why = f"stop job {intent.job_id} with a savepoint (trigger {intent.trigger_id})"
            return Step("stop_with_savepoint", intent.at("stopping"), why)
        return Step("await_savepoint", intent, f"the savepoint of job {intent.job_id}")
    if old is not None and old not in GLOBALLY_TERMINAL_JOB_STATES:
        return Step("await_stop", intent, f"job {intent.job_id} stopped after its savepoint")
    recorded = intent.model_copy(update={"savepoint_path": path})
    if intent.step in ("resubmitting", "redeploying") and seen.mode == "application":
        return Step("await_job", recorded, "the redeployed job RUNNING")
    if seen.mode == "application":
        why = f"redeploy at parallelism {intent.new_parallelism} from {path}"
        return Step("redeploy", recorded.at("redeploying"), why)
    after = intent.taskmanagers_after
    if seen.taskmanagers != after:
        why = f"TaskManagers {seen.taskmanagers} -> {after}"
        return Step("scale_taskmanagers", recorded.at("scaling"), why, after)
    needed = after * seen.slots_per_taskmanager
    if seen.slots_total < needed:
        return Step("await_slots", recorded, f"{needed} task slots registered", needed)
    if seen.slots_total > needed and after < intent.taskmanagers_before:
        # The new job must not be placed on TaskManagers about to leave.
        why = f"the surplus TaskManagers gone ({needed} slots)"
        return Step("await_release", recorded, why, needed)
    why = f"resubmit as job {intent.new_job_id} at {intent.new_parallelism} from {path}"
    return Step("resubmit", recorded.at("resubmitting"), why)


def _follow_new_job(intent: Intent, new: JobView, seen: RescaleObservation) -> Step:
    if new.state in GLOBALLY_TERMINAL_JOB_STATES or new.state == "FAILING":
        cause = (
            f"the restarted job {new.id} is {new.state}; restore it by hand from savepoint "
            f"{intent.savepoint_path}"
        )
        return _failed(intent, cause, new.id if new.state in ("FAILED", "FAILING") else None)
    recorded = intent.model_copy(update={"new_job_id": new.id})
    if not new.running:
        return Step("await_job", recorded, f"job {new.id} RUNNING")
    if not new.at(intent.targets):
        return Step("await_vertices", recorded, f"job {new.id} at {intent.new_parallelism}")
    return _done(recorded, new)


def _completed(savepoint: SavepointView | None) -> str | None:
    if savepoint is not None and savepoint.completed and savepoint.location:
        return savepoint.location
    return None


# -- the end -------------------------------------------------------------------------------


def _failed(intent: Intent, cause: str, failed_job: str | None = None) -> Step:
    return Step("failed", intent.at("failed", error=cause), cause, failed_job=failed_job)


def _done(intent: Intent, job: JobView) -> Step:
    resumed = job.resumed_at
    stopped = intent.stopped_at
    if intent.strategy == "in_place":
        stopped = _interrupted_at(job, intent.started_at)
    downtime = 0.0
    if stopped is not None and resumed is not None:
        downtime = max(resumed - stopped, 0.0)
    to_target = max(resumed - intent.started_at, 0.0) if resumed is not None else 0.0
    done = intent.at(
        "done",
        stopped_at=stopped,
        new_job_id=job.id if intent.strategy != "in_place" else intent.new_job_id,
        downtime_seconds=round(downtime, 3),
        time_to_target_seconds=round(to_target, 3),
    )
    return Step("done", done, f"job {job.id} runs at {intent.new_parallelism}")


_INTERRUPTIONS = ("RESTARTING", "CANCELLING", "FAILING", "CREATED")


def _interrupted_at(job: JobView, since: float) -> float | None:
    """When an in-place rescale interrupted the job (epoch seconds), if it did since
    ``since``: the latest entry into a state that does not process records.

    The adaptive scheduler rescales by cancelling the tasks and building a new execution
    graph, which keeps none of the old one's timestamps: its ``CREATED`` time, right after
    the old tasks were cancelled, is the earliest Flink reports -- the cancellation
    itself (usually well under a second) is not counted."""
    entered = [job.timestamps.get(state, 0) / 1000.0 for state in _INTERRUPTIONS]
    after = [when for when in entered if when >= since]
    return max(after) if after else None


def rescale_result(intent: Intent) -> dict[str, Any]:
    """The operator's result for a finished ``intent``."""
    job_id = intent.job_id if intent.strategy == "in_place" else intent.new_job_id
    return {
        "job_id": job_id,
        "previous_job_id": intent.job_id,
        "old_parallelism": intent.old_parallelism,
        "new_parallelism": intent.new_parallelism,
        "strategy": intent.strategy,
        "savepoint_path": intent.savepoint_path,
        "taskmanagers_before": intent.taskmanagers_before,
        "taskmanagers_after": intent.taskmanagers_after,
        "reason": intent.reason,
        "downtime_seconds": intent.downtime_seconds,
        "time_to_target_seconds": intent.time_to_target_seconds,
    }
