"""Run pytest on a user's suite in a folder of its own, as a user's project would run it.

Only what is installed is in play (the provider, the sandbox's pytest plugin): not this
repository's conftest files, and none of its Airflow settings (``AIRFLOW_*`` variables).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run_user_suite"]


def run_user_suite(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q ARGS`` in ``folder``; its output, not checked."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=300,
        check=False,
    )
