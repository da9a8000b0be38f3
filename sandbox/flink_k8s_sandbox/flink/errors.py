"""What can go wrong when running Flink on this machine.

::

    FlinkSandboxError
    ├── FlinkDistributionError     no JDK, or no Flink jars (apache-flink-libraries)
    ├── FlinkProcessError          a Flink process died, or did not come up in time
    └── SqlRunnerBuildError        javac or jar failed on the SQL runner's sources
"""

from __future__ import annotations

__all__ = [
    "FlinkDistributionError",
    "FlinkProcessError",
    "FlinkSandboxError",
    "SqlRunnerBuildError",
]


class FlinkSandboxError(Exception):
    """Base class of the errors of running Flink on this machine."""


class FlinkDistributionError(FlinkSandboxError):
    """Raised when Flink's jars or a Java runtime cannot be found."""


class FlinkProcessError(FlinkSandboxError):
    """Raised when a Flink process exits early or is not ready in time.

    ``log_tail`` holds the last lines of the process's console output (stdout and stderr).
    """

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        self.log_tail = log_tail
        super().__init__(
            f"{message}\n--- last lines of the log ---\n{log_tail}" if log_tail else message
        )


class SqlRunnerBuildError(FlinkSandboxError):
    """Raised when the SQL runner job cannot be compiled or packed."""
