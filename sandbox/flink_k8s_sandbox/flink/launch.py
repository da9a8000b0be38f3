"""What to run for a Flink pod on this machine: the ``java`` command, its environment
and its configuration directory -- no I/O beyond listing Flink's ``lib/``.

The command is the one the official image's entrypoint and Flink 2.3's scripts
(``jobmanager.sh``/``taskmanager.sh``/``standalone-job.sh`` -> ``flink-console.sh``,
with ``config.sh``) assemble::

    java $JVM_ARGS <memory options> $FLINK_ENV_JAVA_OPTS <log settings>
         -classpath <lib/*.jar, flink-dist last> <main class> <entrypoint arguments>

* Memory options and ``-D`` properties are what Flink's ``BashJavaUtils`` answers
  (:mod:`.resourceparams`, run once ``conf/`` is written, as ``config.sh`` runs it);
  the scripts place the properties as follows:
  ``jobmanager``: ``<props> --configDir <conf> <pod args>``; ``taskmanager``:
  ``<pod args> --configDir <conf> <props>``; ``standalone-job``: ``--configDir <conf> <pod
  args> <props>`` (after ``--``, the job receives them as arguments, as in the image).
* ``FLINK_ENV_JAVA_OPTS`` is ``-XX:+IgnoreUnrecognizedVMOptions``, then
  ``env.java.default-opts.all`` and ``env.java.opts.all`` (``env.java.opts``), then the
  role's ``env.java.default-opts.<role>`` and ``env.java.opts.<role>``, with
  ``-Djava.security.manager=allow`` on Java > 17, as ``config.sh`` reads them.
* ``standalone-job`` finds the job's jars in ``usrlib/`` next to ``$FLINK_LIB_DIR``
  and loads them with the user-code class loader; as in the scripts, nothing from
  ``usrlib`` goes on ``-classpath``.

Deviations, each because one host is not a set of pods:

* addresses and ports are rewritten (:func:`.configuration.host_overrides`), and
  ``/opt/flink`` (and any ``mounts``) are mapped to host paths in arguments and values;
* the process's working directory plays ``/opt/flink``: ``conf/`` (written here),
  ``log/``, ``tmp/`` (also ``-Djava.io.tmpdir``: a pod's ``/tmp`` is private),
  ``usrlib/``, and links to the distribution's ``lib/``, ``opt/``, ``plugins/``, ``bin/``;
* when the configuration sets neither ``env.java.opts.all`` nor ``env.java.opts``, the
  distribution's default (:data:`.distribution.JAVA_MODULE_OPTIONS`) is used: a binary
  distribution's ``conf/config.yaml`` carries it. (A ConfigMap mounted over the image's
  ``conf/`` drops it, so a real pod runs without it unless the configuration sets it.)
* ``--executionMode cluster``, which ``jobmanager.sh`` versions have passed, is left out:
  Flink 2.3's session entrypoint knows only ``-c`` and ``-D`` and would stop reading
  options there, ignoring any ``-D`` after it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flink_k8s_sandbox.flink.arguments import (
    EntrypointArgs,
    Role,
    parse_entrypoint_args,
)
from flink_k8s_sandbox.flink.configuration import (
    CONFIG_FILE,
    DROPPED_KEYS,
    HOST,
    IMAGE_FLINK_HOME,
    LOG4J_CONSOLE_FILE,
    config_yaml,
    container_port_map,
    default_log_configuration,
    flink_java_options,
    host_configuration,
    host_overrides,
    map_container_paths,
    merge_flink_properties,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from flink_k8s_sandbox.flink.distribution import (
        FlinkDistribution,
        JavaRuntime,
    )
    from flink_k8s_sandbox.flink.resourceparams import ResourceParams

__all__ = [
    "FlinkLaunch",
    "FlinkProcessSpec",
    "MAIN_CLASSES",
    "SERVICES",
    "flink_java_options",
    "plan_launch",
]

MAIN_CLASSES: dict[Role, str] = {
    "jobmanager": "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
    "taskmanager": "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
    "standalone-job": (
        "org.apache.flink.container.entrypoint.StandaloneApplicationClusterEntryPoint"
    ),
}
"""The class ``flink-console.sh`` runs for each role."""

SERVICES: dict[Role, str] = {
    "jobmanager": "standalonesession",
    "taskmanager": "taskexecutor",
    "standalone-job": "standalonejob",
}
"""The service name ``flink-console.sh`` gets (it names the log files)."""

_HOST_ENV = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "JAVA_HOME")
_LINKED_DIRS = ("lib", "opt", "plugins", "bin")


@dataclass(frozen=True)
class FlinkProcessSpec:
    """One Flink container, as its pod describes it, to run on this machine.

    :param args: the container's arguments, role first: ``("jobmanager",)``,
        ``("taskmanager",)`` or ``("standalone-job", "--job-classname", "C", "--", ...)``.
    :param configuration: the pod's Flink configuration (its ``config.yaml`` as a flat
        key -> string map; :func:`.configuration.parse_config_yaml` reads one).
    :param workdir: the process's own directory; it plays the image's ``/opt/flink``.
    :param env: the container's environment (``JVM_ARGS``, ``FLINK_PROPERTIES``, ...).
    :param usrlib: a host folder to mount at ``/opt/flink/usrlib`` (the job's jars); its
        entries are linked into ``workdir/usrlib`` when the process starts.
    :param mounts: more container path -> host path mappings (the longest prefix wins).
    :param conf_files: other files of the pod's ``/opt/flink/conf`` (e.g.
        ``log4j-console.properties``); Flink's console logging when absent.
    :param ports: host ports to use by name (:func:`.configuration.port_names`); the
        others are picked free when the process starts.
    :param jobmanager_address: ``(host, port)`` of the JobManager's RPC, for a TaskManager.
    :param rest_address: ``(host, port)`` of the JobManager's REST API, for a TaskManager.
    :param name: a label for logs and errors, e.g. the pod's name.
    """

    args: Sequence[str]
    configuration: Mapping[str, str]
    workdir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    usrlib: Path | None = None
    mounts: Mapping[str, Path] = field(default_factory=dict)
    conf_files: Mapping[str, str] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    jobmanager_address: tuple[str, int] | None = None
    rest_address: tuple[str, int] | None = None
    name: str = ""

    @property
    def entrypoint_args(self) -> EntrypointArgs:
        """The parsed ``args``; :raises ValueError: when they name no known role."""
        return parse_entrypoint_args(self.args)

    @property
    def role(self) -> Role:
        return self.entrypoint_args.role


@dataclass(frozen=True)
class FlinkLaunch:
    """Everything needed to start one Flink process, computed from a spec and its ports.

    ``configuration`` is the ``config.yaml`` written to ``conf/``; ``files`` holds every
    file of ``conf/`` (it included); ``dynamic_properties`` are the pod's ``-D``
    properties left on the command line; ``port_map`` maps the pod's container ports to
    host ports; ``links`` are the directory links to create in ``workdir``. The memory
    options are Flink's answer for the written ``conf/`` (:mod:`.resourceparams`), so the
    command is :meth:`command` of them.
    """

    role: Role
    name: str
    args: EntrypointArgs
    java: JavaRuntime
    classpath: tuple[Path, ...]
    env: dict[str, str]
    workdir: Path
    configuration: dict[str, str]
    files: dict[str, str]
    dynamic_properties: dict[str, str]
    ports: dict[str, int]
    port_map: dict[int, int]
    links: dict[str, Path]
    usrlib: Path | None

    @property
    def service(self) -> str:
        return SERVICES[self.role]

    def command(self, memory: ResourceParams) -> tuple[str, ...]:
        """``flink-console.sh``'s ``exec`` line with Flink's memory options (module doc)."""
        role = self.role
        conf_dir = self.conf_dir
        log_prefix = self.log_dir / f"flink-{self.service}"
        java_options = flink_java_options(
            self.configuration,
            role,
            env={**self.env, "FLINK_LOG_PREFIX": str(log_prefix)},
            java_version=self.java.spec_version,
        )
        return (
            str(self.java.java),
            *shlex.split(self.env.get("JVM_ARGS", "")),
            *memory.jvm_args,
            *java_options,
            f"-Djava.io.tmpdir={self.tmp_dir}",
            f"-Dlog.file={log_prefix}.log",
            f"-Dlog4j.configuration=file:{conf_dir / LOG4J_CONSOLE_FILE}",
            f"-Dlog4j.configurationFile=file:{conf_dir / LOG4J_CONSOLE_FILE}",
            f"-Dlogback.configurationFile=file:{conf_dir / 'logback-console.xml'}",
            "-classpath",
            ":".join(str(jar) for jar in self.classpath),
            MAIN_CLASSES[role],
            *_entrypoint_args(role, self.args, conf_dir, memory.dynamic_args),
        )

    @property
    def conf_dir(self) -> Path:
        return self.workdir / "conf"

    @property
    def log_dir(self) -> Path:
        return self.workdir / "log"

    @property
    def tmp_dir(self) -> Path:
        return self.workdir / "tmp"

    @property
    def usrlib_dir(self) -> Path:
        return self.workdir / "usrlib"

    @property
    def log_path(self) -> Path:
        """Flink's log file (``-Dlog.file``; the web UI's log tab)."""
        return self.log_dir / f"flink-{self.service}.log"

    @property
    def out_path(self) -> Path:
        """The process's stdout and stderr (``.out`` next to the log, as Flink expects)."""
        return self.log_dir / f"flink-{self.service}.out"

    @property
    def rest_url(self) -> str | None:
        """``http://127.0.0.1:<port>`` of a JobManager's REST API; ``None`` for others."""
        return f"http://{HOST}:{self.ports['rest']}" if "rest" in self.ports else None


