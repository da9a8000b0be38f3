"""The transport of the Flink REST hooks: what the sync and async twins share besides the
pure core (:mod:`airflow_provider_flink_k8s.flinkrest`).

* :class:`Route` -- a resolved endpoint plus what sending needs (client options, the
  secrets to keep out of messages, a refreshing Kubernetes auth);
* :func:`translate_transport_error` and :func:`read_answer` -- the seam where httpx's
  exceptions and HTTP answers become the provider's exceptions;
* :func:`retry_options` -- a :class:`~airflow_provider_flink_k8s.flinkrest.RetryPolicy`
  as tenacity arguments for ``Retrying``/``AsyncRetrying``;
* :func:`kubernetes_route` / :func:`akubernetes_route` -- a Flink REST Service reached by
  cluster DNS or through the API server's proxy with the cncf Kubernetes hooks' credentials;
* :func:`check_target`, :func:`savepoint_timeout`, :func:`describe_overview` -- the small
  decisions both twins make the same way.
"""

from __future__ import annotations

import base64
import inspect
import json
import ssl
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt, stop_before_delay

from airflow_provider_flink_k8s.exceptions import DeploymentTimeout, FlinkRestError
from airflow_provider_flink_k8s.flinkrest.endpoint import (
    FlinkEndpoint,
    FlinkRestService,
    endpoint_from_connection,
    kubernetes_auth_headers,
    kubernetes_tls,
)
from airflow_provider_flink_k8s.flinkrest.errors import (
    error_from_answer,
    redact,
    unavailable,
    unexpected_answer,
)

if TYPE_CHECKING:
    from airflow.sdk import Connection

    from airflow_provider_flink_k8s.flinkrest.models import ClusterOverview
    from airflow_provider_flink_k8s.flinkrest.requests import RestCall
    from airflow_provider_flink_k8s.flinkrest.retries import RetryPolicy

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_SAVEPOINT_TIMEOUT",
    "JAR_CONTENT_TYPE",
    "KubernetesAuth",
    "Route",
    "akubernetes_route",
    "check_target",
    "connection_route",
    "describe_overview",
    "kubernetes_route",
    "needs_fresh_credentials",
    "read_answer",
    "retry_options",
    "savepoint_timeout",
    "translate_transport_error",
]

T = TypeVar("T")
JAR_CONTENT_TYPE = "application/x-java-archive"
DEFAULT_SAVEPOINT_TIMEOUT = 600.0
"""Seconds ``wait_for_savepoint`` waits by default (the operator's checkpoint timeout)."""
DEFAULT_POLL_INTERVAL = 1.0
"""Seconds between two savepoint status reads."""

# Nothing reached the server: safe to repeat even a call that is not idempotent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request went out (or may have) and no complete answer came back.
_NO_ANSWER = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class KubernetesAuth(httpx.Auth):
    """Sets the Kubernetes credentials on each request from a client ``Configuration``, so
    tokens its loader refreshes (in-cluster token files, exec plugins) stay current."""

    def __init__(self, configuration: Any) -> None:
        self._configuration = configuration

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, Any, None]:
        request.headers.update(kubernetes_auth_headers(self._configuration.auth_settings()))
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        settings = self._configuration.auth_settings()
        if inspect.isawaitable(settings):
            settings = await settings
        request.headers.update(kubernetes_auth_headers(settings))
        yield request


@dataclass(frozen=True)
class Route:
    """A resolved endpoint and the per-request auth that refreshes its credentials."""

    endpoint: FlinkEndpoint
    auth: httpx.Auth | None = field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Credential values to keep out of every message: header values (and a token
        without its scheme), the basic-auth password and its encoded header value."""
        values: list[str] = []
        for value in self.endpoint.headers.values():
            values.extend((value, value.split()[-1] if value.split() else value))
        if self.endpoint.basic_auth:
            login, password = self.endpoint.basic_auth
            values.append(password)
            values.append(base64.b64encode(f"{login}:{password}".encode()).decode())
        return tuple(v for v in values if v)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client``/``httpx.AsyncClient``."""
        endpoint = self.endpoint
        auth: httpx.Auth | None = self.auth
        if auth is None and endpoint.basic_auth is not None:
            auth = httpx.BasicAuth(*endpoint.basic_auth)
        return {
            "base_url": endpoint.base_url,
            "headers": dict(endpoint.headers),
            "auth": auth,
            "verify": _ssl_context(endpoint),
            "timeout": httpx.Timeout(endpoint.timeout),
            "follow_redirects": False,
        }


def connection_route(connection: Connection) -> Route:
    """The route a Flink connection describes."""
    endpoint = endpoint_from_connection(
        host=connection.host,
        port=connection.port,
        schema=connection.schema,
        login=connection.login,
        password=connection.password,
        extra=connection.extra_dejson,
    )
    return Route(endpoint)


def kubernetes_route(service: FlinkRestService) -> Route:
    """``service`` by cluster DNS or through the API server's proxy (sync client)."""
    if service.route == "cluster_dns":
        return Route(service.cluster_dns())
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook

    hook = FlinkKubernetesHook(service.kubernetes_conn_id, **service.kube_options).kube_hook
    configuration = hook.api_client.configuration
    if service.route == "auto" and hook.is_in_cluster:
        return Route(service.cluster_dns())
    return _proxy_route(service, configuration, configuration.auth_settings())


