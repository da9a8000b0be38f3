"""A Flink process's JVM memory options, asked of Flink's own ``BashJavaUtils``.

Flink's start scripts do not size a JobManager or TaskManager themselves:
``jobmanager.sh``/``taskmanager.sh`` call ``parseResourceParamsAndExportLogs`` in
``config.sh``, which runs::

    java -classpath bin/bash-java-utils.jar:lib/flink-dist-*.jar \\
        org.apache.flink.runtime.util.bash.BashJavaUtils GET_TM_RESOURCE_PARAMS \\
        --configDir conf -D key=value ...

and reads two ``BASH_JAVA_UTILS_EXEC_RESULT:`` lines from its output: the JVM options
(``-Xmx -Xms -XX:MaxDirectMemorySize -XX:MaxMetaspaceSize``), appended to ``JVM_ARGS``,
and the derived ``-D`` properties, appended to the entrypoint's arguments. This module
does the same, so the sandbox runs each process exactly as the image would, with Flink's
memory model and Flink's error for a configuration it refuses.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flink_k8s_sandbox.flink.errors import FlinkSandboxError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from flink_k8s_sandbox.flink.arguments import Role
    from flink_k8s_sandbox.flink.distribution import FlinkDistribution, JavaRuntime

__all__ = [
    "BASH_JAVA_UTILS",
    "FlinkConfigurationError",
    "ResourceParams",
    "parse_resource_params",
    "resource_params",
]

BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils"
_RESULT = "BASH_JAVA_UTILS_EXEC_RESULT:"
_TIMEOUT = 60.0
"""Seconds one BashJavaUtils run may take (a JVM start and a configuration parse)."""


class FlinkConfigurationError(FlinkSandboxError):
    """Raised when Flink refuses a process's memory configuration (``message``: Flink's)."""

    def __init__(self, message: str, *, output: str = "") -> None:
        self.output = output
        super().__init__(message)


@dataclass(frozen=True)
class ResourceParams:
    """What ``BashJavaUtils`` answers: JVM options, and ``-D`` tokens for the entrypoint."""

    jvm_args: tuple[str, ...]
    dynamic_args: tuple[str, ...]

    def dynamic_properties(self) -> dict[str, str]:
        """The ``-D key=value`` pairs of :attr:`dynamic_args` as a dict."""
        pairs = [token for token in self.dynamic_args if token != "-D"]
        return dict(pair.removeprefix("-D").partition("=")[::2] for pair in pairs)


def _command_name(role: Role) -> str:
    return "GET_TM_RESOURCE_PARAMS" if role == "taskmanager" else "GET_JM_RESOURCE_PARAMS"


def _flink_error(output: str) -> str:
    """The root cause's message of a failed run (Flink's own wording), else the tail."""
    thrown = [
        line.removeprefix("Caused by: ")
        for line in output.splitlines()
        if line.startswith(("Exception in thread", "Caused by: "))
    ]
    if thrown:
        return thrown[-1].split(": ", 1)[-1]
    return "\n".join(output.strip().splitlines()[-5:])


def parse_resource_params(output: str) -> ResourceParams:
    """Read BashJavaUtils' two result lines, as ``extractExecutionResults`` does.

    :raises FlinkConfigurationError: when the output does not hold exactly two.
    """
    results = [line[len(_RESULT) :] for line in output.splitlines() if line.startswith(_RESULT)]
    if len(results) != 2:
        raise FlinkConfigurationError(
            f"BashJavaUtils gave {len(results)} result lines, expected 2: {_flink_error(output)}",
            output=output,
        )
    return ResourceParams(tuple(results[0].split()), tuple(results[1].split()))


def resource_params(
    role: Role,
    conf_dir: Path,
    dynamic_properties: Mapping[str, str],
    *,
    distribution: FlinkDistribution,
    java: JavaRuntime,
) -> ResourceParams:
    """Run BashJavaUtils for ``role`` over ``conf_dir/config.yaml`` and the pod's ``-D`` properties.

    :raises FlinkConfigurationError: with Flink's message when it refuses the configuration.
    """
    classpath = f"{distribution.bin / 'bash-java-utils.jar'}:{distribution.dist_jar}"
    properties = [token for k, v in dynamic_properties.items() for token in ("-D", f"{k}={v}")]
    command = [
        str(java.java),
        "-classpath",
        classpath,
        BASH_JAVA_UTILS,
        _command_name(role),
        "--configDir",
        str(conf_dir),
        *properties,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise FlinkConfigurationError(
            f"Flink refuses the {role}'s memory configuration: {_flink_error(output)}",
            output=output,
        )
    return parse_resource_params(done.stdout)
