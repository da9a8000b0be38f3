"""What the watching observer watches for each kind of wait (what changes its decision)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_flink_k8s.hooks.observer import watched
from airflow_provider_flink_k8s.kube import cluster_label_selector, workload_selector
from airflow_provider_flink_k8s.observation.waits import WaitFor

FLINK = "flink.apache.org/v1beta1"
PODS = ("Pod", "v1", {"label_selector": cluster_label_selector("c")})
NATIVE_PODS = ("Pod", "v1", {"label_selector": workload_selector("c", "operator")})
DEPLOYMENT = ("FlinkDeployment", FLINK, {"field_selector": "metadata.name=c"})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, [PODS]),
        ({"kind": "job"}, [PODS]),
        ({"target": "operator"}, [NATIVE_PODS, DEPLOYMENT]),
        ({"kind": "tasks_running", "job_id": "j"}, []),  # Flink's REST state: polled
        ({"kind": "savepoint", "job_id": "j", "trigger_id": "t"}, []),
        ({"kind": "metrics", "job_id": "j"}, []),  # Flink's metrics: polled
        ({"kind": "suspended", "target": "operator"}, [DEPLOYMENT]),
        ({"kind": "operator_savepoint", "target": "operator", "savepoint_nonce": 1}, [DEPLOYMENT]),
        (
            {"kind": "session_job", "target": "operator", "session_job": "c-s"},
            [("FlinkSessionJob", FLINK, {"field_selector": "metadata.name=c-s"})],
        ),
        ({"kind": "session_jobs_deleted", "target": "operator"}, [("FlinkSessionJob", FLINK, {})]),
        ({"kind": "deleted"}, [PODS]),
    ],
)
def test_each_wait_watches_what_its_decision_reads(
    fields: dict[str, Any], expected: list[Any]
) -> None:
    assert watched(WaitFor(name="c", **fields)) == expected
