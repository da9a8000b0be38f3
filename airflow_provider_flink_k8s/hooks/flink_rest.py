"""Flink's REST API from Airflow: :class:`FlinkRestHook` (and, re-exported here, its
async twin :class:`~airflow_provider_flink_k8s.hooks.flink_rest_async.AsyncFlinkRestHook`).

Both twins send the same :class:`~airflow_provider_flink_k8s.flinkrest.RestCall` values
(built by :mod:`airflow_provider_flink_k8s.flinkrest.requests`), read answers into the same
pydantic models and differ only in ``await``; the async one does not inherit this one.

Where Flink is, by the constructor's arguments (give at most one):

* ``flink_conn_id`` -- a connection of type ``flink`` (host or URL, port, ``http``/``https``
  in *schema*, login/password, extras ``verify_ssl``, ``ca_bundle``, ``rest_path_prefix``,
  ``headers``, ``timeout``): an ingress, a NodePort, a port-forward;
* ``endpoint`` -- a :class:`~airflow_provider_flink_k8s.flinkrest.FlinkEndpoint` built in
  code;
* ``service`` -- a :class:`~airflow_provider_flink_k8s.flinkrest.FlinkRestService`: the
  cluster's ``<name>-rest`` Service by cluster DNS when the Kubernetes connection loads the
  in-cluster configuration, else through the API server's Service proxy with that
  connection's credentials.

Connections and kubeconfigs are read on first use, never in ``__init__``. Failures raise
:class:`~airflow_provider_flink_k8s.exceptions.FlinkRestError` (Flink's message, the
status, the path -- never a credential); transient ones are retried first as
:mod:`airflow_provider_flink_k8s.flinkrest.retries` describes. Through the proxy, the
Kubernetes token is read for each request (the client refreshes expiring ones), and a 401
from the API server reloads the kubeconfig and repeats the call once.
"""

from __future__ import annotations

import contextlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from airflow.providers.common.compat.sdk import BaseHook
from tenacity import Retrying

from airflow_provider_flink_k8s.exceptions import FlinkRestError
from airflow_provider_flink_k8s.flinkrest import requests as calls
from airflow_provider_flink_k8s.flinkrest.retries import RetryPolicy
from airflow_provider_flink_k8s.hooks._flink_rest_http import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SAVEPOINT_TIMEOUT,
    JAR_CONTENT_TYPE,
    Route,
    check_target,
    connection_route,
    describe_overview,
    kubernetes_route,
    needs_fresh_credentials,
    read_answer,
    retry_options,
    savepoint_timeout,
    translate_transport_error,
)
from airflow_provider_flink_k8s.hooks.flink_rest_async import AsyncFlinkRestHook

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from airflow_provider_flink_k8s.flinkrest import (
        CheckpointStatistics,
        ClusterOverview,
        DashboardConfig,
        FlinkEndpoint,
        FlinkRestService,
        JarFile,
        JobDetails,
        JobExceptions,
        JobOverview,
        SavepointStatus,
        TaskManagerInfo,
        VertexResourceRequirements,
    )
    from airflow_provider_flink_k8s.flinkrest.requests import FormatType, RestCall

__all__ = ["AsyncFlinkRestHook", "FlinkRestHook"]

T = TypeVar("T")


