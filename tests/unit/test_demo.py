"""`make demo`'s entry point: plans, renders, deploys on the sandbox and tears down."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from airflow_provider_flink_k8s import demo
from airflow_provider_flink_k8s.sandbox.flink import live_processes


def test_render_only_writes_every_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--out", str(tmp_path), "--render-only"]) == 0
    written = sorted(tmp_path.glob("*.yaml"))
    kinds = [yaml.safe_load(path.read_text())["kind"] for path in written]
    assert kinds == ["ConfigMap", "Service", "Service", "Deployment", "Deployment"]
    assert "Sandbox" not in capsys.readouterr().out


@pytest.mark.slow
def test_demo_runs_real_flink_on_the_sandbox_and_leaves_no_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "(local runtime" in output
    assert "Flink (REST via the service proxy): 2 TaskManagers, 4 slots; job " in output
    assert "RUNNING at parallelism 4" in output
    assert "Flink followed: 3 TaskManagers, 6 slots" in output
    assert "Deleted 5 objects and waited until they were gone" in output
    assert live_processes() == ()


def test_demo_with_simulated_containers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["--out", str(tmp_path), "--runtime", "simulated"]) == 0
    output = capsys.readouterr().out
    assert "Placement on the sandbox's 3 nodes: fits" in output
    assert "deployment.apps/clickstream-taskmanager created" in output
    assert "Applying the same spec again: 5 objects, all unchanged" in output
    assert "Scaled clickstream-taskmanager from 2 to 3 TaskManagers" in output
    assert "Deleted 5 objects and waited until they were gone" in output
    assert (tmp_path / "kubeconfig").is_file()


def test_demo_reports_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\ntaskmanager: {slots: 0}\n")
    assert demo.main([str(bad), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "name: 'Bad_Name' is not a DNS-1035 label" in error
    assert "taskmanager.slots: Input should be greater than or equal to 1" in error
