"""Real Flink processes on 127.0.0.1, started the way a Flink pod starts them.

The runtime-independent half of running a Flink pod locally: find Flink's jars and a JDK
(:mod:`.distribution`), read the container's arguments (:mod:`.arguments`), rewrite its
configuration for one host (:mod:`.configuration`), assemble the ``java`` command Flink's
scripts would (:mod:`.launch`), then start and supervise the process (:mod:`.process`,
:mod:`.reaper`). :mod:`.sqlrunner` builds the SQL runner job (``flinkk8s.SqlRunner``) the
demo runs. Everything but :mod:`.process`, :mod:`.reaper` and :mod:`.sqlrunner` is pure.
"""

from __future__ import annotations

from flink_k8s_sandbox.flink.arguments import (
    ROLES,
    EntrypointArgs,
    Role,
    parse_entrypoint_args,
)
from flink_k8s_sandbox.flink.configuration import (
    HOST,
    IMAGE_FLINK_HOME,
    PORT_KEYS,
    container_port_map,
    flink_java_options,
    host_configuration,
    host_overrides,
    map_container_paths,
    merge_flink_properties,
    parse_config_yaml,
    port_names,
)
from flink_k8s_sandbox.flink.distribution import (
    JAVA_MODULE_OPTIONS,
    FlinkDistribution,
    JavaRuntime,
    find_distribution,
    find_java,
    java_module_options_of,
)
from flink_k8s_sandbox.flink.errors import (
    FlinkDistributionError,
    FlinkProcessError,
    SqlRunnerBuildError,
)
from flink_k8s_sandbox.flink.launch import (
    MAIN_CLASSES,
    FlinkLaunch,
    FlinkProcessSpec,
    plan_launch,
)
from flink_k8s_sandbox.flink.process import (
    FlinkProcess,
    allocate_ports,
    live_processes,
    start_flink_process,
)
from flink_k8s_sandbox.flink.sqlrunner import (
    CLICKSTREAM_SQL,
    SQL_RUNNER_CLASS,
    SQL_RUNNER_JAR,
    build_sql_runner_jar,
    stage_usrlib,
)

__all__ = [
    "CLICKSTREAM_SQL",
    "EntrypointArgs",
    "FlinkDistribution",
    "FlinkDistributionError",
    "FlinkLaunch",
    "FlinkProcess",
    "FlinkProcessError",
    "FlinkProcessSpec",
    "HOST",
    "IMAGE_FLINK_HOME",
    "JAVA_MODULE_OPTIONS",
    "JavaRuntime",
    "MAIN_CLASSES",
    "PORT_KEYS",
    "ROLES",
    "Role",
    "SQL_RUNNER_CLASS",
    "SQL_RUNNER_JAR",
    "SqlRunnerBuildError",
    "allocate_ports",
    "build_sql_runner_jar",
    "container_port_map",
    "find_distribution",
    "find_java",
    "flink_java_options",
    "host_configuration",
    "host_overrides",
    "java_module_options_of",
    "live_processes",
    "map_container_paths",
    "merge_flink_properties",
    "parse_config_yaml",
    "parse_entrypoint_args",
    "plan_launch",
    "port_names",
    "stage_usrlib",
    "start_flink_process",
]