class FlinkRestHook(BaseHook):
    """Typed client of Flink's REST API.

    :param flink_conn_id: a ``flink`` connection (``flink_default`` when no target is given).
    :param endpoint: where Flink is, built in code, instead of a connection.
    :param service: a Flink REST Service in Kubernetes, instead of a connection.
    :param retry: the retry policy (:class:`RetryPolicy` defaults; ``RetryPolicy.never()``
        for none).
    :raises ValueError: when more than one target is given; on first use, when the
        connection does not describe an http(s) URL.
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = "flink_default"
    conn_type = "flink"
    hook_name = "Apache Flink (REST)"

    def __init__(
        self,
        flink_conn_id: str | None = None,
        *,
        endpoint: FlinkEndpoint | None = None,
        service: FlinkRestService | None = None,
        retry: RetryPolicy | None = None,
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        check_target(flink_conn_id, endpoint, service)
        if endpoint is None and service is None:
            flink_conn_id = flink_conn_id or self.default_conn_name
        self.flink_conn_id = flink_conn_id
        self.endpoint = endpoint
        self.service = service
        self.retry = retry or RetryPolicy()

    # --- plumbing -------------------------------------------------------------------------

    @cached_property
    def _route(self) -> Route:
        if self.endpoint is not None:
            return Route(self.endpoint)
        if self.service is not None:
            return kubernetes_route(self.service)
        return connection_route(self.get_connection(str(self.flink_conn_id)))

    @cached_property
    def _client(self) -> httpx.Client:
        return httpx.Client(**self._route.client_options())

    def get_endpoint(self) -> FlinkEndpoint:
        """The endpoint calls go to (reads the connection or kubeconfig on first use)."""
        return self._route.endpoint

    def close(self) -> None:
        """Close the HTTP connections (the hook opens new ones if used again)."""
        client = self.__dict__.pop("_client", None)
        if client is not None:
            client.close()

    def __enter__(self) -> FlinkRestHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_conn(self) -> httpx.Client:
        """The underlying ``httpx.Client`` (base URL and credentials set)."""
        return self._client

    def _call(self, call: RestCall[T], retry: RetryPolicy | None = None) -> T:
        try:
            return self._call_with_retries(call, retry or self.retry)
        except FlinkRestError as exc:
            if not needs_fresh_credentials(exc, self._route):
                raise
            self.log.info("The API server refused the Kubernetes token; reloading it once")
            self.close()
            del self.__dict__["_route"]
            return self._call_with_retries(call, retry or self.retry)

    def _call_with_retries(self, call: RestCall[T], retry: RetryPolicy) -> T:
        options = retry_options(retry, call, self.log)
        result: T = Retrying(**options)(self._send, self._route, call)
        return result

    def _send(self, route: Route, call: RestCall[T]) -> T:
        with contextlib.ExitStack() as stack:
            files = None
            if call.upload is not None:
                jar = stack.enter_context(open(call.upload, "rb"))
                files = {"jarfile": (Path(call.upload).name, jar, JAR_CONTENT_TYPE)}
            try:
                response = self._client.request(
                    call.method, call.path, params=call.params, json=call.body, files=files
                )
            except httpx.HTTPError as exc:
                raise translate_transport_error(route, call, exc) from exc
        return read_answer(route, call, response)

    # --- the API --------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """For the Airflow UI's *Test* button: one ``GET /overview`` (no retries);
        ``(ok, message)``."""
        try:
            overview = self._call(calls.overview(), RetryPolicy.never())
            return True, describe_overview(overview, self.get_endpoint())
        except Exception as exc:  # the UI shows the message; it must not raise
            return False, str(exc)

    def overview(self) -> ClusterOverview:
        """``GET /overview``: TaskManagers, slots, job counts and the Flink version."""
        return self._call(calls.overview())

    def taskmanagers(self) -> list[TaskManagerInfo]:
        """``GET /taskmanagers``: slots, resources and memory of each TaskManager."""
        return self._call(calls.taskmanagers())

    def config(self) -> DashboardConfig:
        """``GET /config``: the web UI's configuration (version, enabled features)."""
        return self._call(calls.config())

    def jobmanager_config(self) -> dict[str, str]:
        """``GET /jobmanager/config``: the JobManager's effective configuration."""
        return self._call(calls.jobmanager_config())

    def jobs(self) -> list[JobOverview]:
        """``GET /jobs/overview``: every job the JobManager knows, with its state."""
        return self._call(calls.jobs())

    def job(self, job_id: str) -> JobDetails:
        """``GET /jobs/:jobid``: state, timestamps, vertices and their parallelism.

        :raises FlinkRestNotFound: when the JobManager does not know the job.
        """
        return self._call(calls.job(job_id))

    def job_exceptions(self, job_id: str) -> JobExceptions:
        """``GET /jobs/:jobid/exceptions``: the job's failure history, newest first."""
        return self._call(calls.job_exceptions(job_id))

    def checkpoints(self, job_id: str) -> CheckpointStatistics:
        """``GET /jobs/:jobid/checkpoints``: counts and the latest checkpoints."""
        return self._call(calls.checkpoints(job_id))

    def cancel(self, job_id: str) -> None:
        """``PATCH /jobs/:jobid?mode=cancel``: cancel without a savepoint (a job already
        cancelled is accepted again).

        :raises FlinkRestError: 409 when the job finished or failed.
        :raises FlinkRestNotFound: when the JobManager does not know the job.
        """
        self._call(calls.cancel_job(job_id))

    def resource_requirements(self, job_id: str) -> dict[str, VertexResourceRequirements]:
        """``GET /jobs/:jobid/resource-requirements``: parallelism bounds per vertex id."""
        return self._call(calls.resource_requirements(job_id))

    def set_resource_requirements(
        self, job_id: str, requirements: Mapping[str, VertexResourceRequirements]
    ) -> None:
        """``PUT /jobs/:jobid/resource-requirements``: rescale in place (needs
        ``jobmanager.scheduler: adaptive``; build ``requirements`` with
        :func:`~airflow_provider_flink_k8s.flinkrest.rescaled_requirements`)."""
        self._call(calls.set_resource_requirements(job_id, requirements))

    def subtask_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> dict[str, dict[str, float]]:
        """``GET /jobs/:jobid/vertices/:vertexid/subtasks/metrics``: each metric in
        ``names`` (``busyTimeMsPerSecond``...) aggregated over the vertex's subtasks,
        ``{name: {"min", "max", "avg", "sum"}}``."""
        return self._call(calls.subtask_metrics(job_id, vertex_id, names))

    def trigger_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        cancel_job: bool = False,
        format_type: FormatType = "CANONICAL",
        *,
        trigger_id: str | None = None,
    ) -> str:
        """``POST /jobs/:jobid/savepoints``; the trigger id to poll.

        :param target_directory: where to write; ``None`` uses ``state.savepoints.dir``.
        :param trigger_id: the operation's id (fresh by default); the same id again
            starts nothing new, so a retried task may pass a stable one.
        """
        call = calls.trigger_savepoint(
            job_id,
            target_directory,
            cancel_job=cancel_job,
            format_type=format_type,
            trigger_id=trigger_id,
        )
        return self._call(call)

    def stop_with_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        drain: bool = False,
        format_type: FormatType = "CANONICAL",
        *,
        trigger_id: str | None = None,
    ) -> str:
        """``POST /jobs/:jobid/stop``: savepoint, then stop; the trigger id to poll.

        :param drain: emit ``MAX_WATERMARK`` first, for a job that will not resume.
        """
        call = calls.stop_with_savepoint(
            job_id,
            target_directory,
            drain=drain,
            format_type=format_type,
            trigger_id=trigger_id,
        )
        return self._call(call)

    def savepoint_status(self, job_id: str, trigger_id: str) -> SavepointStatus:
        """``GET /jobs/:jobid/savepoints/:triggerid``: in progress, or its location or failure."""
        return self._call(calls.savepoint_status(job_id, trigger_id))

    def wait_for_savepoint(
        self,
        job_id: str,
        trigger_id: str,
        timeout: float = DEFAULT_SAVEPOINT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> SavepointStatus:
        """Wait until Flink completes the operation, through the provider's one wait loop
        (:class:`~airflow_provider_flink_k8s.hooks.observer.ClusterObserver` with a
        ``savepoint`` :class:`~airflow_provider_flink_k8s.observation.waits.WaitFor`); read
        the outcome with :meth:`SavepointStatus.raise_for_failure`. Operators wait with
        that :class:`WaitFor` themselves (deferrable); this is for code holding only a
        REST hook.

        :raises DeploymentTimeout: when it is still in progress after ``timeout`` seconds.
        :raises DeploymentFailed: when the job ended first, or Flink lost the trigger.
        """
        from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
        from airflow_provider_flink_k8s.hooks.observer import ClusterObserver
        from airflow_provider_flink_k8s.observation import Lifecycle
        from airflow_provider_flink_k8s.observation.waits import WaitFor

        wait = WaitFor(kind="savepoint", name="flink", job_id=job_id, trigger_id=trigger_id)
        # A savepoint wait reads Flink's REST API only: the Kubernetes hook is never used.
        observer = ClusterObserver(FlinkKubernetesHook(), self)
        outcome = observer.wait(wait, timeout=timeout, poll_interval=poll_interval)
        verdict = outcome.verdict
        if outcome.waited_seconds is not None:
            raise savepoint_timeout(job_id, trigger_id, outcome.waited_seconds)
        if verdict.lifecycle is Lifecycle.READY:
            location = str(verdict.details["location"])
            return self._savepoint(job_id, trigger_id, location=location)
        failure = verdict.details.get("failure")
        if failure is not None:
            return self._savepoint(job_id, trigger_id, failure=str(failure))
        outcome.raise_for_failure()
        raise AssertionError("unreachable: a decided wait is READY or FAILED")

    @staticmethod
    def _savepoint(job_id: str, trigger_id: str, **result: str) -> SavepointStatus:
        from airflow_provider_flink_k8s.flinkrest import SavepointStatus

        return SavepointStatus(job_id=job_id, trigger_id=trigger_id, completed=True, **result)

    def jars(self) -> list[JarFile]:
        """``GET /jars``: the uploaded jars and their entry classes."""
        return self._call(calls.jars())

    def upload_jar(self, path: str | Path) -> str:
        """``POST /jars/upload``: send a local jar; its jar id.

        :raises OSError: when the file cannot be read.
        """
        return self._call(calls.upload_jar(str(path)))

    def run_jar(
        self,
        jar_id: str,
        entry_class: str | None = None,
        args: Sequence[str] = (),
        parallelism: int | None = None,
        savepoint_path: str | None = None,
        allow_non_restored_state: bool = False,
        *,
        job_id: str | None = None,
    ) -> str:
        """``POST /jars/:jarid/run``: submit a job from an uploaded jar; its job id.

        :param entry_class: the main class (default: the jar manifest's).
        :param args: the program's arguments.
        :param savepoint_path: a savepoint to restore the job's state from.
        :param job_id: the job's id (32 hex digits), so a retried submission cannot
            start a second job; ``None``: Flink picks one.
        """
        call = calls.run_jar(
            jar_id,
            entry_class,
            args,
            parallelism,
            savepoint_path,
            allow_non_restored_state,
            job_id=job_id,
        )
        return self._call(call)

    def jar_plan(
        self,
        jar_id: str,
        entry_class: str | None = None,
        args: Sequence[str] = (),
        parallelism: int | None = None,
    ) -> dict[str, Any]:
        """``POST /jars/:jarid/plan``: the job graph the jar's program builds with these
        arguments, without running anything -- a check that ``/run`` with them would
        build a job (:func:`~airflow_provider_flink_k8s.flinkrest.requests.jar_plan`)."""
        return self._call(calls.jar_plan(jar_id, entry_class, args, parallelism))

    def delete_jar(self, jar_id: str) -> None:
        """``DELETE /jars/:jarid`` (Flink answers 400 for a jar it does not have)."""
        self._call(calls.delete_jar(jar_id))
