"""docs/sandbox.md's examples run as written, each in a fresh interpreter (the sandbox is
started and stopped by the example itself)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from doc_snippets import REPO, Snippet, snippets

SCRIPTS = [s for s in snippets(REPO / "docs" / "sandbox.md") if s.language == "python"]


def test_the_sandbox_guide_has_its_examples() -> None:
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.id)
def test_each_example_of_the_sandbox_guide_runs_as_written(script: Snippet) -> None:
    run = subprocess.run(
        [sys.executable, "-c", script.text],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert run.returncode == 0, f"{script.id}:\n{run.stderr[-3000:]}"
    # What the examples say they print.
    if "v1/overview" in script.text:
        assert '"taskmanagers": 0' in run.stdout, run.stdout
    if "print(refused.status)" in script.text:
        assert run.stdout.strip() == "403", run.stdout
    if "print(sandbox.url)" in script.text:
        assert run.stdout.startswith("http://127.0.0.1:"), run.stdout
