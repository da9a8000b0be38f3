"""Sensors: wait until a Flink cluster is ready, or a job of it reaches a state.

Both sensors decide with the same pure :class:`WaitFor` the operators use, one snapshot
per poke (:class:`ClusterObserver`), or -- deferrable -- in :class:`FlinkClusterTrigger`
straight away, which watches the cluster's pods instead of poking.

Failure semantics, the same in poke, reschedule and deferrable mode:

=================================================  ==========================================
the cluster or job                                 the sensor
=================================================  ==========================================
ready / in a target state                          succeeds; XCom ``{name, namespace, job_id,
                                                   message}``
progressing, or not deployed (MISSING)             pokes again (deferrable: keeps waiting)
failed (ImagePullBackOff, CrashLoopBackOff,        fails at once with
Unschedulable, ProgressDeadlineExceeded, the       :class:`AirflowFailException` -- no retries:
job FAILED with its root exception, the job        a broken cluster does not mend between
lost to a JobManager restart...) or deleted        tries -- the cause in the message, the
under the wait                                     failing containers' log tails in the log
could not be observed (a trigger's API error)      fails with :class:`DeploymentFailed`
                                                   ``ObservationFailed`` (retries apply)
still not there after ``timeout``                  :class:`AirflowSensorTimeout`
=================================================  ==========================================

With ``soft_fail=True`` a failure or a timeout skips the task instead, as for any sensor;
a failure's skip gives its cause as the reason (``Skipping (soft_fail): <cause>``).

Coming from the official provider's ``FlinkKubernetesSensor``: ``application_name`` (with
``namespace``) names a FlinkDeployment to wait on without a spec, and ``attach_log=True``
puts the JobManager's log in the task log when the wait ends, success included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
)

from airflow_provider_flink_k8s.exceptions import DeploymentFailed, DeploymentTimeout, FlinkK8sError
from airflow_provider_flink_k8s.flinkrest import RetryPolicy
from airflow_provider_flink_k8s.hooks.observer import ClusterObserver
from airflow_provider_flink_k8s.observation import JobSighting, Lifecycle, Outcome, Reason
from airflow_provider_flink_k8s.operators.arguments import (
    FLINK_DEPLOYMENT_API,
    ArgumentError,
    check_flink_deployment_api,
    check_seconds,
    flink_job_id,
    job_states,
)
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.observation.waits import WaitFor

__all__ = ["FlinkClusterReadySensor", "FlinkJobSensor"]

_SEEN_KEY = "flink_job_seen"
"""The ``task_state_store`` key of a job wait's memory in reschedule mode."""
_BY_NAME = "<the FlinkDeployment named by application_name>"
"""``cluster`` when ``application_name`` names the FlinkDeployment."""


