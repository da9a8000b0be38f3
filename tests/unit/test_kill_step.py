"""The kill tests (marker ``kill``) are out of the default suite and in CI's own step.

README.md says so: ``make test`` leaves them out, ``make test-kill`` runs them, and
``.ci/run`` runs both -- checked here so that no kill test silently stops running in CI.
"""

from __future__ import annotations

import shlex
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
