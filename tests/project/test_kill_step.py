"""The kill tests (marker ``kill``) are out of the default suite and in CI's own step;
both suites measure branch coverage, which CI gates after them.

README.md says so: ``make test`` leaves them out, ``make test-kill`` runs them, and
``.ci/run`` runs both -- checked here so that no kill test silently stops running in CI.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[2]


def _ci_steps() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_default_suite_leaves_the_kill_tests_out() -> None:
    pytest_options = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    options = pytest_options["tool"]["pytest"]["ini_options"]
    addopts = shlex.split(options["addopts"])
    assert addopts[addopts.index("-m") + 1] == "not kill"
    assert any(marker.startswith("kill:") for marker in options["markers"])


def test_make_test_kill_runs_them_and_ci_runs_it_after_make_test() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ntest-kill:", 1)[1].split("\n\n", 1)[0]
    assert "-m pytest -m kill" in target
    steps = _ci_steps()
    assert steps.index("make test") < steps.index("make test-kill")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "`make test-kill`" in readme


def test_both_suites_measure_coverage_and_ci_gates_it_after_the_kill_tests() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    test = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    kill = makefile.split("\ntest-kill:", 1)[1].split("\n\n", 1)[0]
    gate = makefile.split("\ncoverage:", 1)[1].split("\n\n", 1)[0]
    assert "--cov " in test and "--cov-append" not in test  # fresh data
    assert "--cov --cov-append" in kill  # added to it
    assert ".ci/coverage_gate.py" in gate
    steps = _ci_steps()
    assert steps.index("make test-kill") < steps.index("make coverage")
    run = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert run["coverage"]["run"]["branch"] is True
    assert "subprocess" in run["coverage"]["run"]["patch"]


def test_the_gate_fails_below_90_percent_naming_each_package(tmp_path: Path) -> None:
    # A measured run that touches one module of one package: every package is far below.
    script = tmp_path / "touch.py"
    script.write_text(
        "from airflow_provider_flink_k8s.observation.scaling import runs_at\n"
        "assert runs_at({'v': 2}, {'v': 2})\n",
        encoding="utf-8",
    )
    # Not measured by the suite's own coverage (its subprocess patch sets COVERAGE_*).
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}
    env["COVERAGE_FILE"] = str(tmp_path / ".coverage")
    measure = [sys.executable, "-m", "coverage", "run", str(script)]
    subprocess.run(measure, cwd=REPO, env=env, check=True, capture_output=True)
    gate = [sys.executable, str(REPO / ".ci" / "coverage_gate.py")]
    done = subprocess.run(gate, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    for package in ("operators", "sensors", "triggers", "observation"):
        assert f"  {package}: " in done.stderr, done.stderr
    assert "(floor 90%)" in done.stderr
