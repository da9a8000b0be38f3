"""``FlinkKubernetesHook``: apply, observe, watch, scale and tear down a Flink cluster's objects.

It composes the cncf.kubernetes provider's :class:`KubernetesHook` -- same connection,
kubeconfig, in-cluster and context handling -- and sends every request through its
``api_client`` (``ApiClient.call_api``, raw JSON). What to send, and what the answers
mean, lives in :mod:`airflow_provider_flink_k8s.kube`; this module only drives those flows
with blocking calls. :class:`~.kubernetes_async.AsyncFlinkKubernetesHook` is its twin.

Every request is retried on transient failures (no answer, 429 honouring Retry-After,
500/502/503/504) per a :class:`~airflow_provider_flink_k8s.kube.RetryPolicy`, and never on
what cannot succeed (400/403/404/409/422). Client errors become the provider's
:class:`~airflow_provider_flink_k8s.exceptions.KubernetesApiError` (``ResourceNotFound``,
``ResourceConflict``, ``KubernetesUnavailable``), whose text is the API's ``Status``
message -- never a header, token or kubeconfig.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

import tenacity
import urllib3
from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook
from airflow.providers.common.compat.sdk import BaseHook
from kubernetes.client import ApiClient, ApiException

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, KubernetesApiError
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
    apply_flow,
    delete_flow,
    events_flow,
    is_transient,
    live_flow,
    log_tails_flow,
    logs_flow,
    observe_flow,
    remaining_flow,
    resolve,
    scale_flow,
    translate_error,
)
from airflow_provider_flink_k8s.kube.apply import ClaimResult, claim_flow
from airflow_provider_flink_k8s.kube.capacity import CapacityInputs, capacity_flow
from airflow_provider_flink_k8s.kube.requests import (
    delete_request,
    fetch,
    fetch_or_none,
    get_request,
    guarded_merge_patch_request,
    list_items,
    list_request,
    merge_patch_request,
)
from airflow_provider_flink_k8s.kube.resources import ResourceRef
from airflow_provider_flink_k8s.kube.teardown import mark_deleting_flow
from airflow_provider_flink_k8s.kube.watching import DEFAULT_WINDOW
from airflow_provider_flink_k8s.observation.intent import Intent, intent_patch

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.observation import ClusterSnapshot
    from airflow_provider_flink_k8s.spec import FlinkCluster

__all__ = ["FlinkKubernetesHook", "request_headers", "retry_arguments", "watch_timeout"]

T = TypeVar("T")
_TRANSPORT_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError)
_CONNECT_TIMEOUT = 10.0
_WATCH_READ_MARGIN = 15.0


def retry_arguments(policy: RetryPolicy, log: Any, what: str) -> dict[str, Any]:
    """tenacity arguments for ``policy`` (shared by both twins): transient errors only,
    back-off or Retry-After, a warning before each wait, the last error re-raised."""

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.delay_after(state.attempt_number, error)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "Kubernetes %s failed (%s); retrying in %.2fs (attempt %d of %d)",
            what,
            error,
            delay,
            state.attempt_number + 1,
            policy.attempts,
        )

    return {
        "stop": tenacity.stop_after_attempt(policy.attempts)
        | tenacity.stop_after_delay(policy.max_elapsed),
        "wait": wait,
        "retry": tenacity.retry_if_exception(is_transient),
        "before_sleep": before_sleep,
        "reraise": True,
    }


def request_headers(request: ApiRequest) -> dict[str, str]:
    """The ``Accept`` and ``Content-Type`` headers of ``request``."""
    headers = {"Accept": request.accept}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    return headers


def watch_timeout(request: ApiRequest) -> tuple[float, float]:
    """(connect, read) timeouts of a watch request: the read outlasts ``timeoutSeconds``."""
    seconds = float(dict(request.query).get("timeoutSeconds", "0"))
    return (_CONNECT_TIMEOUT, seconds + _WATCH_READ_MARGIN)


class FlinkKubernetesHook(BaseHook):
    """Flink clusters on Kubernetes, through a cncf.kubernetes connection.

    .. seealso:: its async twin, :class:`~.kubernetes_async.AsyncFlinkKubernetesHook`

    :param kubernetes_conn_id: the cncf.kubernetes connection (``kube_config_path``,
        ``kube_config``, ``in_cluster``, ``cluster_context``, ``namespace`` extras); a
        missing ``kubernetes_default`` falls back to in-cluster, then ``~/.kube/config``.
    :param config_file: a kubeconfig path, overriding the connection's.
    :param cluster_context: the kubeconfig context, overriding the connection's.
    :param in_cluster: use the pod's service account, overriding the connection's.
    :param retry: how transient failures are retried.
    :param request_timeout: seconds a (non-watch) request may take.
    """

    conn_name_attr = "kubernetes_conn_id"
    default_conn_name = "kubernetes_default"
    conn_type = "kubernetes"
    hook_name = "Flink on Kubernetes"

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

    @cached_property
    def kube_hook(self) -> KubernetesHook:
        """The cncf.kubernetes hook this one is built on."""
        return KubernetesHook(
            conn_id=self.kubernetes_conn_id,
            kubernetes_conn_id=self.kubernetes_conn_id,
            config_file=self.config_file,
            cluster_context=self.cluster_context,
            in_cluster=self.in_cluster,
        )

    @property
    def api_client(self) -> ApiClient:
        """The ``kubernetes`` client's ``ApiClient`` (configured by the cncf hook)."""
        return cast("ApiClient", self.kube_hook.api_client)

    def get_conn(self) -> ApiClient:
        """The ``ApiClient`` (Airflow's hook convention)."""
        return self.api_client

    def test_connection(self) -> tuple[bool, str]:
        """Ask the API server its version: ``(True, "Kubernetes v1.x")`` or ``(False, why)``."""
        try:
            version = self._send(ApiRequest("GET", "/version")).json()
        except FlinkK8sError as error:
            return False, str(error)
        return True, f"Kubernetes {version.get('gitVersion', 'unknown version')}"

    # -- operations ----------------------------------------------------------------

    def apply(
        self,
        manifests: Sequence[Mapping[str, Any]],
        *,
        dry_run: bool = False,
        namespace: str | None = None,
    ) -> ApplyResult:
        """Server-side apply ``manifests`` in order (built-ins and FlinkDeployments alike).

        :param manifests: Kubernetes objects, e.g. ``render_manifests(cluster)``.
        :param dry_run: let the server check and default everything, and persist nothing.
        :param namespace: for manifests without ``metadata.namespace``.
        :return: per object, ``created``, ``configured`` or ``unchanged``.
        :raises SpecError: listing every malformed manifest, before anything is sent.
        :raises KubernetesApiError: when the server refuses an object (422 ``Invalid``...).
        """
        flow = apply_flow(manifests, table=self._table, dry_run=dry_run, namespace=namespace)
        result = self._drive(flow)
        self.log.info("Applied %d object(s): %s", len(result.objects), result.summary())
        return result

    def claim(self, manifest: Mapping[str, Any], *, namespace: str | None = None) -> ClaimResult:
        """Create ``manifest`` if no object of its name exists (``POST``, create-only);
        else read the existing one back. Of two racing claims exactly one creates.

        :raises KubernetesApiError: when the server refuses the object.
        """
        return self._drive(claim_flow(manifest, table=self._table, namespace=namespace))

    def mark_deleting(
        self,
        anchor: Mapping[str, Any],
        deleter: str,
        *,
        record: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """Record ``deleter`` (a teardown) on a cluster's anchor (its rendered manifest)
        before deleting it, with a resourceVersion precondition -- and ``record``, more
        annotations, in the same write; the live anchor after, ``None`` when absent."""
        return self._drive(mark_deleting_flow(anchor, deleter, table=self._table, record=record))

    def live_objects(
        self, manifests: Sequence[Mapping[str, Any]], *, namespace: str | None = None
    ) -> list[dict[str, Any] | None]:
        """The live object (raw JSON) of each manifest, in order; ``None`` where absent.

        :raises SpecError: listing every malformed manifest, before anything is sent.
        """
        return self._drive(live_flow(manifests, table=self._table, namespace=namespace))

    def observe(
        self,
        cluster_name: str,
        namespace: str,
        *,
        target: DeployTarget = "standalone",
        log_lines: int = 50,
    ) -> ClusterSnapshot:
        """What the cluster looks like now: Deployments, pods, Events, the FlinkDeployment.

        :param target: ``standalone`` or ``operator`` (see :mod:`.kube.observe`).
        :param log_lines: lines of the log tails :meth:`ClusterSnapshot.log_sources` asks
            for; ``0`` reads none.
        """
        return self._drive(
            observe_flow(cluster_name, namespace, target=target, log_lines=log_lines)
        )

    def get_object(
        self, ref: ResourceRef, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """One object as raw JSON (e.g. a FlinkDeployment); ``None`` when it does not exist."""
        return self._drive(fetch_or_none(get_request(ref, namespace, name)))

    def list_objects(
        self, ref: ResourceRef, namespace: str | None, *, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        """The objects of a kind (none when its CRD is not installed)."""
        request = list_request(ref, namespace, label_selector=label_selector)
        return self._drive(list_items(request, missing_ok=True))

    def patch_object(
        self, ref: ResourceRef, namespace: str | None, name: str, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A JSON merge patch with the provider's field manager; the object after it.

        :raises ResourceNotFound: when the object does not exist.
        """
        return self._drive(fetch(merge_patch_request(ref, namespace, name, patch)))

    def record_intent(
        self,
        ref: ResourceRef,
        namespace: str | None,
        name: str,
        intent: Intent | None,
        resource_version: str,
    ) -> dict[str, Any]:
        """Record ``intent`` (``None``: remove it) in the object's intent annotation, if
        the object is still at ``resource_version``; the object after the write.

        :raises ResourceConflict: when the object changed since it was read (read it
            again and decide again).
        :raises ResourceNotFound: when the object does not exist.
        """
        request = guarded_merge_patch_request(
            ref, namespace, name, intent_patch(intent), resource_version
        )
        return self._drive(fetch(request))

    def delete_object(self, ref: ResourceRef, namespace: str | None, name: str) -> bool:
        """Delete one object (Foreground); ``False`` when it was already gone."""
        return self._drive(fetch_or_none(delete_request(ref, namespace, name))) is not None

    def capacity(self, namespace: str) -> CapacityInputs:
        """Nodes, unfinished pods of every namespace, and ``namespace``'s ResourceQuotas
        (raw JSON), for a placement pre-flight."""
        return self._drive(capacity_flow(namespace))

    def scale_taskmanagers(self, cluster: FlinkCluster, replicas: int) -> ScaleResult:
        """Set the TaskManager count: the Deployment's ``/scale`` (standalone) or the
        FlinkDeployment's ``spec.taskManager.replicas`` (operator).

        :raises ResourceNotFound: when the cluster is not deployed.
        """
        return self._drive(scale_flow(cluster, replicas))

    def delete_cluster(
        self,
        cluster_name: str,
        namespace: str,
        *,
        wait: bool = True,
        timeout: float = 300.0,
        owner: str | None = None,
        first_owners_only: bool = False,
        last: tuple[str, str] | None = None,
    ) -> DeleteResult:
        """Delete every object carrying the cluster's labels (Foreground propagation).

        :param wait: return once none is left (pods included).
        :param timeout: seconds to wait.
        :param owner: only the objects recording this task instance as their creator.
        :param first_owners_only: after the first pass, only objects recording an owner
            it found (a cluster claimed anew meanwhile is left to its new owner).
        :param last: ``(kind, name)`` of the object to delete once the others are gone.
        :return: what was deleted; nothing when the cluster was already gone.
        :raises DeploymentTimeout: when objects are left after ``timeout``.
        """
        flow = delete_flow(
            cluster_name,
            namespace,
            wait=wait,
            timeout=timeout,
            clock=time.monotonic,
            owner=owner,
            first_owners_only=first_owners_only,
            last=last,
        )
        return self._drive(flow)

    def remaining_objects(self, cluster_name: str, namespace: str) -> tuple[str, ...]:
        """What is left of the cluster's objects, as ``Kind/name`` (with the finalizers
        holding each); empty once it is gone."""
        return self._drive(remaining_flow(cluster_name, namespace))

    def log_tails(self, namespace: str, snapshot: ClusterSnapshot, lines: int) -> dict[str, str]:
        """The last ``lines`` log lines of the containers ``snapshot.log_sources()``
        names, by pod (a log that cannot be read is left out)."""
        return self._drive(log_tails_flow(namespace, snapshot, lines))

    def logs(
        self,
        pod: str,
        namespace: str,
        *,
        container: str | None = None,
        tail_lines: int | None = 100,
        previous: bool = False,
    ) -> str:
        """A container's log: the last ``tail_lines`` lines (``None``: all).

        :param previous: the previous (terminated) instance's log.
        :raises ResourceNotFound: when the pod does not exist.
        """
        flow = logs_flow(
            pod, namespace, container=container, tail_lines=tail_lines, previous=previous
        )
        return self._drive(flow)

    def events(
        self, namespace: str, *, involved_object: str | None = None, kind: str | None = None
    ) -> list[dict[str, Any]]:
        """The namespace's Events, oldest first; about one object when ``involved_object``
        (and ``kind``) are given."""
        return self._drive(events_flow(namespace, involved_object=involved_object, kind=kind))

    def watch_events(
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
    ) -> Iterator[WatchEvent]:
        """Watch a collection for ``timeout`` seconds, resuming and relisting as needed.

        Starts with a list when ``resource_version`` is ``None``; resumes from the last
        event after the server closes a stream or it drops; relists after ``410 Expired``
        (see :class:`~airflow_provider_flink_k8s.kube.WatchCursor`).

        :param kind: the watched kind (``Pod``, ``Deployment``, ``FlinkDeployment``...).
        :param api_version: its API version.
        :param timeout: when the iterator ends.
        :param bookmarks: yield ``BOOKMARK`` events too.
        :param window: longest single watch request, in seconds.
        """
        ref = self._drive(resolve(self._table, api_version, kind))
        cursor = WatchCursor(
            ref,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            resource_version=resource_version,
            bookmarks=bookmarks,
            window=window,
        )
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if cursor.needs_list:
                yield from cursor.relisted(self._send(cursor.list_request()).json())
            else:
                yield from self._watch_once(cursor, remaining)

    # -- transport -----------------------------------------------------------------

    def _drive(self, flow: Flow[T]) -> T:
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
                time.sleep(step.seconds)
                continue
            try:
                outcome = self._send(step)
            except KubernetesApiError as exc:
                error = exc

    def _call(self, request: ApiRequest, timeout: float | tuple[float, float]) -> Any:
        try:
            return self.api_client.call_api(
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
        except _TRANSPORT_ERRORS as exc:
            raise translate_error(exc) from exc

    def _send_once(self, request: ApiRequest) -> ApiResponse:
        response = self._call(request, self.request_timeout)
        try:
            return ApiResponse(response.status, response.data)
        except _TRANSPORT_ERRORS as exc:
            raise translate_error(exc) from exc
        finally:
            response.release_conn()

    def _retrying(self, request: ApiRequest) -> tenacity.Retrying:
        return tenacity.Retrying(**retry_arguments(self.retry, self.log, request.describe()))

    def _send(self, request: ApiRequest) -> ApiResponse:
        """Send ``request``, retrying transient failures; a 2xx answer, or our error."""
        return self._retrying(request)(self._send_once, request)

    def _open_watch(self, request: ApiRequest) -> Any:
        return self._retrying(request)(self._call, request, watch_timeout(request))

    def _watch_once(self, cursor: WatchCursor, remaining: float) -> Iterator[WatchEvent]:
        """One watch request: its events, until the server closes it, it drops, or the
        cursor must relist."""
        try:
            response = self._open_watch(cursor.watch_request(remaining))
        except KubernetesApiError as error:
            if cursor.expire(error):
                return
            raise
        lines = LineBuffer()
        try:
            for chunk in response.stream(amt=None, decode_content=False):
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
        finally:
            response.close()
            response.release_conn()
