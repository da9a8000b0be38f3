"""Fixtures for DAG runs: a migrated SQLite database, an embedded sandbox, and a runner.

DAGs run with ``dag.test()`` (the same code path as ``airflow dags test``) from the
DAGs folder ``tests/conftest.py`` set up, against a sandbox whose kubeconfig the
``kubernetes_default`` connection points at (``AIRFLOW_CONN_KUBERNETES_DEFAULT``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flink_k8s.sandbox import SandboxServer
from airflow_provider_flink_k8s.sandbox.clock import Timing

FAST_TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database, created once per session (about 3 s on SQLite)."""
    from airflow.utils import db

    db.resetdb()


def use_sandbox(kubeconfig: Path) -> None:
    """Point ``kubernetes_default`` at the sandbox whose kubeconfig is ``kubeconfig``."""
    os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = json.dumps(
        {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    )


@pytest.fixture(scope="module")
def simulated_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox with simulated containers (no Flink) and the stand-in Flink Kubernetes
    Operator: fast, for failures, idempotency and the operator target."""
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    with SandboxServer(timing=FAST_TIMING, flink_operator=True) as sandbox:
        sandbox.write_kubeconfig(kubeconfig)
        use_sandbox(kubeconfig)
        try:
            yield sandbox
        finally:
            os.environ.pop("AIRFLOW_CONN_KUBERNETES_DEFAULT", None)


@dataclass(frozen=True)
class LocalSandbox:
    """A sandbox whose Flink pods are real Flink processes (the ``local`` runtime)."""

    server: SandboxServer
    kubeconfig: Path
    usrlib: Path
    """The folder mounted as ``/opt/flink/usrlib``: ``sql-runner.jar`` and ``clickstream.sql``."""
    state: Path
    """A folder for checkpoints and savepoints (``state.as_uri()`` in a spec)."""


@pytest.fixture(scope="module")
def local_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSandbox]:
    """A sandbox running real Flink (Java 17 + Flink's jars); mark its tests ``slow``."""
    from airflow_provider_flink_k8s.sandbox.flink import build_sql_runner_jar, stage_usrlib
    from airflow_provider_flink_k8s.sandbox.runtime.local import LocalRuntime

    usrlib = stage_usrlib(tmp_path_factory.mktemp("usrlib"), jar=build_sql_runner_jar())
    runtime = LocalRuntime(FAST_TIMING, workdir=tmp_path_factory.mktemp("pods"), usrlib=usrlib)
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    with SandboxServer(runtime=runtime, timing=FAST_TIMING) as sandbox:
        sandbox.write_kubeconfig(kubeconfig)
        use_sandbox(kubeconfig)
        try:
            yield LocalSandbox(sandbox, kubeconfig, usrlib, tmp_path_factory.mktemp("state"))
        finally:
            os.environ.pop("AIRFLOW_CONN_KUBERNETES_DEFAULT", None)


@pytest.fixture(scope="module")
def run_dag(airflow_db: None) -> Callable[..., Any]:
    """Run a DAG of the DAGs folder with ``dag.test(run_conf=...)``; return the DagRun."""
    from airflow.dag_processing.dagbag import DagBag

    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    bag = DagBag(dag_folder=str(dags_folder))

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
        dag = bag.get_dag(dag_id)
        # Only this DAG's file must import; tests/test_example_dags.py checks every file.
        assert dag is not None, f"no DAG {dag_id} in {dags_folder}: {bag.import_errors}"
        return dag.test(run_conf=conf or {})

    return run


def task_states(dag_run: Any) -> dict[str, str | None]:
    """``{task_id: state}`` of a finished DagRun."""
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
