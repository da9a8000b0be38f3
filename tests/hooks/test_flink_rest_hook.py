"""The REST hooks against a real Flink 2.3 session cluster (one JobManager, one
TaskManager with 2 slots, the adaptive scheduler) started from our manifests -- directly,
and through the sandbox API server's Service proxy (TLS, a bearer token, RBAC on).

Every scenario is a function of a :class:`Twin` -- the sync hook, or the async hook driven
on its own event loop -- and runs once per twin, so both are held to the same behaviour.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flink_processes import start_cluster
from flink_support import render_pods
from kubernetes import client, config
from polling import wait_until

from airflow_provider_flink_k8s.exceptions import (
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
)
from airflow_provider_flink_k8s.flinkrest import (
    FlinkEndpoint,
    FlinkRestService,
    JobDetails,
    RetryPolicy,
    rescaled_requirements,
)
from airflow_provider_flink_k8s.hooks.flink_rest import AsyncFlinkRestHook, FlinkRestHook
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flink import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    FlinkProcess,
)

SESSION_SPEC = {
    "name": "rest",
    "mode": "session",
    "target": "standalone",
    "jobmanager": {"memory": "1024m", "cpu": 0.5},
    "taskmanager": {"memory": "1280m", "cpu": 1, "slots": 2, "replicas": 1},
    "flink_configuration": {
        "execution.checkpointing.interval": "1s",
        # In-place rescaling through PUT /jobs/:jobid/resource-requirements, without delay.
        "jobmanager.scheduler": "adaptive",
        "jobmanager.adaptive-scheduler.executing.cooldown-after-rescaling": "0s",
        "jobmanager.adaptive-scheduler.executing.resource-stabilization-timeout": "0s",
        "jobmanager.adaptive-scheduler.rescale-trigger.max-delay": "0s",
    },
}
TWINS = ("sync", "async")
UNKNOWN_JOB = "f" * 32


class Twin:
    """One hook's methods by name: the sync hook's as they are, the async hook's awaited
    on a private event loop (one ``httpx.AsyncClient`` for the whole scenario)."""

    def __init__(self, kind: str, **hook_kwargs: Any) -> None:
        self.kind = kind
        hook_kwargs.setdefault("retry", RetryPolicy(initial_delay=0.2))
        self._loop = asyncio.new_event_loop() if kind == "async" else None
        hook_class = FlinkRestHook if kind == "sync" else AsyncFlinkRestHook
        self.hook: Any = hook_class(**hook_kwargs)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.hook, name)
        if self._loop is None:
            return method  # type: ignore[no-any-return]
        loop = self._loop
        return lambda *args, **kwargs: loop.run_until_complete(method(*args, **kwargs))

    def close(self) -> None:
        if self._loop is None:
            self.hook.close()
            return
        self._loop.run_until_complete(self.hook.aclose())
        self._loop.close()


@dataclass
class Session:
    jobmanager: FlinkProcess
    endpoint: FlinkEndpoint
    base: Path


@pytest.fixture(scope="module")
def session(flink_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    base = tmp_path_factory.mktemp("rest-session")
    started = time.monotonic()
    jobmanager, taskmanagers = start_cluster(render_pods(SESSION_SPEC), base, taskmanagers=1)
    try:
        jobmanager.wait_ready(timeout=120)
        endpoint = FlinkEndpoint.direct(jobmanager.rest_url)
        with FlinkRestHook(endpoint=endpoint) as hook:
            wait_until(lambda: hook.overview().slots_total == 2, 120, "a TaskManager, 2 slots")
        print(f"\nsession cluster ready in {time.monotonic() - started:.1f}s")
        yield Session(jobmanager, endpoint, base)
    finally:
        for process in [*taskmanagers, jobmanager]:
            process.stop()


@pytest.fixture(params=TWINS)
def twin(request: pytest.FixtureRequest, session: Session) -> Iterator[Twin]:
    hook = Twin(request.param, endpoint=session.endpoint)
    yield hook
    hook.close()


# --- scenario builders ----------------------------------------------------------------------


def wait_running(twin: Twin, job_id: str, parallelism: int, timeout: float = 120) -> JobDetails:
    """Poll ``job()`` until the job and every vertex run at ``parallelism``."""

    def running() -> JobDetails | None:
        job: JobDetails = twin.job(job_id)
        assert not job.is_terminal, job.state
        ok = job.all_vertices_running and all(v.parallelism == parallelism for v in job.vertices)
        return job if ok else None

    found: JobDetails = wait_until(running, timeout, f"job {job_id} RUNNING at {parallelism}")
    return found


def wait_state(twin: Twin, job_id: str, state: str, timeout: float = 60) -> None:
    wait_until(lambda: twin.job(job_id).state == state, timeout, f"job {job_id} {state}")


def savepoint_of(twin: Twin, job_id: str, trigger: str, timeout: float = 120) -> str:
    """The savepoint's location once Flink reports the trigger completed."""

    def completed() -> Any:
        status = twin.savepoint_status(job_id, trigger)
        return status if status.completed else None

    location: str = wait_until(completed, timeout, f"savepoint {trigger}").raise_for_failure()
    return location


