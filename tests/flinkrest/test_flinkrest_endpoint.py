"""Endpoints: the three routes' base URLs, a Flink connection read into one, the
Kubernetes credentials, and credentials kept out of URLs and reprs."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flink_k8s.flinkrest import (
    FlinkEndpoint,
    FlinkRestService,
    endpoint_from_connection,
    kubernetes_auth_headers,
    kubernetes_tls,
    rest_service_name,
)


def test_direct_moves_url_credentials_to_basic_auth() -> None:
    endpoint = FlinkEndpoint.direct("https://alice:s%40cret@flink.example.com:8443/flink/")

    assert endpoint.base_url == "https://flink.example.com:8443/flink"
    assert endpoint.basic_auth == ("alice", "s@cret")
    assert endpoint.route == "direct"
    assert "s@cret" not in repr(endpoint) and "s@cret" not in str(endpoint)
    assert endpoint.url("/jobs/overview") == "https://flink.example.com:8443/flink/jobs/overview"


def test_explicit_auth_wins_and_headers_stay_out_of_repr() -> None:
    endpoint = FlinkEndpoint.direct(
        "http://u:p@127.0.0.1:8081", ("bob", "pw"), headers={"Authorization": "Bearer tok-123"}
    )

    assert endpoint.basic_auth == ("bob", "pw")
    assert "tok-123" not in repr(endpoint) and "pw" not in repr(endpoint)


@pytest.mark.parametrize(
    "url",
    ["flink:8081", "ftp://flink", "http://", "http://flink/?a=1", "http://flink/#top"],
)
def test_a_base_url_needs_a_scheme_a_host_and_nothing_after_the_path(url: str) -> None:
    with pytest.raises(ValueError):
        FlinkEndpoint.direct(url)


def test_credentials_cannot_hide_in_base_url() -> None:
    with pytest.raises(ValueError, match="basic_auth"):
        FlinkEndpoint("http://u:p@flink:8081")


def test_cluster_dns_names_the_service_in_its_namespace() -> None:
    endpoint = FlinkEndpoint.cluster_dns(rest_service_name("orders"), "streaming")

    assert endpoint.base_url == "http://orders-rest.streaming.svc:8081"
    assert endpoint.route == "cluster_dns"
    assert endpoint.headers == {} and endpoint.basic_auth is None


@pytest.mark.parametrize(
    ("api_server", "expected"),
    [
        (
            "https://10.0.0.1:6443",
            "https://10.0.0.1:6443/api/v1/namespaces/streaming/services/orders-rest:rest/proxy",
        ),
        (
            "https://rancher.example.com/k8s/clusters/c-1/",
            "https://rancher.example.com/k8s/clusters/c-1"
            "/api/v1/namespaces/streaming/services/orders-rest:rest/proxy",
        ),
    ],
)
def test_service_proxy_goes_through_the_api_server(api_server: str, expected: str) -> None:
    endpoint = FlinkEndpoint.service_proxy(
        api_server,
        "streaming",
        "orders-rest",
        headers={"authorization": "Bearer k8s-token"},
        verify="/etc/k8s/ca.crt",
        client_cert=("/c.crt", "/c.key"),
    )

    assert endpoint.base_url == expected
    assert endpoint.route == "service_proxy"
    assert endpoint.headers == {"authorization": "Bearer k8s-token"}
    assert endpoint.verify == "/etc/k8s/ca.crt"
    assert endpoint.client_cert == ("/c.crt", "/c.key")
    assert "k8s-token" not in repr(endpoint)


def test_service_proxy_takes_another_port_name() -> None:
    endpoint = FlinkEndpoint.service_proxy("http://127.0.0.1:1", "ns", "svc", port_name="webui")
    assert endpoint.base_url.endswith("/namespaces/ns/services/svc:webui/proxy")


@pytest.mark.parametrize("name", ["", "Orders_Rest", "a/b", "x" * 254])
def test_service_and_namespace_must_be_kubernetes_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes name"):
        FlinkEndpoint.cluster_dns(name, "ns")
    with pytest.raises(ValueError, match="not a Kubernetes name"):
        FlinkRestService("orders-rest", name)


def test_flink_rest_service_for_a_cluster() -> None:
    service = FlinkRestService.for_cluster("orders", "streaming", route="service_proxy")

    assert service.name == "orders-rest"
    assert service.route == "service_proxy"
    assert service.kubernetes_conn_id == "kubernetes_default"
    assert service.cluster_dns().base_url == "http://orders-rest.streaming.svc:8081"


CONNECTIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "host-and-port",
        {"host": "flink.local", "port": 8081},
        {"base_url": "http://flink.local:8081"},
    ),
    (
        "https-in-schema",
        {"host": "flink.example.com", "schema": "HTTPS"},
        {"base_url": "https://flink.example.com"},
    ),
    (
        "a-whole-url-in-host",
        {"host": "https://flink.example.com:9443/team/", "port": 1},
        {"base_url": "https://flink.example.com:9443/team"},
    ),
    (
        "path-prefix-extra",
        {"host": "ingress.local", "extra": {"rest_path_prefix": "/flink/orders/"}},
        {"base_url": "http://ingress.local/flink/orders"},
    ),
    (
        "prefixed-extras-of-older-forms",
        {
            "host": "h",
            "extra": {"extra__flink__rest_path_prefix": "p", "extra__flink__verify_ssl": "false"},
        },
        {"base_url": "http://h/p", "verify": False},
    ),
    (
        "login-and-password",
        {"host": "h", "login": "alice", "password": "pw"},
        {"basic_auth": ("alice", "pw")},
    ),
    ("login-without-password", {"host": "h", "login": "alice"}, {"basic_auth": ("alice", "")}),
    (
        "ca-bundle",
        {"host": "https://h", "extra": {"ca_bundle": "/etc/ssl/flink.pem"}},
        {"verify": "/etc/ssl/flink.pem"},
    ),
    (
        "verify-off-beats-a-ca-bundle",
        {"host": "https://h", "extra": {"verify_ssl": False, "ca_bundle": "/x.pem"}},
        {"verify": False},
    ),
    (
        "headers-as-json-text",
        {"host": "h", "extra": {"headers": '{"X-Team": "data", "Authorization": "Bearer t"}'}},
        {"headers": {"X-Team": "data", "Authorization": "Bearer t"}},
    ),
    (
        "headers-as-an-object-and-a-timeout",
        {"host": "h", "extra": {"headers": {"X-Team": 7}, "timeout": "12.5"}},
        {"headers": {"X-Team": "7"}, "timeout": 12.5},
    ),
]


@pytest.mark.parametrize(
    ("connection", "expected"), [c[1:] for c in CONNECTIONS], ids=[c[0] for c in CONNECTIONS]
)
def test_a_flink_connection_reads_into_an_endpoint(
    connection: dict[str, Any], expected: dict[str, Any]
) -> None:
    endpoint = endpoint_from_connection(**connection)

    assert endpoint.route == "direct"
    for name, value in expected.items():
        assert getattr(endpoint, name) == value, name


@pytest.mark.parametrize(
    ("connection", "message"),
    [
        ({"host": None}, "no host"),
        ({"host": "h", "schema": "ftp"}, "http:// or https://"),
        ({"host": "h", "extra": {"verify_ssl": "maybe"}}, "true or false"),
        ({"host": "h", "extra": {"headers": "{not json"}}, "JSON object"),
        ({"host": "h", "extra": {"headers": "[1]"}}, "JSON object"),
        ({"host": "h", "extra": {"timeout": "soon"}}, "number of seconds"),
    ],
)
def test_a_broken_connection_says_what_is_wrong(connection: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        endpoint_from_connection(**connection)


def test_a_header_error_does_not_echo_the_header() -> None:
    with pytest.raises(ValueError) as caught:
        endpoint_from_connection(host="h", extra={"headers": '{"Authorization": "Bearer sec'})
    assert "sec" not in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "headers"),
    [
        (
            {
                "BearerToken": {
                    "type": "api_key",
                    "in": "header",
                    "key": "authorization",
                    "value": "Bearer abc",
                }
            },
            {"authorization": "Bearer abc"},
        ),
        ({"BearerToken": {"in": "header", "key": "authorization", "value": None}}, {}),
        ({"Query": {"in": "query", "key": "token", "value": "abc"}}, {}),
        ({}, {}),
    ],
)
def test_kubernetes_auth_settings_become_headers(
    settings: dict[str, Any], headers: dict[str, str]
) -> None:
    assert kubernetes_auth_headers(settings) == headers


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, (True, None)),
        ({"ssl_ca_cert": "/ca.crt"}, ("/ca.crt", None)),
        ({"verify_ssl": False, "ssl_ca_cert": "/ca.crt"}, (False, None)),
        ({"cert_file": "/c", "key_file": "/k"}, (True, ("/c", "/k"))),
        ({"cert_file": "/c"}, (True, None)),
    ],
)
def test_kubernetes_tls_settings(fields: dict[str, Any], expected: tuple[Any, Any]) -> None:
    assert kubernetes_tls(**fields) == expected
