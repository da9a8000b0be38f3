"""``make demo``: ``flink-k8s-sandbox demo`` runs ``flink_batch_to_stream`` on real Flink.

The demo lives in the sandbox's distribution (it is how the sandbox runs a DAG); the DAG
is the provider's example, given the SQL runner's jar as its ``jar`` param.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from demo_output import check_demo_output

from flink_k8s_sandbox.flink import live_processes

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "flink_batch_to_stream.py"
SANDBOX = Path(sys.executable).with_name("flink-k8s-sandbox")


@pytest.mark.slow
def test_the_demo_runs_the_pipeline_dag_with_real_flink_and_leaves_no_process(
    flink_ready: None, tmp_path: Path
) -> None:
    # A subprocess, as `make demo` runs it: the demo has an Airflow home of its own.
    done = subprocess.run(
        [str(SANDBOX), "demo", str(EXAMPLE), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = (tmp_path / "airflow.log").read_text() if (tmp_path / "airflow.log").exists() else ""
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{log[-8000:]}"
    check_demo_output(done.stdout)
    assert live_processes() == ()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-dag.py"], "dag_file: no such file"),
        ([str(EXAMPLE), "--conf", "[1]"], "--conf: must be a JSON object"),
        ([str(EXAMPLE), "--conf", "{"], "--conf: not JSON"),
    ],
)
def test_the_demo_refuses_bad_arguments_before_starting_anything(
    args: list[str], message: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(SANDBOX), "demo", *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "out").exists()
