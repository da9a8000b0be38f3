"""``make demo``: the batch-to-stream DAG run by ``airflow dags test`` on the sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from airflow_provider_flink_k8s import demo
from airflow_provider_flink_k8s.sandbox.flink import live_processes


def test_render_only_writes_every_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--out", str(tmp_path), "--render-only"]) == 0
    written = sorted((tmp_path / "manifests").glob("*.yaml"))
    kinds = [yaml.safe_load(path.read_text())["kind"] for path in written]
    assert kinds == ["ConfigMap", "Service", "Service", "Deployment", "Deployment"]
    assert "Sandbox" not in capsys.readouterr().out


def test_render_only_reports_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\ntaskmanager: {slots: 0}\n")
    assert demo.main(["--render-only", "--spec", str(bad), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "name: 'Bad_Name' is not a DNS-1035 label" in error
    assert "taskmanager.slots: Input should be greater than or equal to 1" in error


@pytest.mark.slow
def test_the_demo_runs_the_pipeline_dag_with_real_flink_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    # A subprocess, as `make demo` runs it: the demo has an Airflow home of its own.
    done = subprocess.run(
        [sys.executable, "-m", "airflow_provider_flink_k8s.demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout
    log = (tmp_path / "airflow.log").read_text() if (tmp_path / "airflow.log").exists() else ""
    assert done.returncode == 0, f"{output}\n{done.stderr}\n{log[-8000:]}"
    assert ": success" in output
    for task in (
        "prepare_job",
        "deploy_session_cluster",
        "backfill",
        "submit_stream",
        "wait_running",
        "rescale",
        "savepoint",
        "teardown",
    ):
        assert f"  {task} " in output and "success" in output.split(f"  {task} ")[1][:40]
    assert "Cluster ready in " in output
    assert "Rescaled 2 -> 4" in output
    assert "Savepoint: file:" in output
    assert "Flink processes left: 0" in output
    assert live_processes() == ()
