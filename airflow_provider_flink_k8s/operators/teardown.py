"""Tear a Flink cluster down: optionally stop its jobs with a savepoint, then delete it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_flink_k8s.exceptions import (
    DeploymentFailed,
    DeploymentTimeout,
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
    SavepointFailed,
)
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT, FLINK_SESSION_JOB
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import GLOBALLY_TERMINAL_JOB_STATES
from airflow_provider_flink_k8s.observation.operatorjob import SavepointProgress, suspend_savepoint
from airflow_provider_flink_k8s.observation.ownership import anchor_index, deleted_by
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, RestRoute
from airflow_provider_flink_k8s.operators.job import (
    poll,
    stable_id,
    task_key,
)
from airflow_provider_flink_k8s.operators.savepoint import check_format_type, wait_until_tasks_run

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.flinkrest.requests import FormatType
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook

__all__ = ["FlinkTeardownOperator"]

SavepointResult = str | dict[str, str] | None


class FlinkTeardownOperator(FlinkClusterMixin):
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
    the FlinkDeployment: :data:`~.ownership.TEARDOWN_ANNOTATION` = its task instance), and
    deletes the anchor last, once everything else is gone: a deploy racing it sees the
    cluster is being deleted, and by whom, until the deletion is over. After its first
    pass it deletes only objects recording an owner that pass found: a cluster a deploy
    claims anew meanwhile is left to it.

    ``on_kill`` does nothing: deletion is idempotent, so run the task again.

    :param cluster: the cluster (see :class:`FlinkClusterMixin`). Templated.
    :param namespace: the namespace, overriding the spec's. Templated.
    :param savepoint: stop the running job(s) with a savepoint first.
    :param savepoint_required: with ``savepoint``, fail (and keep the cluster) when
        Flink cannot be reached; ``False``: log it and delete anyway.
    :param savepoint_dir: where to write it (default: the spec's ``savepoint_dir``, else
        Flink's ``state.savepoints.dir``). Templated.
    :param drain: emit ``MAX_WATERMARK`` before stopping (for a job that will not resume).
    :param format_type: ``CANONICAL`` or ``NATIVE``.
    :param timeout: seconds for the savepoint, and again for the deletion.
    :return: the final savepoint's path; ``None`` without ``savepoint`` or when no job
        ran; ``{job_id: path}`` when several jobs ran.
    """

    template_fields: tuple[str, ...] = (*FlinkClusterMixin.template_fields, "savepoint_dir")
    ui_color = "#f2e6e6"

    def __init__(
        self,
        *,
        cluster: Any,
        namespace: str | None = None,
        savepoint: bool = False,
        savepoint_required: bool = True,
        savepoint_dir: str | None = None,
        drain: bool = False,
        format_type: str = "CANONICAL",
        timeout: float = 300.0,
        kubernetes_conn_id: str = "kubernetes_default",
        flink_conn_id: str | None = None,
        rest_route: RestRoute = "auto",
        poll_interval: float = 1.0,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.format_type: FormatType = check_format_type(format_type)
        self.init_cluster_task(
            cluster=cluster,
            kubernetes_conn_id=kubernetes_conn_id,
            flink_conn_id=flink_conn_id,
            rest_route=rest_route,
            poll_interval=poll_interval,
            deferrable=deferrable,
            namespace=namespace,
            timeout=timeout,
        )
        self.savepoint = savepoint
        self.savepoint_required = savepoint_required
        self.savepoint_dir = savepoint_dir
        self.drain = drain
        self.check_arguments()

    def execute(self, context: Context) -> SavepointResult:
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        snapshot = self.kube_hook.observe(name, namespace, target=cluster.target, log_lines=0)
        exists = bool(snapshot.deployments or snapshot.flink_deployment or snapshot.pods)
        result: SavepointResult = None
        if exists:
            self.persist_web_ui_link(context)
            if self.savepoint:
                result = self._final_savepoint(context)
        elif self.savepoint:
            self.log.info("Cluster %s/%s is not running: no job to savepoint", namespace, name)
        if cluster.target == "operator":
            self._delete_session_jobs()
        manifests = render_manifests(cluster)
        anchor = manifests[anchor_index(manifests)]
        marked = self.kube_hook.mark_deleting(anchor, task_key(context))
        if deleted_by(marked) not in (None, task_key(context)):
            self.log.info("%s/%s is being deleted by %s too", namespace, name, deleted_by(marked))
        self.log.info("Deleting Flink cluster %s/%s (up to %.0fs)", namespace, name, self.timeout)
        deleted = self.kube_hook.delete_cluster(
            name,
            namespace,
            wait=True,
            timeout=self.timeout,
            first_owners_only=True,
            last=(str(anchor["kind"]), str(anchor["metadata"]["name"])),
        )
        if deleted.already_gone:
            self.log.info("Flink cluster %s/%s was already gone", namespace, name)
        else:
            objects = ", ".join(str(key) for key in deleted.deleted)
            self.log.info("Deleted %s; nothing is left", objects)
        return result

    def on_kill(self) -> None:
        """Nothing: deleting is idempotent; run the task again to finish it."""

    # -- savepoints --------------------------------------------------------------------

    def _final_savepoint(self, context: Context) -> SavepointResult:
        cluster = self.flink_cluster
        if cluster.target == "operator" and cluster.mode == "application":
            return self._suspend_with_savepoint()
        try:
            with self.rest_hook() as rest:
                return self._stop_jobs(rest, task_key(context))
        except (FlinkRestUnavailable, FlinkRestNotFound) as error:
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
            return None

    def _stop_jobs(self, rest: FlinkRestHook, key: str) -> SavepointResult:
        """Stop every job that has not ended with a savepoint; a job this task already
        stopped (a retry) gives the savepoint it stopped with."""
        directory = self.savepoint_dir or self.flink_cluster.savepoint_dir
        paths: dict[str, str] = {}
        for job in rest.jobs():
            trigger_id = stable_id(key, "stop", job.id)
            if job.state in GLOBALLY_TERMINAL_JOB_STATES:
                earlier = self._earlier_savepoint(rest, job.id, trigger_id)
                if earlier is not None:
                    paths[job.id] = earlier
                continue
            self.log.info("Stopping job %s (%s) with a savepoint", job.id, job.name)
            wait_until_tasks_run(
                rest, job.id, timeout=self.timeout, poll_interval=self.poll_interval
            )
            try:
                rest.stop_with_savepoint(
                    job.id,
                    directory,
                    drain=self.drain,
                    format_type=self.format_type,
                    trigger_id=trigger_id,
                )
            except FlinkRestError as error:
                raise SavepointFailed(job.id, trigger_id, str(error)) from error
            status = rest.wait_for_savepoint(
                job.id, trigger_id, timeout=self.timeout, poll_interval=self.poll_interval
            )
            paths[job.id] = status.raise_for_failure()
            self.log.info("Job %s stopped; savepoint %s", job.id, paths[job.id])
        if not paths:
            self.log.info("No running job: no savepoint to take")
            return None
        return next(iter(paths.values())) if len(paths) == 1 else paths

    def _earlier_savepoint(self, rest: FlinkRestHook, job_id: str, trigger_id: str) -> str | None:
        try:
            status = rest.savepoint_status(job_id, trigger_id)
        except FlinkRestNotFound:
            return None
        if status.completed and status.location and status.failure is None:
            self.log.info("Job %s was stopped by this task before: %s", job_id, status.location)
            return status.location
        return None

    def _suspend_with_savepoint(self) -> str:
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        patch = {"spec": {"job": {"state": "suspended", "upgradeMode": "savepoint"}}}
        self.log.info("Suspending FlinkDeployment %s with a savepoint", name)
        after = self.kube_hook.patch_object(FLINK_DEPLOYMENT, namespace, name, patch)
        generation = (after.get("metadata") or {}).get("generation")

        def progress() -> SavepointProgress | None:
            found = self.kube_hook.get_object(FLINK_DEPLOYMENT, namespace, name)
            if found is None:
                return SavepointProgress(error="the FlinkDeployment was deleted meanwhile")
            seen = suspend_savepoint(found.get("status") or {}, generation)
            return seen if seen.done else None

        result = poll(progress, timeout=self.timeout, poll_interval=self.poll_interval)
        if result is None:
            raise DeploymentTimeout(
                f"FlinkDeployment {namespace}/{name} not suspended after {self.timeout:g}s; "
                "the cluster is kept",
                reason="Suspending",
                waited_seconds=self.timeout,
            )
        if result.location is None:
            raise SavepointFailed(name, "suspend", f"{result.error}; the cluster is kept")
        self.log.info("FlinkDeployment %s suspended; savepoint %s", name, result.location)
        return result.location

    def _delete_session_jobs(self) -> None:
        """Delete the FlinkSessionJobs on the cluster, and wait until they are gone."""
        cluster = self.flink_cluster
        namespace = cluster.namespace

        def ours() -> list[dict[str, Any]]:
            return [
                job
                for job in self.kube_hook.list_objects(FLINK_SESSION_JOB, namespace)
                if (job.get("spec") or {}).get("deploymentName") == cluster.name
            ]

        jobs = ours()
        for job in jobs:
            job_name = str(job["metadata"]["name"])
            self.log.info("Deleting FlinkSessionJob %s", job_name)
            self.kube_hook.delete_object(FLINK_SESSION_JOB, namespace, job_name)
        if (
            jobs
            and poll(
                lambda: True if not ours() else None,
                timeout=self.timeout,
                poll_interval=self.poll_interval,
            )
            is None
        ):
            raise DeploymentTimeout(
                f"FlinkSessionJobs of {cluster.name} still exist after {self.timeout:g}s",
                reason="Deleting",
                waited_seconds=self.timeout,
            )