class _FlinkClusterSensor(FlinkClusterMixin, BaseSensorOperator):
    """What both sensors share: arguments, poke, deferral and the outcome's meaning.

    Subclasses say what they wait for in :meth:`_wait`.
    """

    template_fields: tuple[str, ...] = (*FlinkClusterMixin.template_fields, "application_name")
    cluster_arguments: ClassVar[tuple[str, ...]] = ("cluster", "namespace", "application_name")

    def __init__(
        self,
        *,
        application_name: str | None = None,
        attach_log: bool = False,
        progress_deadline: float | None = None,
        unschedulable_grace: float = 60.0,
        poke_interval: float | timedelta = 10.0,
        api_group: str = FLINK_DEPLOYMENT_API["api_group"],
        api_version: str = FLINK_DEPLOYMENT_API["api_version"],
        plural: str = FLINK_DEPLOYMENT_API["plural"],
        taskmanager_pods_namespace: str | None = None,
        **kwargs: Any,
    ) -> None:
        check_flink_deployment_api(api_group=api_group, api_version=api_version, plural=plural)
        namespace = kwargs.get("namespace")
        if taskmanager_pods_namespace not in (None, namespace):
            raise ArgumentError(
                "taskmanager_pods_namespace",
                f"taskmanager_pods_namespace must be the FlinkDeployment's namespace "
                f"({namespace!r}), where the provider reads its pods, not "
                f"{taskmanager_pods_namespace!r}",
            )
        if progress_deadline is not None:
            check_seconds("progress_deadline", progress_deadline)
        check_seconds("unschedulable_grace", unschedulable_grace, allow_zero=True)
        if application_name is not None:
            if kwargs.get("cluster") is not None:
                raise ArgumentError(
                    "application_name",
                    "application_name and cluster must not both be given: give one of them",
                )
            kwargs["cluster"] = _BY_NAME
        if "poll_interval" in kwargs:
            raise ArgumentError(
                "poll_interval",
                "poll_interval: a sensor checks every poke_interval; give that instead",
            )
        # The trigger's REST poll follows the poke interval (0: "as often as sensible").
        poll = (
            poke_interval.total_seconds() if isinstance(poke_interval, timedelta) else poke_interval
        )
        super().__init__(poke_interval=poke_interval, poll_interval=poll or 1.0, **kwargs)
        self.application_name = application_name
        self.attach_log = attach_log
        self.progress_deadline = progress_deadline
        self.unschedulable_grace = unschedulable_grace
        self._job_seen: JobSighting | None = None

    def resolve_cluster(self, *, cache: bool = True) -> FlinkCluster:
        """``cluster``, or the FlinkDeployment ``application_name`` in ``namespace``
        (``default`` when not given): the operator target, nothing else known."""
        if self.cluster != _BY_NAME:
            return super().resolve_cluster(cache=cache)
        return load_cluster(
            {
                "name": self.application_name,
                "namespace": self.namespace or "default",
                "mode": "session",
                "target": "operator",
            }
        )

    def _wait(self) -> WaitFor:
        raise NotImplementedError

    @cached_property
    def flink_wait(self) -> WaitFor:
        """What this sensor waits for (validates the rendered spec and fields: raises
        :class:`SpecError` or :class:`ValueError` before anything is read)."""
        return self._wait()

    def _fail_fast_fields(self) -> dict[str, Any]:
        return {
            "progress_deadline_seconds": self.progress_deadline,
            "unschedulable_grace_seconds": self.unschedulable_grace,
        }

    # -- Airflow entry points ----------------------------------------------------------

    def execute(self, context: Context) -> Any:
        """Poke (``deferrable=False``, see :class:`BaseSensorOperator`) or defer at once."""
        wait = self.flink_wait
        self.persist_web_ui_link(context)
        if not self.deferrable:
            return super().execute(context)
        self.defer_wait(
            wait,
            timeout=self.timeout,
            resume={"name": wait.name, "namespace": wait.namespace},
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """One snapshot, one decision (see the module's table)."""
        wait = self._recall(context)
        with self.rest_hook(retry=RetryPolicy.never()) as rest:
            observer = ClusterObserver(self.kube_hook, rest if wait.needs_rest else None)
            try:
                outcome, remembered = observer.check(wait)
            except FlinkK8sError as error:  # the API did not answer: not yet, not a failure
                self.log.warning("Could not observe %s: %s", wait.description, error)
                return PokeReturnValue(is_done=False)
        self._memorise(context, remembered.job_seen)
        return self._conclude(outcome, {"name": wait.name, "namespace": wait.namespace})

    # -- a job wait's memory across pokes ----------------------------------------------
    #
    # Which JobManager listed the job (JobSighting) must outlive one poke, or a JobManager
    # restart that loses the job looks like "not submitted yet". In poke mode one sensor
    # object pokes until done: an attribute holds it. In reschedule mode every poke is a
    # new run of the task (a new object, and Airflow clears the task's XComs when it
    # starts), so it goes to the task instance's task_state_store too -- kept across
    # reschedules, on Airflow 3.3 and later -- with the try number, so that a cleared or
    # retried task, whose cluster and job may be new, starts without it. Deferred, the
    # trigger's loop holds it.

    def _recall(self, context: Context) -> WaitFor:
        wait = self.flink_wait
        if wait.kind != "job":
            return wait
        if self._job_seen is None and self.reschedule:
            self._job_seen = _stored_sighting(context)
        return wait.model_copy(update={"job_seen": self._job_seen})

    def _memorise(self, context: Context, seen: JobSighting | None) -> None:
        if seen == self._job_seen:
            return
        self._job_seen = seen
        store = context.get("task_state_store")
        if self.reschedule and store is not None and seen is not None:
            store.set(_SEEN_KEY, {"try": _try_number(context), **seen.model_dump(mode="json")})

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> Any:
        """Resume after :class:`FlinkClusterTrigger`: the XCom value, or the failure."""
        outcome, resume = self.outcome_of(event)
        try:
            result = self._conclude(outcome, resume)
            if not result.is_done:  # the trigger only ends decided or timed out
                raise AirflowSensorTimeout(f"the wait ended undecided: {outcome.verdict.message}")
        except (AirflowFailException, AirflowSensorTimeout) as error:
            if self.soft_fail:
                raise AirflowSkipException(f"Skipping (soft_fail): {error}") from error
            raise
        return result.xcom_value

    # -- the outcome's meaning ---------------------------------------------------------

    def _conclude(self, outcome: Outcome, resume: Mapping[str, Any]) -> PokeReturnValue:
        verdict = outcome.verdict
        if self.attach_log and (outcome.timed_out or verdict.terminal):
            logged = verdict.details.get("log_tails") or {}
            self.attach_jobmanager_log(self.flink_wait, logged=logged)
        if outcome.timed_out:
            self._raise_timeout(outcome)
        if verdict.lifecycle is Lifecycle.READY:
            self.log.info("%s", verdict.message)
            value = {
                "name": resume.get("name"),
                "namespace": resume.get("namespace"),
                "job_id": outcome.job_id,
                "message": verdict.message,
            }
            return PokeReturnValue(is_done=True, xcom_value=value)
        if not verdict.terminal:  # PROGRESSING, MISSING
            self._log(verdict)
            return PokeReturnValue(is_done=False)
        try:
            self.finish_wait(outcome)  # logs the log tails, raises DeploymentFailed
        except DeploymentFailed as error:
            if error.reason == Reason.OBSERVATION_FAILED.value:
                raise  # the trigger could not observe: a retry may well succeed
            if self.soft_fail:  # skipped with the cause (Airflow's own skip would drop it)
                raise AirflowSkipException(f"Skipping (soft_fail): {error}") from error
            raise AirflowFailException(str(error)) from error
        raise AssertionError(f"unreachable: {verdict}")  # pragma: no cover

    def _raise_timeout(self, outcome: Outcome) -> NoReturn:
        try:
            self.finish_wait(outcome)
        except DeploymentTimeout as error:
            raise AirflowSensorTimeout(f"Sensor has timed out: {error}") from error
        raise AssertionError("unreachable: a timed-out outcome raises")  # pragma: no cover


def _try_number(context: Context) -> int | None:
    ti = context.get("ti")
    number = getattr(ti, "try_number", None)
    return number if isinstance(number, int) else None


def _stored_sighting(context: Context) -> JobSighting | None:
    """The memory an earlier poke of this try stored (see ``_recall``), if any."""
    store = context.get("task_state_store")
    stored = store.get(_SEEN_KEY) if store is not None else None
    if not isinstance(stored, dict) or stored.get("try") != _try_number(context):
        return None
    try:
        return JobSighting.model_validate({k: v for k, v in stored.items() if k != "try"})
    except ValueError:  # written by another version: start afresh
        return None


class FlinkClusterReadySensor(_FlinkClusterSensor):
    """Wait until a Flink cluster is ready.

    Ready means, for the standalone target, both Deployments rolled out, every pod Ready,
    the JobManager's REST API answering with the TaskManagers and task slots the spec's
    plan asks for registered; for the operator target, the FlinkDeployment READY and
    DEPLOYED or STABLE. A failing cluster fails the sensor at once (see the module).

    The arguments every task shares -- ``cluster``, ``namespace``, the connections,
    ``rest_route``, ``deferrable``, the kubeconfig overrides -- are
    :class:`FlinkClusterMixin`'s; ``poll_interval`` follows ``poke_interval``.

    :param progress_deadline: fail once the cluster made no progress for this many
        seconds (standalone target); ``None``: only Kubernetes' own deadline applies.
    :param unschedulable_grace: seconds a pod may stay unschedulable (with no capacity on
        its way) before the sensor fails.
    :param application_name: instead of ``cluster``, the name of a FlinkDeployment (in
        ``namespace``, default ``default``) to wait on, as the official provider's
        ``FlinkKubernetesSensor`` takes it. Templated.
    :param attach_log: put the last lines of the JobManager's log in the task log when
        the wait ends (success included).
    :param poke_interval: seconds between pokes (deferrable: between REST checks).
    :param api_group: the official provider's argument: ``flink.apache.org`` only.
    :param api_version: likewise, ``v1beta1``.
    :param plural: likewise, ``flinkdeployments``.
    :param taskmanager_pods_namespace: the official provider's argument: accepted when it
        is ``namespace`` (or ``None``), where the pods are read.
    :return: ``{name, namespace, job_id, message}``.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check_arguments()

    def _wait(self) -> WaitFor:
        plan = plan_cluster(self.flink_cluster)
        return self.cluster_wait(
            "cluster",
            expected_taskmanagers=plan.taskmanager.replicas,
            expected_slots=plan.total_slots,
            **self._fail_fast_fields(),
        )


class FlinkJobSensor(_FlinkClusterSensor):
    """Wait until a job of a Flink cluster reaches one of ``target_states``.

    A job that ends elsewhere (FAILED with Flink's root exception, CANCELED, FINISHED when
    RUNNING was awaited) fails the sensor at once, as does a failing cluster. So does a
    job lost to a JobManager restart (``JobLost``): the sensor saw the job listed, then
    the JobManager pod was replaced or its container restarted, and Flink no longer lists
    the job -- without high availability Flink forgets its jobs then. A job not listed
    yet that the sensor never saw is still awaited (not submitted yet). The sensor
    remembers the JobManager that listed the job across pokes; in ``reschedule`` mode
    that needs Airflow 3.3's ``task_state_store``, and on older Airflow a rescheduled
    sensor reports a lost job as not found until its ``timeout``. For the operator target
    the FlinkDeployment's job status decides (RUNNING and the deployment STABLE).

    :param target_states: Flink ``JobStatus`` values that end the wait.
    :param job_id: the job to follow (32 hex digits, e.g. a submit task's XCom);
        ``None``: the cluster's latest job. Templated.
    :param kwargs: the arguments of :class:`FlinkClusterReadySensor`.
    :return: ``{name, namespace, job_id, message}``.
    """

    template_fields: tuple[str, ...] = (*_FlinkClusterSensor.template_fields, "job_id")
    argument_rules: ClassVar[Mapping[str, Callable[[Any], object]]] = {"job_id": flink_job_id}

    def __init__(
        self,
        *,
        target_states: Sequence[str] = ("RUNNING",),
        job_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_states = job_states("target_states", target_states)
        self.job_id = job_id
        self.check_arguments()

    def _wait(self) -> WaitFor:
        return self.cluster_wait(
            "job",
            job_id=flink_job_id(self.job_id),
            target_states=self.target_states,
            **self._fail_fast_fields(),
        )