def _entrypoint_args(
    role: Role, args: EntrypointArgs, conf_dir: Path, memory_properties: Sequence[str]
) -> list[str]:
    properties = list(memory_properties)
    config = ["--configDir", str(conf_dir)]
    if role == "jobmanager":
        return [*properties, *config, *args.to_args()]
    if role == "taskmanager":
        return [*args.to_args(), *config, *properties]
    return [*config, *args.to_args(), *properties]


def _environment(
    spec: FlinkProcessSpec, configuration: Mapping[str, str], host_env: Mapping[str, str]
) -> dict[str, str]:
    env = {key: host_env[key] for key in _HOST_ENV if key in host_env}
    env.update(spec.env)
    env.setdefault("MAX_LOG_FILE_NUMBER", configuration.get("env.log.max", "10"))
    env.setdefault("ROOT_LOG_LEVEL", configuration.get("env.log.level", "INFO"))
    home = spec.workdir
    env |= {
        "FLINK_HOME": str(home),
        "FLINK_CONF_DIR": str(home / "conf"),
        "FLINK_BIN_DIR": str(home / "bin"),
        "FLINK_LIB_DIR": str(home / "lib"),
        "FLINK_OPT_DIR": str(home / "opt"),
        "FLINK_PLUGINS_DIR": str(home / "plugins"),
    }
    return env


