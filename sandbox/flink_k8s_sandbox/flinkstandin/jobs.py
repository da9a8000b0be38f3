"""A stand-in Flink job: its vertices, its ``JobStatus`` and how it moves on.

A job has two vertices, a source chain and a sink chain reading from it (the shape of
most streaming jobs, so ``plan.nodes[].inputs`` is there for whoever reads sources from
the plan). It processes nothing: it runs until it is cancelled or stopped.

:meth:`StandInJob.advance` makes at most one transition per ``step`` seconds, given the
task slots it may use:

=====================  ===========================================  =================
from                   when                                         to
=====================  ===========================================  =================
INITIALIZING           always                                       CREATED
CREATED, RESTARTING    default scheduler: always                    RUNNING, vertices
                                                                    SCHEDULED
CREATED, RESTARTING    adaptive scheduler: slots for every lower    RUNNING, vertices
                       bound                                        DEPLOYING
RUNNING (SCHEDULED)    slots for the widest vertex                  vertices DEPLOYING
RUNNING (DEPLOYING)    always                                       vertices RUNNING
RUNNING                fewer slots than it holds, or (adaptive) a   RESTARTING
                       different parallelism the requirements and
                       slots allow
CANCELLING             always                                       CANCELED
=====================  ===========================================  =================

The default scheduler runs each vertex at its submitted parallelism: the job is RUNNING
while its tasks wait ``SCHEDULED`` for slots (Flink would fail it after
``slot.request.timeout``; the stand-in waits). The adaptive scheduler
(``jobmanager.scheduler: adaptive``) waits in CREATED and runs each vertex at
``min(upper bound, slots)`` when that is at least its lower bound, as Flink's
``AdaptiveScheduler`` does when resources or requirements change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EXECUTION_STATES",
    "JOB_STATES",
    "TERMINAL_STATES",
    "StandInJob",
    "StandInVertex",
    "default_max_parallelism",
]

JOB_STATES = (
    "INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED",
    "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING",
)  # fmt: skip
"""Flink's ``JobStatus`` values (``timestamps`` has one entry each)."""
EXECUTION_STATES = (
    "CREATED", "SCHEDULED", "DEPLOYING", "RUNNING", "FINISHED", "CANCELING", "CANCELED",
    "FAILED", "RECONCILING", "INITIALIZING",
)  # fmt: skip
"""Flink's ``ExecutionState`` values (a vertex's ``tasks`` has one entry each)."""
TERMINAL_STATES = frozenset({"FINISHED", "CANCELED", "FAILED", "SUSPENDED"})


def default_max_parallelism(parallelism: int) -> int:
    """Flink's default max parallelism of an operator (``KeyGroupRangeAssignment``):
    ``roundUpToPowerOfTwo(p + p / 2)`` within [128, 32768]."""
    wanted = parallelism + parallelism // 2
    power = 1 << max(wanted - 1, 0).bit_length()
    return min(max(power, 128), 32768)


def _hex_id(*parts: str) -> str:
    return hashlib.md5("/".join(parts).encode(), usedforsecurity=False).hexdigest()


@dataclass
class StandInVertex:
    """One job vertex: its parallelism bounds and the state of its subtasks."""

    id: str
    name: str
    parallelism: int
    max_parallelism: int
    lower_bound: int
    upper_bound: int
    status: str = "CREATED"
    start_ms: int = -1
    end_ms: int = -1


