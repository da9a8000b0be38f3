"""The markers say what a test needs, and the suites' conftest files set them.

``flink``: real Flink or its jars (``slow`` tests included); ``airflow``: Airflow's hooks,
operators, sensors, triggers or a DAG run. ``-m "not flink"`` must leave out every test
that would start a JVM, and ``-m "airflow and not flink"`` is what the Airflow floor runs.
"""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest
from doc_snippets import REPO

CASES = [
    ("flink", "tests/resources/test_memory_on_flink.py", True),  # slow
    ("flink", "tests/resources/test_memory_oracle.py", True),  # the flink_oracle fixture
    ("flink", "sandbox/tests/flink/test_resource_params.py", True),  # flink_ready
    ("flink", "tests/spec/test_cluster.py", False),
    ("flink", "sandbox/tests/api/test_sandbox_crud.py", False),
    ("airflow", "tests/operators/test_teardown.py", True),  # by folder
    ("airflow", "tests/docs/test_doc_dags.py", True),  # the airflow_db fixture
    ("airflow", "sandbox/tests/api/test_sandbox_airflow.py", True),
    ("airflow", "tests/manifests/test_manifests_cli.py", False),
    ("airflow", "sandbox/tests/api/test_sandbox_watch.py", False),
]


@functools.cache
def _collected(marker: str) -> set[str]:
    """The test files of :data:`CASES` that ``-m marker`` selects (one collection)."""
    paths = sorted({path for _, path, _ in CASES})
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*collect, "-m", marker, *paths],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]
    return {line.split("::")[0] for line in done.stdout.splitlines() if "::" in line}


@pytest.mark.parametrize(("marker", "path", "expected"), CASES)
def test_a_test_carries_the_markers_of_what_it_needs(
    marker: str, path: str, expected: bool
) -> None:
    assert (path in _collected(marker)) is expected
