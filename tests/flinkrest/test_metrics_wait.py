"""The wait for a job's load metrics (``parallelism="auto"`` plans from them), through
both observers -- the worker's polling one and the trigger's -- over HTTP against the
fake: what each snapshot reads, and the same decision in both."""

from __future__ import annotations

import asyncio
import copy
from typing import Any
from urllib.parse import parse_qs

import pytest
from fake_flink import ANSWERS, JOB_ID, TWINS, Answer, FakeFlink

from airflow_provider_flink_k8s.flinkrest import FlinkEndpoint, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import AsyncFlinkRestHook, FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.observer import AsyncClusterObserver, ClusterObserver
from airflow_provider_flink_k8s.observation import Lifecycle, Outcome, Reason
from airflow_provider_flink_k8s.observation.scaling import LOAD_METRICS
from airflow_provider_flink_k8s.observation.waits import WaitFor

WAIT = WaitFor(kind="metrics", name="c", job_id=JOB_ID)
VERTICES = [vertex["id"] for vertex in ANSWERS["job"]["vertices"]]
NONE_YET = Answer(200, [])
MEASURED = Answer(
    200, [{"id": "busyTimeMsPerSecond", "min": 80.0, "max": 120.0, "avg": 100.0, "sum": 200.0}]
)


def _metrics_path(vertex: str) -> str:
    return f"/jobs/{JOB_ID}/vertices/{vertex}/subtasks/metrics"


def _wait(twin: str, fake: FakeFlink, timeout: float) -> Outcome:
    """``WAIT`` through the ``twin`` observer; a metrics wait reads Flink's REST API
    only, so the Kubernetes hook is never used."""
    endpoint = FlinkEndpoint.direct(fake.url)
    if twin == "sync":
        with FlinkRestHook(endpoint=endpoint, retry=RetryPolicy.never()) as rest:
            observer = ClusterObserver(FlinkKubernetesHook(), rest)
            return observer.wait(WAIT, timeout=timeout, poll_interval=0.01)

    async def main() -> Outcome:
        async with AsyncFlinkRestHook(endpoint=endpoint, retry=RetryPolicy.never()) as rest:
            observer = AsyncClusterObserver(AsyncFlinkKubernetesHook(), rest)
            return await observer.wait(WAIT, timeout=timeout, poll_interval=0.01)

    return asyncio.run(main())


@pytest.mark.parametrize("twin", TWINS)
def test_a_metrics_wait_reads_every_vertex_until_flink_has_fetched_them(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", f"/jobs/{JOB_ID}", Answer(200, ANSWERS["job"]))
        # Flink answers with none until its metric fetcher has been to the TaskManagers.
        fake.on("GET", _metrics_path(VERTICES[0]), NONE_YET, MEASURED)
        fake.on("GET", _metrics_path(VERTICES[1]), NONE_YET, NONE_YET, MEASURED)

        outcome = _wait(twin, fake, timeout=10)

    assert outcome.verdict.lifecycle is Lifecycle.READY, outcome.verdict.message
    assert len(fake.seen("GET", _metrics_path(VERTICES[1]))) == 3
    asked = parse_qs(fake.seen("GET", _metrics_path(VERTICES[0]))[0].query)
    assert asked == {"get": [",".join(LOAD_METRICS)]}


@pytest.mark.parametrize("twin", TWINS)
def test_a_metrics_wait_that_gives_up_names_the_vertices_without_metrics(twin: str) -> None:
    with FakeFlink() as fake:
        fake.on("GET", f"/jobs/{JOB_ID}", Answer(200, ANSWERS["job"]))
        fake.on("GET", _metrics_path(VERTICES[0]), MEASURED)
        fake.on("GET", _metrics_path(VERTICES[1]), NONE_YET)

        outcome = _wait(twin, fake, timeout=0.3)

    assert outcome.timed_out and outcome.verdict.reason is Reason.METRICS_PENDING
    assert outcome.verdict.details["missing"] == [VERTICES[1]]
    name = ANSWERS["job"]["vertices"][1]["name"]
    assert f"{name} ({VERTICES[1]})" in outcome.verdict.message


@pytest.mark.parametrize("twin", TWINS)
def test_a_metrics_wait_on_a_job_that_ended_fails_without_reading_metrics(twin: str) -> None:
    ended: dict[str, Any] = copy.deepcopy(ANSWERS["job"])
    ended["state"] = "CANCELED"
    with FakeFlink() as fake:
        fake.on("GET", f"/jobs/{JOB_ID}", Answer(200, ended))

        outcome = _wait(twin, fake, timeout=10)

    assert outcome.verdict.reason is Reason.JOB_CANCELED
    assert not [seen for seen in fake.requests if seen.path.endswith("/metrics")]
