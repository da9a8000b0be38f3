"""``python -m airflow_provider_flink_k8s.manifests SPEC``: plan and render, start nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from airflow_provider_flink_k8s.manifests.__main__ import main

SPEC = Path(__file__).resolve().parents[2] / "example_dags" / "specs" / "clickstream.yaml"


def test_it_writes_every_object_in_apply_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(SPEC), "--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.yaml"))
    kinds = [yaml.safe_load(path.read_text())["kind"] for path in written]
    assert kinds == ["ConfigMap", "Service", "Service", "Deployment", "Deployment"]
    out = capsys.readouterr().out
    assert "slots: 2 per TaskManager, 4 in all" in out
    assert f"Wrote 5 Kubernetes objects to {tmp_path}/" in out


def test_it_reports_every_problem_of_a_bad_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\ntaskmanager: {slots: 0}\n")
    assert main([str(bad), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "name: 'Bad_Name' is not a DNS-1035 label" in error
    assert "taskmanager.slots: Input should be greater than or equal to 1" in error
    assert not (tmp_path / "out").exists()
