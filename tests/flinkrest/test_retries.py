"""Retries of both REST hooks against an HTTP fake of Flink: what is repeated, how often,
how long the hooks wait, and what is never repeated.

Each scenario scripts the fake's answers and runs once per twin (sync and async), so the
two hooks are held to the same table.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fake_flink import JOB_ID, OVERVIEW, TRIGGER_ID, TWINS, Answer, FakeFlink, flink_error, run_twin

from airflow_provider_flink_k8s.exceptions import (
    FlinkRestError,
    FlinkRestNotFound,
    FlinkRestUnavailable,
)
from airflow_provider_flink_k8s.flinkrest import ClusterOverview, FlinkEndpoint, RetryPolicy

FAST = RetryPolicy(attempts=5, initial_delay=0.05, max_delay=0.2, max_elapsed=5.0)
"""Waits of 0.05, 0.1, 0.2, 0.2 s: the whole table runs in seconds."""

NO_ENDPOINTS = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": 'no endpoints available for service "demo-rest"',
    "reason": "ServiceUnavailable",
    "code": 503,
}
JAR = "6186e2aa-8601-4070-87e3-9248db25a666_sql-runner.jar"
RUN = f"/jars/{JAR}/run"
SAVEPOINTS = f"/jobs/{JOB_ID}/savepoints"


def _overview(hook: Any) -> Any:
    return hook.overview()


def _run_jar(hook: Any) -> Any:
    return hook.run_jar(JAR, "flinkk8s.SqlRunner", ["--script", "x.sql"], parallelism=2)


def _savepoint(hook: Any) -> Any:
    return hook.trigger_savepoint(JOB_ID, "file:///tmp/sp", trigger_id=TRIGGER_ID)


@dataclass(frozen=True)
class Scenario:
    """Scripted answers to one call, and what the hook must do with them."""

    id: str
    method: str
    path: str
    answers: tuple[Answer, ...]
    action: Callable[[Any], Any]
    attempts: int
    error: type[Exception] | None = None
    min_seconds: float = 0.0
    max_seconds: float = 3.0


SCENARIOS = [
    Scenario(
        "proxy-503-twice-then-200",
        "GET",
        "/overview",
        (Answer(503, NO_ENDPOINTS), Answer(503, NO_ENDPOINTS), Answer(200, OVERVIEW)),
        _overview,
        attempts=3,
        min_seconds=0.05 + 0.1,
    ),
    Scenario(
        "429-retry-after-1s",
        "GET",
        "/overview",
        (Answer(429, None, {"Retry-After": "1"}), Answer(200, OVERVIEW)),
        _overview,
        attempts=2,
        min_seconds=1.0,
        max_seconds=1.9,
    ),
    Scenario(
        "500-three-times-then-200",
        "GET",
        "/overview",
        (*[Answer(500, flink_error("boom", internal=True))] * 3, Answer(200, OVERVIEW)),
        _overview,
        attempts=4,
        min_seconds=0.05 + 0.1 + 0.2,
    ),
    Scenario(
        "502-504-then-200",
        "GET",
        "/overview",
        (Answer(502, b"bad gateway"), Answer(504, b"timeout"), Answer(200, OVERVIEW)),
        _overview,
        attempts=3,
    ),
    Scenario(
        "503-forever-stops-after-5-tries",
        "GET",
        "/overview",
        (Answer(503, NO_ENDPOINTS),),
        _overview,
        attempts=5,
        error=FlinkRestUnavailable,
        min_seconds=0.05 + 0.1 + 0.2 + 0.2,
    ),
    Scenario(
        "retry-after-beyond-the-cap-is-not-waited-for",
        "GET",
        "/overview",
        (Answer(429, None, {"Retry-After": "120"}),),
        _overview,
        attempts=1,
        error=FlinkRestError,
        max_seconds=1.0,
    ),
    Scenario(
        "404-once",
        "GET",
        f"/jobs/{JOB_ID}",
        (Answer(404, flink_error(f"Job {JOB_ID} not found")),),
        lambda hook: hook.job(JOB_ID),
        attempts=1,
        error=FlinkRestNotFound,
        max_seconds=1.0,
    ),
    Scenario(
        "400-once",
        "POST",
        RUN,
        (Answer(400, flink_error("Request did not match expected format")),),
        _run_jar,
        attempts=1,
        error=FlinkRestError,
        max_seconds=1.0,
    ),
    Scenario(
        "run-jar-500-is-not-repeated",
        "POST",
        RUN,
        (Answer(500, flink_error("Jar file x does not exist", internal=True)),),
        _run_jar,
        attempts=1,
        error=FlinkRestError,
        max_seconds=1.0,
    ),
    Scenario(
        "run-jar-503-is-repeated",
        "POST",
        RUN,
        (Answer(503, NO_ENDPOINTS), Answer(200, {"jobid": JOB_ID})),
        _run_jar,
        attempts=2,
    ),
    Scenario(
        "savepoint-500-is-repeated-with-its-trigger-id",
        "POST",
        SAVEPOINTS,
        (Answer(500, flink_error("busy", internal=True)), Answer(202, {"request-id": TRIGGER_ID})),
        _savepoint,
        attempts=2,
    ),
]


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_retry_table(twin: str, scenario: Scenario) -> None:
    with FakeFlink() as fake:
        fake.on(scenario.method, scenario.path, *scenario.answers)
        endpoint = FlinkEndpoint.direct(fake.url)
        started = time.monotonic()
        if scenario.error is None:
            result = run_twin(twin, scenario.action, endpoint=endpoint, retry=FAST)
        else:
            with pytest.raises(scenario.error):
                run_twin(twin, scenario.action, endpoint=endpoint, retry=FAST)
            result = None
        elapsed = time.monotonic() - started

    assert len(fake.seen(scenario.method, scenario.path)) == scenario.attempts
    # The upper bound gets a second of slack for a loaded machine; the back-off is far above it.
    assert scenario.min_seconds <= elapsed <= scenario.max_seconds + 1.0
    if scenario.action is _overview and result is not None:
        assert result == ClusterOverview.model_validate(OVERVIEW)


@pytest.mark.parametrize("twin", TWINS)
def test_a_repeated_savepoint_trigger_sends_the_same_trigger_id(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("POST", SAVEPOINTS, Answer(502), Answer(202, {"request-id": TRIGGER_ID}))
        endpoint = FlinkEndpoint.direct(fake.url)

        trigger = run_twin(
            twin, lambda h: h.trigger_savepoint(JOB_ID), endpoint=endpoint, retry=FAST
        )

    bodies = [json.loads(seen.body) for seen in fake.seen("POST", SAVEPOINTS)]
    assert trigger == TRIGGER_ID
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert len(bodies[0]["triggerId"]) == 32


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
@pytest.mark.parametrize("twin", TWINS)
def test_what_cannot_succeed_is_asked_once(twin: str, status: int) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(status, flink_error("no")), Answer(200, OVERVIEW))

        with pytest.raises(FlinkRestError) as caught:
            run_twin(twin, _overview, endpoint=FlinkEndpoint.direct(fake.url), retry=FAST)

    assert caught.value.status == status
    assert len(fake.seen("GET", "/overview")) == 1


@pytest.mark.parametrize("twin", TWINS)
def test_a_read_timeout_repeats_a_read_but_not_a_jar_run(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(200, OVERVIEW, delay=0.6), Answer(200, OVERVIEW))
        fake.on("POST", RUN, Answer(200, {"jobid": JOB_ID}, delay=0.6))
        endpoint = FlinkEndpoint.direct(fake.url, timeout=0.3)

        overview = run_twin(twin, _overview, endpoint=endpoint, retry=FAST)
        with pytest.raises(FlinkRestUnavailable) as caught:
            run_twin(twin, _run_jar, endpoint=endpoint, retry=FAST)

    assert overview.flink_version == "2.3.0"
    assert len(fake.seen("GET", "/overview")) == 2
    assert len(fake.seen("POST", RUN)) == 1
    assert caught.value.request_sent is True
    assert caught.value.status is None


@pytest.mark.parametrize("twin", TWINS)
def test_connection_refused_is_repeated_until_the_jobmanager_listens(twin: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers: list[FakeFlink] = []

    def come_up() -> None:
        time.sleep(0.25)
        server = FakeFlink(port=port).on("POST", RUN, Answer(200, {"jobid": JOB_ID}))
        servers.append(server.__enter__())

    thread = threading.Thread(target=come_up)
    thread.start()
    endpoint = FlinkEndpoint.direct(f"http://127.0.0.1:{port}")
    try:
        # A refused connection never reached Flink: even a jar run is repeated.
        job_id = run_twin(twin, _run_jar, endpoint=endpoint, retry=FAST)
    finally:
        thread.join()
        for server in servers:
            server.__exit__(None, None, None)

    assert job_id == JOB_ID
    assert len(servers[0].seen("POST", RUN)) == 1


@pytest.mark.parametrize("twin", TWINS)
def test_no_try_starts_after_max_elapsed(twin: str) -> None:
    policy = RetryPolicy(attempts=50, initial_delay=0.1, max_delay=0.1, max_elapsed=0.45)
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(503, NO_ENDPOINTS))
        started = time.monotonic()
        with pytest.raises(FlinkRestUnavailable, match="no endpoints available"):
            run_twin(twin, _overview, endpoint=FlinkEndpoint.direct(fake.url), retry=policy)
        elapsed = time.monotonic() - started

    seen = fake.seen("GET", "/overview")
    assert 2 <= len(seen) <= 5
    assert seen[-1].at - seen[0].at < 0.45
    assert elapsed < 2.0


@pytest.mark.parametrize("twin", TWINS)
def test_never_means_one_try(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", "/overview", Answer(503, NO_ENDPOINTS), Answer(200, OVERVIEW))
        with pytest.raises(FlinkRestUnavailable):
            run_twin(
                twin, _overview, endpoint=FlinkEndpoint.direct(fake.url), retry=RetryPolicy.never()
            )

    assert len(fake.seen("GET", "/overview")) == 1