@dataclass
class StandInJob:
    """A submitted job and its lifecycle (see the module docstring)."""

    id: str
    name: str
    adaptive: bool
    submitted_ms: int
    vertices: list[StandInVertex]
    restored_from: str | None = None
    state: str = "INITIALIZING"
    changed_ms: int = 0
    timestamps: dict[str, int] = field(default_factory=dict)
    held_slots: int = 0

    @classmethod
    def submit(
        cls,
        job_id: str,
        name: str,
        parallelism: int,
        *,
        adaptive: bool,
        now_ms: int,
        max_parallelism: int | None = None,
        restored_from: str | None = None,
    ) -> StandInJob:
        """A job just accepted by the dispatcher (``INITIALIZING``)."""
        maximum = max_parallelism or default_max_parallelism(parallelism)
        # Vertex ids are stable per job name, as a job graph's ids are per program.
        vertices = [
            StandInVertex(
                _hex_id(name, role), f"{role}: {name}", parallelism, maximum, 1, parallelism
            )
            for role in ("Source", "Sink")
        ]
        timestamps = dict.fromkeys(JOB_STATES, 0)
        timestamps["INITIALIZING"] = now_ms
        return cls(
            job_id, name, adaptive, now_ms, vertices, restored_from,
            changed_ms=now_ms, timestamps=timestamps,
        )  # fmt: skip

    # -- state ---------------------------------------------------------------------------

    @property
    def terminal(self) -> bool:
        """Whether the job reached a state it does not leave."""
        return self.state in TERMINAL_STATES

    @property
    def all_running(self) -> bool:
        """The job and every vertex RUNNING: what a savepoint needs."""
        return self.state == "RUNNING" and all(v.status == "RUNNING" for v in self.vertices)

    @property
    def end_ms(self) -> int:
        return self.changed_ms if self.terminal else -1

    def _enter(self, state: str, now_ms: int) -> None:
        self.state = state
        self.changed_ms = now_ms
        self.timestamps[state] = now_ms

    def _vertices_to(self, status: str, now_ms: int) -> None:
        for vertex in self.vertices:
            vertex.status = status
            if status in TERMINAL_STATES or status == "CANCELED":
                vertex.end_ms = now_ms

    def wanted_parallelism(self, slots: int) -> dict[str, int] | None:
        """Each vertex's parallelism with ``slots`` slots (they share one slot sharing
        group, so the job needs as many slots as its widest vertex); ``None`` when the
        job cannot run with them."""
        if not self.adaptive:
            needed = max(v.parallelism for v in self.vertices)
            return {v.id: v.parallelism for v in self.vertices} if slots >= needed else None
        wanted = {v.id: min(v.upper_bound, v.max_parallelism, slots) for v in self.vertices}
        if any(wanted[v.id] < v.lower_bound for v in self.vertices):
            return None
        return wanted

    def advance(self, now_ms: int, step_ms: int, slots: int) -> bool:
        """Make the next transition if one is due; ``slots``: the slots it may hold (its
        own included). Whether it changed."""
        if self.terminal or now_ms - self.changed_ms < step_ms:
            return False
        if self.state == "INITIALIZING":
            self._enter("CREATED", now_ms)
            return True
        if self.state == "CANCELLING":
            self._vertices_to("CANCELED", now_ms)
            self.held_slots = 0
            self._enter("CANCELED", now_ms)
            return True
        if self.state in ("CREATED", "RESTARTING"):
            if self.adaptive:
                return self._deploy(now_ms, slots)
            self._vertices_to("SCHEDULED", now_ms)
            self._enter("RUNNING", now_ms)
            return True
        if self.state == "RUNNING":
            statuses = {vertex.status for vertex in self.vertices}
            if "SCHEDULED" in statuses:
                return self._deploy(now_ms, slots)
            if "DEPLOYING" in statuses:
                self._vertices_to("RUNNING", now_ms)
                self.changed_ms = now_ms
                return True
            wanted = self.wanted_parallelism(slots)
            current = {v.id: v.parallelism for v in self.vertices}
            if slots < self.held_slots or (self.adaptive and wanted not in (None, current)):
                self._vertices_to("CANCELED", now_ms)
                self.held_slots = 0
                self._enter("RESTARTING", now_ms)
                return True
        return False

    def _deploy(self, now_ms: int, slots: int) -> bool:
        """Deploy every vertex if ``slots`` allow its parallelism (RUNNING from now)."""
        wanted = self.wanted_parallelism(slots)
        if wanted is None:
            return False
        for vertex in self.vertices:
            vertex.parallelism = wanted[vertex.id]
            vertex.status = "DEPLOYING"
            vertex.start_ms = now_ms
            vertex.end_ms = -1
        self.held_slots = max(wanted.values())
        if self.state == "RUNNING":
            self.changed_ms = now_ms
        else:
            self._enter("RUNNING", now_ms)
        return True

    def cancel(self, now_ms: int) -> None:
        """``CANCELLING`` (then ``CANCELED`` one step later)."""
        self._vertices_to("CANCELING", now_ms)
        self._enter("CANCELLING", now_ms)

    def finish(self, now_ms: int) -> None:
        """Stopped with a savepoint: ``FINISHED`` at once."""
        self._vertices_to("FINISHED", now_ms)
        self.held_slots = 0
        self._enter("FINISHED", now_ms)

    def set_requirements(self, bounds: dict[str, tuple[int, int]]) -> None:
        """New parallelism bounds per vertex id (the adaptive scheduler acts on its next
        step)."""
        for vertex in self.vertices:
            if vertex.id in bounds:
                vertex.lower_bound, vertex.upper_bound = bounds[vertex.id]

    # -- Flink's JSON --------------------------------------------------------------------

    def _task_counts(self, vertex: StandInVertex) -> dict[str, int]:
        counts = dict.fromkeys(EXECUTION_STATES, 0)
        counts[vertex.status] = vertex.parallelism
        return counts

    def _status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(EXECUTION_STATES, 0)
        for vertex in self.vertices:
            counts[vertex.status] += 1
        return counts

    def _duration(self, now_ms: int) -> int:
        return (self.end_ms if self.terminal else now_ms) - self.submitted_ms

    def _scheduler(self) -> str:
        return "Adaptive" if self.adaptive else "Default"

    def overview_json(self, now_ms: int) -> dict[str, Any]:
        """An entry of ``GET /jobs/overview``."""
        tasks = dict.fromkeys((s.lower() for s in EXECUTION_STATES), 0)
        for vertex in self.vertices:
            tasks[vertex.status.lower()] += vertex.parallelism
        tasks["total"] = sum(v.parallelism for v in self.vertices)
        return {
            "jid": self.id,
            "name": self.name,
            "jobType": "STREAMING",
            "schedulerType": self._scheduler(),
            "start-time": self.submitted_ms,
            "end-time": self.end_ms,
            "duration": self._duration(now_ms),
            "state": self.state,
            "last-modification": self.changed_ms,
            "tasks": tasks,
            "pending-operators": 0,
        }

    def _vertex_json(self, vertex: StandInVertex, now_ms: int) -> dict[str, Any]:
        end = vertex.end_ms
        started = vertex.start_ms >= 0
        return {
            "id": vertex.id,
            "slotSharingGroupId": _hex_id(self.id, "slot-sharing-group"),
            "name": vertex.name,
            "maxParallelism": vertex.max_parallelism,
            "parallelism": vertex.parallelism,
            "status": vertex.status,
            "start-time": vertex.start_ms,
            "end-time": end,
            "duration": (end if end >= 0 else now_ms) - vertex.start_ms if started else -1,
            "tasks": self._task_counts(vertex),
            "metrics": _idle_vertex_metrics(vertex.status == "RUNNING"),
        }

    def plan_json(self) -> dict[str, Any]:
        """The job graph: each vertex reads the one before it (hash-partitioned)."""
        nodes: list[dict[str, Any]] = []
        for index, vertex in enumerate(self.vertices):
            node: dict[str, Any] = {
                "id": vertex.id,
                "operator": "",
                "parallelism": vertex.parallelism,
                "operator_strategy": "",
                "description": vertex.name,
                "optimizer_properties": {},
            }
            if index:
                upstream = self.vertices[index - 1].id
                exchange = {"exchange": "pipelined_bounded", "ship_strategy": "HASH"}
                node["inputs"] = [{"id": upstream, "num": 0, **exchange}]
            nodes.append(node)
        return {"jid": self.id, "name": self.name, "type": "STREAMING", "nodes": nodes}

    def details_json(self, now_ms: int) -> dict[str, Any]:
        """``GET /jobs/:jobid``."""
        return {
            "jid": self.id,
            "application-id": self.id,
            "name": self.name,
            "isStoppable": False,
            "state": self.state,
            "job-type": "STREAMING",
            "schedulerType": self._scheduler(),
            "start-time": self.submitted_ms,
            "end-time": self.end_ms,
            "duration": self._duration(now_ms),
            "maxParallelism": -1,
            "now": now_ms,
            "timestamps": dict(self.timestamps),
            "vertices": [self._vertex_json(vertex, now_ms) for vertex in self.vertices],
            "status-counts": self._status_counts(),
            "plan": self.plan_json(),
            "pending-operators": 0,
        }

    def requirements_json(self) -> dict[str, Any]:
        """``GET /jobs/:jobid/resource-requirements``."""
        return {
            v.id: {"parallelism": {"lowerBound": v.lower_bound, "upperBound": v.upper_bound}}
            for v in self.vertices
        }


def _idle_vertex_metrics(complete: bool) -> dict[str, Any]:
    """A vertex's I/O metrics: the stand-in processes no records. Busy time is
    ``"NaN"`` as Flink reports it while nothing was measured."""
    metrics: dict[str, Any] = {}
    for name in ("read-bytes", "write-bytes", "read-records", "write-records"):
        metrics[name] = 0
        metrics[f"{name}-complete"] = complete
    metrics["accumulated-backpressured-time"] = 0
    metrics["accumulated-idle-time"] = 0
    metrics["accumulated-busy-time"] = "NaN"
    return metrics
