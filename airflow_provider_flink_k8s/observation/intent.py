"""An operation's intent, kept in the cluster: what a task is doing, so a retry resumes it.

A multi-step operation (a rescale: stop with a savepoint, resubmit; or set the resource
requirements, then scale the TaskManagers down) leaves the cluster half-changed when the
worker dies between two steps. The worker's memory is gone; the cluster is not. So before
each irreversible step the task records an :class:`Intent` -- the operation, its owner
(the task instance, never the try), the step it is about to take and every id it will
act under (the savepoint trigger id, the new job id) -- as JSON in the annotation
:data:`INTENT_ANNOTATION` of the cluster's JobManager Deployment (standalone) or
FlinkDeployment (operator target), and updates it after the step.

:func:`claim` is the one rule over a found intent:

================================  ===========================================
found                             decision
================================  ===========================================
none, or finished (any owner)     ``free``: start anew
unfinished, same owner            ``resume``: carry on from its step
unfinished, another owner         ``busy``: fail, naming that task instance
================================  ===========================================

Another owner's unfinished intent fails the task rather than waiting for it: the other
task may be dead for good (its run failed for lack of retries), and waiting would hang
this one; the error names the owner, so a person can retry that run or clear the
annotation. Writes carry the object's ``resourceVersion`` (the hook's ``record_intent``), so
two tasks cannot both take a free cluster: the loser gets 409 Conflict, reads again and
decides again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, ValidationError

from airflow_provider_flink_k8s.observation._base import FrozenModel

__all__ = [
    "Claim",
    "INTENT_ANNOTATION",
    "Intent",
    "claim",
    "intent_of",
    "intent_patch",
    "retry_salt",
]

INTENT_ANNOTATION = "airflow-provider-flink-k8s/intent"
"""The annotation holding the current :class:`Intent` as JSON."""

FINISHED_STEPS = ("done", "failed")


class Intent(FrozenModel):
    """What one task is doing to a cluster, as recorded before each step.

    :param operation: e.g. ``rescale``.
    :param owner: the task instance, ``dag/task/run/map_index`` (the same for every try).
    :param strategy: how (``in_place``, ``savepoint_restart``, ``upgrade``...).
    :param step: the step about to be taken, or taken last (``done``/``failed`` end it).
    :param job_id: the job acted on.
    :param old_parallelism: the job's parallelism before.
    :param new_parallelism: the target parallelism.
    :param targets: each vertex's target parallelism.
    :param taskmanagers_before: TaskManagers before.
    :param taskmanagers_after: TaskManagers planned afterwards.
    :param trigger_id: the stop-with-savepoint trigger id (stable: at most one savepoint).
    :param savepoint_path: the savepoint, once completed.
    :param new_job_id: the id the job is resubmitted under (stable: never two jobs).
    :param generation: the FlinkDeployment generation this task patched to.
    :param previous_savepoint: the upgrade savepoint the FlinkDeployment reported before
        (a new one afterwards is this operation's).
    :param started_at: when the operation started (epoch seconds, Flink's clock where
        known), for ``time_to_target_seconds``.
    :param stopped_at: when the old job stopped processing (epoch seconds, Flink's clock).
    :param reason: the plan's reason, for the result.
    :param error: why the operation failed (step ``failed``).
    :param downtime_seconds: how long the job did not process (step ``done``).
    :param time_to_target_seconds: from the start until every vertex ran at its target.
    """

    operation: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    strategy: str
    step: str
    job_id: str | None = None
    old_parallelism: int = 0
    new_parallelism: int = 0
    targets: dict[str, int] = Field(default_factory=dict)
    taskmanagers_before: int = 0
    taskmanagers_after: int = 0
    trigger_id: str | None = None
    savepoint_path: str | None = None
    new_job_id: str | None = None
    generation: int | None = None
    previous_savepoint: str | None = None
    started_at: float = 0.0
    stopped_at: float | None = None
    reason: str = ""
    error: str | None = None
    downtime_seconds: float = 0.0
    time_to_target_seconds: float = 0.0

    @property
    def finished(self) -> bool:
        """Whether the operation ended (done or failed): the cluster is free again."""
        return self.step in FINISHED_STEPS

    def at(self, step: str, **changes: Any) -> Intent:
        """This intent at ``step``, with ``changes``."""
        return self.model_copy(update={"step": step, **changes})

    def to_annotation(self) -> str:
        """The annotation's value: compact JSON."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_annotation(cls, text: str) -> Intent | None:
        """The intent an annotation holds; ``None`` for a value this version cannot read
        (treated as no intent: an unreadable note must not block the cluster forever)."""
        try:
            return cls.model_validate(json.loads(text))
        except (ValueError, ValidationError):
            return None


@dataclass(frozen=True)
class Claim:
    """:func:`claim`'s decision: ``free``, ``resume`` (ours) or ``busy`` (another's)."""

    decision: Literal["free", "resume", "busy"]
    intent: Intent | None = None
    message: str = ""


def claim(found: Intent | None, owner: str, operation: str) -> Claim:
    """Decide over the intent found on a cluster (see the module's table)."""
    if found is None or found.finished:
        return Claim("free", found)
    if found.owner == owner and found.operation == operation:
        return Claim("resume", found, f"resuming {operation} at step {found.step}")
    message = (
        f"another task ({found.owner}) is in the middle of a {found.operation} "
        f"(step {found.step}, job {found.job_id}); retry or finish that run, or remove "
        f"the annotation {INTENT_ANNOTATION} once nothing runs it"
    )
    return Claim("busy", found, message)


def intent_of(obj: Mapping[str, Any] | None) -> Intent | None:
    """The intent recorded on a raw object (a Deployment or FlinkDeployment), if any."""
    metadata = (obj or {}).get("metadata") or {}
    text = (metadata.get("annotations") or {}).get(INTENT_ANNOTATION)
    return Intent.from_annotation(text) if isinstance(text, str) else None


def intent_patch(intent: Intent | None) -> dict[str, Any]:
    """The JSON merge patch recording ``intent`` (``None`` removes it); the hook makes
    it conditional on the object's ``resourceVersion``."""
    value = None if intent is None else intent.to_annotation()
    return {"metadata": {"annotations": {INTENT_ANNOTATION: value}}}


def retry_salt(previous: Intent | None, owner: str, job_id: str) -> str:
    """What to mix into the ids (savepoint trigger, new job) of a new attempt by
    ``owner`` on ``job_id``: empty normally, so a retry derives the same ids; the failed
    attempt's trigger id when this owner's last attempt on that job failed, as Flink
    answers a known trigger id with its old (failed) result."""
    failed = previous is not None and previous.owner == owner and previous.step == "failed"
    if failed and previous is not None and previous.job_id == job_id:
        return previous.trigger_id or ""
    return ""
