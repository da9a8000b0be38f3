"""The stand-in Flink Kubernetes Operator's pure rules (diff types, lifecycle states, job
ids as the operator derives them) and its CRDs' packaging."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flinkoperator import OperatorCrdsMissing
from flink_k8s_sandbox.flinkoperator.status import (
    DiffType,
    diff_type,
    job_id_for,
    lifecycle_state,
)


def test_missing_crds_fail_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLINK_K8S_SANDBOX_OPERATOR_CRDS", str(tmp_path))
    with pytest.raises(
        OperatorCrdsMissing, match=re.escape("flinkdeployments.flink.apache.org-v1.yml")
    ):
        SandboxServer(flink_operator=True)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"taskManager": {"replicas": 3}}, DiffType.SCALE),
        ({"job": {"parallelism": 6}}, DiffType.UPGRADE),
        ({"job": {"parallelism": 4, "savepointTriggerNonce": 1}}, DiffType.IGNORE),
        ({"flinkConfiguration": {"parallelism.default": "8"}}, DiffType.IGNORE),
        ({"job": {"parallelism": 4, "savepointRedeployNonce": 1}}, DiffType.SAVEPOINT_REDEPLOY),
        ({"image": "flink:2.0"}, DiffType.UPGRADE),
    ],
)
def test_diff_type(change: dict[str, Any], expected: DiffType) -> None:
    old: dict[str, Any] = {"image": "flink:1.20", "job": {"parallelism": 4}, "taskManager": {}}
    assert diff_type(old, {**old, **change}) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({}, "CREATED"),
        ({"error": "bad"}, "FAILED"),
        ({"reconciliationStatus": {"lastReconciledSpec": "{}", "state": "UPGRADING"}}, "UPGRADING"),
        (
            {"reconciliationStatus": {"lastReconciledSpec": '{"job": {"state": "suspended"}}'}},
            "SUSPENDED",
        ),
        (
            {
                "reconciliationStatus": {"lastReconciledSpec": "{}"},
                "jobStatus": {"state": "FAILED"},
            },
            "FAILED",
        ),
        ({"reconciliationStatus": {"lastReconciledSpec": "{}", "lastStableSpec": "{}"}}, "STABLE"),
        ({"reconciliationStatus": {"lastReconciledSpec": '{"a": 1}'}}, "DEPLOYED"),
        ({"lifecycleState": "DELETING"}, "DELETING"),
    ],
)
def test_lifecycle_state(status: dict[str, Any], expected: str) -> None:
    assert lifecycle_state(status) == expected


def test_job_id_is_the_operators() -> None:
    # new JobID("abc".hashCode() = 96354, 2)
    assert job_id_for("abc", 2) == "0000000000017862" + "0000000000000002"


def test_cli_up_has_the_flag() -> None:
    from flink_k8s_sandbox.cli import _parser

    args = _parser().parse_args(["up", "--kubeconfig", "k", "--flink-operator"])
    assert args.flink_operator is True
    assert _parser().parse_args(["up", "--kubeconfig", "k"]).flink_operator is False
