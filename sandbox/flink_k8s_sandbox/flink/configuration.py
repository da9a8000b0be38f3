"""A pod's Flink configuration, rewritten to run on this machine.

In a pod, every Flink process has its own IP, its own ``/tmp`` and the image's
``/opt/flink``; the ports are the well-known ones (6123, 6124, 8081, ...). On one host
all processes share 127.0.0.1, so each gets a free port for every port Flink would open,
its own temporary directory, and container paths mapped to host paths. Everything else
in the configuration is left as the pod has it. :func:`flink_java_options` reads the
``env.java.*`` keys into JVM options as ``bin/config.sh`` does.

Ports by name, and the key each one sets (:data:`PORT_KEYS`):

===========  =======================================  ===================================
name         JobManager (session, standalone-job)     TaskManager
===========  =======================================  ===================================
``rpc``      ``jobmanager.rpc.port``                  ``taskmanager.rpc.port``
``blob``     ``blob.server.port``                     --
``rest``     ``rest.port``                            --
``data``     --                                       ``taskmanager.data.port``
``metrics``  ``metrics.internal.query-service.port``  (both)
===========  =======================================  ===================================
"""

from __future__ import annotations

import re
import shlex
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from flink_k8s_sandbox.flink.distribution import JAVA_MODULE_OPTIONS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from flink_k8s_sandbox.flink.arguments import Role

__all__ = [
    "CONFIG_FILE",
    "DROPPED_KEYS",
    "HOST",
    "IMAGE_FLINK_HOME",
    "LOG4J_CONSOLE_FILE",
    "PORT_KEYS",
    "config_yaml",
    "container_port_map",
    "default_log_configuration",
    "flink_java_options",
    "host_configuration",
    "host_overrides",
    "map_container_paths",
    "merge_flink_properties",
    "parse_config_yaml",
    "port_names",
]

CONFIG_FILE = "config.yaml"
"""Flink's configuration file (FLIP-366 standard YAML; the only one Flink 2 reads)."""

LOG4J_CONSOLE_FILE = "log4j-console.properties"
"""The logging file ``jobmanager.sh``/``taskmanager.sh`` use in the foreground."""

# Wide enough that PyYAML never folds a long value over lines.
_NO_WRAP = 1 << 20

HOST = "127.0.0.1"
"""Where every process binds and what it advertises."""

IMAGE_FLINK_HOME = "/opt/flink"
"""``FLINK_HOME`` of the official image; a process's working directory stands in for it."""

PORT_KEYS: dict[str, dict[str, str]] = {
    "jobmanager": {
        "rpc": "jobmanager.rpc.port",
        "blob": "blob.server.port",
        "rest": "rest.port",
        "metrics": "metrics.internal.query-service.port",
    },
    "taskmanager": {
        "rpc": "taskmanager.rpc.port",
        "data": "taskmanager.data.port",
        "metrics": "metrics.internal.query-service.port",
    },
}
"""The ports a process opens, by name, and the configuration key of each."""

# Flink's defaults for the ports a Service may point at when config.yaml is silent.
_DEFAULT_CONTAINER_PORTS = {"jobmanager.rpc.port": 6123, "rest.port": 8081}

DROPPED_KEYS = frozenset(
    {
        "jobmanager.rpc.bind-port",
        "taskmanager.rpc.bind-port",
        "rest.bind-port",
        "taskmanager.data.bind-port",
    }
)
"""Keys removed from the configuration: a process binds the port it advertises."""

_ENV_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


# libyaml's parser when PyYAML has it (same results as SafeLoader, ~10x faster).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _kind(role: Role) -> str:
    return "taskmanager" if role == "taskmanager" else "jobmanager"


def port_names(role: Role) -> tuple[str, ...]:
    """The named ports a process of this role opens (see the module's table)."""
    return tuple(PORT_KEYS[_kind(role)])