def _mounts(spec: FlinkProcessSpec) -> dict[str, Path]:
    """Container path -> host path: ``/opt/flink`` is the working directory."""
    mounts: dict[str, Path] = {IMAGE_FLINK_HOME: spec.workdir}
    if spec.usrlib is not None:
        mounts[f"{IMAGE_FLINK_HOME}/usrlib"] = spec.usrlib
    mounts.update(spec.mounts)
    return mounts


def plan_launch(
    spec: FlinkProcessSpec,
    ports: Mapping[str, int],
    *,
    distribution: FlinkDistribution,
    java: JavaRuntime,
    host_env: Mapping[str, str] | None = None,
) -> FlinkLaunch:
    """Compute the command, environment and files of one Flink process.

    :param spec: the pod's container, and where to run it.
    :param ports: a host port for each of the role's :func:`.configuration.port_names`.
    :param distribution: Flink's jars.
    :param java: the JVM to run.
    :param host_env: this machine's environment; only ``PATH``, ``HOME``, ``USER``,
        ``LANG``, ``LC_ALL``, ``TZ`` and ``JAVA_HOME`` pass into the process.
    :raises ValueError: for unusable arguments or a TaskManager without JobManager.
    """
    args = spec.entrypoint_args
    role = args.role
    workdir = spec.workdir
    if role != "taskmanager" and spec.jobmanager_address is not None:
        raise ValueError(
            f"a {role} listens on its own ports; jobmanager_address is for TaskManagers"
        )
    mounts = _mounts(spec)
    overrides = host_overrides(
        role,
        ports,
        jobmanager_address=spec.jobmanager_address,
        rest_address=spec.rest_address,
        tmp_dir=workdir / "tmp",
    )
    pod_configuration = merge_flink_properties(
        spec.configuration, spec.env.get("FLINK_PROPERTIES", "")
    )
    configuration = host_configuration(pod_configuration, overrides, mounts)
    args = args.replace_values(
        lambda value: map_container_paths(value, mounts), drop_keys=overrides.keys() | DROPPED_KEYS
    )
    env = _environment(spec, configuration, host_env or {})
    files = {
        **default_log_configuration(),
        **spec.conf_files,
        CONFIG_FILE: config_yaml(configuration),
    }
    return FlinkLaunch(
        role=role,
        name=spec.name or role,
        args=args,
        java=java,
        classpath=tuple(distribution.lib_jars()),
        env=env,
        workdir=workdir,
        configuration=configuration,
        files=dict(sorted(files.items())),
        dynamic_properties=args.properties(),
        ports=dict(ports),
        port_map=container_port_map(role, pod_configuration, ports),
        links={name: getattr(distribution, name) for name in _LINKED_DIRS},
        usrlib=spec.usrlib,
    )
