"""Flink's distribution as ``apache-flink-libraries`` installs it, and a Java runtime.

The ``pyflink`` package (a namespace package, no ``__init__.py``) carries the parts of a
Flink binary distribution a JobManager and TaskManager need: ``lib/`` (``flink-dist``,
the table jars, log4j), ``opt/``, ``plugins/`` and ``bin/bash-java-utils.jar``. It does
not carry ``bin/*.sh`` or ``conf/``: :mod:`.launch` does what those scripts do, and the
one piece of the default ``conf/config.yaml`` a JVM needs is :data:`JAVA_MODULE_OPTIONS`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from flink_k8s_sandbox.flink.errors import FlinkDistributionError

__all__ = [
    "FlinkDistribution",
    "JAVA_MODULE_OPTIONS",
    "JDK_INSTALL_HINT",
    "JavaRuntime",
    "find_distribution",
    "find_java",
    "java_module_options_of",
]

JDK_INSTALL_HINT = "apt-get install -y openjdk-17-jdk-headless"

# ``env.java.opts.all`` of the default configuration Flink 2.3 ships: the file
# ``flink-dist/src/main/resources/config.yaml``, which the build copies into both the
# binary distribution's ``conf/config.yaml`` and the root of ``flink-dist-2.3.0.jar``
# (``java_module_options_of`` reads it there; a test keeps this copy equal to it).
# Java 17 closes the JDK's internals to reflection; Flink's serializers (Kryo), its
# shaded Netty and the Java compiler the table planner embeds need them opened.
JAVA_MODULE_OPTIONS: tuple[str, ...] = (
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.text=ALL-UNNAMED",
    "--add-opens=java.base/java.time=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED",
)
"""The JVM options of the default ``conf/config.yaml`` (``env.java.opts.all``)."""

_NO_FLINK = (
    "Flink's jars were not found: install apache-flink-libraries (a dependency of "
    "flink-k8s-sandbox), which provides pyflink/lib/flink-dist-*.jar and "
    "pyflink/bin/bash-java-utils.jar."
)
_DIST_JAR = re.compile(r"flink-dist-(?P<version>[0-9][^/]*)\.jar")
_SPEC_VERSION = re.compile(r"^\s*java\.specification\.version\s*=\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class FlinkDistribution:
    """Where Flink's files are; ``home`` plays the part of the image's ``/opt/flink``."""

    home: Path
    version: str

    @property
    def lib(self) -> Path:
        return self.home / "lib"

    @property
    def opt(self) -> Path:
        return self.home / "opt"

    @property
    def plugins(self) -> Path:
        return self.home / "plugins"

    @property
    def bin(self) -> Path:
        return self.home / "bin"

    @property
    def dist_jar(self) -> Path:
        return self.lib / f"flink-dist-{self.version}.jar"

    @property
    def bash_java_utils_jar(self) -> Path:
        return self.bin / "bash-java-utils.jar"

    def lib_jars(self) -> tuple[Path, ...]:
        """``lib/*.jar`` in the order ``constructFlinkClassPath`` (bin/config.sh) puts them:
        sorted by path, with ``flink-dist`` moved last."""
        jars = sorted(path for path in self.lib.glob("*.jar") if path.is_file())
        dist = [path for path in jars if _DIST_JAR.fullmatch(path.name)]
        return tuple([path for path in jars if path not in dist] + dist)


@dataclass(frozen=True)
class JavaRuntime:
    """A JDK: ``java`` always; ``javac`` and ``jar`` when present (only builds need them)."""

    java: Path
    spec_version: int
    javac: Path | None = None
    jar: Path | None = None


def _pyflink_locations() -> list[Path]:
    spec = importlib.util.find_spec("pyflink")
    if spec is None:
        return []
    return [Path(location) for location in spec.submodule_search_locations or []]


@cache
def find_distribution() -> FlinkDistribution:
    """The Flink distribution of the installed ``apache-flink-libraries``.

    :raises FlinkDistributionError: when it is not installed or lacks ``flink-dist``.
    """
    for home in _pyflink_locations():
        dist_jars = [
            match
            for path in home.glob("lib/flink-dist-*.jar")
            if (match := _DIST_JAR.fullmatch(path.name))
        ]
        if len(dist_jars) == 1 and (home / "bin" / "bash-java-utils.jar").is_file():
            return FlinkDistribution(home=home, version=dist_jars[0]["version"])
    raise FlinkDistributionError(_NO_FLINK)


def _java_home_tool(name: str) -> Path | None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def _spec_version(java: Path) -> int:
    try:
        result = subprocess.run(
            [str(java), "-XshowSettings:properties", "-version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FlinkDistributionError(f"{java} does not run: {exc}") from exc
    match = _SPEC_VERSION.search(result.stderr + result.stdout)
    if result.returncode != 0 or match is None:
        raise FlinkDistributionError(f"{java} does not report its version:\n{result.stderr}")
    version = match[1]
    return int(version.split(".")[1] if version.startswith("1.") else version.split(".")[0])


@cache
def find_java() -> JavaRuntime:
    """The JDK of ``$JAVA_HOME``, else the one on ``PATH`` (as Flink's ``setJavaRun``).

    :raises FlinkDistributionError: when there is no ``java``, or it is older than 11.
    """
    java = _java_home_tool("java")
    if java is None:
        raise FlinkDistributionError(
            "Running Flink needs a Java runtime (Java 17): set JAVA_HOME or put `java` on "
            f"PATH, e.g. `{JDK_INSTALL_HINT}`."
        )
    version = _spec_version(java)
    if version < 11:
        raise FlinkDistributionError(
            f"{java} is Java {version}; Flink 2 needs Java 11 or later (17 recommended): "
            f"`{JDK_INSTALL_HINT}`."
        )
    return JavaRuntime(
        java=java, spec_version=version, javac=_java_home_tool("javac"), jar=_java_home_tool("jar")
    )


def java_module_options_of(distribution: FlinkDistribution) -> tuple[str, ...]:
    """``env.java.opts.all`` of the default ``config.yaml`` inside ``flink-dist``.

    :raises FlinkDistributionError: when the jar holds no such file or key.
    """
    try:
        with zipfile.ZipFile(distribution.dist_jar) as jar:
            text = jar.read("config.yaml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise FlinkDistributionError(f"no config.yaml in {distribution.dist_jar}") from exc
    node = yaml.safe_load(text)
    for key in ("env", "java", "opts", "all"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, str):
        raise FlinkDistributionError(f"no env.java.opts.all in {distribution.dist_jar}")
    return tuple(node.split())
