"""The pytest plugin the distribution installs: its fixtures, its option, its leftover check.

Each test writes a small suite into an empty folder and runs pytest there in a process of
its own, as a user's project would: only the installed plugin is in play.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from user_suite import run_user_suite


def _pytest(folder: Path, test: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_user.py").write_text(textwrap.dedent(test), encoding="utf-8")
    return run_user_suite(folder, *args)


def test_the_fixtures_give_a_served_sandbox_and_its_kubeconfig(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        """
        import yaml
        from kubernetes import client, config

        def test_it(k8s_sandbox, k8s_sandbox_kubeconfig):
            assert k8s_sandbox.runtime == "simulated" and k8s_sandbox.flink_operator
            api = config.new_client_from_config(str(k8s_sandbox_kubeconfig))
            names = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
            assert "default" in names
            crds = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
            assert "flinkdeployments.flink.apache.org" in [c.metadata.name for c in crds]
            url = yaml.safe_load(k8s_sandbox_kubeconfig.read_text())["clusters"][0]
            assert url["cluster"]["server"] == k8s_sandbox.url
        """,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_runtime_option_picks_real_flink_processes(tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        """
        from flink_k8s_sandbox.runtime.local import LocalRuntime

        def test_it(k8s_sandbox):
            assert isinstance(k8s_sandbox.runtime, LocalRuntime)
        """,
        "--k8s-sandbox-runtime",
        "local",
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    refused = _pytest(tmp_path, "def test_it(k8s_sandbox): pass\n", "--k8s-sandbox-runtime", "x")
    assert refused.returncode != 0
    assert "invalid choice: 'x'" in refused.stderr


@pytest.mark.slow
def test_a_flink_process_left_running_fails_the_session(flink_ready: None, tmp_path: Path) -> None:
    done = _pytest(
        tmp_path,
        """
        from flink_k8s_sandbox.flink import FlinkProcessSpec, start_flink_process

        def test_it(tmp_path):
            conf = {"jobmanager.memory.process.size": "1g"}
            start_flink_process(FlinkProcessSpec(("jobmanager",), conf, tmp_path / "jm"))
        """,
    )
    assert "1 passed" in done.stdout
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout[-4000:]
    assert "Flink processes left running: (<FlinkProcess jobmanager" in done.stdout