def savepoint_dir(location: str) -> Path:
    path = Path(location.removeprefix("file:"))
    assert (path / "_metadata").is_file(), f"no savepoint at {path}"
    return path


def submit(twin: Twin, jar_id: str, script: Path, parallelism: int, **options: Any) -> str:
    job_id: str = twin.run_jar(
        jar_id, SQL_RUNNER_CLASS, ["--script", str(script)], parallelism, **options
    )
    return job_id


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_cluster_facts_are_typed(twin: Twin) -> None:
    overview = twin.overview()
    (taskmanager,) = twin.taskmanagers()
    config = twin.config()
    jobmanager_config = twin.jobmanager_config()
    ok, message = twin.test_connection()

    assert (overview.taskmanagers, overview.slots_total, overview.flink_version) == (1, 2, "2.3.0")
    assert taskmanager.slots_number == 2
    assert taskmanager.memory_configuration.total_process_memory == 1280 * 1024 * 1024
    assert config.flink_version == "2.3.0" and config.features["web-submit"] is True
    assert jobmanager_config["jobmanager.scheduler"] == "adaptive"
    assert ok and message.startswith("Flink 2.3.0 at http://127.0.0.1:"), message


@pytest.mark.slow
def test_a_jobs_life_through_the_hook(
    twin: Twin, flink_sql_runner_jar: Path, tmp_path: Path
) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()
    script = shutil.copy(CLICKSTREAM_SQL, tmp_path / "clickstream.sql")

    jar_id = twin.upload_jar(flink_sql_runner_jar)
    assert jar_id in [jar.id for jar in twin.jars()]
    job_id = submit(twin, jar_id, script, parallelism=2)
    job = wait_running(twin, job_id, parallelism=2)
    timings["running"] = time.monotonic() - started

    assert len(job.vertices) == 2 and job.parallelism == 2 and job.job_type == "STREAMING"
    assert [(j.id, j.state) for j in twin.jobs() if j.id == job_id] == [(job_id, "RUNNING")]
    assert twin.job_exceptions(job_id).latest is None
    wait_until(lambda: twin.checkpoints(job_id).counts.completed >= 1, 60, "a checkpoint")

    # A savepoint, and the same trigger id again starts nothing new.
    trigger = twin.trigger_savepoint(job_id, f"file://{tmp_path}/savepoints")
    assert twin.trigger_savepoint(job_id, f"file://{tmp_path}/x", trigger_id=trigger) == trigger
    location = savepoint_of(twin, job_id, trigger)
    assert savepoint_dir(location).parent == tmp_path / "savepoints"
    assert len(list((tmp_path / "savepoints").iterdir())) == 1
    timings["savepoint"] = time.monotonic() - started

    # In-place rescaling: the adaptive scheduler takes the new bounds.
    requirements = twin.resource_requirements(job_id)
    assert {r.parallelism.upper_bound for r in requirements.values()} == {2}
    twin.set_resource_requirements(job_id, rescaled_requirements(requirements, 1))
    assert {r.parallelism.upper_bound for r in twin.resource_requirements(job_id).values()} == {1}
    wait_running(twin, job_id, parallelism=1, timeout=90)
    timings["rescaled"] = time.monotonic() - started

    # Stop with a savepoint, resume from it, then cancel.
    trigger = twin.stop_with_savepoint(job_id, f"file://{tmp_path}/stop")
    final = savepoint_of(twin, job_id, trigger)
    savepoint_dir(final)
    wait_state(twin, job_id, "FINISHED")
    resumed = submit(twin, jar_id, script, parallelism=1, savepoint_path=final)
    wait_running(twin, resumed, parallelism=1)
    restored = twin.checkpoints(resumed).latest.restored
    assert restored is not None and restored.external_path == final and restored.is_savepoint
    twin.cancel(resumed)
    wait_state(twin, resumed, "CANCELED")
    twin.cancel(resumed)  # cancelling a cancelled job is accepted: safe to repeat
    with pytest.raises(FlinkRestError, match="already reached another terminal state") as caught:
        twin.cancel(job_id)  # FINISHED by the stop
    assert caught.value.status == 409

    twin.delete_jar(jar_id)
    assert jar_id not in [jar.id for jar in twin.jars()]
    timings["done"] = time.monotonic() - started
    print(f"\n{twin.kind} job life: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


@pytest.mark.slow
def test_flinks_refusals_carry_its_message(twin: Twin) -> None:
    with pytest.raises(FlinkRestError, match=r"nonexistent\.jar does not exist") as bad_jar:
        twin.run_jar("nonexistent.jar", SQL_RUNNER_CLASS)
    with pytest.raises(FlinkRestNotFound, match=f"Job {UNKNOWN_JOB} not found"):
        twin.job(UNKNOWN_JOB)
    with pytest.raises(FlinkRestNotFound, match="There is no savepoint operation"):
        twin.savepoint_status(UNKNOWN_JOB, UNKNOWN_JOB)
    with pytest.raises(FlinkRestError, match="does not exist in") as bad_delete:
        twin.delete_jar("nonexistent.jar")

    assert bad_jar.value.status == 500 and bad_jar.value.path == "/jars/nonexistent.jar/run"
    assert "\tat " not in str(bad_jar.value) and "Internal server error" not in str(bad_jar.value)
    assert bad_delete.value.status == 400


# --- through the Kubernetes API server's Service proxy ----------------------------------------

PROXY_ADDRESS = "10.244.200.10"
"""The pod address the sandbox's network maps to the JobManager's REST port."""


@pytest.fixture(scope="module")
def kubeconfig(session: Session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox (HTTPS, tokens, RBAC) serving ``rest-rest`` -> the real JobManager and
    ``idle-rest`` (a selector with no pods: no endpoints) in namespace ``streaming``."""
    with SandboxServer(auth=True) as sandbox:
        path = sandbox.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
        api = config.new_client_from_config(str(path))
        core = client.CoreV1Api(api)
        port = {"name": "rest", "port": 8081}
        core.create_namespace({"metadata": {"name": "streaming"}})
        for name, spec in (("rest-rest", {}), ("idle-rest", {"selector": {"app": "idle"}})):
            body = {"metadata": {"name": name}, "spec": {**spec, "ports": [port]}}
            core.create_namespaced_service("streaming", body)
        subsets = [{"addresses": [{"ip": PROXY_ADDRESS}], "ports": [port]}]
        endpoints = {"metadata": {"name": "rest-rest"}, "subsets": subsets}
        core.create_namespaced_endpoints("streaming", endpoints)
        rest_port = session.jobmanager.ports["rest"]
        sandbox.call(lambda _: sandbox.network.expose(PROXY_ADDRESS, 8081, "127.0.0.1", rest_port))
        api.close()
        yield path


@pytest.mark.slow
@pytest.mark.parametrize("kind", TWINS)
def test_through_the_api_servers_service_proxy(
    kind: str, kubeconfig: Path, flink_sql_runner_jar: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    monkeypatch.setenv("AIRFLOW_CONN_SANDBOX_K8S", json.dumps(connection))
    options = {"kubernetes_conn_id": "sandbox_k8s"}
    twin = Twin(kind, service=FlinkRestService.for_cluster("rest", "streaming", **options))
    idle = Twin(
        kind,
        service=FlinkRestService.for_cluster("idle", "streaming", **options),
        retry=RetryPolicy.never(),
    )
    try:
        endpoint = twin.get_endpoint()  # "auto" outside a cluster: the proxy
        overview = twin.overview()
        jar_id = twin.upload_jar(flink_sql_runner_jar)  # a multipart POST through the proxy
        jars = [jar.id for jar in twin.jars()]
        twin.delete_jar(jar_id)
        with pytest.raises(FlinkRestNotFound, match="not found"):
            twin.job(UNKNOWN_JOB)  # Flink's own 404 passes through as Flink's
        with pytest.raises(FlinkRestUnavailable) as no_endpoints:
            idle.overview()
    finally:
        twin.close()
        idle.close()

    assert endpoint.route == "service_proxy"
    assert endpoint.base_url.startswith("https://127.0.0.1:")
    assert endpoint.base_url.endswith("/api/v1/namespaces/streaming/services/rest-rest:rest/proxy")
    assert overview.flink_version == "2.3.0" and overview.slots_total == 2
    assert jar_id in jars
    assert no_endpoints.value.status == 503
    assert no_endpoints.value.errors == ('no endpoints available for service "idle-rest"',)
    assert no_endpoints.value.request_sent is False
