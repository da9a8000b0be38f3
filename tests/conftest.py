"""Suite-wide set-up: Airflow runs on a throw-away home, never the developer's ``~/airflow``.

Airflow reads its configuration when first imported, so this runs before any test
module imports it: ``AIRFLOW_HOME`` is a temporary folder with a SQLite database, and the
DAGs folder holds links to ``example_dags/`` and ``tests/dags/`` (``dag.test()`` only runs
DAGs of a configured bundle). The database is created on first use by the
``airflow_db`` fixture of ``tests/airflow/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path

from doc_snippets import write_dag_snippets

REPO = Path(__file__).resolve().parent.parent
_HOME = Path(tempfile.mkdtemp(prefix="flink-k8s-tests-airflow-"))
DAGS_FOLDER = _HOME / "dags"
DAGS_FOLDER.mkdir()
(DAGS_FOLDER / "example_dags").symlink_to(REPO / "example_dags", target_is_directory=True)
(DAGS_FOLDER / "test_dags").symlink_to(REPO / "tests" / "dags", target_is_directory=True)
# The DAGs of README.md and docs/*.md, as written (tests/airflow/test_doc_dags.py runs them).
DOC_DAGS = write_dag_snippets(DAGS_FOLDER / "doc_snippets")

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ.pop("AIRFLOW_CONN_KUBERNETES_DEFAULT", None)
# Airflow 3.0 (the floor, `make test-floor`) prints a failed task's exception in a rich box
# wrapped at the terminal's width (80 columns without a terminal): wide enough, each
# message the tests look for stays on one line.
if version("apache-airflow").startswith("3.0."):
    os.environ.setdefault("COLUMNS", "2000")


def pytest_unconfigure() -> None:
    shutil.rmtree(_HOME, ignore_errors=True)
