"""Where Flink's REST API is: one base URL and how to authenticate to it.

Three routes reach a JobManager's REST API (port ``rest``, 8081):

* ``direct`` -- a URL from a Flink connection (an ingress, a port-forward, a NodePort),
  with optional basic auth, headers and TLS settings;
* ``cluster_dns`` -- the Service's in-cluster name, ``http://<service>.<ns>.svc:8081``,
  when Airflow runs in the same Kubernetes cluster;
* ``service_proxy`` -- the Kubernetes API server's Service proxy,
  ``<api>/api/v1/namespaces/<ns>/services/<service>:rest/proxy``, with the Kubernetes
  credentials, when Airflow runs outside it.

Everything here is pure: the hooks read connections and kubeconfigs, then build an
endpoint with these constructors. Credentials live in fields kept out of ``repr`` and
never in :attr:`FlinkEndpoint.base_url`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_REST_PORT",
    "DEFAULT_TIMEOUT",
    "FlinkEndpoint",
    "FlinkRestService",
    "Route",
    "endpoint_from_connection",
    "kubernetes_auth_headers",
    "kubernetes_tls",
    "rest_service_name",
]

Route = Literal["direct", "cluster_dns", "service_proxy"]

DEFAULT_REST_PORT = 8081
"""Flink's ``rest.port``."""
DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a connection or an answer (a jar run compiles the job first)."""

_SCHEMES = ("http", "https")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


@dataclass(frozen=True)
class FlinkEndpoint:
    """The base URL of a Flink REST API and the settings every call to it needs.

    Build one with :meth:`direct`, :meth:`cluster_dns` or :meth:`service_proxy`.

    :param base_url: scheme, host, port and path prefix; no credentials, no trailing ``/``.
    :param route: how the URL was found (``direct``, ``cluster_dns``, ``service_proxy``).
    :param headers: headers sent with every call (an ``Authorization`` bearer token...).
    :param basic_auth: ``(login, password)`` for HTTP basic auth.
    :param verify: verify the server's TLS certificate (``True``), not (``False``), or
        against this CA bundle (a path).
    :param client_cert: ``(certificate file, key file)`` for TLS client authentication.
    :param timeout: seconds to wait for a connection and for each read.
    """

    base_url: str
    route: Route = "direct"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    verify: bool | str = True
    client_cert: tuple[str, str] | None = None
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError("a Flink REST URL needs an http:// or https:// scheme and a host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials do not belong in base_url: pass basic_auth")
        if parts.query or parts.fragment:
            raise ValueError("a Flink REST base URL takes no query or fragment")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, not {self.timeout}")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "headers", dict(self.headers))

    def __str__(self) -> str:
        return f"{self.base_url} ({self.route})"

    def url(self, path: str) -> str:
        """The absolute URL of an API path (``/jobs/overview``)."""
        return self.base_url + "/" + path.lstrip("/")

    @classmethod
    def direct(
        cls,
        url: str,
        auth: tuple[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        client_cert: tuple[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FlinkEndpoint:
        """Flink at a URL: an ingress, a NodePort, a port-forward.

        Credentials in the URL (``https://user:pw@host``) move to ``basic_auth``; ``auth``
        wins over them.
        """
        base_url, url_auth = _split_userinfo(url)
        return cls(
            base_url,
            "direct",
            headers=dict(headers or {}),
            basic_auth=auth or url_auth,
            verify=verify,
            client_cert=client_cert,
            timeout=timeout,
        )

    @classmethod
    def cluster_dns(
        cls,
        service: str,
        namespace: str,
        port: int = DEFAULT_REST_PORT,
        *,
        scheme: str = "http",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FlinkEndpoint:
        """A Service by its in-cluster DNS name: ``http://<service>.<namespace>.svc:8081``.

        :param service: the REST Service's name (``<cluster>-rest``, see
            :func:`rest_service_name`).
        """
        _check_dns_label(service, "service")
        _check_dns_label(namespace, "namespace")
        return cls(f"{scheme}://{service}.{namespace}.svc:{port}", "cluster_dns", timeout=timeout)

    @classmethod
    def service_proxy(
        cls,
        api_server_url: str,
        namespace: str,
        service: str,
        port_name: str = "rest",
        *,
        headers: Mapping[str, str] | None = None,
        verify: bool | str = True,
        client_cert: tuple[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FlinkEndpoint:
        """A Service through the Kubernetes API server's proxy, with Kubernetes credentials.

        :param api_server_url: the API server (a kubeconfig's ``server``), with any path
            prefix it has.
        :param port_name: the Service port's name (``rest`` in Flink's Services).
        :param headers: the Kubernetes credentials (see :func:`kubernetes_auth_headers`).
        """
        _check_dns_label(service, "service")
        _check_dns_label(namespace, "namespace")
        base, _ = _split_userinfo(api_server_url)
        target = f"{quote(service, safe='')}:{quote(port_name, safe='')}"
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/services/{target}/proxy"
        return cls(
            base.rstrip("/") + path,
            "service_proxy",
            headers=dict(headers or {}),
            verify=verify,
            client_cert=client_cert,
            timeout=timeout,
        )


@dataclass(frozen=True)
class FlinkRestService:
    """A Flink REST Service in Kubernetes, for the hooks to reach by DNS or by proxy.

    :param name: the Service's name (``<cluster>-rest``; :meth:`for_cluster` builds it).
    :param namespace: the Service's namespace.
    :param kubernetes_conn_id: the cncf Kubernetes connection whose credentials reach the
        API server (``service_proxy``) and whose in-cluster setting decides ``auto``.
    :param route: ``auto`` (cluster DNS when that connection loads the in-cluster
        configuration, else the proxy), ``cluster_dns`` or ``service_proxy``.
    :param port: the Service port for cluster DNS; ``port_name`` names it for the proxy.
    :param kube_options: ``config_file``, ``cluster_context``, ``in_cluster`` overriding
        that connection's (as the Kubernetes hooks take them).
    """

    name: str
    namespace: str
    kubernetes_conn_id: str | None = "kubernetes_default"
    route: Literal["auto", "cluster_dns", "service_proxy"] = "auto"
    kube_options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    port: int = DEFAULT_REST_PORT
    port_name: str = "rest"
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        _check_dns_label(self.name, "service")
        _check_dns_label(self.namespace, "namespace")

    @classmethod
    def for_cluster(cls, cluster: str, namespace: str, **options: Any) -> FlinkRestService:
        """The REST Service of the cluster named ``cluster`` (``<cluster>-rest``)."""
        return cls(rest_service_name(cluster), namespace, **options)

    def cluster_dns(self) -> FlinkEndpoint:
        """This Service by its in-cluster DNS name."""
        return FlinkEndpoint.cluster_dns(self.name, self.namespace, self.port, timeout=self.timeout)


def rest_service_name(cluster: str) -> str:
    """The REST Service of a cluster: ``<cluster>-rest`` (standalone and operator targets,
    as :func:`~airflow_provider_flink_k8s.manifests.names.object_names` names it)."""
    return f"{cluster}-rest"


def endpoint_from_connection(
    *,
    host: str | None,
    port: int | None = None,
    schema: str | None = None,
    login: str | None = None,
    password: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> FlinkEndpoint:
    """The endpoint a Flink connection describes.

    ``host`` is a host name or a whole URL (``https://flink.example.com/team``);
    ``schema`` is ``http`` (default) or ``https``; ``login``/``password`` become basic auth.
    Extras (unprefixed, or prefixed ``extra__flink__`` as older UIs saved them):
    ``verify_ssl`` (default true), ``ca_bundle`` (a CA file to verify against),
    ``rest_path_prefix`` (the path an ingress serves Flink under), ``headers`` (a JSON
    object), ``timeout`` (seconds).

    :raises ValueError: when the connection has no host or an unknown scheme.
    """
    options = _Extras(extra or {})
    if not host:
        raise ValueError("the Flink connection has no host")
    url = host if "://" in host else f"{(schema or 'http').lower()}://{host}"
    parts = urlsplit(url)
    netloc = parts.netloc
    if port and parts.port is None:
        netloc = f"{netloc}:{int(port)}"
    prefix = "/".join(p for p in (parts.path, options.get_str("rest_path_prefix")) if p)
    path = "/" + "/".join(s for s in prefix.split("/") if s)
    base_url = urlunsplit((parts.scheme, netloc, path.rstrip("/"), "", ""))
    auth = (login, password or "") if login else None
    verify: bool | str = options.get_bool("verify_ssl", default=True)
    if verify and options.get_str("ca_bundle"):
        verify = options.get_str("ca_bundle")
    return FlinkEndpoint.direct(
        base_url,
        auth,
        headers=options.get_headers(),
        verify=verify,
        timeout=options.get_float("timeout", DEFAULT_TIMEOUT),
    )


def kubernetes_auth_headers(auth_settings: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The headers a Kubernetes client's ``Configuration.auth_settings()`` asks for.

    ``{"BearerToken": {"in": "header", "key": "authorization", "value": "Bearer ..."}}``
    becomes ``{"authorization": "Bearer ..."}``; entries outside headers or without a
    value are skipped.
    """
    headers: dict[str, str] = {}
    for setting in auth_settings.values():
        value = setting.get("value")
        if setting.get("in") == "header" and setting.get("key") and value:
            headers[str(setting["key"])] = str(value)
    return headers


def kubernetes_tls(
    *,
    verify_ssl: bool = True,
    ssl_ca_cert: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> tuple[bool | str, tuple[str, str] | None]:
    """``(verify, client_cert)`` from a Kubernetes client ``Configuration``'s TLS fields."""
    verify: bool | str = bool(verify_ssl)
    if verify and ssl_ca_cert:
        verify = ssl_ca_cert
    client_cert = (cert_file, key_file) if cert_file and key_file else None
    return verify, client_cert


# --- helpers --------------------------------------------------------------------------------


def _split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), auth


def _check_dns_label(value: str, what: str) -> None:
    if not value or len(value) > 253 or not all(c.isalnum() or c in "-." for c in value):
        raise ValueError(f"{what} {value!r} is not a Kubernetes name")


class _Extras:
    """A connection's extras, unprefixed or prefixed ``extra__flink__``."""

    def __init__(self, extra: Mapping[str, Any]) -> None:
        self._extra = extra

    def get(self, name: str) -> Any:
        value = self._extra.get(name)
        if value is None or value == "":
            value = self._extra.get(f"extra__flink__{name}")
        return None if value == "" else value

    def get_str(self, name: str) -> str:
        value = self.get(name)
        return "" if value is None else str(value).strip()

    def get_bool(self, name: str, *, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"extra {name!r} must be true or false, not {value!r}")

    def get_float(self, name: str, default: float) -> float:
        value = self.get(name)
        try:
            return default if value is None else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"extra {name!r} must be a number of seconds") from None

    def get_headers(self) -> dict[str, str]:
        value = self.get("headers")
        if value is None:
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("extra 'headers' must be a JSON object") from None
        if not isinstance(value, Mapping):
            raise ValueError("extra 'headers' must be a JSON object")
        return {str(key): str(item) for key, item in value.items()}
