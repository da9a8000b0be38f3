"""Both REST hooks over HTTP against the fake: connections from the environment, the
Kubernetes routes from a kubeconfig, uploads, savepoint waits, and credentials that
never reach a message or a log line."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_flink import ANSWERS, JOB_ID, OVERVIEW, TRIGGER_ID, TWINS, Answer, FakeFlink, run_twin

from airflow_provider_flink_k8s.exceptions import (
    DeploymentTimeout,
    FlinkRestError,
    FlinkRestUnavailable,
)
from airflow_provider_flink_k8s.flinkrest import FlinkEndpoint, FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import AsyncFlinkRestHook, FlinkRestHook

FAST = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.02)
PASSWORD = "pa55-w0rd-XYZ"
TOKEN = "tok-SECRET-4242"
K8S_TOKEN = "k8s-token-SECRET-77"
PROXY = "/api/v1/namespaces/streaming/services/orders-rest:rest/proxy"


def _connection(fake: FakeFlink, **extra: Any) -> str:
    host, port = fake.url.removeprefix("http://").split(":")
    return json.dumps(
        {
            "conn_type": "flink",
            "host": host,
            "port": int(port),
            "schema": "http",
            "login": "alice",
            "password": PASSWORD,
            "extra": {"headers": {"X-Api-Key": TOKEN}, **extra},
        }
    )


@pytest.mark.parametrize("twin", TWINS)
def test_the_default_connection_from_the_environment(
    twin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/team/orders/overview", Answer(200, OVERVIEW))
        connection = _connection(fake, rest_path_prefix="/team/orders")
        monkeypatch.setenv("AIRFLOW_CONN_FLINK_DEFAULT", connection)

        overview = run_twin(twin, lambda hook: hook.overview())

    (seen,) = fake.seen("GET", "/team/orders/overview")
    assert overview.flink_version == "2.3.0"
    assert seen.headers["Authorization"].startswith("Basic ")
    assert seen.headers["X-Api-Key"] == TOKEN


@pytest.mark.parametrize("twin", TWINS)
def test_a_named_connection_is_read_on_first_use_only(
    twin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook_class = FlinkRestHook if twin == "sync" else AsyncFlinkRestHook
    hook = hook_class("flink_orders")  # nothing to read yet: no error
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(200, OVERVIEW))
        monkeypatch.setenv("AIRFLOW_CONN_FLINK_ORDERS", _connection(fake))

        ok, message = run_twin(twin, lambda h: h.test_connection(), flink_conn_id="flink_orders")

    assert hook.flink_conn_id == "flink_orders"
    assert ok, message
    assert (
        message
        == f"Flink 2.3.0 at {fake.url} (direct): 1 TaskManagers, 2 of 2 slots free, 0 jobs running"
    )


@pytest.mark.parametrize("twin", TWINS)
def test_test_connection_reports_a_failure_after_one_try(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(503, {"errors": ["leader election"]}))
        ok, message = run_twin(
            twin, lambda h: h.test_connection(), endpoint=FlinkEndpoint.direct(fake.url)
        )

    assert not ok
    assert message.endswith("HTTP 503: leader election")
    assert len(fake.seen("GET", "/overview")) == 1


def test_a_hook_takes_one_target() -> None:
    endpoint = FlinkEndpoint.direct("http://flink:8081")
    with pytest.raises(ValueError, match="one of"):
        FlinkRestHook("flink_default", endpoint=endpoint)
    with pytest.raises(ValueError, match="one of"):
        AsyncFlinkRestHook(endpoint=endpoint, service=FlinkRestService("a-rest", "ns"))
    assert FlinkRestHook().flink_conn_id == "flink_default"
    assert FlinkRestHook(endpoint=endpoint).flink_conn_id is None


@pytest.mark.parametrize("twin", TWINS)
def test_credentials_stay_out_of_errors_and_logs(
    twin: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    # An error page that echoes the request's credentials back.
    echo = {"errors": [f"denied: X-Api-Key={TOKEN}, {basic}, password {PASSWORD}"]}
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(502, echo), Answer(400, echo))
        url = fake.url.replace("http://", f"http://alice:{PASSWORD}@")
        endpoint = FlinkEndpoint.direct(url, headers={"X-Api-Key": TOKEN})

        with pytest.raises(FlinkRestError) as caught:
            run_twin(twin, lambda hook: hook.overview(), endpoint=endpoint, retry=FAST)
        refused = FlinkEndpoint.direct("http://127.0.0.1:9", ("alice", PASSWORD))
        with pytest.raises(FlinkRestUnavailable) as unreachable:
            run_twin(twin, lambda hook: hook.overview(), endpoint=refused, retry=FAST)

    first, _ = fake.seen("GET", "/overview")
    assert first.headers["X-Api-Key"] == TOKEN  # sent, not shown
    assert first.headers["Authorization"] == basic
    output = capfd.readouterr()
    texts = {
        "error": str(caught.value),
        "errors": " ".join(caught.value.errors),
        "unreachable": str(unreachable.value),
        "log records": caplog.text,
        "stdout": output.out,
        "stderr": output.err,
        "endpoint": repr(endpoint),
    }
    for where, text in texts.items():
        assert TOKEN not in text, where
        assert PASSWORD not in text, where
        assert basic.split()[1] not in text, where
    assert "retrying in" in output.out + output.err + caplog.text  # the retry was logged
    assert caught.value.status == 400
    assert "denied: X-Api-Key=***, Basic ***, password ***" in str(caught.value)


@pytest.mark.parametrize("twin", TWINS)
def test_upload_and_run_a_jar(twin: str, tmp_path: Path) -> None:
    jar = tmp_path / "job.jar"
    jar.write_bytes(b"PK\x03\x04 not really a jar")
    with FakeFlink() as fake:
        fake.on("POST", "/jars/upload", Answer(200, ANSWERS["jar_upload"]))
        jar_id = ANSWERS["jars"]["files"][0]["id"]
        fake.on("POST", f"/jars/{jar_id}/run", Answer(200, ANSWERS["run"]))

        async_or_sync = run_twin(
            twin,
            lambda hook: _upload_and_run(hook, jar),
            endpoint=FlinkEndpoint.direct(fake.url),
        )

    (upload,) = fake.seen("POST", "/jars/upload")
    (run,) = fake.seen("POST", f"/jars/{jar_id}/run")
    assert async_or_sync == (jar_id, JOB_ID)
    assert upload.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="jarfile"; filename="job.jar"' in upload.body
    assert b"PK\x03\x04 not really a jar" in upload.body
    assert json.loads(run.body) == {
        "entryClass": "flinkk8s.SqlRunner",
        "programArgsList": ["--script", "x.sql"],
        "parallelism": 1,
    }


def _upload_and_run(hook: Any, jar: Path) -> Any:
    if isinstance(hook, FlinkRestHook):
        jar_id = hook.upload_jar(jar)
        return jar_id, hook.run_jar(jar_id, "flinkk8s.SqlRunner", ["--script", "x.sql"], 1)

    async def both() -> tuple[str, str]:
        jar_id = await hook.upload_jar(jar)
        return jar_id, await hook.run_jar(jar_id, "flinkk8s.SqlRunner", ["--script", "x.sql"], 1)

    return both()


# The sync hook's wait_for_savepoint is a thin use of the one wait loop (ClusterObserver);
# the async twin has none (triggers wait with FlinkClusterTrigger).
@pytest.mark.parametrize("twin", ["sync"])
def test_wait_for_savepoint_polls_until_completed(twin: str) -> None:
    path = f"/jobs/{JOB_ID}/savepoints/{TRIGGER_ID}"
    pending = Answer(200, ANSWERS["savepoint_in_progress"])
    with FakeFlink() as fake:
        fake.on("GET", path, pending, pending, Answer(200, ANSWERS["savepoint_completed"]))

        status = run_twin(
            twin,
            lambda hook: hook.wait_for_savepoint(JOB_ID, TRIGGER_ID, poll_interval=0.01),
            endpoint=FlinkEndpoint.direct(fake.url),
        )

    assert status.completed and status.location.endswith("savepoint-f94b6f-7e9f8fecb272")
    assert len(fake.seen("GET", path)) == 3


@pytest.mark.parametrize("twin", ["sync"])
def test_wait_for_savepoint_gives_up_after_its_timeout(twin: str) -> None:
    path = f"/jobs/{JOB_ID}/savepoints/{TRIGGER_ID}"
    with FakeFlink() as fake:
        fake.on("GET", path, Answer(200, ANSWERS["savepoint_in_progress"]))

        with pytest.raises(DeploymentTimeout) as caught:
            run_twin(
                twin,
                lambda hook: hook.wait_for_savepoint(JOB_ID, TRIGGER_ID, 0.5, 0.05),
                endpoint=FlinkEndpoint.direct(fake.url),
            )

    assert caught.value.reason == "SavepointInProgress"
    assert caught.value.waited_seconds is not None and caught.value.waited_seconds >= 0.5
    # It kept polling until the deadline (how often depends on the machine's load).
    assert 2 <= len(fake.seen("GET", path)) <= 11


@pytest.mark.parametrize("twin", TWINS)
def test_an_answer_of_the_wrong_shape_is_a_rest_error(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(200, b"<html>login</html>"))
        with pytest.raises(FlinkRestError, match="unexpected answer: JSONDecodeError"):
            run_twin(twin, lambda hook: hook.overview(), endpoint=FlinkEndpoint.direct(fake.url))


# --- Kubernetes routes ------------------------------------------------------------------------


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": K8S_TOKEN}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("route", ["service_proxy", "auto"])
@pytest.mark.parametrize("twin", TWINS)
def test_the_service_proxy_route_uses_the_kubeconfigs_server_and_token(
    twin: str, route: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFlink() as apiserver:
        apiserver.on("GET", f"{PROXY}/overview", Answer(200, OVERVIEW))
        kubeconfig = _kubeconfig(tmp_path, apiserver.url)
        connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
        monkeypatch.setenv("AIRFLOW_CONN_K8S_TEST", json.dumps(connection))
        service = FlinkRestService.for_cluster(
            "orders", "streaming", kubernetes_conn_id="k8s_test", route=route
        )

        overview, endpoint = run_twin(twin, _overview_and_endpoint, service=service)

    (seen,) = apiserver.seen("GET", f"{PROXY}/overview")
    assert overview.taskmanagers == 1
    assert seen.headers["authorization"] == f"Bearer {K8S_TOKEN}"
    assert endpoint.base_url == apiserver.url + PROXY
    assert endpoint.route == "service_proxy"
    assert K8S_TOKEN not in repr(endpoint)


@pytest.mark.parametrize("twin", TWINS)
def test_the_cluster_dns_route_needs_no_kubeconfig(twin: str) -> None:
    service = FlinkRestService("orders-rest", "streaming", route="cluster_dns")

    endpoint = run_twin(twin, lambda hook: hook.get_endpoint(), service=service)

    assert endpoint == FlinkEndpoint.cluster_dns("orders-rest", "streaming")


def _overview_and_endpoint(hook: Any) -> Any:
    if isinstance(hook, FlinkRestHook):
        return hook.overview(), hook.get_endpoint()

    async def both() -> tuple[Any, Any]:
        return await hook.overview(), await hook.get_endpoint()

    return both()


@pytest.mark.parametrize("twin", TWINS)
def test_a_refused_kubernetes_token_is_reloaded_once(
    twin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unauthorized = {"kind": "Status", "status": "Failure", "message": "Unauthorized", "code": 401}
    with FakeFlink() as apiserver:
        apiserver.on("GET", f"{PROXY}/overview", Answer(401, unauthorized), Answer(200, OVERVIEW))
        apiserver.on("GET", f"{PROXY}/jobs/overview", Answer(401, unauthorized))
        kubeconfig = _kubeconfig(tmp_path, apiserver.url)
        connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
        monkeypatch.setenv("AIRFLOW_CONN_K8S_TEST", json.dumps(connection))
        service = FlinkRestService("orders-rest", "streaming", kubernetes_conn_id="k8s_test")

        def renew_then_call(hook: Any) -> Any:
            async def call_async() -> Any:
                await hook.get_endpoint()  # the first token is read
                kubeconfig.write_text(kubeconfig.read_text().replace(K8S_TOKEN, "renewed"))
                overview = await hook.overview()
                with pytest.raises(FlinkRestError, match="HTTP 401: Unauthorized"):
                    await hook.jobs()  # refused again after a reload: raised
                return overview

            if isinstance(hook, AsyncFlinkRestHook):
                return call_async()
            hook.get_endpoint()
            kubeconfig.write_text(kubeconfig.read_text().replace(K8S_TOKEN, "renewed"))
            overview = hook.overview()
            with pytest.raises(FlinkRestError, match="HTTP 401: Unauthorized"):
                hook.jobs()
            return overview

        overview = run_twin(twin, renew_then_call, service=service, retry=FAST)

    tokens = [seen.headers["authorization"] for seen in apiserver.requests]
    assert overview.flink_version == "2.3.0"
    assert tokens == [f"Bearer {K8S_TOKEN}", "Bearer renewed", "Bearer renewed", "Bearer renewed"]
