"""``flink-k8s-sandbox up|status|down`` as separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

CLI = [sys.executable, "-m", "flink_k8s_sandbox.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "FLINK_K8S_SANDBOX_STATE_DIR": str(tmp_path / "state")}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def up(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    """A sandbox started by ``up``: (process, url, kubeconfig); killed if a test leaves it."""
    kubeconfig = tmp_path / "kube" / "config"
    args = ["up", "--kubeconfig", str(kubeconfig), "--nodes", "2", "--node-cpu", "8"]
    process = subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("flink-k8s-sandbox serving http://127.0.0.1:"), first
        url = first.split()[2]
        yield process, url, kubeconfig
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_up_serves_the_kubeconfig_it_writes(up: tuple[subprocess.Popen[str], str, Path]) -> None:
    _, url, kubeconfig = up
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    api = config.new_client_from_config(str(kubeconfig))
    try:
        assert api.configuration.host == url
        nodes = client.CoreV1Api(api).list_node().items
        assert [n.metadata.name for n in nodes] == ["sandbox-node-1", "sandbox-node-2"]
        assert nodes[0].status.capacity["cpu"] == "8"
    finally:
        api.close()


def test_status_and_down(
    env: dict[str, str], up: tuple[subprocess.Popen[str], str, Path], tmp_path: Path
) -> None:
    process, url, kubeconfig = up
    status = _cli(env, "status")
    assert status.returncode == 0
    assert status.stdout == f"{url} pid={process.pid} kubeconfig={kubeconfig.resolve()} ready\n"
    other = _cli(env, "status", "--kubeconfig", str(tmp_path / "other"))
    assert (other.returncode, other.stdout) == (1, "no flink-k8s-sandbox is running\n")
    down = _cli(env, "down", "--kubeconfig", str(kubeconfig))
    assert (down.returncode, down.stdout) == (0, f"{url} pid={process.pid} stopped\n")
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out == "flink-k8s-sandbox stopped\n"
    assert list((tmp_path / "state").iterdir()) == []
    assert _cli(env, "down").returncode == 1


def test_sigint_stops_it(
    env: dict[str, str], up: tuple[subprocess.Popen[str], str, Path], tmp_path: Path
) -> None:
    process, _, _ = up
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert (process.returncode, out) == (0, "flink-k8s-sandbox stopped\n")
    assert _cli(env, "status").returncode == 1


def test_a_taken_port_is_an_error(
    env: dict[str, str], up: tuple[subprocess.Popen[str], str, Path], tmp_path: Path
) -> None:
    _, url, _ = up
    port = url.rsplit(":", 1)[1]
    clash = _cli(env, "up", "--kubeconfig", str(tmp_path / "second"), "--port", port)
    assert clash.returncode == 1
    assert clash.stderr.startswith(f"flink-k8s-sandbox: cannot serve on port {port}: ")