def host_overrides(
    role: Role,
    ports: Mapping[str, int],
    *,
    jobmanager_address: tuple[str, int] | None,
    rest_address: tuple[str, int] | None,
    tmp_dir: Path,
) -> dict[str, str]:
    """The keys forced for running on 127.0.0.1, sorted.

    :param role: the process's role.
    :param ports: a host port for each of :func:`port_names` of the role.
    :param jobmanager_address: where the JobManager's RPC listens: required for a
        TaskManager; a JobManager uses its own ``rpc`` port.
    :param rest_address: where the JobManager's REST API listens (a JobManager uses its
        own ``rest`` port; optional for a TaskManager).
    :param tmp_dir: the process's private temporary directory (the pod's ``/tmp``).
    :raises ValueError: when a port is missing, or a TaskManager has no JobManager.
    """
    kind = _kind(role)
    missing = [name for name in PORT_KEYS[kind] if name not in ports]
    if missing:
        raise ValueError(f"no host port for {', '.join(missing)} of the {role}")
    conf = {key: str(ports[name]) for name, key in PORT_KEYS[kind].items()}
    conf["io.tmp.dirs"] = str(tmp_dir)
    if kind == "jobmanager":
        jobmanager_address = (HOST, ports["rpc"])
        rest_address = (HOST, ports["rest"])
        conf |= {
            "jobmanager.bind-host": HOST,
            "rest.bind-address": HOST,
            "web.tmpdir": str(tmp_dir),
        }
    elif jobmanager_address is None:
        raise ValueError("a TaskManager needs jobmanager_address (where the JobManager's RPC is)")
    else:
        conf |= {"taskmanager.bind-host": HOST, "taskmanager.host": HOST}
    conf |= {"jobmanager.rpc.address": jobmanager_address[0]}
    conf |= {"jobmanager.rpc.port": str(jobmanager_address[1])}
    if rest_address is not None:
        conf |= {"rest.address": rest_address[0], "rest.port": str(rest_address[1])}
    return dict(sorted(conf.items()))


def _mount_pattern(container_path: str) -> re.Pattern[str]:
    # A container path counts where a path can start: at the start of the text, after a
    # separator of lists/assignments/options, or right after a file:// or local:// scheme.
    starts = r"(?:^|(?<=[\s;,=:'\"])|(?<=file://)|(?<=local://))"
    return re.compile(starts + re.escape(container_path.rstrip("/")) + r"(?=/|$|[\s;,'\"])")


def map_container_paths(text: str, mounts: Mapping[str, str | Path]) -> str:
    """Replace container paths in ``text`` by the host paths they are mounted from.

    The longest matching mount wins (``/opt/flink/usrlib`` before ``/opt/flink``). Paths
    are recognised alone, in ``;``/``,``/blank-separated lists, after ``=`` or ``:`` and
    after ``file://``/``local://``; ``/opt/flinkx`` or ``s3://b/opt/flink`` stay as they are.

    :param text: an argument or a configuration value.
    :param mounts: container path -> host path.
    """
    for container_path in sorted(mounts, key=lambda path: len(path.rstrip("/")), reverse=True):
        host_path = str(mounts[container_path]).rstrip("/") or "/"
        text = _mount_pattern(container_path).sub(host_path.replace("\\", r"\\"), text)
    return text


def host_configuration(
    configuration: Mapping[str, str],
    overrides: Mapping[str, str],
    mounts: Mapping[str, str | Path],
) -> dict[str, str]:
    """The configuration a process runs with: container paths mapped, bind ports dropped,
    then ``overrides`` (from :func:`host_overrides`) laid over it; sorted by key."""
    conf = {
        key: map_container_paths(value, mounts)
        for key, value in configuration.items()
        if key not in DROPPED_KEYS
    }
    conf.update(overrides)
    return dict(sorted(conf.items()))


def container_port_map(
    role: Role, configuration: Mapping[str, str], ports: Mapping[str, int]
) -> dict[int, int]:
    """Container port -> host port, for the ports the pod's configuration fixes.

    A Service's ``targetPort`` names a container port (6123, 8081, ...); this says where
    the process really listens. Random ports (``0``), ranges and unset ports without a
    Flink default have no container port and are left out.
    """
    mapping: dict[int, int] = {}
    for name, key in PORT_KEYS[_kind(role)].items():
        if name not in ports:
            continue
        value = configuration.get(key, "").strip()
        if value.isascii() and value.isdigit():
            port = int(value)
        else:
            port = 0 if value else _DEFAULT_CONTAINER_PORTS.get(key, 0)
        if port > 0:
            mapping[port] = ports[name]
    return mapping


def _flatten(node: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, bool):
        out[prefix] = "true" if node else "false"
    elif isinstance(node, list):
        out[prefix] = ";".join(str(item) for item in node)
    elif node is not None:
        out[prefix] = str(node)


