"""Fixtures for DAG runs: a migrated SQLite database, an embedded sandbox, and a runner.

DAGs run with ``dag.test()`` (the same code path as ``airflow dags test``) from the
DAGs folder ``tests/conftest.py`` set up, against a sandbox whose kubeconfig the
``kubernetes_default`` connection points at (``AIRFLOW_CONN_KUBERNETES_DEFAULT``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dag_support import FAST_TIMING, LocalSandbox, load_dag_bag, use_sandbox

from airflow_provider_flink_k8s.sandbox import SandboxServer


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database, created once per session (about 3 s on SQLite)."""
    from airflow.utils import db

    db.resetdb()


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


@pytest.fixture(scope="session")
def dag_bag(airflow_db: None) -> Any:
    """The DAGs folder's DagBag, after one warm-up run (see ``flink_test_warmup``)."""
    bag = load_dag_bag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    warmup = bag.get_dag("flink_test_warmup")
    assert warmup is not None, bag.import_errors
    warmup.test()
    return bag


@pytest.fixture(scope="module")
def run_dag(dag_bag: Any) -> Callable[..., Any]:
    """Run a DAG of the DAGs folder with ``dag.test(run_conf=...)``; return the DagRun."""

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> Any:
        dag = dag_bag.get_dag(dag_id)
        # Only this DAG's file must import; test_example_dags.py checks every example.
        assert dag is not None, f"no DAG {dag_id}: {dag_bag.import_errors}"
        return dag.test(run_conf=conf or {})

    return run


@pytest.fixture
def worker_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The modules that call ``time.sleep`` during the test, in order. Only a counter: the
    wrapper still sleeps, so nothing behaves differently."""
    callers: list[str] = []
    real = time.sleep

    def counting(seconds: float) -> None:
        callers.append(str(sys._getframe(1).f_globals.get("__name__", "?")))
        real(seconds)

    monkeypatch.setattr(time, "sleep", counting)
    return callers
