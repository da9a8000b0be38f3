"""Take a savepoint of a running job and return where it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_flink_k8s.exceptions import (
    ArgumentError,
    DeploymentFailed,
    FlinkRestError,
    FlinkRestNotFound,
    SavepointFailed,
    SpecError,
)
from airflow_provider_flink_k8s.flinkrest.requests import FORMAT_TYPES, FormatType
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT
from airflow_provider_flink_k8s.observation import FlinkJob, Outcome, running_job
from airflow_provider_flink_k8s.observation.savepoints import missing_savepoint_dir
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, FlinkClusterOperator
from airflow_provider_flink_k8s.operators.job import stable_id, task_key
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook

__all__ = [
    "FlinkSavepointOperator",
    "check_format_type",
    "require_savepoint_dir",
    "savepoint_location",
]

_MAX_TRIGGERS = 32
_ACTION = "savepoint"


def check_format_type(format_type: str) -> FormatType:
    """``format_type`` if Flink knows it.

    :raises ArgumentError: naming ``format_type`` and the allowed values.
    """
    for known in FORMAT_TYPES:
        if format_type == known:
            return known
    raise ArgumentError(
        "format_type", f"format_type must be one of {', '.join(FORMAT_TYPES)}, not {format_type!r}"
    )


def require_savepoint_dir(rest: FlinkRestHook, directory: str | None, task: str) -> None:
    """Refuse a savepoint with nowhere to go before asking Flink for it: no ``directory``
    and no default in the JobManager's live configuration (unread: Flink decides).

    :raises SpecError: naming ``savepoint_dir`` and its rule.
    """
    if directory:
        return
    try:
        live: dict[str, str] | None = rest.jobmanager_config()
    except FlinkRestError:
        live = None
    problem = missing_savepoint_dir(directory, live, task=task)
    if problem is not None:
        raise SpecError([problem], subject="savepoint request")


def savepoint_location(outcome: Outcome) -> str:
    """The path a successful savepoint wait's outcome carries (``details["location"]``)."""
    return str(outcome.verdict.details["location"])


