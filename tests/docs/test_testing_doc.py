"""docs/testing.md: a user's project tests its DAG with the sandbox's pytest plugin.

The page's three files (``tests/conftest.py``, ``dags/clicks.py``, ``tests/test_clicks.py``)
are written as they stand into an empty folder, and pytest runs there in a process of
its own: nothing of this repository's suite (its conftest, its Airflow home) is in play,
only the installed provider and the installed sandbox's plugin.
"""

from __future__ import annotations

from pathlib import Path

from doc_snippets import REPO, snippets
from user_suite import run_user_suite

PAGE = REPO / "docs" / "testing.md"


def test_the_pages_project_passes_its_own_tests(tmp_path: Path) -> None:
    files = {s.path: s.text for s in snippets(PAGE) if s.language == "python" and s.path}
    assert sorted(files) == ["dags/clicks.py", "tests/conftest.py", "tests/test_clicks.py"]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = run_user_suite(tmp_path, "tests")

    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout
