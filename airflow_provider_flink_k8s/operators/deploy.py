"""Deploy a Flink cluster and wait until it is truly ready."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from airflow_provider_flink_k8s.exceptions import (
    DeploymentFailed,
    error_from_record,
    error_record,
)
from airflow_provider_flink_k8s.kube import ApplyOutcome, cluster_label_selector
from airflow_provider_flink_k8s.manifests import cluster_selector, render_manifests
from airflow_provider_flink_k8s.observation import Lifecycle, Outcome, Verdict
from airflow_provider_flink_k8s.observation.ownership import (
    Claim,
    ClaimDecision,
    FailureAction,
    Ownership,
    anchor_index,
    claim_decision,
    cleanup_action,
    cluster_ownership,
    deleted_by,
    failure_action,
    is_deleting,
    stamp_owner,
)
from airflow_provider_flink_k8s.operators.arguments import (
    FLINK_DEPLOYMENT_API,
    ArgumentError,
    check_flink_deployment_api,
)
from airflow_provider_flink_k8s.operators.base import FlinkClusterOperator
from airflow_provider_flink_k8s.operators.job import task_key
from airflow_provider_flink_k8s.resources.placement import (
    QuotaStatus,
    check_placement,
    free_capacity,
)
from airflow_provider_flink_k8s.resources.plan import ClusterPlan, plan_cluster

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.kube.teardown import DeleteResult
    from airflow_provider_flink_k8s.observation import ClusterSnapshot
    from airflow_provider_flink_k8s.observation.waits import WaitFor
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = ["FlinkDeployOperator"]

OnExists = Literal["update", "fail", "adopt"]
_AIRFLOW_ENDED = "__fail__"
DEPLOY_ERROR_XCOM = "deploy_error"
"""The XCom key under which a failed deploy keeps its error while its cleanup is deferred:
Airflow keeps a task instance's XComs across its deferrals (not across tries), and
replaces the deferral's own kwargs when it ends the deferral itself."""
"""The ``next_method`` Airflow resumes a task with when it ended the deferral itself (its
deferral timeout, a trigger that crashed): ``resume_execution`` raises its error."""


def _deferral_errors() -> tuple[type[Exception], ...]:
    """The errors Airflow raises for a deferral it ended itself."""
    try:
        from airflow.sdk.exceptions import TaskDeferralError, TaskDeferralTimeout
    except ImportError:  # Airflow 3.0 and 3.1 raise them from airflow.exceptions
        from airflow.exceptions import (  # type: ignore[no-redef]
            TaskDeferralError,
            TaskDeferralTimeout,
        )
    return (TaskDeferralError, TaskDeferralTimeout)


