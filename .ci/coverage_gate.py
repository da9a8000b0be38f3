"""The coverage gate `make test` ends with: branch coverage of each package the
resumable-operations rule names (operators, sensors, triggers, observation) must be at
least 90 %.

The suite's processes each wrote a data file (``[tool.coverage.run] parallel``; the DAG
tasks run in ``airflow tasks test`` subprocesses, measured through ``patch =
["subprocess"]``): they are combined first. Prints one table per package, then a summary
line each; exits 1 when one is below the floor.
"""

from __future__ import annotations

import contextlib
import sys

import coverage
from coverage.exceptions import NoDataError

PACKAGES = ("operators", "sensors", "triggers", "observation")
FLOOR = 90.0


def main() -> int:
    cov = coverage.Coverage(data_suffix=False)  # the combined file, not this process's own
    cov.load()
    # Add what pytest-cov did not combine (a subprocess that outlived its test).
    with contextlib.suppress(NoDataError):
        cov.combine(keep=False)
    cov.save()
    below: list[str] = []
    for package in PACKAGES:
        include = [f"airflow_provider_flink_k8s/{package}/*"]
        try:
            percent = cov.report(include=include, skip_covered=True, show_missing=True)
        except NoDataError:  # nothing of it ran (not even imported): 0 %, not a crash
            percent = 0.0
        line = f"{package}: {percent:.1f}% branch coverage (floor {FLOOR:g}%)"
        print(line, end="\n\n")
        if percent < FLOOR:
            below.append(line)
    if below:
        print("Coverage below the floor:\n  " + "\n  ".join(below), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
