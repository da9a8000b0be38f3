"""Rescale a running Flink job: in place, or through a savepoint and a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow_provider_flink_k8s.exceptions import (
    DeploymentFailed,
    FlinkK8sError,
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
    ResourceConflict,
    SpecError,
    SpecProblem,
)
from airflow_provider_flink_k8s.flinkrest import RetryPolicy, rescaled_requirements
from airflow_provider_flink_k8s.kube.resources import DEPLOYMENT, FLINK_DEPLOYMENT
from airflow_provider_flink_k8s.manifests import object_names, render_manifests
from airflow_provider_flink_k8s.observation import Lifecycle
from airflow_provider_flink_k8s.observation.flink import FlinkJob
from airflow_provider_flink_k8s.observation.intent import Intent, claim, intent_of, retry_salt
from airflow_provider_flink_k8s.observation.job import GLOBALLY_TERMINAL_JOB_STATES, running_job
from airflow_provider_flink_k8s.observation.rescale import (
    WAITS,
    JobView,
    RescaleObservation,
    SavepointView,
    Step,
    next_step,
    rescale_result,
)
from airflow_provider_flink_k8s.observation.scaling import LOAD_METRICS, classify_metrics
from airflow_provider_flink_k8s.observation.waits import WaitFor
from airflow_provider_flink_k8s.operators.arguments import (
    program_args,
    rescale_parallelism,
    rescale_strategy,
)
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, FlinkClusterOperator
from airflow_provider_flink_k8s.operators.job import stable_id, task_key
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.resources.rescaling import (
    RescalePlan,
    VertexState,
    adaptive_scheduler,
    in_place_scaling_supported,
    plan_rescale,
    rescaled_cluster,
    vertex_metrics,
)
from airflow_provider_flink_k8s.resources.sizing import (
    SizingOptions,
    recommend_parallelism,
    taskmanagers_for,
)
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.flinkrest import JobDetails
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
    from airflow_provider_flink_k8s.observation import Outcome
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = ["FlinkRescaleOperator"]

_SAVEPOINT_DIR_KEYS = ("execution.checkpointing.savepoint-dir", "state.savepoints.dir")


def _problem(field: str, rule: str) -> SpecError:
    return SpecError([SpecProblem(field, rule)], subject="rescale request")


class FlinkRescaleOperator(FlinkClusterOperator):
    """Change the parallelism of a running Flink job.

    Strategies (``strategy``):

    - ``in_place``: Flink's adaptive scheduler rescales the running job. The TaskManagers
      are scaled first when the slots are not enough, then every vertex's upper bound
      (``PUT /jobs/:jobid/resource-requirements``) becomes the new parallelism; the task
      waits until every vertex runs at it. Needs ``jobmanager.scheduler: adaptive``.
    - ``savepoint_restart``: stop with a savepoint, scale the TaskManagers, then start the
      job again from the savepoint at the new parallelism -- a session cluster resubmits
      the job's jar (``jar_id``, ``entry_class``, ``args``: Flink's REST API does not tell
      which jar a job came from), an application cluster is redeployed with
      ``job.parallelism`` and ``job.initial_savepoint``. Before a session job is stopped,
      Flink is asked whether that jar, class and arguments build a job
      (``/jars/:jarid/plan``, which submits nothing): a jar it does not have, a class the
      jar lacks or arguments the program refuses fail the task naming ``jar_id``,
      ``entry_class`` or ``args``, with the job still running. If the restart fails
      anyway, the error names the savepoint so the job can be restored by hand.
    - ``auto``: ``in_place`` with the adaptive scheduler, else ``savepoint_restart``.

    For the operator target the FlinkDeployment is patched as the Flink Kubernetes Operator
    rescales: with the adaptive scheduler on Flink >= 1.18 and the job's vertex ids known,
    ``pipeline.jobvertex-parallelism-overrides`` (the operator scales in place), else
    ``job.parallelism`` (the operator upgrades the job by its ``upgradeMode``); the task
    waits until the FlinkDeployment is reconciled and its job RUNNING.

    Nothing is changed (and nothing written) when the job already runs at the
    parallelism. Every bad input -- parallelism below 1 or above the job's max
    parallelism, an unknown strategy, no RUNNING job, ``in_place`` without the adaptive
    scheduler, a session job to restart without its jar -- is refused before any change.

    **A retry resumes.** The rescale is a reconciliation, not a script: before each step
    that cannot be taken back (scaling the TaskManagers, setting the requirements, the
    stop-with-savepoint, the resubmit or redeploy, the FlinkDeployment patch) the task
    records its intent -- owner (the task instance, not the try), step, job, savepoint
    trigger id and path, per-vertex targets, TaskManagers before and after, the new job's
    id -- in the annotation ``airflow-provider-flink-k8s/intent`` of the JobManager
    Deployment (the FlinkDeployment for the operator target), guarded by its
    ``resourceVersion``. It then observes the cluster and takes the step
    :func:`~airflow_provider_flink_k8s.observation.rescale.next_step` gives until done. A
    retry after a kill finds its own intent and carries on: a stopped job is restarted
    from its savepoint, a resubmitted job (a stable id) is awaited, one savepoint per
    trigger id, surplus TaskManagers are scaled down. Another task instance's unfinished
    intent fails the task, naming it (docs/airflow.md, "What a retry does").

    ``downtime_seconds`` is how long the job did not process, from Flink's timestamps (in
    place: the new execution graph's creation until the last vertex started; through a
    savepoint: the old job's end until the new job's last vertex started; ``None`` for
    the operator target). ``time_to_target_seconds`` runs from the request until every
    vertex ran at the new parallelism, the adaptive scheduler's cool-down included.

    The arguments every task shares -- ``cluster``, ``namespace``, the connections,
    ``rest_route``, ``poll_interval``, ``deferrable`` (here: every wait -- the load
    metrics ``"auto"`` plans from, slots, vertices, savepoint, the old job's end, the
    restarted job, the FlinkDeployment reconciled -- in the triggerer; the task resumes
    from its recorded intent and observes again),
    ``timeout`` (here: seconds each of those waits may take), the kubeconfig overrides --
    are :class:`~airflow_provider_flink_k8s.operators.base.FlinkClusterOperator`'s.

    :param parallelism: the new parallelism, or ``"auto"`` for a load-based recommendation
        (:func:`~airflow_provider_flink_k8s.resources.sizing.recommend_parallelism` over
        the vertices' busy time and rates from Flink's metrics, or ``metrics``). Flink's
        REST API has no metrics of a job's vertices until it fetched them from the
        TaskManagers: the task then waits for every vertex to report them (a ``metrics``
        wait, within ``timeout``; a timeout names the vertices without). Templated.
    :param strategy: ``auto``, ``in_place`` or ``savepoint_restart``. Templated.
    :param job_id: the job; ``None``: the cluster's only RUNNING job. Templated.
    :param jar_id: session cluster, ``savepoint_restart``: the uploaded jar the job runs
        from, or a mapping holding ``jar_id``, ``entry_class``, ``args`` (e.g. an upstream
        task's XCom; :class:`FlinkSubmitJobOperator` returns the job id only). Templated.
    :param entry_class: the job's main class (default: the jar manifest's). Templated.
    :param args: the job's arguments. Templated.
    :param metrics: for ``parallelism="auto"``: per vertex id, ``busy_time_ms_per_s`` and
        ``input_rate`` (records/s; a source's emitted records), optionally ``lag``,
        ``lag_growth_rate``, ``source_partitions``; ``None`` reads them from Flink.
        Templated.
    :param target_utilization: the busy-time share ``auto`` sizes for (Flink's autoscaler
        ``utilization.target``).
    :return: ``{job_id, previous_job_id, old_parallelism, new_parallelism, strategy,
        savepoint_path, downtime_seconds, time_to_target_seconds, taskmanagers_before,
        taskmanagers_after, reason}``.
    """

    template_fields: tuple[str, ...] = (
        *FlinkClusterMixin.template_fields,
        "parallelism",
        "strategy",
        "job_id",
        "jar_id",
        "entry_class",
        "args",
        "metrics",
    )
    argument_rules: ClassVar[Mapping[str, Callable[[Any], object]]] = {
        "parallelism": rescale_parallelism,
        "strategy": rescale_strategy,
        "args": program_args,
    }

    def __init__(
        self,
        *,
        parallelism: int | str,
        strategy: str = "auto",
        job_id: str | None = None,
        jar_id: str | Mapping[str, Any] | None = None,
        entry_class: str | None = None,
        args: Sequence[str] | None = None,
        metrics: Mapping[str, Mapping[str, Any]] | None = None,
        target_utilization: float = 0.7,
        **kwargs: Any,
    ) -> None:
        SizingOptions(utilization_target=target_utilization)  # refuses a bad target now
        super().__init__(**kwargs)
        self.parallelism = parallelism
        self.strategy = strategy
        self.job_id = job_id
        self.jar_id = jar_id
        self.entry_class = entry_class
        self.args = args
        self.metrics = metrics
        self.target_utilization = target_utilization
        self.check_arguments()

    # -- entry points ----------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        cluster = self.flink_cluster
        self.persist_web_ui_link(context)
        if target_of(cluster).rescales_by_patching:
            requested = rescale_parallelism(self.parallelism)
            return self._rescale_operator(context, cluster, requested)
        return self._reconcile(context)

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Resume after the trigger decided a wait: the FlinkDeployment reconciled (the
        operator target), or one wait of a standalone rescale is over -- which then
        carries on from the intent recorded in the cluster. After the wait for the load
        metrics (``parallelism="auto"``) the task observes the job again and plans."""
        outcome, resume = self.outcome_of(event)
        if target_of(self.flink_cluster).rescales_by_patching:
            if resume.get("awaited") == "metrics":
                self.finish_wait(outcome)
                requested = rescale_parallelism(self.parallelism)
                progress = _Progress.from_resume(resume)
                return self._rescale_operator(context, self.flink_cluster, requested, progress)
            return self._finish_operator(outcome, resume)
        self._finish_wait_step(outcome, resume.get("savepoint_path"))
        return self._reconcile(context, _Progress.from_resume(resume))

    # -- the reconciliation (standalone) ---------------------------------------------

    def _reconcile(self, context: Context, progress: _Progress | None = None) -> dict[str, Any]:
        """Observe -> plan -> act until the recorded intent is done.

        The intent in the JobManager Deployment's annotation is the only state between
        steps: a retried (or resumed) task reads it and carries on from the cluster. A
        step that waits is a :class:`WaitFor` -- deferred to the triggerer with
        ``deferrable``, else decided here by the same rule."""
        cluster = self.flink_cluster
        owner = task_key(context)
        progress = progress or _Progress()
        with self.rest_hook() as rest:
            held = self._claim_when_measured(context, rest, cluster, owner, progress)
            if isinstance(held, dict):
                return held
            intent, version = held
            while True:
                step = next_step(intent, self._observe(rest, cluster, intent))
                if step.intent != intent:
                    recorded = self._record(cluster, owner, step.intent, version)
                    if recorded is None:  # another writer: read and decide again
                        held = self._claim_when_measured(context, rest, cluster, owner, progress)
                        if isinstance(held, dict):
                            return held
                        intent, version = held
                        continue
                    intent, version = step.intent, recorded
                if step.action == "done":
                    result = rescale_result(intent)
                    self.log.info("Rescale done: %s", result)
                    return result
                if step.action == "failed":
                    raise self._failure(step, intent)
                progress.step(step.action, step.detail)
                if step.waits:
                    self._await(context, cluster, intent, step, progress)
                else:
                    self.log.info("Rescale step %s: %s", step.action, step.detail)
                    self._act(rest, cluster, intent, step)

    def _failure(self, step: Step, intent: Intent) -> DeploymentFailed:
        """The error of a rescale that cannot reach its goal; a job whose failure ended
        it is named with its root exception (logged whole, its first line in the
        message)."""
        details: dict[str, Any] = {"savepoint_path": intent.savepoint_path}
        message = step.detail
        root = self.root_exception(step.failed_job) if step.failed_job else None
        if root:
            self.log.error("Root exception of job %s:\n%s", step.failed_job, root)
            details["root_exception"] = root
            message = f"{message}: {root.strip().splitlines()[0]}"
        return DeploymentFailed("RescaleFailed", message, details=details)

    def _claim_when_measured(
        self,
        context: Context,
        rest: FlinkRestHook,
        cluster: FlinkCluster,
        owner: str,
        progress: _Progress,
    ) -> tuple[Intent, str] | dict[str, Any]:
        """:meth:`_claim`, after waiting for the load metrics a new ``"auto"`` rescale
        plans from (deferred with ``deferrable``: the task resumes in
        :meth:`execute_complete`, observes the job again and plans)."""
        while True:
            held = self._claim(rest, cluster, owner)
            if not isinstance(held, WaitFor):
                return held
            progress.step("await_metrics", held.description)
            self._wait(context, held, None, progress)

    def _claim(
        self, rest: FlinkRestHook, cluster: FlinkCluster, owner: str
    ) -> tuple[Intent, str] | dict[str, Any] | WaitFor:
        """The intent to carry on (ours, unfinished), a fresh one (recorded), the result
        when there is nothing to do (nothing written then), or -- before planning an
        ``"auto"`` rescale -- the wait for the job's load metrics (nothing written
        either). A write that lost to another writer (409) is decided again over what
        that writer recorded."""
        for _ in range(_RECORD_ATTEMPTS):
            found, version = self._read_intent(cluster)
            decision = claim(found, owner, "rescale")
            if decision.decision == "busy":
                raise DeploymentFailed("RescaleInProgress", decision.message)
            if decision.decision == "resume" and found is not None:
                self.log.info("Found this task's intent: %s", decision.message)
                return found, version
            intent = self._new_intent(rest, cluster, owner, found)
            if isinstance(intent, (dict, WaitFor)):
                return intent
            recorded = self._record(cluster, owner, intent, version)
            if recorded is not None:
                return intent, recorded
        name = object_names(cluster).jobmanager
        raise DeploymentFailed("RescaleConflict", f"could not record the intent on {name}")

    def _new_intent(
        self, rest: FlinkRestHook, cluster: FlinkCluster, owner: str, previous: Intent | None
    ) -> Intent | dict[str, Any] | WaitFor:
        """Plan a rescale of the running job (every input checked before any change); for
        ``"auto"`` while Flink has not every vertex's load metrics yet, the wait for them."""
        requested = rescale_parallelism(self.parallelism)
        job = self._find_job(rest, previous if previous and previous.owner == owner else None)
        new = requested if requested != "auto" else self._recommend(rest, job)
        if isinstance(new, WaitFor):
            return new
        plan = self._plan(rest, cluster, job, new)
        self.log.info("Rescale of job %s: %s", job.id, plan.reason)
        if plan.noop:
            return _noop_result(plan)
        session = cluster.mode == "session"
        if plan.strategy == "savepoint_restart":
            if session:
                self._check_submission(rest, plan.new_parallelism)
            self._check_savepoint_dir(rest, cluster)
        restart = plan.strategy == "savepoint_restart"
        salt = retry_salt(previous, owner, job.id)
        return Intent(
            operation="rescale",
            owner=owner,
            strategy=plan.strategy,
            step="planned",
            job_id=job.id,
            old_parallelism=plan.old_parallelism,
            new_parallelism=plan.new_parallelism,
            targets=dict(plan.targets),
            taskmanagers_before=plan.taskmanagers_before,
            taskmanagers_after=plan.taskmanagers_after,
            # Stable ids, recorded before use: one savepoint and one new job, however
            # often the task is retried.
            trigger_id=stable_id(owner, job.id, "savepoint", salt) if restart else None,
            new_job_id=stable_id(owner, job.id, "job", salt) if restart and session else None,
            started_at=(job.now / 1000.0) if job.now else time.time(),
            reason=plan.reason,
        )

    def _read_intent(self, cluster: FlinkCluster) -> tuple[Intent | None, str]:
        """The intent on the JobManager Deployment, and the version it was read at."""
        name = object_names(cluster).jobmanager
        raw = self.kube_hook.get_object(DEPLOYMENT, cluster.namespace, name)
        if raw is None:
            raise _problem("cluster", f"{cluster.namespace}/{cluster.name} is not deployed")
        return intent_of(raw), str((raw.get("metadata") or {}).get("resourceVersion") or "")

    def _record(
        self, cluster: FlinkCluster, owner: str, intent: Intent, version: str
    ) -> str | None:
        """Record ``intent`` if the Deployment is still at ``version``; the new version,
        or ``None`` when another writer came first (409 Conflict)."""
        name = object_names(cluster).jobmanager
        try:
            after = self.kube_hook.record_intent(
                DEPLOYMENT, cluster.namespace, name, intent, version
            )
        except ResourceConflict:
            self.log.info("The intent on %s changed meanwhile; reading it again", name)
            return None
        self.log.info("Intent recorded: %s step %s", intent.strategy, intent.step)
        return str((after.get("metadata") or {}).get("resourceVersion") or "")

    # -- observing -------------------------------------------------------------------

    def _observe(
        self, rest: FlinkRestHook, cluster: FlinkCluster, intent: Intent
    ) -> RescaleObservation:
        listed = {job.id: job for job in rest.jobs()}
        jobs = {job_id: job.state for job_id, job in listed.items()}

        def view(job_id: str) -> JobView:
            # The job list is fresh; a job's details may come from Flink's cache of its
            # execution graph (seconds old), so the list's state and end time win.
            details = _view(rest.job(job_id))
            entry = listed[job_id]
            return replace(details, state=entry.state, end_time=entry.end_time)

        job = view(intent.job_id) if intent.job_id in jobs else None
        application = cluster.mode != "session"
        new_job = None
        if intent.new_job_id and intent.new_job_id in jobs:
            new_job = view(intent.new_job_id)
        elif application and intent.step == "redeploying":
            running = [jid for jid, state in jobs.items() if state not in _TERMINAL]
            new_job = view(running[0]) if running else None
        requirements = None
        if intent.strategy == "in_place" and job is not None and job.state not in _TERMINAL:
            requirements = {
                vertex: found.parallelism.upper_bound
                for vertex, found in rest.resource_requirements(job.id).items()
            }
        savepoint = None
        latest = None
        if intent.trigger_id and intent.step != "planned" and not intent.savepoint_path:
            savepoint = self._savepoint(rest, intent)
            if jobs.get(intent.job_id or "") == "FINISHED" and savepoint is None:
                found = rest.checkpoints(str(intent.job_id)).latest.savepoint
                latest = found.external_path if found is not None else None
        return RescaleObservation(
            jobs=jobs,
            job=job,
            new_job=new_job,
            requirements=requirements,
            savepoint=savepoint,
            latest_savepoint=latest,
            taskmanagers=self._taskmanager_replicas(cluster),
            slots_total=rest.overview().slots_total,
            slots_per_taskmanager=cluster.taskmanager.slots,
            mode="application" if application else "session",
        )

    def _savepoint(self, rest: FlinkRestHook, intent: Intent) -> SavepointView | None:
        """The recorded trigger's status; ``None`` when Flink does not know it (never
        sent, or expired from its operation cache)."""
        try:
            status = rest.savepoint_status(str(intent.job_id), str(intent.trigger_id))
        except FlinkRestNotFound:
            return None
        return SavepointView(status.completed, status.location, status.failure)

    def _taskmanager_replicas(self, cluster: FlinkCluster) -> int:
        name = object_names(cluster).taskmanager
        raw = self.kube_hook.get_object(DEPLOYMENT, cluster.namespace, name) or {}
        return int((raw.get("spec") or {}).get("replicas") or 0)

    # -- acting ----------------------------------------------------------------------

    def _act(self, rest: FlinkRestHook, cluster: FlinkCluster, intent: Intent, step: Step) -> None:
        """Take ``step`` (not a wait). Each action is safe to repeat: a retry that
        cannot know whether it got there takes it again."""
        job_id = str(intent.job_id)
        action = step.action
        if action == "scale_taskmanagers":
            self.kube_hook.scale_taskmanagers(cluster, int(step.count or 0))
        elif action == "set_requirements":
            current = rest.resource_requirements(job_id)
            rest.set_resource_requirements(job_id, rescaled_requirements(current, intent.targets))
        elif action == "stop_with_savepoint":
            rest.stop_with_savepoint(job_id, trigger_id=intent.trigger_id)
        elif action == "resubmit":
            jar_id, entry_class, args = self._submission()
            rest.run_jar(
                jar_id,
                entry_class,
                args,
                intent.new_parallelism,
                intent.savepoint_path,
                job_id=intent.new_job_id,
            )
        elif action == "redeploy":
            self._redeploy(cluster, intent)
        else:
            raise AssertionError(f"not an action of the rescale planner: {action}")

    def _redeploy(self, cluster: FlinkCluster, intent: Intent) -> None:
        """Apply the application cluster at the new parallelism, from the savepoint.
        Server-side apply of the same spec is "unchanged" once applied: applying it again
        covers a task killed between recording the step and the apply."""
        spec = rescaled_cluster(
            cluster,
            intent.new_parallelism,
            savepoint=intent.savepoint_path,
            taskmanagers=intent.taskmanagers_after,
        )
        self.kube_hook.apply(render_manifests(spec))

    def _await(
        self,
        context: Context,
        cluster: FlinkCluster,
        intent: Intent,
        step: Step,
        progress: _Progress,
    ) -> None:
        """Wait for what ``step`` waits for: deferred (``deferrable``; the task resumes
        in :meth:`execute_complete` and observes again), or here. A failed or timed-out
        wait fails the task with its cause."""
        wait = self._wait_of(cluster, intent, step)
        if step.action == "await_job" and cluster.mode != "session":
            self._redeploy(cluster, intent)  # see _redeploy: a killed task may not have
        self._wait(context, wait, intent.savepoint_path, progress)

    def _wait(
        self,
        context: Context,
        wait: WaitFor,
        savepoint: str | None,
        progress: _Progress,
        resume: Mapping[str, Any] | None = None,
    ) -> None:
        """Wait for ``wait`` (deferred with ``deferrable``, else in the worker by the
        same decision) and raise unless it succeeded (naming ``savepoint``, the stopped
        job's, if any). ``resume``: more context for :meth:`execute_complete`."""
        if progress.repeats > 1 and not self.deferrable:
            # Asked for the wait that just ended: Flink's answers disagree for a moment
            # (its job details are cached for seconds). A deferred task's round trip
            # through the triggerer gives them the same moment.
            time.sleep(self.poll_interval)
        resume = {"savepoint_path": savepoint, **progress.to_resume(), **(resume or {})}
        outcome = self.wait_or_defer(context, wait, timeout=self.timeout, resume=resume)
        self._finish_wait_step(outcome, savepoint)

    def _wait_of(self, cluster: FlinkCluster, intent: Intent, step: Step) -> WaitFor:
        """The :class:`WaitFor` of a planner's wait: the same rule the planner applies."""
        action = step.action
        if action == "await_slots":
            return self.cluster_wait(
                "cluster",
                expected_taskmanagers=intent.taskmanagers_after,
                expected_slots=int(step.count or 0),
            )
        if action == "await_release":
            return self.cluster_wait("slots_released", expected_slots=int(step.count or 0))
        new_job = intent.new_job_id if intent.strategy != "in_place" else None
        if action == "await_vertices" or (action == "await_job" and new_job):
            # The new job (listed: its id is recorded) or the rescaled one, RUNNING at the
            # targets: decided on the job's details, as the planner decides (a wait on the
            # job list could end while the details still show the vertices deploying).
            return self.cluster_wait(
                "parallelism",
                job_id=new_job or intent.job_id,
                vertex_parallelism=dict(intent.targets),
            )
        if action == "await_savepoint":
            trigger = intent.trigger_id
            return self.cluster_wait("savepoint", job_id=intent.job_id, trigger_id=trigger)
        if action == "await_stop":
            return self.cluster_wait(
                "job", job_id=intent.job_id, target_states=tuple(GLOBALLY_TERMINAL_JOB_STATES)
            )
        # await_job before the new job is listed: the redeployed application's only job.
        return self.cluster_wait("job")

    def _finish_wait_step(self, outcome: Outcome, savepoint: Any) -> None:
        """Raise unless the wait succeeded; once the old job stopped with its savepoint,
        the error names it (the job can be restored from it by hand)."""
        try:
            self.finish_wait(outcome)
        except FlinkK8sError as error:
            if not savepoint:
                raise
            raise DeploymentFailed(
                "RescaleFailed",
                f"the restarted job did not run ({error}); restore it by hand from "
                f"savepoint {savepoint}",
                details={"savepoint_path": savepoint},
            ) from error

    def _find_job(self, rest: FlinkRestHook, done: Intent | None) -> JobDetails:
        """The job to rescale: ``job_id``, else the cluster's only RUNNING job.

        ``done`` is this task's own finished rescale, if any: a re-run naming the job it
        replaced follows to the job it started."""
        job_id = self.job_id
        if done is not None and done.step == "done" and job_id and job_id == done.job_id:
            job_id = done.new_job_id or job_id
        name = self.flink_cluster.name
        return rest.job(running_job(rest.jobs(), job_id, cluster=name, action="rescale"))

    def _plan(
        self, rest: FlinkRestHook, cluster: FlinkCluster, job: JobDetails, new: int
    ) -> RescalePlan:
        try:
            live = rest.jobmanager_config()
        except FlinkK8sError as error:
            self.log.info("JobManager configuration unreadable (%s); using the spec", error)
            live = {}
        adaptive = adaptive_scheduler(live or cluster.flink_configuration)
        taskmanagers = self._taskmanager_replicas(cluster)
        other_slots = sum(
            rest.job(other.id).parallelism or 0
            for other in rest.jobs()
            if other.id != job.id and not other.is_terminal
        )
        return plan_rescale(
            job_id=job.id,
            job_state=job.state,
            vertices=_vertices(job),
            parallelism=new,
            strategy=self.strategy,
            adaptive=adaptive,
            slots_per_taskmanager=cluster.taskmanager.slots,
            taskmanagers=taskmanagers,
            job_max_parallelism=job.max_parallelism,
            other_slots=other_slots,
        )

    def _recommend(self, rest: FlinkRestHook, job: JobDetails) -> int | WaitFor:
        """The load-based parallelism (the sizing model), with its reasoning logged; or,
        while Flink has not every vertex's load metrics yet, the wait for them.

        Flink's REST API fetches metrics from the TaskManagers lazily, so a job
        (re)started a moment ago answers with none at first: that is a wait
        (:func:`~airflow_provider_flink_k8s.observation.scaling.classify_metrics`
        decides it, here and in the wait), never a sleep in the worker."""
        graph = job.model_dump(mode="json", by_alias=True)
        if self.metrics is not None:
            loads = {str(k): dict(v) for k, v in self.metrics.items()}
        else:
            found = {
                vertex.id: rest.subtask_metrics(job.id, vertex.id, LOAD_METRICS)
                for vertex in job.vertices
            }
            verdict = classify_metrics(FlinkJob.from_rest(graph), job_id=job.id, reported=found)
            if verdict.lifecycle is not Lifecycle.READY:
                self.log.info("Load metrics: %s", verdict.message)
                return self.cluster_wait("metrics", job_id=job.id)
            sources = {v["id"] for v in graph.get("vertices", [])} - _downstream(graph)
            loads = {
                vertex: _load(metrics, source=vertex in sources)
                for vertex, metrics in found.items()
            }
        options = SizingOptions(utilization_target=self.target_utilization)
        recommendation = recommend_parallelism(vertex_metrics(graph, loads), options)
        for decision in recommendation.decisions:
            self.log.info("  %s: %s", decision.name or decision.vertex_id, decision.reason)
        self.log.info("Recommendation: %s", recommendation.reason)
        if not recommendation.scale:
            return job.parallelism or 1
        return recommendation.parallelism

    # -- savepoint and restart: checked before any change ------------------------------

    def _submission(self) -> tuple[str, str | None, list[str]]:
        """The jar, class and arguments to restart a session job with (checked first)."""
        given = self.jar_id
        if isinstance(given, Mapping):
            jar_id = given.get("jar_id")
            entry_class = self.entry_class or given.get("entry_class")
            args = self.args if self.args is not None else given.get("args")
        else:
            jar_id, entry_class, args = given, self.entry_class, self.args
        if not jar_id:
            raise _problem(
                "jar_id",
                "savepoint_restart of a session cluster's job resubmits its jar, which "
                "Flink's REST API does not name: give jar_id (and entry_class, args), or a "
                "mapping holding them",
            )
        return str(jar_id), entry_class, program_args(args)

    def _check_submission(self, rest: FlinkRestHook, parallelism: int) -> None:
        """Ask Flink whether the jar, class and arguments the restart resubmits build a
        job (``/jars/:jarid/plan``: the program's ``main`` runs up to its ``execute``,
        nothing is submitted) -- before the job is stopped, so that a wrong ``jar_id``,
        ``entry_class`` or ``args`` fails the task with the stream still running."""
        jar_id, entry_class, args = self._submission()
        try:
            rest.jar_plan(jar_id, entry_class, args, parallelism)
        except FlinkRestUnavailable:
            raise  # Flink did not answer: not a verdict on the arguments
        except FlinkRestError as error:
            said = ("; ".join(error.errors) or error.message).rstrip(".")
            raise _problem(
                _submission_field(said),
                f"Flink cannot build the job to restart from jar {jar_id} (entry_class "
                f"{entry_class or 'from its manifest'}, args {args}): {said}. Nothing was "
                "stopped",
            ) from error

    def _check_savepoint_dir(self, rest: FlinkRestHook, cluster: FlinkCluster) -> None:
        if cluster.savepoint_dir:
            return
        try:
            live = rest.jobmanager_config()
        except FlinkK8sError:
            live = {}
        if not any(live.get(key) for key in _SAVEPOINT_DIR_KEYS):
            raise _problem(
                "cluster.savepoint_dir",
                "savepoint_restart needs a savepoint directory: set savepoint_dir "
                "(execution.checkpointing.savepoint-dir) on the cluster",
            )

    # -- operator target -------------------------------------------------------------

    def _rescale_operator(
        self,
        context: Context,
        cluster: FlinkCluster,
        requested: int | Literal["auto"],
        progress: _Progress | None = None,
    ) -> dict[str, Any]:
        """Patch the FlinkDeployment once, recorded in its intent annotation: a retry of
        a task killed after the patch finds its intent and waits for the same upgrade.
        ``"auto"`` first waits for the job's load metrics when Flink has not all of
        them (then observes again: ``progress`` counts those waits)."""
        if cluster.job is None:
            raise _problem("cluster.job", "a session FlinkDeployment runs no job of its own")
        owner = task_key(context)
        raw = self._flink_deployment()
        decided = claim(intent_of(raw), owner, "rescale")
        if decided.decision == "busy":
            raise DeploymentFailed("RescaleInProgress", decided.message)
        job_status = (raw.get("status") or {}).get("jobStatus") or {}
        job_id = self.job_id or job_status.get("jobId")
        old = plan_cluster(cluster).parallelism or 1
        job = self._operator_job(str(job_id)) if job_id else None
        if job is not None:
            old = job.parallelism or old
        new = self._recommend_operator(job) if requested == "auto" else requested
        if isinstance(new, WaitFor):
            # Nothing written yet: once the metrics are there, observe and decide anew.
            progress = progress or _Progress()
            progress.step("await_metrics", new.description)
            self._wait(context, new, None, progress, resume={"awaited": "metrics"})
            return self._rescale_operator(context, cluster, requested, progress)
        in_place = adaptive_scheduler(cluster.flink_configuration) and in_place_scaling_supported(
            cluster.flink_version
        )
        self._check_operator_request(cluster, new, in_place=in_place)
        vertex_ids = [vertex.id for vertex in job.vertices] if job is not None else []
        needed = taskmanagers_for(new, cluster.taskmanager.slots)
        spec = rescaled_cluster(cluster, new, taskmanagers=needed, vertex_ids=vertex_ids)
        strategy = "in_place" if in_place and vertex_ids else "upgrade"
        patched = "parallelism overrides" if strategy == "in_place" else "job.parallelism"
        intent = Intent(
            operation="rescale",
            owner=owner,
            strategy=strategy,
            step="patching",
            job_id=job_id,
            old_parallelism=old,
            new_parallelism=new,
            taskmanagers_before=plan_cluster(cluster).taskmanager.replicas,
            taskmanagers_after=plan_cluster(spec).taskmanager.replicas,
            previous_savepoint=job_status.get("upgradeSavepointPath"),
            started_at=time.time(),
            reason=f"FlinkDeployment patched ({strategy}: {patched})",
        )
        if decided.decision == "resume" and decided.intent is not None:
            intent = decided.intent  # the plan this task recorded before it was killed
            self.log.info("Found this task's intent: %s", decided.message)
        elif not self.kube_hook.apply(render_manifests(spec), dry_run=True).changed:
            self.log.info(
                "FlinkDeployment %s already at parallelism %d: nothing to do", cluster.name, new
            )
            return {
                **rescale_result(intent),
                "job_id": job_id,
                "strategy": "none",
                "reason": "already at the parallelism",
            }
        else:
            self._record_operator_intent(intent)
        # The same patch again is unchanged (server-side apply): safe on a retry.
        self.kube_hook.apply(render_manifests(spec))
        generation = (self._flink_deployment().get("metadata") or {}).get("generation")
        intent = intent.at("upgrading", generation=generation)
        self._record_operator_intent(intent)
        self.log.info("Patched FlinkDeployment %s: %s", cluster.name, intent.reason)
        wait = self.cluster_wait("job")
        resume = {"intent": intent.model_dump(mode="json")}
        outcome = self.wait_or_defer(context, wait, timeout=self.timeout, resume=resume)
        return self._finish_operator(outcome, resume)

    def _record_operator_intent(self, intent: Intent) -> None:
        """Record ``intent`` on the FlinkDeployment while it is free or ours; the
        operator writes the status often, so a conflict is read again and retried."""
        cluster = self.flink_cluster
        for _ in range(_RECORD_ATTEMPTS):
            raw = self._flink_deployment()
            decided = claim(intent_of(raw), intent.owner, intent.operation)
            if decided.decision == "busy":
                raise DeploymentFailed("RescaleInProgress", decided.message)
            version = str((raw.get("metadata") or {}).get("resourceVersion") or "")
            try:
                self.kube_hook.record_intent(
                    FLINK_DEPLOYMENT, cluster.namespace, cluster.name, intent, version
                )
                return
            except ResourceConflict:
                self.log.info("FlinkDeployment %s changed meanwhile; again", cluster.name)
        raise DeploymentFailed(
            "RescaleConflict", f"could not record the intent on FlinkDeployment {cluster.name}"
        )

    def _finish_operator(self, outcome: Outcome, resume: Mapping[str, Any]) -> dict[str, Any]:
        """The operator target's result once the FlinkDeployment reconciled the patch."""
        self.finish_wait(outcome)
        intent = Intent.model_validate(resume["intent"])
        found = self._operator_job_status(intent)
        # The operator's job runs behind Flink's REST API, which the task may not reach:
        # the time to target is measured here, the downtime is not known.
        done = intent.at(
            "done",
            new_job_id=found.get("jobId") or outcome.job_id or intent.job_id,
            savepoint_path=found.get("savepoint_path"),
            time_to_target_seconds=round(max(time.time() - intent.started_at, 0.0), 3),
        )
        self._record_operator_intent(done)
        result = {
            **rescale_result(done),
            "job_id": done.new_job_id,
            "downtime_seconds": None,
        }
        self.log.info(
            "Job %s runs at parallelism %s (%s) after %.1fs",
            result["job_id"],
            result["new_parallelism"],
            result["strategy"],
            result["time_to_target_seconds"],
        )
        return result

    def _operator_job_status(self, intent: Intent) -> dict[str, Any]:
        """The job status the FlinkDeployment reports now that the wait found it
        reconciled (``classify_operator_deployment``, at its current generation -- at
        least the one the patch produced): ``jobId``, and ``savepoint_path`` when the
        upgrade took a new savepoint."""
        found = dict((self._flink_deployment().get("status") or {}).get("jobStatus") or {})
        savepoint = found.get("upgradeSavepointPath")
        if savepoint and savepoint != intent.previous_savepoint:
            found["savepoint_path"] = savepoint
        return found

    def _flink_deployment(self) -> dict[str, Any]:
        """The raw FlinkDeployment (its whole status: the snapshot keeps only a part)."""
        cluster = self.flink_cluster
        found = self.kube_hook.get_object(FLINK_DEPLOYMENT, cluster.namespace, cluster.name)
        if found is None:
            what = f"FlinkDeployment {cluster.namespace}/{cluster.name} does not exist"
            raise _problem("cluster", what)
        return found

    def _operator_job(self, job_id: str) -> JobDetails | None:
        """The job's details when Flink's REST API answers (it may not, e.g. simulated)."""
        try:
            with self.rest_hook(retry=RetryPolicy.never()) as rest:
                return rest.job(job_id)
        except FlinkK8sError as error:
            self.log.info("Job %s unreadable through REST (%s): vertex ids unknown", job_id, error)
            return None

    def _recommend_operator(self, job: JobDetails | None) -> int | WaitFor:
        if job is None:
            raise _problem("parallelism", "'auto' needs the job's vertices from Flink's REST API")
        with self.rest_hook() as rest:
            return self._recommend(rest, job)

    def _check_operator_request(self, cluster: FlinkCluster, new: int, *, in_place: bool) -> None:
        problems = []
        maximum = cluster.job.max_parallelism if cluster.job else None
        if maximum is not None and new > maximum:
            problems.append(
                SpecProblem("parallelism", f"must be <= job.max_parallelism {maximum}, got {new}")
            )
        if self.strategy == "in_place" and not in_place:
            rule = (
                "in_place on the operator target needs 'jobmanager.scheduler: adaptive' and "
                f"Flink >= 1.18 (flink_version is {cluster.flink_version})"
            )
            problems.append(SpecProblem("strategy", rule))
        if problems:
            raise SpecError(problems, subject="rescale request")


_RECORD_ATTEMPTS = 5
_WAITS = WAITS | {"await_metrics"}
"""The planner's waits, and the wait for the load metrics before planning ``"auto"``."""
_MAX_REPEATS = 3
_MAX_WAIT_REPEATS = 10


def _submission_field(flink_said: str) -> str:
    """The argument Flink's refusal of a plan is about, as its message tells: the jar
    (not uploaded, or deleted), the entry class (not in the jar, no manifest entry), or
    else what the program made of its arguments."""
    said = flink_said.lower()
    if "jar file" in said and "does not exist" in said:
        return "jar_id"
    if "entry point class" in said or "classnotfound" in said or "main-class" in said:
        return "entry_class"
    return "args"


def _vertices(job: JobDetails) -> list[VertexState]:
    return [
        VertexState(
            vertex_id=vertex.id,
            name=vertex.name or "",
            parallelism=vertex.parallelism,
            max_parallelism=vertex.max_parallelism or 32768,
        )
        for vertex in job.vertices
    ]


def _downstream(graph: Mapping[str, Any]) -> set[str]:
    nodes = (graph.get("plan") or {}).get("nodes") or []
    return {str(node["id"]) for node in nodes if node.get("inputs")}


def _load(found: Mapping[str, Mapping[str, float]], *, source: bool) -> dict[str, float]:
    """A vertex's load for the sizing model from its aggregated subtask metrics."""
    busy = found.get("busyTimeMsPerSecond", {}).get("max")
    rate = found.get("numRecordsOutPerSecond" if source else "numRecordsInPerSecond", {})
    load = {"input_rate": max(float(rate.get("sum", 0.0)), 0.0)}
    if busy is not None and busy == busy:  # not NaN
        load["busy_time_ms_per_s"] = min(max(float(busy), 0.0), 1000.0)
    return load


_TERMINAL = GLOBALLY_TERMINAL_JOB_STATES


def _noop_result(plan: RescalePlan) -> dict[str, Any]:
    """The result of a rescale with nothing to do (nothing was written)."""
    return {
        "job_id": plan.job_id,
        "previous_job_id": plan.job_id,
        "old_parallelism": plan.old_parallelism,
        "new_parallelism": plan.new_parallelism,
        "strategy": "none",
        "savepoint_path": None,
        "taskmanagers_before": plan.taskmanagers_before,
        "taskmanagers_after": plan.taskmanagers_after,
        "reason": plan.reason,
        "downtime_seconds": 0.0,
        "time_to_target_seconds": 0.0,
    }


def _view(job: JobDetails) -> JobView:
    return JobView(
        id=job.id,
        state=job.state,
        parallelisms={vertex.id: vertex.parallelism for vertex in job.vertices},
        vertex_states=tuple(vertex.status for vertex in job.vertices),
        vertex_start_times=tuple(vertex.start_time for vertex in job.vertices),
        end_time=job.end_time,
        timestamps=dict(job.timestamps),
    )


class _Progress:
    """Whether the reconciliation moves on. Taking the same action again and again
    without the cluster moving on, or being asked for the same wait right after it was
    over, is a cluster that ignores the action (or a bug): fail rather than loop. Plain
    JSON in the resume context, so a deferred task keeps count."""

    def __init__(self, last: str | None = None, repeats: int = 0) -> None:
        self.last = last
        self.repeats = repeats

    @classmethod
    def from_resume(cls, resume: Mapping[str, Any]) -> _Progress:
        """The count a deferred task carried (see :meth:`to_resume`)."""
        last = resume.get("last_step")
        return cls(str(last) if last else None, int(resume.get("step_repeats") or 0))

    def to_resume(self) -> dict[str, Any]:
        """The count as resume context of a deferral."""
        return {"last_step": self.last, "step_repeats": self.repeats}

    def step(self, action: str, detail: str) -> None:
        """``action`` is the next step.

        :raises DeploymentFailed: ``RescaleStuck`` when it repeats past the limit."""
        self.repeats = self.repeats + 1 if action == self.last else 1
        self.last = action
        if self.repeats > (_MAX_WAIT_REPEATS if action in _WAITS else _MAX_REPEATS):
            raise DeploymentFailed(
                "RescaleStuck", f"{action} taken {self.repeats} times without effect: {detail}"
            )
