"""An application FlinkDeployment on the stand-in Flink Kubernetes Operator, deployed and
read the way the operator-target tests need it: one spec builder, one reader; and the
operator's own session example (a session FlinkDeployment and its FlinkSessionJob)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from flink_session import quiet
from polling import wait_until

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.kube.resources import FLINK_DEPLOYMENT
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster

__all__ = ["FlinkDeploymentUnderTest", "application_spec", "deploy_session_example"]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "flinkdeployments"


def deploy_session_example() -> dict[str, Any]:
    """Apply the operator's session example's FlinkDeployment and wait until the
    operator reports it STABLE; its FlinkSessionJob (not applied)."""
    deployment, job = yaml.safe_load_all((CORPUS / "session-cluster-and-job.yaml").read_text())
    name = deployment["metadata"]["name"]
    hook = FlinkKubernetesHook()
    hook.apply(render_manifests(load_cluster(deployment)))

    def stable() -> bool:
        found = hook.get_object(FLINK_DEPLOYMENT, "default", name) or {}
        return (found.get("status") or {}).get("lifecycleState") == "STABLE"

    wait_until(quiet(stable), 60, f"{name} STABLE")
    return dict(job)


def application_spec(name: str, savepoints: Path, **fields: Any) -> dict[str, Any]:
    """An operator-target application cluster: Flink 1.20, parallelism 2 with 2 slots per
    TaskManager, savepoints under ``savepoints``, the spec's ``fields`` on top."""
    return {
        "name": name,
        "target": "operator",
        "flink_version": "1.20",
        "jobmanager": {"cpu": 0.5, "memory": "1600m"},
        "taskmanager": {"cpu": 1, "memory": "1728m", "slots": 2},
        "savepoint_dir": savepoints.as_uri(),
        "job": {
            "jar_uri": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
            "parallelism": 2,
            "upgrade_mode": "savepoint",
        },
        **fields,
    }


class FlinkDeploymentUnderTest:
    """The FlinkDeployment of ``spec``, applied and STABLE (:meth:`deploy`)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name = str(spec["name"])
        self.hook = FlinkKubernetesHook()

    def deploy(self) -> FlinkDeploymentUnderTest:
        """Apply it and wait until the operator reports it STABLE."""
        self.hook.apply(render_manifests(load_cluster(self.spec)))
        self.wait_for(lambda status: status.get("lifecycleState") == "STABLE", "STABLE")
        return self

    def read(self) -> dict[str, Any]:
        """The FlinkDeployment as the API server has it."""
        found = self.hook.get_object(FLINK_DEPLOYMENT, "default", self.name)
        assert found is not None, f"FlinkDeployment {self.name} does not exist"
        return found

    def status(self) -> dict[str, Any]:
        """Its ``status``."""
        return dict(self.read().get("status") or {})

    def wait_for(self, check: Any, what: str, timeout: float = 60) -> Any:
        """Poll :meth:`status` until ``check(status)`` is truthy."""
        return wait_until(quiet(lambda: check(self.status())), timeout, f"{self.name} {what}")
