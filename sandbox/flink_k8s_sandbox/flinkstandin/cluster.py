"""One stand-in Flink session cluster: what a JobManager knows, in memory.

:class:`StandInCluster` holds the uploaded jars, the jobs (:mod:`.jobs`) and the savepoint
operations of one simulated JobManager; its TaskManagers come from a callable
(:func:`~.simulatedflink.registered_taskmanagers`: the Ready TaskManager pods whose
JobManager address leads to it), read on every call, so a TaskManager registers when its
pod turns Ready and leaves when it stops being Ready. Every method first lets time pass
(:meth:`StandInCluster.advance`): jobs and savepoints move on one step at a time, as far
as the slots allow. The answers are Flink 2.x's JSON (:mod:`.views` for the cluster-wide
ones).

Savepoints go to the request's directory, else ``execution.checkpointing.savepoint-dir``
(or the legacy ``state.savepoints.dir``), as ``<dir>/savepoint-<6 of the job id>-<12
hex>``; a ``file:`` one becomes a real folder with a small ``_metadata`` document (not
Flink's format), and the location reads ``file:/path`` as Flink prints it.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from flink_k8s_sandbox.flinkoperator.access import write_savepoint
from flink_k8s_sandbox.flinkoperator.status import savepoint_name
from flink_k8s_sandbox.flinkstandin.errors import (
    FlinkRestFailure,
    handler_error,
    job_not_found,
    server_error,
)
from flink_k8s_sandbox.flinkstandin.jars import JarStore
from flink_k8s_sandbox.flinkstandin.jobs import StandInJob
from flink_k8s_sandbox.flinkstandin.views import RegisteredTaskManager

__all__ = ["SavepointOperation", "StandInCluster"]

_SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")
_JOB_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_CHECKPOINT_EXCEPTION = "org.apache.flink.runtime.checkpoint.CheckpointException"


@dataclass
class SavepointOperation:
    """A savepoint (``stop``: stop-with-savepoint) trigger and, once done, its result."""

    job_id: str
    trigger_id: str
    requested_ms: int
    directory: str | None
    stop: bool = False
    cancel_job: bool = False
    location: str | None = None
    failure: str | None = None
    checkpoint_id: int = 0
    completed_ms: int = 0

    @property
    def done(self) -> bool:
        return self.location is not None or self.failure is not None

    def status_json(self) -> dict[str, Any]:
        """``GET /jobs/:jobid/savepoints/:triggerid``."""
        if not self.done:
            return {"status": {"id": "IN_PROGRESS"}, "operation": None}
        if self.failure is not None:
            text = f"{_CHECKPOINT_EXCEPTION}: {self.failure}\n\tat flink-k8s-sandbox stand-in\n"
            cause = {
                "class": _CHECKPOINT_EXCEPTION,
                "stack-trace": text,
                "serialized-throwable": "",
            }
            return {"status": {"id": "COMPLETED"}, "operation": {"failure-cause": cause}}
        return {"status": {"id": "COMPLETED"}, "operation": {"location": self.location}}


def flink_location(uri: str) -> str:
    """A location as Flink's ``Path`` prints it: ``file:///x`` -> ``file:/x``."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" and not parsed.netloc:
        return f"file:{parsed.path}"
    return uri