def config_yaml(configuration: Mapping[str, str]) -> str:
    """Write a flat Flink configuration as ``config.yaml`` text (FLIP-366 standard YAML).

    Values stay strings (PyYAML quotes those that would read as numbers or booleans);
    Flink converts a string to an option's type, so the quoting never changes a meaning.
    The width keeps a long value (JVM options, a classpath) on one line.
    """
    return yaml.safe_dump(
        dict(sorted(configuration.items())),
        default_flow_style=False,
        allow_unicode=True,
        width=_NO_WRAP,
    )


def default_log_configuration() -> dict[str, str]:
    """``log4j-console.properties`` for a pod that mounts no logging configuration."""
    text = (files(__package__) / LOG4J_CONSOLE_FILE).read_text(encoding="utf-8")
    return {LOG4J_CONSOLE_FILE: text}


def parse_config_yaml(text: str) -> dict[str, str]:
    """A ``config.yaml`` (flat or nested standard YAML) as Flink's key -> string map.

    Nested maps join their keys with ``.``; booleans become ``true``/``false``; lists are
    joined with ``;`` (Flink's list syntax); empty values are left out.

    :raises ValueError: when the text is not a YAML mapping.
    """
    node = yaml.load(text, Loader=_YAML_LOADER) if text.strip() else {}
    if not isinstance(node, dict):
        raise ValueError("config.yaml must hold a YAML mapping")
    out: dict[str, str] = {}
    _flatten(node, "", out)
    return out


def merge_flink_properties(configuration: Mapping[str, str], properties: str) -> dict[str, str]:
    """Apply the image's ``FLINK_PROPERTIES`` variable: YAML lines laid over the config.

    The official image's entrypoint appends the variable to ``config.yaml`` before Flink
    starts; a key it repeats wins.
    """
    return (
        {**configuration, **parse_config_yaml(properties)}
        if properties.strip()
        else dict(configuration)
    )


def _expand(text: str, env: Mapping[str, str]) -> str:
    """``$VAR``/``${VAR}`` as ``eval echo`` in flink-console.sh expands them."""
    return _ENV_REFERENCE.sub(lambda m: env.get(m[1] or m[2], ""), text)


def _strip_quotes(text: str) -> str:
    """config.sh removes one leading and one trailing double quote of a JVM options value."""
    text = text.strip()
    return text.removeprefix('"').removesuffix('"')


def flink_java_options(
    configuration: Mapping[str, str],
    role: Role,
    *,
    env: Mapping[str, str],
    java_version: int,
    default_opts: Sequence[str] = JAVA_MODULE_OPTIONS,
) -> list[str]:
    """``FLINK_ENV_JAVA_OPTS`` plus the role's options, as ``config.sh`` builds them.

    :param configuration: the Flink configuration of the process.
    :param env: the process's environment: ``FLINK_ENV_JAVA_OPTS`` (and ``_JM``/``_TM``)
        replace what the configuration says, as in ``config.sh``; other variables are
        expanded in the options (``${FLINK_LOG_PREFIX}`` and the like).
    :param java_version: the JVM's feature version (``-Djava.security.manager=allow``
        above 17).
    :param default_opts: used when neither ``env.java.opts.all`` nor ``env.java.opts`` is
        set (see the module docstring).
    """
    kind = "taskmanager" if role == "taskmanager" else "jobmanager"
    if env.get("FLINK_ENV_JAVA_OPTS"):
        common = env["FLINK_ENV_JAVA_OPTS"]
    else:
        opts = configuration.get("env.java.opts.all") or configuration.get("env.java.opts")
        if opts is None:
            opts = " ".join(default_opts)
        default = configuration.get("env.java.default-opts.all", "")
        common = f"-XX:+IgnoreUnrecognizedVMOptions {_strip_quotes(f'{default} {opts}')}"
        if java_version > 17:
            common += " -Djava.security.manager=allow"
    role_env = "FLINK_ENV_JAVA_OPTS_TM" if kind == "taskmanager" else "FLINK_ENV_JAVA_OPTS_JM"
    if env.get(role_env):
        specific = env[role_env]
    else:
        default = configuration.get(f"env.java.default-opts.{kind}", "")
        specific = _strip_quotes(f"{default} {configuration.get(f'env.java.opts.{kind}', '')}")
    text = _expand(f"{common} {specific}", env)
    try:
        return shlex.split(text)
    except ValueError as exc:  # bash's `eval echo` fails on the same text
        raise ValueError(
            f"JVM options from env.java.opts.* / FLINK_ENV_JAVA_OPTS: {exc}: {text}"
        ) from None
