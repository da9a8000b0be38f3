"""The provider's suite: a throw-away Airflow home, the fixtures of DAG runs, the markers.

Airflow reads its configuration when first imported, so this runs before any test
module imports it: ``AIRFLOW_HOME`` is a temporary folder with a SQLite database, and the
DAGs folder holds links to ``example_dags/`` and ``tests/dags/`` (``dag.test()`` only runs
DAGs of a configured bundle). The database is created on first use (``airflow_db``).

DAGs run with ``dag.test()`` (the same code path as ``airflow dags test``) against a
sandbox whose kubeconfig the ``kubernetes_default`` connection points at
(``AIRFLOW_CONN_KUBERNETES_DEFAULT``). The sandbox's own fixtures (``flink_ready``,
``flink_sql_runner_jar``, ``k8s_sandbox``...) come from its pytest plugin.

Markers say what a test needs (pyproject.toml registers them), set here in one place:
``airflow`` for the tests of hooks, operators, sensors and triggers and every DAG run;
``flink`` for every test that runs real Flink (``slow`` ones included) or its jars.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from dag_support import FAST_TIMING, LocalSandbox, load_dag_bag, use_sandbox
from doc_snippets import write_dag_snippets

from flink_k8s_sandbox import SandboxServer

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
_HOME = Path(tempfile.mkdtemp(prefix="flink-k8s-tests-airflow-"))
DAGS_FOLDER = _HOME / "dags"
DAGS_FOLDER.mkdir()
(DAGS_FOLDER / "example_dags").symlink_to(REPO / "example_dags", target_is_directory=True)
(DAGS_FOLDER / "test_dags").symlink_to(TESTS / "dags", target_is_directory=True)
# The DAGs of README.md and docs/*.md, as written (tests/docs/test_doc_dags.py runs them).
DOC_DAGS = write_dag_snippets(DAGS_FOLDER / "doc_snippets")

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ.pop("AIRFLOW_CONN_KUBERNETES_DEFAULT", None)
# Airflow 3.0 (the floor, `make test-floor`) prints a failed task's exception in a rich box
# wrapped at the terminal's width (80 columns without a terminal): wide enough, each
# message the tests look for stays on one line.
if version("apache-airflow").startswith("3.0."):
    os.environ.setdefault("COLUMNS", "2000")

_AIRFLOW_FOLDERS = ("hooks", "operators", "sensors", "triggers", "example_dags")
_AIRFLOW_FIXTURES = {"airflow_db"}
_FLINK_FIXTURES = {"flink_ready", "flink_sql_runner_jar", "local_sandbox", "flink_oracle"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue
        needs = set(getattr(item, "fixturenames", ()))
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in _AIRFLOW_FOLDERS or needs & _AIRFLOW_FIXTURES:
            item.add_marker(pytest.mark.airflow)
        if item.get_closest_marker("slow") or needs & _FLINK_FIXTURES:
            item.add_marker(pytest.mark.flink)


def pytest_unconfigure() -> None:
    shutil.rmtree(_HOME, ignore_errors=True)


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
def local_sandbox(
    flink_sql_runner_jar: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalSandbox]:
    """A sandbox running real Flink (Java 17 + Flink's jars); mark its tests ``slow``."""
    from flink_k8s_sandbox.flink import stage_usrlib
    from flink_k8s_sandbox.runtime.local import LocalRuntime

    usrlib = stage_usrlib(tmp_path_factory.mktemp("usrlib"), jar=flink_sql_runner_jar)
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
