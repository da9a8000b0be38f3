"""pytest fixtures for any suite that tests Kubernetes-facing code against the sandbox.

Installed with the distribution (entry point ``pytest11``), so a suite needs no
``conftest.py`` import to use them::

    def test_my_dag(k8s_sandbox_kubeconfig):
        ...  # point your client, or Airflow's kubernetes_default connection, at it

* ``k8s_sandbox`` -- one :class:`~flink_k8s_sandbox.SandboxServer` for the whole session
  on a free 127.0.0.1 port: the workload controllers, scheduler and kubelet, simulated
  containers whose JobManagers answer Flink's REST API (no JVM), and the stand-in Flink
  Kubernetes Operator with its CRDs. ``--k8s-sandbox-runtime local`` runs Flink
  containers as real Flink processes instead (Java 17).
* ``k8s_sandbox_kubeconfig`` -- the path of a kubeconfig for it.
* ``flink_ready`` -- fails (never skips) the test without Java 17 or Flink's jars.
* ``flink_sql_runner_jar`` -- the bundled SQL runner job (``flinkk8s.SqlRunner``), built
  once with ``javac`` and cached: a jar to give a DAG's ``jar`` param or upload to Flink.

The server stops, and every process it started with it, when the session ends. When the
session started Flink processes, it ends failed if any of them (or any child ``java``
process of pytest) is still running: each test must stop what it starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from flink_k8s_sandbox.server import SandboxServer

__all__ = ["flink_ready", "flink_sql_runner_jar", "k8s_sandbox", "k8s_sandbox_kubeconfig"]

_RUNTIME = "--k8s-sandbox-runtime"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flink-k8s-sandbox")
    group.addoption(
        _RUNTIME,
        choices=("simulated", "local"),
        default="simulated",
        help="how the k8s_sandbox fixture runs containers: simulated (default) or local "
        "(Flink containers as real Flink processes; needs Java 17)",
    )


@pytest.fixture(scope="session")
def k8s_sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxServer]:
    """A running sandbox shared by the session (see the module docstring)."""
    from flink_k8s_sandbox.server import SandboxServer

    options: dict[str, Any] = {"flink_operator": True}
    if request.config.getoption(_RUNTIME) == "local":
        from flink_k8s_sandbox.clock import Timing
        from flink_k8s_sandbox.runtime.local import LocalRuntime

        timing = options["timing"] = Timing()
        workdir = tmp_path_factory.mktemp("k8s-sandbox-pods")
        options["runtime"] = LocalRuntime(timing, workdir=workdir)
    with SandboxServer(**options) as server:
        yield server


@pytest.fixture(scope="session")
def k8s_sandbox_kubeconfig(
    k8s_sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig file for :func:`k8s_sandbox`."""
    return k8s_sandbox.write_kubeconfig(tmp_path_factory.mktemp("k8s-sandbox") / "config")


@pytest.fixture(scope="session")
def flink_ready() -> None:
    """Fail (not skip) without a JDK or Flink's jars: a suite that needs Flink must run it."""
    from flink_k8s_sandbox.flink import FlinkDistributionError, find_distribution, find_java

    try:
        find_distribution()
        java = find_java()
    except FlinkDistributionError as exc:
        pytest.fail(str(exc), pytrace=False)
    if java.javac is None:
        pytest.fail("the SQL runner needs javac: apt-get install -y openjdk-17-jdk-headless")


@pytest.fixture(scope="session")
def flink_sql_runner_jar(flink_ready: None) -> Path:
    """The SQL runner job's jar (built on first use, then taken from the cache)."""
    from flink_k8s_sandbox.flink import build_sql_runner_jar

    return build_sql_runner_jar()


def _java_children() -> list[int]:
    """PIDs of ``java`` processes whose parent is this Python process."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and comm == "java":
            pids.append(int(stat.parent.name))
    return pids


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill, report and fail on Flink processes the session's tests left running."""
    if "flink_k8s_sandbox.flink" not in sys.modules:
        return  # no test started Flink
    from flink_k8s_sandbox.flink import live_processes

    leftovers = live_processes()
    for process in leftovers:
        process.kill()
    children = _java_children()
    if leftovers or children:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"Flink processes left running: {leftovers}; java children: {children}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