class FlinkDeployOperator(FlinkClusterOperator):
    """Deploy a Flink cluster -- native Deployments or a FlinkDeployment -- and wait for it.

    In order, and nothing is written before step 4:

    1. validate the spec (:class:`SpecError` names every field and rule);
    2. plan it: Flink's memory model, TaskManager count, requests and limits;
    3. ``preflight``: check that the pods fit the nodes' free capacity and the
       namespace's ResourceQuota (:class:`DeploymentFailed` ``Unschedulable`` otherwise);
    4. claim the cluster: *create* its anchor (the ConfigMap, or the FlinkDeployment)
       with a create-only ``POST``, annotated with the task instance
       (``airflow-provider-flink-k8s/created-by`` = ``dag_id/task_id/run_id/map_index``,
       the same on every try). Of two runs racing, exactly one creates it; the other gets
       ``409 AlreadyExists`` and reads the record back: its own task instance's (an
       earlier try) -> resume; another run's or none -> ``on_exists``, naming that run; a
       teardown's record or a ``deletionTimestamp`` -> wait until the deletion is over
       (within ``timeout``), then claim anew. Then server-side apply the rest
       (idempotent: a retried or re-run task converges on the same objects), each new
       one annotated with the cluster's owner; a teardown that started meanwhile fails
       the deploy at once (``BeingDeleted``);
    5. ``wait_for_ready``: until the Deployments are rolled out, the pods Ready, the
       JobManager's REST API answers with every TaskManager and slot registered -- in
       application mode, until the job is RUNNING (operator target: the FlinkDeployment
       READY and DEPLOYED/STABLE). Failures end the wait at once with their cause
       (ImagePullBackOff, CrashLoopBackOff with the log tail, Unschedulable,
       ProgressDeadlineExceeded, the job's root exception...).

    A failure after step 2 (placement, apply, the wait failing or timing out -- in the
    worker or, deferred, in ``execute_complete``, or Airflow ending the deferral itself)
    deletes the cluster and waits until it is gone when this task instance created it,
    as the annotation records: this try or an earlier one, so a retry adopts what a
    killed try left (``on_exists`` does not apply to it) and deletes it if it fails too.
    With ``deferrable`` that wait is deferred too: the task sends the deletion, defers on
    the cluster being gone (within ``timeout``) and resumes in
    :meth:`execute_after_cleanup`, which fails with the deploy's own error (same type
    and fields: the task instance keeps it as a JSON record in its XCom
    ``deploy_error``, :func:`~.exceptions.error_record`, so that it outlives the
    deferral even when Airflow ends that one itself).
    ``keep_failed_cluster=True`` keeps it for debugging (the log says how to remove it).
    Only the objects whose record names this task instance are deleted, as they are at
    the moment of deleting: a cluster another run created, or one without the record, is
    left as it was. A killed task (``on_kill``, or the trigger's when deferred) follows
    the same rule, without waiting.

    The arguments every task shares -- ``cluster``, ``namespace``, the connections,
    ``rest_route``, ``poll_interval``, ``deferrable``, ``timeout`` (here: seconds to wait
    for readiness), the kubeconfig overrides -- are :class:`FlinkClusterOperator`'s.

    :param application_file: the official Flink provider's name for ``cluster`` (a
        FlinkDeployment file or text), so a ``FlinkKubernetesOperator`` task switches by
        changing its class.
    :param wait_for_ready: wait until ready (else return after applying).
    :param on_exists: when a cluster this task instance did not create already exists
        (as its anchor records): ``update`` (apply; unchanged objects stay as they are),
        ``fail`` (``AlreadyExists``, naming the run that created it), or ``adopt``
        (leave it, just wait).
    :param preflight: check placement against nodes and ResourceQuota first.
    :param keep_failed_cluster: keep the cluster this task instance created when the
        deploy fails or is killed (default: delete it and wait until it is gone).
    :param api_group: the official provider's argument: ``flink.apache.org`` (the only
        API this provider deploys; anything else is refused).
    :param api_version: likewise, ``v1beta1``.
    :param plural: likewise, ``flinkdeployments``.
    :return: ``{name, namespace, target, mode, rest_url, web_ui_url, plan, job_id,
        applied, cluster}`` -- ``cluster`` is the deployed spec, so ``deploy.output``
        can be the ``cluster`` of the next tasks.
    """

    def __init__(
        self,
        *,
        application_file: Any = None,
        wait_for_ready: bool = True,
        on_exists: OnExists = "update",
        preflight: bool = True,
        keep_failed_cluster: bool = False,
        api_group: str = FLINK_DEPLOYMENT_API["api_group"],
        api_version: str = FLINK_DEPLOYMENT_API["api_version"],
        plural: str = FLINK_DEPLOYMENT_API["plural"],
        **kwargs: Any,
    ) -> None:
        check_flink_deployment_api(api_group=api_group, api_version=api_version, plural=plural)
        if application_file is not None:
            if kwargs.get("cluster") is not None:
                raise ArgumentError(
                    "application_file",
                    "application_file and cluster must not both be given: give one of them",
                )
            kwargs["cluster"] = application_file
        if on_exists not in ("update", "fail", "adopt"):
            raise ArgumentError(
                "on_exists", f"on_exists must be 'update', 'fail' or 'adopt', not {on_exists!r}"
            )
        super().__init__(**kwargs)
        self.wait_for_ready = wait_for_ready
        self.on_exists = on_exists
        self.preflight = preflight
        self.keep_failed_cluster = keep_failed_cluster
        self._task_key: str | None = None
        self.check_arguments()

    def execute(self, context: Context) -> dict[str, Any]:
        return self._execute(context, deadline=time.time() + self.timeout)

    def execute_after_deletion(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: the cluster (or what was left of an earlier one) that
        was being deleted is gone -- claim and deploy it anew, within the same deadline."""
        outcome, resume = self.outcome_of(event)
        self._check_deleted(outcome, resume)
        return self._execute(context, deadline=float(resume["deadline"]))

    def _execute(self, context: Context, *, deadline: float) -> dict[str, Any]:
        """:meth:`execute` with the deadline of its waits for a deletion (epoch seconds:
        a deferred task keeps it)."""
        cluster = self.flink_cluster
        plan = plan_cluster(cluster)
        manifests = render_manifests(cluster, plan=plan)
        self.log.info("Plan for %s/%s:\n%s", cluster.namespace, cluster.name, plan.summary())
        self._task_key = task = task_key(context)
        existing = self.kube_hook.observe(
            cluster.name, cluster.namespace, target=cluster.target, log_lines=0
        )
        if self.preflight:
            self._check_placement(cluster, plan, exclude_own=_exists(existing))
        decision = self._claim(context, manifests, task, deadline)
        where = f"{cluster.namespace}/{cluster.name}"
        if decision.claim is Claim.FAIL:
            raise DeploymentFailed(
                "AlreadyExists",
                f"{decision.describe(where)} "
                "(on_exists='fail'; use 'update' to apply the spec, 'adopt' to keep it)",
                details={"holder": decision.holder},
            )
        try:
            live = self._after_claim(context, manifests, decision, where, deadline)
            return self._deploy(context, cluster, plan, manifests, live, decision)
        except Exception as error:
            self._after_failure(context, error)
            raise

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: the result, or the failure with its cause (and the
        cluster deleted when this task instance created it, as in :meth:`execute`)."""
        outcome, resume = self.outcome_of(event)
        try:
            return self._finish(outcome, resume)
        except Exception as error:
            self._after_failure(context, error)
            raise

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context
    ) -> Any:
        """Resume after the trigger; when Airflow ended the deferral itself (its deferral
        timeout, a trigger that crashed), handle the cluster as after any failure."""
        if next_method != _AIRFLOW_ENDED:
            # A method's own failure is handled there -- and the error
            # execute_after_cleanup raises again may be one of Airflow's deferral errors:
            # catching it here would clean up (and defer) once more.
            return super().resume_execution(next_method, next_kwargs, context)
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except _deferral_errors() as error:
            recorded = self._deploy_error(context)
            if recorded is not None:
                # What Airflow ended was the cleanup's wait: the deletion was sent, the
                # deploy's own error is what the task fails with.
                self.log.warning("Airflow ended the wait for the deletion: %s", error)
                raise recorded from None
            self._after_failure(context, error)
            raise

    def execute_after_cleanup(self, context: Context, event: Mapping[str, Any]) -> NoReturn:
        """Resume after the trigger: the deletion a failed deploy sent (:meth:`_after_failure`)
        is over, or its wait gave up -- say what is left, then fail with the deploy's own
        error, rebuilt from its record (same type and fields)."""
        outcome, resume = self.outcome_of(event)
        cluster = self.flink_cluster
        if outcome.verdict.lifecycle is Lifecycle.READY and not outcome.timed_out:
            deleted = ", ".join(resume.get("deleted") or ()) or "what was being deleted"
            self.log.info("Deleted %s; nothing is left", deleted)
        else:
            waited = f" after {outcome.waited_seconds:g}s" if outcome.timed_out else ""
            self.log.warning(
                "The deletion of Flink cluster %s/%s is not over%s: %s (a "
                "FlinkTeardownOperator on the same cluster removes what is left)",
                cluster.namespace,
                cluster.name,
                waited,
                outcome.verdict.message,
            )
        recorded = self._deploy_error(context)
        if recorded is None:  # its XCom removed meanwhile: the log above still has it
            raise DeploymentFailed(
                "DeployFailed", "the deploy failed (its error is in the task log above)"
            )
        raise recorded

    @staticmethod
    def _deploy_error(context: Context) -> BaseException | None:
        """The deploy's own error, as :meth:`_after_failure` recorded it before deferring
        on the cleanup; ``None`` when this try recorded none."""
        ti = context["ti"]
        record = ti.xcom_pull(task_ids=ti.task_id, key=DEPLOY_ERROR_XCOM)
        if not isinstance(record, Mapping):
            return None
        return error_from_record(record, known=_deferral_errors())

    def on_kill(self) -> None:
        """Delete the cluster if this task instance created it, unless
        ``keep_failed_cluster`` (see the class docstring); do not wait (a task being
        killed cannot defer)."""
        if self._task_key is not None:
            self._delete_own(self._task_key, wait=False)

    # -- steps -----------------------------------------------------------------------

    def _claim(
        self, context: Context, manifests: list[dict[str, Any]], task: str, deadline: float
    ) -> ClaimDecision:
        """Create the cluster's anchor, or learn who holds it (see
        :mod:`~airflow_provider_flink_k8s.observation.ownership`). A cluster being deleted
        is waited for -- until it is gone, before ``deadline`` (deferred with
        ``deferrable``: the task resumes in :meth:`execute_after_deletion`) -- and then
        claimed anew."""
        index = anchor_index(manifests)
        anchor = stamp_owner([manifests[index]], [None], Ownership(task, task, 0))[0]
        where = f"{self.flink_cluster.namespace}/{self.flink_cluster.name}"
        while True:
            claimed = self.kube_hook.claim(anchor)
            decision = claim_decision(
                created=claimed.created, anchor=claimed.live, task=task, on_exists=self.on_exists
            )
            if decision.claim is not Claim.DELETING:
                return decision
            described = decision.describe(where)
            self.log.warning("%s; waiting until it is gone, then deploying it anew", described)
            wait = self.cluster_wait("deleted")
            self._await_deletion(context, wait, deadline, described, decision.deleter)

    def _after_claim(
        self,
        context: Context,
        manifests: list[dict[str, Any]],
        decision: ClaimDecision,
        where: str,
        deadline: float,
    ) -> list[dict[str, Any] | None]:
        """Log the claim; once this task instance holds the anchor (created now, or by an
        earlier try) over what is left of a deleted cluster, wait until those objects are
        gone. The live objects, to apply over."""
        if decision.claim is Claim.RESUME:
            live = self.kube_hook.live_objects(manifests)
            self.log.info(
                "Resuming %s: an earlier try of this task instance created %d of its objects",
                where,
                sum(obj is not None for obj in live),
            )
        elif decision.claim is not Claim.CREATED:
            self.log.warning(
                "%s; %s (on_exists=%r)",
                decision.describe(where),
                "leaving it as it is" if decision.claim is Claim.ADOPT else "applying the spec",
                self.on_exists,
            )
            return self.kube_hook.live_objects(manifests)
        else:
            self.log.info("%s (it was free: the create succeeded)", decision.describe(where))
            live = self.kube_hook.live_objects(manifests)
        if not any(is_deleting(obj) for obj in live):
            return live
        described = f"objects of an earlier Flink cluster {where} are still being deleted"
        self.log.warning("The %s; waiting for them", described)
        anchor = manifests[anchor_index(manifests)]
        keep = f"{anchor['kind']}/{anchor['metadata']['name']}"
        wait = self.cluster_wait("deleted", keep=keep)
        self._await_deletion(context, wait, deadline, described, None)
        return self.kube_hook.live_objects(manifests)

    def _await_deletion(
        self,
        context: Context,
        wait: WaitFor,
        deadline: float,
        described: str,
        deleter: str | None,
    ) -> None:
        """Wait until the deletion ``wait`` follows is over (deferred with ``deferrable``:
        the task resumes in :meth:`execute_after_deletion` and claims again).

        :raises DeploymentFailed: ``BeingDeleted``, when it was not over by ``deadline``.
        """
        resume = {"deadline": deadline, "described": described, "deleter": deleter}
        remaining = max(deadline - time.time(), 0.0)
        outcome = self.wait_or_defer(
            context, wait, timeout=remaining, resume=resume, method_name="execute_after_deletion"
        )
        self._check_deleted(outcome, resume)

    def _check_deleted(self, outcome: Outcome, resume: Mapping[str, Any]) -> None:
        if outcome.timed_out or outcome.verdict.lifecycle is not Lifecycle.READY:
            raise DeploymentFailed(
                "BeingDeleted",
                f"{resume['described']}; not gone after {self.timeout:g}s",
                details={"deleter": resume.get("deleter")},
            )

    def _deploy(
        self,
        context: Context,
        cluster: FlinkCluster,
        plan: ClusterPlan,
        manifests: list[dict[str, Any]],
        live: list[dict[str, Any] | None],
        decision: ClaimDecision,
    ) -> dict[str, Any]:
        """Apply the rest, check the cluster is still there, wait (or defer)."""
        ownership = Ownership(
            task=self._task_key or "",
            owner=decision.holder,
            existing=sum(obj is not None for obj in live),
        )
        applied: dict[str, int] = {}
        if decision.claim is not Claim.ADOPT:
            result = self.kube_hook.apply(stamp_owner(manifests, live, ownership))
            applied = {outcome.value: result.count(outcome) for outcome in ApplyOutcome}
            if decision.claim is Claim.CREATED:  # the claim created the anchor
                anchor = result.objects[anchor_index(manifests)].outcome
                applied[anchor.value] -= 1
                applied[ApplyOutcome.CREATED.value] += 1
            self._check_not_deleted(manifests)
        resume = self._result(cluster, plan, applied)
        self.persist_web_ui_link(context, resume["web_ui_url"])
        if not self.wait_for_ready:
            return resume
        action = failure_action(ownership, keep_failed_cluster=self.keep_failed_cluster)
        outcome = self.wait_or_defer(
            context,
            self._wait(cluster, plan),
            timeout=self.timeout,
            resume=resume,
            delete_on_kill=action is FailureAction.DELETE,
            owner=self._task_key,
        )
        return self._finish(outcome, resume)

    def _log(self, verdict: Verdict) -> None:
        """Log each new verdict of the wait in the worker; when the cluster turns up
        missing or being deleted, fail at once if a teardown is deleting it."""
        super()._log(verdict)
        if verdict.lifecycle in (Lifecycle.MISSING, Lifecycle.DELETED):
            self._check_not_deleted(render_manifests(self.flink_cluster))

    def _check_not_deleted(self, manifests: list[dict[str, Any]]) -> None:
        """Fail fast when a teardown started deleting the cluster meanwhile (its anchor
        gone, being deleted, or marked)."""
        anchor = self.kube_hook.live_objects([manifests[anchor_index(manifests)]])[0]
        if anchor is not None and not is_deleting(anchor):
            return
        cluster = self.flink_cluster
        deleter = deleted_by(anchor)
        if anchor is None:
            what = f"was deleted (its anchor {manifests[anchor_index(manifests)]['kind']} is gone)"
        else:
            what = "is being deleted" + (f" (by {deleter})" if deleter else "")
        raise DeploymentFailed(
            "BeingDeleted",
            f"Flink cluster {cluster.namespace}/{cluster.name} {what} while this task deployed it",
            details={"deleter": deleter},
        )

    def _after_failure(self, context: Context, error: Exception) -> None:
        """The deploy failed with ``error``, which the caller raises next: delete the
        cluster if this task instance created it (:meth:`_delete_own`) and wait until it
        is gone -- in the worker, or with ``deferrable`` deferred: the deletion is sent,
        the task defers on the ``deleted`` wait (within ``timeout``) and resumes in
        :meth:`execute_after_cleanup`, which raises ``error`` again from its JSON record
        (the task instance's XCom :data:`DEPLOY_ERROR_XCOM`).

        :raises TaskDeferred: when it deferred.
        """
        task = task_key(context)
        if not self.deferrable:
            self._delete_own(task, wait=True)
            return
        deleted = self._delete_own(task, wait=False, deferring=True)
        if deleted is None:
            return  # nothing written, kept, left to its owner, or the cleanup failed
        if not deleted.deleted:
            # Nothing new to delete: what is left of ours was already being deleted --
            # typically by this task's own earlier cleanup, whose deferral Airflow ended
            # (resume_execution). Deferring on it again could repeat that for ever.
            self.log.info("Its deletion was already under way: not waiting for it again")
            return
        # The task log's traceback will be execute_after_cleanup's: log this one now.
        self.log.error(
            "The deploy failed (the task fails with this error once the deletion is over)",
            exc_info=error,
        )
        context["ti"].xcom_push(key=DEPLOY_ERROR_XCOM, value=error_record(error))
        self.defer_wait(
            self.cluster_wait("deleted"),
            timeout=self.timeout,
            resume={"deleted": [str(key) for key in deleted.deleted]},
            method_name=self.execute_after_cleanup.__name__,
        )

    def _delete_own(self, task: str, *, wait: bool, deferring: bool = False) -> DeleteResult | None:
        """Delete the cluster if ``task`` created it -- as the cluster records it -- unless
        ``keep_failed_cluster``, waiting (``wait``, in the worker) until it is gone.

        :param deferring: only for the log: the caller defers on the deletion.
        :return: what was deleted, ``None`` when nothing was (nothing written, the cluster
            kept or another run's, or the deletion failed). Never raises: the deploy's
            own error is what the task reports.
        """
        cluster = self.flink_cluster
        name, namespace = cluster.name, cluster.namespace
        try:
            manifests = render_manifests(cluster)
            live = self.kube_hook.live_objects(manifests)
            action = cleanup_action(live, task, keep_failed_cluster=self.keep_failed_cluster)
            if action is None:
                return None  # nothing was written
            if action is FailureAction.LEAVE:
                self.log.info(
                    "Flink cluster %s/%s is left as it is: %s",
                    namespace,
                    name,
                    cluster_ownership(live, task).describe(),
                )
            elif action is FailureAction.KEEP:
                self.log.warning(
                    "Keeping the failed Flink cluster %s/%s for debugging (keep_failed_cluster="
                    "True). Remove it with a FlinkTeardownOperator on the same cluster, or: "
                    "kubectl -n %s delete %s -l %s",
                    namespace,
                    name,
                    namespace,
                    ",".join(sorted({str(m["kind"]).lower() for m in manifests})),
                    cluster_label_selector(name),
                )
            else:
                until = "waiting" if wait else "deferring" if deferring else ""
                self.log.warning(
                    "Deleting Flink cluster %s/%s, which this task instance created%s",
                    namespace,
                    name,
                    f" ({until} until it is gone)" if until else "",
                )
                deleted = self.kube_hook.delete_cluster(
                    name, namespace, wait=wait, timeout=self.timeout, owner=task
                )
                objects = ", ".join(str(key) for key in deleted.deleted) or "nothing"
                if deferring:  # execute_after_cleanup says when they are gone
                    self.log.info("Deletion sent for %s", objects)
                else:
                    self.log.info("Deleted %s%s", objects, "; nothing is left" if wait else "")
                return deleted
        except Exception as error:  # the deploy's failure is the one to report
            self.log.error(
                "Could not clean up Flink cluster %s/%s after the failure: %s "
                "(a FlinkTeardownOperator on the same cluster removes it)",
                namespace,
                name,
                error,
            )
        return None

    def _check_placement(
        self, cluster: FlinkCluster, plan: ClusterPlan, *, exclude_own: bool
    ) -> None:
        inputs = self.kube_hook.capacity(cluster.namespace)
        if not inputs.nodes:
            self.log.info("Placement pre-flight skipped: the API lists no nodes")
            return
        ignore = cluster_selector(cluster) if exclude_own else None
        nodes = free_capacity(inputs.nodes, inputs.pods, ignore=ignore)
        quotas = [QuotaStatus.from_k8s(quota) for quota in inputs.quotas]
        placement = check_placement(plan, nodes, quotas)
        if not placement.fits:
            raise DeploymentFailed(
                "Unschedulable",
                f"Flink cluster {cluster.namespace}/{cluster.name} does not fit: "
                + "; ".join(placement.reasons),
                details={"reasons": list(placement.reasons)},
            )
        self.log.info("Placement pre-flight: %s", placement)

    def _wait(self, cluster: FlinkCluster, plan: ClusterPlan) -> WaitFor:
        kind: Literal["cluster", "job"] = "job" if cluster.mode == "application" else "cluster"
        return self.cluster_wait(
            kind,
            expected_taskmanagers=plan.taskmanager.replicas,
            expected_slots=plan.total_slots,
        )

    def _result(
        self, cluster: FlinkCluster, plan: ClusterPlan, applied: Mapping[str, int]
    ) -> dict[str, Any]:
        rest_url = self.rest_url()
        return {
            "name": cluster.name,
            "namespace": cluster.namespace,
            "target": cluster.target,
            "mode": cluster.mode,
            "rest_url": rest_url,
            "web_ui_url": self.web_ui_url(rest_url),
            "plan": plan.to_dict(),
            "job_id": None,
            "applied": dict(applied),
            "cluster": cluster.model_dump(mode="json", exclude_defaults=True),
        }

    def _finish(self, outcome: Outcome, result: dict[str, Any]) -> dict[str, Any]:
        if outcome.verdict.lifecycle in (Lifecycle.MISSING, Lifecycle.DELETED):
            # a teardown's doing? (the trigger's wait does not check the anchor)
            self._check_not_deleted(render_manifests(self.flink_cluster))
        self.finish_wait(outcome)
        if outcome.verdict.lifecycle is Lifecycle.READY and outcome.job_id:
            result = {**result, "job_id": outcome.job_id}
        return result


def _exists(snapshot: ClusterSnapshot) -> bool:
    return bool(snapshot.deployments or snapshot.flink_deployment or snapshot.pods)
