"""Tear a Flink cluster down: optionally stop its jobs with a savepoint, then delete it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_flink_k8s.exceptions import (
    DeploymentFailed,
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
    SavepointFailed,
)
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import GLOBALLY_TERMINAL_JOB_STATES
from airflow_provider_flink_k8s.observation.ownership import (
    FinalSavepoint,
    anchor_index,
    deleted_by,
    earlier_teardown,
    teardown_record,
)
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, FlinkClusterOperator
from airflow_provider_flink_k8s.operators.job import stable_id, task_key
from airflow_provider_flink_k8s.operators.savepoint import (
    check_format_type,
    require_savepoint_dir,
    savepoint_location,
)
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.flinkrest import SavepointStatus
    from airflow_provider_flink_k8s.flinkrest.requests import FormatType
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook

__all__ = ["FlinkTeardownOperator"]

SavepointResult = FinalSavepoint


class FlinkTeardownOperator(FlinkClusterOperator):
    """Delete every object of a cluster and wait until they are gone (pods included).

    With ``savepoint=True`` the running jobs are first stopped with a savepoint
    (standalone, or a session cluster of the operator target: Flink's REST
    stop-with-savepoint under a trigger id derived from the task instance, so a retry
    picks up the same savepoint; operator target, application cluster: the
    FlinkDeployment is suspended with ``upgradeMode: savepoint`` and the operator's
    ``upgradeSavepointPath`` read). When the savepoint fails the cluster is **not**
    deleted and the task fails with Flink's message. When Flink cannot be reached, the
    task fails too unless ``savepoint_required=False`` (then it logs and deletes).

    A cluster that is already gone is a success. Use it as an Airflow teardown task --
    ``FlinkTeardownOperator(...).as_teardown(setups=deploy)`` -- so it runs when work
    tasks fail. The operator target's FlinkSessionJobs on the cluster are deleted first
    (the operator does not delete a session cluster that still has them).

    Before deleting anything it records itself on the cluster's anchor (the ConfigMap, or
    the FlinkDeployment: :data:`~.ownership.TEARDOWN_ANNOTATION` = its task instance, and
    the final savepoint it took), and deletes the anchor last, once everything else is
    gone: a deploy racing it sees the cluster is being deleted, and by whom, and cannot
    claim it anew until the deletion is over. A retry that finds its own record on the
    anchor deletes on and returns the recorded savepoint, without asking Flink again (the
    JobManager may be gone).

    Each wait -- a job's tasks running, each savepoint, the FlinkDeployment suspended, the
    FlinkSessionJobs, every object but the anchor, then the anchor gone -- is a
    :class:`WaitFor`: with ``deferrable=True`` the task acts, defers to
    :class:`FlinkClusterTrigger` and resumes for the next step (it may defer several
    times); otherwise it waits in the worker through the same decision.

    ``on_kill`` does nothing: deletion is idempotent, so run the task again.

    The arguments every task shares -- ``cluster``, ``namespace``, the connections,
    ``rest_route``, ``poll_interval`` (here 1 s by default), ``deferrable``, ``timeout``
    (here 300 s by default: for each savepoint, and again for each step of the
    deletion), the kubeconfig overrides -- are :class:`FlinkClusterOperator`'s.

    :param savepoint: stop the running job(s) with a savepoint first.
    :param savepoint_required: with ``savepoint``, fail (and keep the cluster) when
        Flink cannot be reached; ``False``: log it and delete anyway.
    :param savepoint_dir: where to write it (default: the spec's ``savepoint_dir``, else
        Flink's ``state.savepoints.dir``; with none of them and a job running, the task
        fails before stopping or deleting anything, a ``SpecError`` naming
        ``savepoint_dir``). Templated.
    :param drain: emit ``MAX_WATERMARK`` before stopping (for a job that will not resume).
    :param format_type: ``CANONICAL`` or ``NATIVE``.
    :return: the final savepoint's path; ``None`` without ``savepoint`` or when no job
        ran; ``{job_id: path}`` when several jobs ran.
    """

    template_fields: tuple[str, ...] = (*FlinkClusterMixin.template_fields, "savepoint_dir")
    ui_color = "#f2e6e6"
    default_poll_interval: ClassVar[float] = 1.0
    default_timeout: ClassVar[float] = 300.0

    def __init__(
        self,
        *,
        savepoint: bool = False,
        savepoint_required: bool = True,
        savepoint_dir: str | None = None,
        drain: bool = False,
        format_type: str = "CANONICAL",
        **kwargs: Any,
    ) -> None:
        checked = check_format_type(format_type)
        super().__init__(**kwargs)
        self.format_type: FormatType = checked
        self.savepoint = savepoint
        self.savepoint_required = savepoint_required
        self.savepoint_dir = savepoint_dir
        self.drain = drain
        self.check_arguments()

    def execute(self, context: Context) -> SavepointResult:
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        (anchor,) = self.kube_hook.live_objects([self._anchor()])
        earlier = earlier_teardown(anchor, task_key(context))
        if earlier is not None:
            # A retry after this task had stopped the jobs and started deleting: Flink may
            # be gone already, and the anchor records the savepoint(s) it took.
            self.log.info(
                "This task instance started deleting %s/%s before (final savepoint: %s); "
                "deleting the rest",
                namespace,
                name,
                earlier.result or "none",
            )
            return self._delete(context, earlier.result)
        snapshot = self.kube_hook.observe(name, namespace, target=cluster.target, log_lines=0)
        exists = bool(snapshot.deployments or snapshot.flink_deployment or snapshot.pods)
        if exists:
            self.persist_web_ui_link(context)
            if self.savepoint:
                return self._final_savepoint(context)
        elif self.savepoint:
            self.log.info("Cluster %s/%s is not running: no job to savepoint", namespace, name)
        return self._delete(context, None)

    def on_kill(self) -> None:
        """Nothing: deleting is idempotent; run the task again to finish it."""

    # -- savepoints --------------------------------------------------------------------

    def _final_savepoint(self, context: Context) -> SavepointResult:
        cluster = self.flink_cluster
        if target_of(cluster).controls_job(cluster.mode):
            return self._suspend_with_savepoint(context)
        return self._stop_next_job(context, {})

    def _unreachable(self, error: Exception) -> None:
        """Flink cannot be reached for the final savepoint: fail (keeping the cluster)
        unless ``savepoint_required=False``."""
        if self.savepoint_required:
            raise DeploymentFailed(
                "RestUnavailable",
                f"cannot reach Flink to take the final savepoint, so the cluster is kept: "
                f"{error} (savepoint_required=False deletes it anyway)",
            ) from error
        self.log.warning(
            "No final savepoint (Flink does not answer: %s); deleting the cluster, "
            "as savepoint_required=False allows",
            error,
        )

    def _stop_next_job(self, context: Context, paths: dict[str, str]) -> SavepointResult:
        """Stop the next job that has not ended with a savepoint (``paths``: the jobs
        stopped so far, by id); once none is left, delete the cluster."""
        try:
            with self.rest_hook() as rest:
                job_id, sent = self._next_running_job(rest, task_key(context), paths)
                if job_id is not None and not sent:  # refused before anything is stopped
                    directory = self.savepoint_dir or self.flink_cluster.savepoint_dir
                    require_savepoint_dir(rest, directory, "the final savepoint (savepoint=True)")
        except (FlinkRestUnavailable, FlinkRestNotFound) as error:
            self._unreachable(error)
            return self._delete(context, None)
        if job_id is not None and sent:
            # A retry: the job is stopping with the savepoint this task asked for; its
            # tasks may be finishing already, so wait for that savepoint, not for them.
            return self._wait_for_stop(context, job_id, paths)
        if job_id is not None:
            return self.wait_then(
                context,
                self.cluster_wait("tasks_running", job_id=job_id),
                timeout=self.timeout,
                resume={"paths": paths, "job_id": job_id},
                then=self.execute_stop,
            )
        if not paths:
            self.log.info("No running job: no savepoint to take")
            return self._delete(context, None)
        return self._delete(context, next(iter(paths.values())) if len(paths) == 1 else paths)

    def _next_running_job(
        self, rest: FlinkRestHook, key: str, paths: dict[str, str]
    ) -> tuple[str | None, bool]:
        """The next job to stop (``None`` when none runs), and whether this task already
        asked Flink to stop it (a retry: Flink knows the stop's trigger id, in progress or
        written while the job ends). A job that ended after this task stopped it before
        adds the savepoint it stopped with to ``paths``."""
        for job in rest.jobs():
            if job.id in paths:
                continue
            trigger_id = stable_id(key, "stop", job.id)
            status = self._stop_status(rest, job.id, trigger_id)
            if job.state not in GLOBALLY_TERMINAL_JOB_STATES:
                if status is not None and status.failure is None:
                    self.log.info(
                        "Picking up the stop-with-savepoint %s of job %s, sent before by this task",
                        trigger_id,
                        job.id,
                    )
                    return job.id, True
                self.log.info("Stopping job %s (%s) with a savepoint", job.id, job.name)
                return job.id, False
            if (
                status is not None
                and status.completed
                and status.location
                and status.failure is None
            ):
                self.log.info("Job %s was stopped by this task before: %s", job.id, status.location)
                paths[job.id] = status.location
        return None, False

    def execute_stop(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """Every task of the job runs: stop it with a savepoint, and wait for it."""
        outcome, resume = self.outcome_of(event)
        self.finish_wait(outcome)
        job_id, paths = str(resume["job_id"]), dict(resume["paths"])
        trigger_id = stable_id(task_key(context), "stop", job_id)
        directory = self.savepoint_dir or self.flink_cluster.savepoint_dir
        try:
            with self.rest_hook() as rest:
                rest.stop_with_savepoint(
                    job_id,
                    directory,
                    drain=self.drain,
                    format_type=self.format_type,
                    trigger_id=trigger_id,
                )
        except FlinkRestError as error:
            raise SavepointFailed(job_id, trigger_id, str(error)) from error
        return self._wait_for_stop(context, job_id, paths)

    def _wait_for_stop(
        self, context: Context, job_id: str, paths: dict[str, str]
    ) -> SavepointResult:
        """Wait for the savepoint of this task's stop of ``job_id``, then stop the next."""
        trigger_id = stable_id(task_key(context), "stop", job_id)
        wait = self.cluster_wait("savepoint", job_id=job_id, trigger_id=trigger_id)
        return self.wait_then(
            context,
            wait,
            timeout=self.timeout,
            resume={"paths": paths, "job_id": job_id},
            then=self.execute_stopped,
        )

    def execute_stopped(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """A job stopped with its savepoint: on to the next job (the cluster is kept when
        the savepoint failed)."""
        outcome, resume = self.outcome_of(event)
        job_id, paths = str(resume["job_id"]), dict(resume["paths"])
        paths[job_id] = savepoint_location(self.finish_wait(outcome))
        self.log.info("Job %s stopped; savepoint %s", job_id, paths[job_id])
        return self._stop_next_job(context, paths)

    @staticmethod
    def _stop_status(rest: FlinkRestHook, job_id: str, trigger_id: str) -> SavepointStatus | None:
        """Flink's answer about this task's stop of ``job_id``; ``None``: never sent."""
        try:
            return rest.savepoint_status(job_id, trigger_id)
        except FlinkRestNotFound:
            return None

    def _suspend_with_savepoint(self, context: Context) -> SavepointResult:
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        patch = {"spec": {"job": {"state": "suspended", "upgradeMode": "savepoint"}}}
        self.log.info("Suspending FlinkDeployment %s with a savepoint", name)
        after = self.kube_hook.patch_object(FLINK_DEPLOYMENT, namespace, name, patch)
        generation = (after.get("metadata") or {}).get("generation")
        wait = self.cluster_wait("suspended", generation=generation)
        return self.wait_then(
            context, wait, timeout=self.timeout, resume={}, then=self.execute_suspended
        )

    def execute_suspended(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """The FlinkDeployment is suspended with its savepoint: delete the cluster (it is
        kept when the savepoint failed)."""
        outcome, _ = self.outcome_of(event)
        location = savepoint_location(self.finish_wait(outcome))
        self.log.info(
            "FlinkDeployment %s suspended; savepoint %s", self.flink_cluster.name, location
        )
        return self._delete(context, location)

    # -- deletion ----------------------------------------------------------------------

    def _delete(self, context: Context, result: SavepointResult) -> SavepointResult:
        """The operator target's FlinkSessionJobs first (the operator does not delete a
        session cluster that still has them), then the cluster."""
        cluster = self.flink_cluster
        if not target_of(cluster).session_jobs_as_objects:
            return self._delete_cluster(context, result)
        jobs = [
            job
            for job in self.kube_hook.list_objects(FLINK_SESSION_JOB, cluster.namespace)
            if (job.get("spec") or {}).get("deploymentName") == cluster.name
        ]
        if not jobs:
            return self._delete_cluster(context, result)
        for job in jobs:
            job_name = str(job["metadata"]["name"])
            self.log.info("Deleting FlinkSessionJob %s", job_name)
            self.kube_hook.delete_object(FLINK_SESSION_JOB, cluster.namespace, job_name)
        return self.wait_then(
            context,
            self.cluster_wait("session_jobs_deleted"),
            timeout=self.timeout,
            resume={"result": result},
            then=self.execute_delete,
        )

    def execute_delete(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """The FlinkSessionJobs are gone: delete the cluster."""
        outcome, resume = self.outcome_of(event)
        self.finish_wait(outcome)
        return self._delete_cluster(context, resume.get("result"))

    def _delete_cluster(self, context: Context, result: SavepointResult) -> SavepointResult:
        """Record this teardown on the anchor, then delete every other object of the
        cluster and wait until they are gone (the anchor goes last)."""
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        anchor = self._anchor()
        me = task_key(context)
        marked = self.kube_hook.mark_deleting(anchor, me, record=teardown_record(me, result))
        if deleted_by(marked) not in (None, me):
            self.log.info("%s/%s is being deleted by %s too", namespace, name, deleted_by(marked))
        self.log.info("Deleting Flink cluster %s/%s (up to %.0fs)", namespace, name, self.timeout)
        last = (str(anchor["kind"]), str(anchor["metadata"]["name"]))
        deleted = self.kube_hook.delete_cluster(
            name, namespace, wait=False, first_owners_only=True, last=last
        )
        if deleted.already_gone and not self.kube_hook.remaining_objects(name, namespace):
            self.log.info("Flink cluster %s/%s was already gone", namespace, name)
            return result
        return self.wait_then(
            context,
            self.cluster_wait("deleted", keep="/".join(last)),
            timeout=self.timeout,
            resume={"result": result, "deleted": [str(key) for key in deleted.deleted]},
            then=self.execute_delete_anchor,
        )

    def execute_delete_anchor(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """Everything but the anchor is gone: delete the anchor, and wait until it is."""
        outcome, resume = self.outcome_of(event)
        self.finish_wait(outcome)
        cluster = self.flink_cluster
        anchor = self._anchor()
        last = (str(anchor["kind"]), str(anchor["metadata"]["name"]))
        deleted = self.kube_hook.delete_cluster(
            cluster.name, cluster.namespace, wait=False, last=last
        )
        resume["deleted"] = [*resume.get("deleted", ()), *(str(key) for key in deleted.deleted)]
        return self.wait_then(
            context,
            self.cluster_wait("deleted"),
            timeout=self.timeout,
            resume=resume,
            then=self.execute_complete,
        )

    def _anchor(self) -> dict[str, Any]:
        """The cluster's anchor manifest (the object a deploy claims it by)."""
        manifests = render_manifests(self.flink_cluster)
        return manifests[anchor_index(manifests)]

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> SavepointResult:
        """Every object of the cluster is gone: the final savepoint's path (if any)."""
        outcome, resume = self.outcome_of(event)
        self.finish_wait(outcome)
        objects = ", ".join(resume.get("deleted") or ()) or "what was being deleted"
        self.log.info("Deleted %s; nothing is left", objects)
        result: SavepointResult = resume.get("result")
        return result
