"""docs/sandbox.md's examples run as written, each in a fresh interpreter (the sandbox is
started and stopped by the example itself)."""

from __future__ import annotations

import pytest
from doc_snippets import REPO, Snippet, run_script, snippets

SCRIPTS = [s for s in snippets(REPO / "docs" / "sandbox.md") if s.language == "python"]


def test_the_sandbox_guide_has_its_examples() -> None:
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.id)
def test_each_example_of_the_sandbox_guide_runs_as_written(script: Snippet) -> None:
    stdout = run_script(script)
    # What the examples say they print.
    if "v1/overview" in script.text:
        assert '"taskmanagers": 0' in stdout, stdout
    if "print(refused.status)" in script.text:
        assert stdout.strip() == "403", stdout
    if "print(sandbox.url)" in script.text:
        assert stdout.startswith("http://127.0.0.1:"), stdout