async def akubernetes_route(service: FlinkRestService) -> Route:
    """``service`` by cluster DNS or through the API server's proxy (async client)."""
    if service.route == "cluster_dns":
        return Route(service.cluster_dns())
    from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook

    kube = AsyncFlinkKubernetesHook(service.kubernetes_conn_id, **service.kube_options)
    hook = await kube.kube_hook()
    async with hook.get_conn() as api_client:
        configuration = api_client.configuration
    if service.route == "auto" and hook.is_in_cluster:
        return Route(service.cluster_dns())
    return _proxy_route(service, configuration, await configuration.auth_settings())


def translate_transport_error(
    route: Route, call: RestCall[Any], exc: httpx.HTTPError
) -> FlinkRestError:
    """The provider's exception for an httpx failure that left no HTTP answer:
    :class:`FlinkRestUnavailable` for connection, network and timeout errors (with
    ``request_sent`` False when the request certainly never left), else
    :class:`FlinkRestError`."""
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, (*_NOT_SENT, *_NO_ANSWER)):
        return unavailable(
            method=call.method,
            path=call.path,
            endpoint=str(route.endpoint),
            reason=reason,
            request_sent=not isinstance(exc, _NOT_SENT),
            secrets=route.secrets,
        )
    message = f"Flink REST {call.method} {call.path} at {route.endpoint}: {reason}"
    return FlinkRestError(redact(message, route.secrets), method=call.method, path=call.path)


def read_answer(route: Route, call: RestCall[T], response: httpx.Response) -> T:
    """``call``'s result from an HTTP answer.

    :raises FlinkRestError: for a status of 300 or more (the subclass by status), or an
        answer that does not read as ``call`` expects.
    """
    fields = {"method": call.method, "path": call.path, "endpoint": str(route.endpoint)}
    status = response.status_code
    if status >= 300:
        headers = {name.lower(): value for name, value in response.headers.items()}
        raise error_from_answer(
            **fields,
            status=status,
            headers=headers,
            content=response.content,
            now=time.time(),
            secrets=route.secrets,
        )
    try:
        body = json.loads(response.content) if response.content.strip() else None
        return call.parse(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise unexpected_answer(**fields, status=status, problem=problem) from exc


def retry_options(policy: RetryPolicy, call: RestCall[Any], log: Any) -> dict[str, Any]:
    """tenacity arguments applying ``policy`` to ``call`` (logging each retry)."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.delay_after(state.attempt_number, error)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s (try %d of %d); retrying in %.1f s",
            error,
            state.attempt_number,
            policy.attempts,
            state.upcoming_sleep,
        )

    retryable: Callable[[BaseException], bool] = lambda error: policy.should_retry(  # noqa: E731
        error, idempotent=call.idempotent
    )
    return {
        "stop": stop_after_attempt(policy.attempts) | stop_before_delay(policy.max_elapsed),
        "wait": wait,
        "retry": retry_if_exception(retryable),
        "before_sleep": before_sleep,
        "reraise": True,
    }


def needs_fresh_credentials(error: BaseException, route: Route) -> bool:
    """Whether the API server refused the Kubernetes credentials of a proxy route (401):
    an expired token, which reloading the kubeconfig renews (exec plugins, EKS/GKE)."""
    return isinstance(error, FlinkRestError) and error.status == 401 and route.auth is not None


def check_target(flink_conn_id: str | None, endpoint: Any, service: Any) -> None:
    """Refuse more than one of a hook's three ways to find Flink.

    :raises ValueError: when more than one is given.
    """
    if sum(target is not None for target in (flink_conn_id, endpoint, service)) > 1:
        raise ValueError("give one of flink_conn_id, endpoint and service")


def savepoint_timeout(job_id: str, trigger_id: str, waited: float) -> DeploymentTimeout:
    """The error of a savepoint wait that gave up."""
    return DeploymentTimeout(
        f"savepoint {trigger_id} of job {job_id} still in progress after {waited:.0f}s",
        reason="SavepointInProgress",
        waited_seconds=waited,
    )


def describe_overview(overview: ClusterOverview, endpoint: FlinkEndpoint) -> str:
    """What ``test_connection`` tells the Airflow UI about a reachable cluster."""
    return (
        f"Flink {overview.flink_version or '(unknown version)'} at {endpoint}: "
        f"{overview.taskmanagers} TaskManagers, {overview.slots_available} of "
        f"{overview.slots_total} slots free, {overview.jobs_running} jobs running"
    )


# --- helpers --------------------------------------------------------------------------------


def _proxy_route(
    service: FlinkRestService, configuration: Any, auth_settings: Mapping[str, Any]
) -> Route:
    verify, client_cert = kubernetes_tls(
        verify_ssl=bool(getattr(configuration, "verify_ssl", True)),
        ssl_ca_cert=getattr(configuration, "ssl_ca_cert", None),
        cert_file=getattr(configuration, "cert_file", None),
        key_file=getattr(configuration, "key_file", None),
    )
    endpoint = FlinkEndpoint.service_proxy(
        str(configuration.host),
        service.namespace,
        service.name,
        service.port_name,
        headers=kubernetes_auth_headers(auth_settings),
        verify=verify,
        client_cert=client_cert,
        timeout=service.timeout,
    )
    return Route(endpoint, KubernetesAuth(configuration))


def _ssl_context(endpoint: FlinkEndpoint) -> ssl.SSLContext | bool:
    if endpoint.verify is True and endpoint.client_cert is None:
        return True
    if endpoint.verify is False and endpoint.client_cert is None:
        return False
    cafile = endpoint.verify if isinstance(endpoint.verify, str) else None
    context = ssl.create_default_context(cafile=cafile)
    if endpoint.verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif cafile is None:
        import certifi

        context.load_verify_locations(certifi.where())
    if endpoint.client_cert is not None:
        context.load_cert_chain(*endpoint.client_cert)
    return context
