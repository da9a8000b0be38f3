"""The async twin of :class:`~airflow_provider_flink_k8s.hooks.flink_rest.FlinkRestHook`,
for triggers: the same arguments, method names and results, each method a coroutine.

It shares the pure core and the transport helpers with the sync hook, not a parent
class. Connections are read with common.compat's ``get_async_connection``
(``aget_connection`` where it is safe, else ``get_connection`` in a thread) and kubeconfigs
with the cncf ``AsyncKubernetesHook``, so nothing blocks the event loop; jar files are read in a
thread. One ``httpx.AsyncClient`` is kept per event loop. When the API server's proxy
refuses the Kubernetes token (401, an expired exec-plugin token), the kubeconfig is
loaded again and the call repeated once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from airflow.providers.common.compat.connection import get_async_connection
from airflow.providers.common.compat.sdk import BaseHook
from tenacity import AsyncRetrying

from airflow_provider_flink_k8s.exceptions import FlinkRestError
from airflow_provider_flink_k8s.flinkrest import requests as calls
from airflow_provider_flink_k8s.flinkrest.retries import RetryPolicy
from airflow_provider_flink_k8s.hooks._flink_rest_http import (
    JAR_CONTENT_TYPE,
    Route,
    akubernetes_route,
    check_target,
    connection_route,
    describe_overview,
    needs_fresh_credentials,
    read_answer,
    retry_options,
    translate_transport_error,
)

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

__all__ = ["AsyncFlinkRestHook"]

T = TypeVar("T")


class AsyncFlinkRestHook(BaseHook):
    """The async twin of :class:`FlinkRestHook`: the same arguments and method names,
    each a coroutine (for triggers). Connections are read with ``get_async_connection``.
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = "flink_default"
    conn_type = "flink"
    hook_name = "Apache Flink (REST, async)"

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
        self._resolved: Route | None = None
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    # --- plumbing -------------------------------------------------------------------------

    async def _route(self) -> Route:
        if self._resolved is None:
            if self.endpoint is not None:
                self._resolved = Route(self.endpoint)
            elif self.service is not None:
                self._resolved = await akubernetes_route(self.service)
            else:
                connection = await get_async_connection(str(self.flink_conn_id), hook=self)
                self._resolved = connection_route(connection)
        return self._resolved

    async def get_conn(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` of the running event loop (one per loop)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(**(await self._route()).client_options())
            self._client_loop = loop
        return self._client

    async def get_endpoint(self) -> FlinkEndpoint:
        """The endpoint calls go to (reads the connection or kubeconfig on first use)."""
        return (await self._route()).endpoint

    async def aclose(self) -> None:
        """Close the HTTP connections of the running loop's client."""
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()

    async def __aenter__(self) -> AsyncFlinkRestHook:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, call: RestCall[T], retry: RetryPolicy | None = None) -> T:
        route = await self._route()
        try:
            return await self._call_with_retries(route, call, retry or self.retry)
        except FlinkRestError as exc:
            if not needs_fresh_credentials(exc, route):
                raise
            self.log.info("The API server refused the Kubernetes token; reloading it once")
            await self.aclose()
            self._resolved = None
            route = await self._route()
            return await self._call_with_retries(route, call, retry or self.retry)

    async def _call_with_retries(self, route: Route, call: RestCall[T], retry: RetryPolicy) -> T:
        retrying = AsyncRetrying(**retry_options(retry, call, self.log))
        result: T = await retrying(self._send, route, call)
        return result

    async def _send(self, route: Route, call: RestCall[T]) -> T:
        client = await self.get_conn()
        files = None
        if call.upload is not None:
            content = await asyncio.to_thread(Path(call.upload).read_bytes)
            files = {"jarfile": (Path(call.upload).name, content, JAR_CONTENT_TYPE)}
        try:
            response = await client.request(
                call.method, call.path, params=call.params, json=call.body, files=files
            )
        except httpx.HTTPError as exc:
            raise translate_transport_error(route, call, exc) from exc
        return read_answer(route, call, response)

    # --- the API (documented on FlinkRestHook) --------------------------------------------

    async def test_connection(self) -> tuple[bool, str]:
        """Async :meth:`FlinkRestHook.test_connection`."""
        try:
            overview = await self._call(calls.overview(), RetryPolicy.never())
            return True, describe_overview(overview, await self.get_endpoint())
        except Exception as exc:  # a message for a person; it must not raise
            return False, str(exc)

    async def overview(self) -> ClusterOverview:
        """Async :meth:`FlinkRestHook.overview`."""
        return await self._call(calls.overview())

    async def taskmanagers(self) -> list[TaskManagerInfo]:
        """Async :meth:`FlinkRestHook.taskmanagers`."""
        return await self._call(calls.taskmanagers())

    async def config(self) -> DashboardConfig:
        """Async :meth:`FlinkRestHook.config`."""
        return await self._call(calls.config())

    async def jobmanager_config(self) -> dict[str, str]:
        """Async :meth:`FlinkRestHook.jobmanager_config`."""
        return await self._call(calls.jobmanager_config())

    async def jobs(self) -> list[JobOverview]:
        """Async :meth:`FlinkRestHook.jobs`."""
        return await self._call(calls.jobs())

    async def job(self, job_id: str) -> JobDetails:
        """Async :meth:`FlinkRestHook.job`."""
        return await self._call(calls.job(job_id))

    async def job_exceptions(self, job_id: str) -> JobExceptions:
        """Async :meth:`FlinkRestHook.job_exceptions`."""
        return await self._call(calls.job_exceptions(job_id))

    async def checkpoints(self, job_id: str) -> CheckpointStatistics:
        """Async :meth:`FlinkRestHook.checkpoints`."""
        return await self._call(calls.checkpoints(job_id))

    async def cancel(self, job_id: str) -> None:
        """Async :meth:`FlinkRestHook.cancel`."""
        await self._call(calls.cancel_job(job_id))

    async def resource_requirements(self, job_id: str) -> dict[str, VertexResourceRequirements]:
        """Async :meth:`FlinkRestHook.resource_requirements`."""
        return await self._call(calls.resource_requirements(job_id))

    async def set_resource_requirements(
        self, job_id: str, requirements: Mapping[str, VertexResourceRequirements]
    ) -> None:
        """Async :meth:`FlinkRestHook.set_resource_requirements`."""
        await self._call(calls.set_resource_requirements(job_id, requirements))

    async def subtask_metrics(
        self, job_id: str, vertex_id: str, names: Sequence[str]
    ) -> dict[str, dict[str, float]]:
        """Async :meth:`FlinkRestHook.subtask_metrics`."""
        return await self._call(calls.subtask_metrics(job_id, vertex_id, names))

    async def trigger_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        cancel_job: bool = False,
        format_type: FormatType = "CANONICAL",
        *,
        trigger_id: str | None = None,
    ) -> str:
        """Async :meth:`FlinkRestHook.trigger_savepoint`."""
        call = calls.trigger_savepoint(
            job_id,
            target_directory,
            cancel_job=cancel_job,
            format_type=format_type,
            trigger_id=trigger_id,
        )
        return await self._call(call)

    async def stop_with_savepoint(
        self,
        job_id: str,
        target_directory: str | None = None,
        drain: bool = False,
        format_type: FormatType = "CANONICAL",
        *,
        trigger_id: str | None = None,
    ) -> str:
        """Async :meth:`FlinkRestHook.stop_with_savepoint`."""
        call = calls.stop_with_savepoint(
            job_id,
            target_directory,
            drain=drain,
            format_type=format_type,
            trigger_id=trigger_id,
        )
        return await self._call(call)

    async def savepoint_status(self, job_id: str, trigger_id: str) -> SavepointStatus:
        """Async :meth:`FlinkRestHook.savepoint_status`."""
        return await self._call(calls.savepoint_status(job_id, trigger_id))

    async def jars(self) -> list[JarFile]:
        """Async :meth:`FlinkRestHook.jars`."""
        return await self._call(calls.jars())

    async def upload_jar(self, path: str | Path) -> str:
        """Async :meth:`FlinkRestHook.upload_jar` (reads the file in a thread)."""
        return await self._call(calls.upload_jar(str(path)))

    async def run_jar(
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
        """Async :meth:`FlinkRestHook.run_jar`."""
        call = calls.run_jar(
            jar_id,
            entry_class,
            args,
            parallelism,
            savepoint_path,
            allow_non_restored_state,
            job_id=job_id,
        )
        return await self._call(call)

    async def jar_plan(
        self,
        jar_id: str,
        entry_class: str | None = None,
        args: Sequence[str] = (),
        parallelism: int | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`FlinkRestHook.jar_plan`."""
        return await self._call(calls.jar_plan(jar_id, entry_class, args, parallelism))

    async def delete_jar(self, jar_id: str) -> None:
        """Async :meth:`FlinkRestHook.delete_jar`."""
        await self._call(calls.delete_jar(jar_id))
