"""`make demo`'s entry point: plans and renders the example pipeline's cluster."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from airflow_provider_flink_k8s import demo


def test_demo_writes_every_object_and_says_nothing_was_deployed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo.main(["--out", str(tmp_path)]) == 0
    written = sorted(tmp_path.glob("*.yaml"))
    kinds = [yaml.safe_load(path.read_text())["kind"] for path in written]
    assert kinds == ["ConfigMap", "Service", "Service", "Deployment", "Deployment"]
    output = capsys.readouterr().out
    assert "Placement on 3 sample nodes (4 CPU, 8Gi each): fits" in output
    assert "nothing was deployed" in output


def test_demo_reports_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\ntaskmanager: {slots: 0}\n")
    assert demo.main([str(bad), "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "name: 'Bad_Name' is not a DNS-1035 label" in error
    assert "taskmanager.slots: Input should be greater than or equal to 1" in error