class FlinkSavepointOperator(FlinkClusterOperator):
    """Trigger a savepoint of a job, wait until Flink has written it, return its path.

    Standalone target (and a session cluster of the operator target), through Flink's
    REST API with a trigger id derived from the task instance: a retried task asks about
    the same operation instead of taking a second savepoint (one that failed is retried
    under the next id). Operator target with an application cluster: bumps the
    FlinkDeployment's ``spec.job.savepointTriggerNonce`` (merge patch) and waits for the
    operator's ``lastSavepoint`` with that nonce; the nonce is derived from the task
    instance too, so a retry waits for the savepoint it asked for.

    Before triggering it (REST), the task waits until every task of the job runs (Flink
    refuses a savepoint of a job whose tasks still deploy). With ``deferrable=True`` both
    waits run in the triggerer (:class:`FlinkClusterTrigger`): the task triggers, defers,
    and resumes to read the path; otherwise they run in the worker through the same
    decision. ``on_kill`` does nothing: a savepoint in progress completes on its own and
    harms nothing.

    The arguments every task shares -- ``cluster``, ``namespace``, the connections,
    ``rest_route``, ``poll_interval`` (here 1 s by default), ``deferrable``, ``timeout``
    (here: seconds for each wait: the job's tasks running, the savepoint written), the
    kubeconfig overrides -- are :class:`FlinkClusterOperator`'s.

    :param job_id: the job (default: the cluster's single RUNNING job; when none or
        several run, or the cluster does not list ``job_id``, a :class:`SpecError` on
        ``job_id`` names the cluster and its jobs). Templated.
    :param savepoint_dir: where to write it (default: the spec's ``savepoint_dir``, else
        Flink's ``state.savepoints.dir``; with none of them the task fails before asking
        Flink, a ``SpecError`` naming ``savepoint_dir``). Templated.
    :param format_type: ``CANONICAL`` (portable) or ``NATIVE`` (faster, backend-specific).
    :return: the savepoint's path (XCom).
    """

    template_fields: tuple[str, ...] = (
        *FlinkClusterMixin.template_fields,
        "job_id",
        "savepoint_dir",
    )
    default_poll_interval: ClassVar[float] = 1.0

    def __init__(
        self,
        *,
        job_id: str | None = None,
        savepoint_dir: str | None = None,
        format_type: str = "CANONICAL",
        **kwargs: Any,
    ) -> None:
        checked = check_format_type(format_type)
        super().__init__(**kwargs)
        self.format_type: FormatType = checked
        self.job_id = job_id
        self.savepoint_dir = savepoint_dir
        self.check_arguments()

    def execute(self, context: Context) -> str:
        cluster = self.flink_cluster
        if target_of(cluster).controls_job(cluster.mode):
            return self._operator_savepoint(context)
        self.persist_web_ui_link(context)
        with self.rest_hook() as rest:
            job_id = running_job(rest.jobs(), self.job_id, cluster=cluster.name, action=_ACTION)
            earlier, _ = self._earlier_trigger(rest, job_id, task_key(context))
            if earlier is None:
                directory = self.savepoint_dir or cluster.savepoint_dir
                require_savepoint_dir(rest, directory, "the savepoint")
        if earlier is not None:  # a retry: follow the savepoint this task asked for
            return self._wait_for_savepoint(context, job_id, earlier)
        return self.wait_then(
            context,
            self.cluster_wait("tasks_running", job_id=job_id),
            timeout=self.timeout,
            resume={"job_id": job_id},
            then=self.execute_trigger,
        )

    def execute_trigger(self, context: Context, event: Mapping[str, Any]) -> str:
        """Every task of the job runs: trigger the savepoint, then wait until Flink has
        written it."""
        outcome, resume = self.outcome_of(event)
        self.finish_wait(outcome)
        job_id = str(resume["job_id"])
        directory = self.savepoint_dir or self.flink_cluster.savepoint_dir
        with self.rest_hook() as rest:
            earlier, fresh = self._earlier_trigger(rest, job_id, task_key(context))
            if earlier is None:
                where = directory or "Flink's state.savepoints.dir"
                self.log.info(
                    "Triggering a %s savepoint of job %s into %s", self.format_type, job_id, where
                )
                rest.trigger_savepoint(
                    job_id, directory, format_type=self.format_type, trigger_id=fresh
                )
        return self._wait_for_savepoint(context, job_id, earlier or fresh)

    def _wait_for_savepoint(self, context: Context, job_id: str, trigger_id: str) -> str:
        return self.wait_then(
            context,
            self.cluster_wait("savepoint", job_id=job_id, trigger_id=trigger_id),
            timeout=self.timeout,
            resume={"job_id": job_id, "trigger_id": trigger_id},
            then=self.execute_complete,
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> str:
        """The savepoint's path, or the failure with Flink's cause."""
        outcome, _ = self.outcome_of(event)
        location = savepoint_location(self.finish_wait(outcome))
        self.log.info("Savepoint written: %s", location)
        return location

    def on_kill(self) -> None:
        """Nothing: a savepoint in progress completes (or fails) on its own."""

    def _earlier_trigger(
        self, rest: FlinkRestHook, job_id: str, key: str
    ) -> tuple[str | None, str]:
        """This task instance's savepoint of ``job_id`` in progress or written (``None``:
        none), and the trigger id a new one takes (the next after any that failed).

        :raises SavepointFailed: when :data:`_MAX_TRIGGERS` of them failed.
        """
        for attempt in range(_MAX_TRIGGERS):
            trigger_id = stable_id(key, "savepoint", job_id, attempt)
            try:
                status = rest.savepoint_status(job_id, trigger_id)
            except FlinkRestNotFound:
                return None, trigger_id
            if not status.completed or status.failure is None:
                self.log.info("Picking up savepoint %s, triggered before by this task", trigger_id)
                return trigger_id, trigger_id
            self.log.info(
                "Savepoint %s failed before (%s); triggering anew", trigger_id, status.failure
            )
        raise SavepointFailed(job_id, trigger_id, f"{_MAX_TRIGGERS} savepoints failed")

    # -- operator target --------------------------------------------------------------

    def _operator_savepoint(self, context: Context) -> str:
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        deployment = self.kube_hook.get_object(FLINK_DEPLOYMENT, namespace, name)
        if deployment is None:
            raise DeploymentFailed(
                "NotDeployed", f"FlinkDeployment {namespace}/{name} does not exist"
            )
        self.persist_web_ui_link(context)
        job_status = (deployment.get("status") or {}).get("jobStatus") or {}
        state = str(job_status.get("state") or "")
        # A stable nonce: a retry waits for the savepoint it asked for, not a second one.
        nonce = int(stable_id(task_key(context), "savepoint-nonce")[:12], 16)
        current = ((deployment.get("spec") or {}).get("job") or {}).get("savepointTriggerNonce")
        if current != nonce:
            # The same rule as the REST path: the application's one job must be RUNNING.
            jid = str(job_status.get("jobId") or "")
            jobs = [FlinkJob(id=jid or "?", state=state)] if jid or state else []
            running_job(jobs, None, cluster=f"{namespace}/{name}", action=_ACTION)
            if self.savepoint_dir or self.format_type != "CANONICAL":
                self.log.info(
                    "The operator writes to its configured directory and format; "
                    "savepoint_dir and format_type apply to the REST path only"
                )
            self.log.info("Setting spec.job.savepointTriggerNonce of %s to %d", name, nonce)
            patch = {"spec": {"job": {"savepointTriggerNonce": nonce}}}
            self.kube_hook.patch_object(FLINK_DEPLOYMENT, namespace, name, patch)

        wait = self.cluster_wait("operator_savepoint", savepoint_nonce=nonce)
        return self.wait_then(
            context,
            wait,
            timeout=self.timeout,
            resume={"nonce": nonce},
            then=self.execute_complete,
        )
