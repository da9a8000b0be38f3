"""The DAGs README.md and docs/*.md show, as written: they import, and run on the sandbox.

``tests/conftest.py`` writes every ``with DAG(`` block (and the spec files the prose
names beside it) into the DAGs folder before Airflow starts (see ``doc_snippets``).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from dag_support import task_states
from doc_snippets import DOCS, all_snippets

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from flink_k8s_sandbox import SandboxServer

DAG_SNIPPETS = [s for s in all_snippets("python") if s.is_dag]


def test_the_readme_and_the_guide_show_complete_dags() -> None:
    ids = {s.id for s in DAG_SNIPPETS}
    assert {s.doc.name for s in DAG_SNIPPETS} >= {"README.md", "airflow.md"}, ids
    # Every python block that builds a task sits in a DAG: nothing a reader must
    # complete before it runs.
    for snippet in all_snippets("python"):
        if ("Operator(" in snippet.text or "Sensor(" in snippet.text) and not snippet.switched:
            assert snippet.is_dag, f"{snippet.id}: tasks outside a `with DAG(...)` block"
    assert len(DOCS) > 3


@pytest.mark.parametrize("snippet", DAG_SNIPPETS, ids=lambda s: s.id)
def test_each_documented_dag_imports_as_written(dag_bag: Any, snippet: Any) -> None:
    errors = dag_bag.import_errors.items()
    assert not {path: error for path, error in errors if "doc_snippets" in path}
    dag_ids = [
        dag_id
        for dag_id, dag in dag_bag.dags.items()
        if Path(dag.fileloc).name == f"dag_line_{snippet.line}.py"
        and Path(dag.fileloc).parent.name == snippet.doc.stem.lower()
    ]
    assert dag_ids, f"{snippet.id} defines no DAG"


def test_the_readme_dag_has_the_shape_it_describes(dag_bag: Any) -> None:
    dag = dag_bag.get_dag("orders")
    assert dag is not None
    submit, teardown = dag.get_task("submit"), dag.get_task("teardown")
    assert submit.upstream_task_ids == {"deploy"}
    assert teardown.is_teardown and {"deploy", "submit"} <= teardown.upstream_task_ids
    assert teardown.savepoint is True


def _jar(folder: Path) -> Path:
    """A jar file as the worker would have it (the simulated JobManager runs no code)."""
    jar = folder / "orders.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: Orders\n")
    return jar


def test_the_readme_dag_runs_on_the_sandbox_and_leaves_nothing_behind(
    simulated_sandbox: SandboxServer,
    run_dag: Any,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    conf = {"jar": str(_jar(tmp_path)), "state_dir": (tmp_path / "state").as_uri()}
    dag_run = run_dag("orders", conf)
    out = capfd.readouterr().out
    assert task_states(dag_run) == {
        "deploy": "success",
        "submit": "success",
        "teardown": "success",
    }, out[-4000:]
    savepoint = dag_run.get_task_instance("teardown").xcom_pull(task_ids="teardown")
    # Flink writes a file URI as file:/path (one slash), as its Path type does.
    assert savepoint and f"{tmp_path}/state/savepoints/savepoint-" in savepoint, savepoint
    snapshot = FlinkKubernetesHook().observe("orders", "default", log_lines=0)
    assert not (snapshot.deployments or snapshot.pods)


def test_the_guides_setup_and_teardown_dag_runs_on_the_sandbox(
    simulated_sandbox: SandboxServer, run_dag: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("cluster_for_a_day")
    out = capfd.readouterr().out
    assert task_states(dag_run) == {
        "deploy": "success",
        "work": "success",
        "teardown": "success",
    }, out[-4000:]
    snapshot = FlinkKubernetesHook().observe("cluster-for-a-day", "default", log_lines=0)
    assert not (snapshot.deployments or snapshot.pods)
