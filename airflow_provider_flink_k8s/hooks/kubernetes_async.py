"""``AsyncFlinkKubernetesHook``: the async twin of :class:`~.kubernetes.FlinkKubernetesHook`.

Same method names and results, awaited; for triggers. It composes the cncf.kubernetes
:class:`AsyncKubernetesHook` (its ``get_conn()`` yields a ``kubernetes_asyncio``
``ApiClient``; the connection is read with the async getters, so nothing blocks the
triggerer's loop) and drives the same :mod:`airflow_provider_flink_k8s.kube` flows, with
the same retry policy and error translation. It never inherits the sync hook.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import aiohttp
import tenacity
from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
from airflow.providers.common.compat.sdk import BaseHook
from kubernetes_asyncio.client import ApiException

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, KubernetesApiError
from airflow_provider_flink_k8s.hooks.kubernetes import (
    request_headers,
    retry_arguments,
    watch_timeout,
)
from airflow_provider_flink_k8s.kube import (
    ApiRequest,
    ApiResponse,
    ApplyResult,
    DeleteResult,
    DeployTarget,
    Flow,
    LineBuffer,
    ResourceTable,
    RetryPolicy,
    ScaleResult,
    Sleep,
    WatchCursor,
    WatchEvent,
    api_error,
    apply_flow,
    delete_flow,
    events_flow,
    live_flow,
    log_tails_flow,
    logs_flow,
    observe_flow,
    remaining_flow,
    resolve,
    scale_flow,
    translate_error,
)
from airflow_provider_flink_k8s.kube.capacity import CapacityInputs, capacity_flow
from airflow_provider_flink_k8s.kube.requests import (
    delete_request,
    fetch,
    fetch_or_none,
    get_request,
    list_items,
    list_request,
    merge_patch_request,
)
from airflow_provider_flink_k8s.kube.resources import ResourceRef
from airflow_provider_flink_k8s.kube.watching import DEFAULT_WINDOW

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.observation import ClusterSnapshot
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = ["AsyncFlinkKubernetesHook"]

T = TypeVar("T")
_TRANSPORT_ERRORS = (ApiException, aiohttp.ClientError, asyncio.TimeoutError, OSError)


class AsyncFlinkKubernetesHook(BaseHook):
    """Flink clusters on Kubernetes, asynchronously, through a cncf.kubernetes connection.

    The parameters are the sync hook's. ``config_file`` is honoured here too (the cncf
    async hook reads ``kube_config_path`` from the connection only): it is passed on as
    that extra.

    :param kubernetes_conn_id: the cncf.kubernetes connection.
    :param config_file: a kubeconfig path, overriding the connection's.
    :param cluster_context: the kubeconfig context, overriding the connection's.
    :param in_cluster: use the pod's service account, overriding the connection's.
    :param retry: how transient failures are retried.
    :param request_timeout: seconds a (non-watch) request may take.
    """

    conn_name_attr = "kubernetes_conn_id"
    default_conn_name = "kubernetes_default"
    conn_type = "kubernetes"
    hook_name = "Flink on Kubernetes (async)"

    def __init__(
        self,
        kubernetes_conn_id: str | None = default_conn_name,
        *,
        config_file: str | None = None,
        cluster_context: str | None = None,
        in_cluster: bool | None = None,
        retry: RetryPolicy | None = None,
        request_timeout: float = 60.0,
    ) -> None:
        super().__init__()
        self.kubernetes_conn_id = kubernetes_conn_id
        self.config_file = config_file
        self.cluster_context = cluster_context
        self.in_cluster = in_cluster
        self.retry = retry or RetryPolicy()
        self.request_timeout = request_timeout
        self._table = ResourceTable()
        self._kube_hook: AsyncKubernetesHook | None = None
        self._api: Any = None

    async def kube_hook(self) -> AsyncKubernetesHook:
        """The cncf.kubernetes async hook this one is built on (made once)."""
        if self._kube_hook is None:
            options: dict[str, Any] = {
                "conn_id": self.kubernetes_conn_id,
                "kubernetes_conn_id": self.kubernetes_conn_id,
                "cluster_context": self.cluster_context,
                "in_cluster": self.in_cluster,
            }
            hook = AsyncKubernetesHook(**options)
            if self.config_file is not None:
                extras = {**await hook.get_conn_extras(), "kube_config_path": self.config_file}
                hook = AsyncKubernetesHook(connection_extras=extras, **options)
            self._kube_hook = hook
        return self._kube_hook

    @contextlib.asynccontextmanager
    async def get_conn(self) -> AsyncIterator[Any]:
        """A ``kubernetes_asyncio`` ``ApiClient``, closed on exit (the one
        :meth:`connected` holds, left open, when inside it)."""
        if self._api is not None:
            yield self._api
            return
        hook = await self.kube_hook()
        async with hook.get_conn() as api:
            yield api

    @contextlib.asynccontextmanager
    async def connected(self) -> AsyncIterator[AsyncFlinkKubernetesHook]:
        """Share one ``ApiClient`` between every call made inside (a trigger's whole life):
        the kubeconfig is read once, and connections are reused, instead of a new client
        for each call."""
        if self._api is not None:
            yield self
            return
        async with self.get_conn() as api:
            self._api = api
            try:
                yield self
            finally:
                self._api = None

    async def test_connection(self) -> tuple[bool, str]:
        """Ask the API server its version: ``(True, "Kubernetes v1.x")`` or ``(False, why)``."""
        try:
            async with self.get_conn() as api:
                version = (await self._send(api, ApiRequest("GET", "/version"))).json()
        except FlinkK8sError as error:
            return False, str(error)
        return True, f"Kubernetes {version.get('gitVersion', 'unknown version')}"

    # -- operations (see the sync twin for the full contracts) ----------------------

    async def apply(
        self,
        manifests: Sequence[Mapping[str, Any]],
        *,
        dry_run: bool = False,
        namespace: str | None = None,
    ) -> ApplyResult:
        """Server-side apply ``manifests`` in order; per object created/configured/unchanged.

        :raises SpecError: listing every malformed manifest, before anything is sent.
        :raises KubernetesApiError: when the server refuses an object.
        """
        flow = apply_flow(manifests, table=self._table, dry_run=dry_run, namespace=namespace)
        result = await self._run(flow)
        self.log.info("Applied %d object(s): %s", len(result.objects), result.summary())
        return result

    async def live_objects(
        self, manifests: Sequence[Mapping[str, Any]], *, namespace: str | None = None
    ) -> list[dict[str, Any] | None]:
        """The live object (raw JSON) of each manifest, in order; ``None`` where absent."""
        return await self._run(live_flow(manifests, table=self._table, namespace=namespace))

    async def observe(
        self,
        cluster_name: str,
        namespace: str,
        *,
        target: DeployTarget = "standalone",
        log_lines: int = 50,
    ) -> ClusterSnapshot:
        """What the cluster looks like now (Deployments, pods, Events, FlinkDeployment)."""
        flow = observe_flow(cluster_name, namespace, target=target, log_lines=log_lines)
        return await self._run(flow)

    async def get_object(
        self, ref: ResourceRef, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """One object as raw JSON (e.g. a FlinkDeployment); ``None`` when it does not exist."""
        return await self._run(fetch_or_none(get_request(ref, namespace, name)))

    async def list_objects(
        self, ref: ResourceRef, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """The objects of a kind (none when its CRD is not installed)."""
        request = list_request(ref, namespace, label_selector=label_selector)
        return await self._run(list_items(request, missing_ok=True))

    async def patch_object(
        self, ref: ResourceRef, namespace: str | None, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A JSON merge patch with the provider's field manager; the object after it.

        :raises ResourceNotFound: when the object does not exist.
        """
        return await self._run(fetch(merge_patch_request(ref, namespace, name, patch)))

    async def delete_object(self, ref: ResourceRef, namespace: str | None, name: str) -> bool:
        """Delete one object (Foreground); ``False`` when it was already gone."""
        return await self._run(fetch_or_none(delete_request(ref, namespace, name))) is not None

    async def capacity(self, namespace: str) -> CapacityInputs:
        """Nodes, unfinished pods of every namespace, and ``namespace``'s ResourceQuotas
        (raw JSON), for a placement pre-flight."""
        return await self._run(capacity_flow(namespace))

    async def scale_taskmanagers(self, cluster: FlinkCluster, replicas: int) -> ScaleResult:
        """Set the TaskManager count (``/scale``, or the FlinkDeployment's spec).

        :raises ResourceNotFound: when the cluster is not deployed.
        """
        return await self._run(scale_flow(cluster, replicas))

    async def delete_cluster(
        self,
        cluster_name: str,
        namespace: str,
        *,
        wait: bool = True,
        timeout: float = 300.0,
        owner: str | None = None,
    ) -> DeleteResult:
        """Delete every object carrying the cluster's labels (Foreground), then wait.

        :param owner: only the objects recording this task instance as their creator.
        :raises DeploymentTimeout: when objects are left after ``timeout``.
        """
        clock = asyncio.get_running_loop().time
        flow = delete_flow(
            cluster_name, namespace, wait=wait, timeout=timeout, clock=clock, owner=owner
        )
        return await self._run(flow)

    async def remaining_objects(self, cluster_name: str, namespace: str) -> tuple[str, ...]:
        """What is left of the cluster's objects, as ``Kind/name``; empty once gone."""
        return await self._run(remaining_flow(cluster_name, namespace))

    async def log_tails(
        self, namespace: str, snapshot: ClusterSnapshot, lines: int
    ) -> dict[str, str]:
        """The last ``lines`` log lines of the containers ``snapshot.log_sources()`` names."""
        return await self._run(log_tails_flow(namespace, snapshot, lines))

    async def logs(
        self,
        pod: str,
        namespace: str,
        *,
        container: str | None = None,
        tail_lines: int | None = 100,
        previous: bool = False,
    ) -> str:
        """A container's log: the last ``tail_lines`` lines (``None``: all).

        :raises ResourceNotFound: when the pod does not exist.
        """
        flow = logs_flow(
            pod, namespace, container=container, tail_lines=tail_lines, previous=previous
        )
        return await self._run(flow)

    async def events(
        self, namespace: str, *, involved_object: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """The namespace's Events, oldest first (about one object when asked)."""
        return await self._run(events_flow(namespace, involved_object=involved_object, kind=kind))

    async def watch_events(
        self,
        namespace: str | None,
        label_selector: str | None = None,
        resource_version: str | None = None,
        *,
        kind: str = "Pod",
        api_version: str = "v1",
        field_selector: str | None = None,
        timeout: float = 60.0,
        bookmarks: bool = False,
        window: float = DEFAULT_WINDOW,
    ) -> AsyncIterator[WatchEvent]:
        """Watch a collection for ``timeout`` seconds, resuming and relisting as needed.

        Close it (``contextlib.aclosing``) when leaving early: it holds a connection.
        """
        loop = asyncio.get_running_loop()
        async with self.get_conn() as api:
            ref = await self._drive(api, resolve(self._table, api_version, kind))
            cursor = WatchCursor(
                ref,
                namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                resource_version=resource_version,
                bookmarks=bookmarks,
                window=window,
            )
            deadline = loop.time() + timeout
            while (remaining := deadline - loop.time()) > 0:
                if cursor.needs_list:
                    listed = await self._send(api, cursor.list_request())
                    for event in cursor.relisted(listed.json()):
                        yield event
                else:
                    async for event in self._watch_once(api, cursor, remaining):
                        yield event

    # -- transport -----------------------------------------------------------------

    async def _run(self, flow: Flow[T]) -> T:
        async with self.get_conn() as api:
            return await self._drive(api, flow)

    async def _drive(self, api: Any, flow: Flow[T]) -> T:
        """Run ``flow``: send its requests, sleep its sleeps, throw our errors back in."""
        outcome: ApiResponse | None = None
        error: KubernetesApiError | None = None
        while True:
            try:
                step = flow.throw(error) if error is not None else flow.send(outcome)
            except StopIteration as done:
                return cast("T", done.value)
            outcome, error = None, None
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                continue
            try:
                outcome = await self._send(api, step)
            except KubernetesApiError as exc:
                error = exc

    async def _call(
        self, api: Any, request: ApiRequest, timeout: float | tuple[float, float]
    ) -> Any:
        """Send ``request``; the open response when it is 2xx, else our error."""
        try:
            response = await api.call_api(
                request.path,
                request.method,
                query_params=list(request.query),
                header_params=request_headers(request),
                body=request.body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
                _request_timeout=timeout,
            )
            if 200 <= response.status < 300:
                return response
            async with response:
                body = await response.read()
        except _TRANSPORT_ERRORS as exc:
            raise translate_error(exc) from exc
        raise api_error(response.status, response.headers, body, phrase=response.reason)

    async def _send_once(self, api: Any, request: ApiRequest) -> ApiResponse:
        response = await self._call(api, request, self.request_timeout)
        try:
            async with response:
                return ApiResponse(response.status, await response.read())
        except _TRANSPORT_ERRORS as exc:
            raise translate_error(exc) from exc

    def _retrying(self, request: ApiRequest) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(**retry_arguments(self.retry, self.log, request.describe()))

    async def _send(self, api: Any, request: ApiRequest) -> ApiResponse:
        """Send ``request``, retrying transient failures; a 2xx answer, or our error."""
        response: ApiResponse = await self._retrying(request)(self._send_once, api, request)
        return response

    async def _watch_once(
        self, api: Any, cursor: WatchCursor, remaining: float
    ) -> AsyncIterator[WatchEvent]:
        """One watch request: its events, until the server closes it, it drops, or the
        cursor must relist."""
        request = cursor.watch_request(remaining)
        try:
            response: Any = await self._retrying(request)(
                self._call, api, request, watch_timeout(request)
            )
        except KubernetesApiError as error:
            if cursor.expire(error):
                return
            raise
        lines = LineBuffer()
        try:
            async with response:
                async for chunk in response.content.iter_any():
                    for line in lines.feed(chunk):
                        outcome = cursor.advance(line)
                        if isinstance(outcome, KubernetesApiError):
                            raise outcome
                        if outcome is not None:
                            yield outcome
                        if cursor.needs_list:
                            return
        except _TRANSPORT_ERRORS as exc:
            self.log.info("Watch stream dropped (%s); resuming", translate_error(exc))