class StandInCluster:
    """A simulated JobManager's state (see the module docstring).

    :param configuration: the JobManager's Flink configuration (its mounted config.yaml).
    :param taskmanagers: the TaskManagers registered now.
    :param flink_version: what ``/config`` and ``/overview`` report.
    :param step: seconds between two transitions of a job or a savepoint.
    :param clock: epoch seconds (injected by tests).
    """

    def __init__(
        self,
        configuration: Mapping[str, str],
        taskmanagers: Callable[[], Sequence[RegisteredTaskManager]],
        *,
        flink_version: str,
        step: float = 0.2,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.configuration = dict(configuration)
        self._taskmanagers = taskmanagers
        self.flink_version = flink_version
        self.step_ms = max(1, int(step * 1000))
        self._clock = clock
        self._rng = rng or random.Random()
        self.jars = JarStore(self.configuration.get("web.tmpdir", "/tmp"))
        self.jobs: dict[str, StandInJob] = {}
        self.operations: dict[tuple[str, str], SavepointOperation] = {}
        self._checkpoints = 0

    # -- time ----------------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    @property
    def adaptive(self) -> bool:
        return self.configuration.get("jobmanager.scheduler", "default").lower() == "adaptive"

    def registered(self) -> list[RegisteredTaskManager]:
        """The TaskManagers registered now."""
        return list(self._taskmanagers())

    def total_slots(self) -> int:
        return sum(tm.slots for tm in self.registered())

    def used_slots(self) -> int:
        return sum(job.held_slots for job in self.jobs.values())

    def advance(self) -> int:
        """Let every job and savepoint make its next transition, if one is due and the
        slots allow it; ``now``."""
        now = self.now_ms()
        total = self.total_slots()
        moved = True
        while moved:  # a job releasing slots lets a later one take them in the same call
            moved = False
            for job in self.jobs.values():
                others = sum(j.held_slots for j in self.jobs.values() if j is not job)
                # Each transition sets the job's clock to now: at most one per job per call.
                moved |= job.advance(now, self.step_ms, max(total - others, 0))
        for operation in self.operations.values():
            self._complete(operation, now)
        return now

    def _complete(self, operation: SavepointOperation, now: int) -> None:
        if operation.done or now - operation.requested_ms < self.step_ms:
            return
        job = self.jobs[operation.job_id]
        if not job.all_running:
            operation.failure = (
                "Not all required tasks are currently running. (CHECKPOINT_DECLINED_TASK_NOT_READY)"
            )
            return
        directory = operation.directory or self._default_savepoint_dir()
        if not directory:  # checked at the trigger; kept for a configuration without one
            operation.failure = "No savepoint directory configured."
            return
        location = f"{directory.rstrip('/')}/{savepoint_name(job.id, self._rng)}"
        write_savepoint(location, job.id, now)
        self._checkpoints += 1
        operation.checkpoint_id = self._checkpoints
        operation.completed_ms = now
        operation.location = flink_location(location)
        if operation.stop:
            job.finish(now)
        elif operation.cancel_job:
            job.cancel(now)

    def _default_savepoint_dir(self) -> str | None:
        return next(
            (self.configuration[k] for k in _SAVEPOINT_DIR_KEYS if self.configuration.get(k)), None
        )

    # -- jobs ----------------------------------------------------------------------------

    def job(self, job_id: str) -> StandInJob:
        """:raises FlinkRestFailure: 400 for a malformed id, 404 for an unknown job."""
        if not _JOB_ID.match(job_id):
            raise handler_error(
                400,
                "Bad request, could not parse parameters: Cannot resolve path parameter "
                f'(jobid) from value "{job_id}".',
            )
        self.advance()
        found = self.jobs.get(job_id.lower())
        if found is None:
            raise job_not_found(job_id)
        return found

    def run_jar(self, jar_id: str, request: Mapping[str, Any]) -> dict[str, str]:
        """``POST /jars/:jarid/run``: a new job from an uploaded jar."""
        entry = self._entry_class(jar_id, request)
        job_id = str(request.get("jobId") or uuid.uuid4().hex).lower()
        self.advance()
        if not _JOB_ID.match(job_id):
            raise handler_error(400, f"Invalid job id {job_id!r}: 32 hexadecimal digits")
        if job_id in self.jobs:
            raise handler_error(
                400,
                "Could not execute application.",
                ["org.apache.flink.runtime.client.DuplicateJobSubmissionException: "
                 "Job has already been submitted."],
            )  # fmt: skip
        self.submit(
            job_id,
            str(entry),
            request.get("parallelism"),
            restored_from=request.get("savepointPath") or None,
        )
        return {"jobid": job_id, "applicationId": job_id}

    def plan(self, jar_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /jars/:jarid/plan``: the job graph a run with ``request`` would submit,
        nothing submitted."""
        entry = self._entry_class(jar_id, request)
        graph = self._accept(uuid.uuid4().hex, entry, request.get("parallelism"))
        return {"plan": graph.plan_json()}

    def _entry_class(self, jar_id: str, request: Mapping[str, Any]) -> str:
        """The class a plan or run of ``jar_id`` starts (the request's, else the jar's
        manifest's), refused as Flink refuses it: no such jar, no class named, a class
        the jar lacks."""
        jar = self.jars.get(jar_id)
        if jar is None:
            raise server_error(
                "java.util.concurrent.CompletionException: "
                "org.apache.flink.runtime.rest.handler.RestHandlerException: "
                f"Jar file {self.jars.folder}/{jar_id} does not exist"
            )
        entry = request.get("entryClass") or (jar.entry_classes[0] if jar.entry_classes else None)
        if not entry:
            raise handler_error(
                400,
                "Could not execute application.",
                ["org.apache.flink.client.program.ProgramInvocationException: Neither a "
                 "'Main-Class', nor a 'program-class' entry was found in the jar file."],
            )  # fmt: skip
        if jar.classes and str(entry) not in jar.classes:
            raise server_error(
                "java.util.concurrent.CompletionException: "
                "org.apache.flink.client.program.ProgramInvocationException: The program's "
                f"entry point class '{entry}' was not found in the jar file."
            )
        return str(entry)

    def submit(
        self, job_id: str, name: str, parallelism: int | None, restored_from: str | None = None
    ) -> StandInJob:
        """Accept a job (``parallelism``: ``None`` for ``parallelism.default``)."""
        job = self._accept(job_id, name, parallelism, restored_from)
        self.jobs[job_id] = job
        return job

    def _accept(
        self, job_id: str, name: str, parallelism: Any, restored_from: str | None = None
    ) -> StandInJob:
        """The job the dispatcher would accept, under this cluster's configuration
        (``parallelism.default``, ``pipeline.max-parallelism``); not registered."""
        default = int(self.configuration.get("parallelism.default", "1"))
        maximum = self.configuration.get("pipeline.max-parallelism")
        return StandInJob.submit(
            job_id,
            name,
            int(parallelism or default),
            adaptive=self.adaptive,
            now_ms=self.now_ms(),
            max_parallelism=int(maximum) if maximum else None,
            restored_from=restored_from,
        )

    def cancel(self, job_id: str) -> None:
        """``PATCH /jobs/:jobid?mode=cancel``."""
        job = self.job(job_id)
        if job.state in ("CANCELED", "CANCELLING"):
            return
        if job.terminal:
            raise handler_error(
                409,
                "Job cancellation failed because the job has already reached another "
                f"terminal state ({job.state}).",
            )
        job.cancel(self.now_ms())

    def requirements(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/:jobid/resource-requirements`` (the adaptive scheduler's only)."""
        job = self.live_job(job_id)
        self._require_adaptive()
        return job.requirements_json()

    def set_requirements(self, job_id: str, body: Mapping[str, Any]) -> None:
        """``PUT /jobs/:jobid/resource-requirements``."""
        if not body:
            raise handler_error(400, "Request body does not specify resource requirements.")
        job = self.live_job(job_id)
        self._require_adaptive()
        known = {vertex.id for vertex in job.vertices}
        bounds: dict[str, tuple[int, int]] = {}
        try:
            for vertex_id, requirement in body.items():
                parallelism = requirement["parallelism"]
                lower, upper = int(parallelism["lowerBound"]), int(parallelism["upperBound"])
                if vertex_id not in known or not 1 <= lower <= upper:
                    raise ValueError(vertex_id)
                bounds[vertex_id] = (lower, upper)
        except (KeyError, TypeError, ValueError) as error:
            raise handler_error(400, f"Invalid resource requirements: {error}") from None
        job.set_requirements(bounds)

    def _require_adaptive(self) -> None:
        if not self.adaptive:
            raise server_error(
                "java.lang.UnsupportedOperationException: The DefaultScheduler does not "
                "support changing the parallelism without a job restart. This feature is "
                "currently only expected to work with the AdaptiveScheduler."
            )

    def live_job(self, job_id: str) -> StandInJob:
        """A job whose JobMaster still runs (the dispatcher's view: 500 otherwise)."""
        try:
            job = self.job(job_id)
        except FlinkRestFailure as failure:
            if failure.status != 404:
                raise
            job = None
        if job is None or job.terminal:
            raise server_error(
                "org.apache.flink.runtime.messages.FlinkJobNotFoundException: "
                f"Could not find Flink job ({job.id if job else job_id})"
            )
        return job

    # -- savepoints ----------------------------------------------------------------------

    def trigger_savepoint(self, job_id: str, body: Mapping[str, Any], *, stop: bool) -> str:
        """``POST /jobs/:jobid/savepoints`` or ``/stop``; the trigger id."""
        job = self.job(job_id)
        trigger = str(body.get("triggerId") or uuid.uuid4().hex)
        key = (job.id, trigger)
        field = "targetDirectory" if stop else "target-directory"
        directory = body.get(field)
        if not directory and not self._default_savepoint_dir():
            raise handler_error(
                400,
                f"Config key [{_SAVEPOINT_DIR_KEYS[0]}] is not set. "
                f"Property [{field}] must be provided.",
            )
        if key not in self.operations:  # Flink registers a trigger id once per job
            self.operations[key] = SavepointOperation(
                job.id,
                trigger,
                self.now_ms(),
                directory or None,
                stop=stop,
                cancel_job=bool(body.get("cancel-job")),
            )
        return trigger

    def savepoint_status(self, job_id: str, trigger_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        operation = self.operations.get((job.id, trigger_id))
        if operation is None:
            raise handler_error(
                404,
                f"There is no savepoint operation with triggerId={trigger_id} for job {job.id}.",
            )
        return operation.status_json()

    def savepoints_of(self, job_id: str) -> list[SavepointOperation]:
        return [op for op in self.operations.values() if op.job_id == job_id and op.location]
