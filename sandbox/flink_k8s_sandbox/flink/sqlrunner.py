"""The SQL runner job: ``flinkk8s.SqlRunner``, compiled on first use and cached.

The Java source lives in this package (``java/flinkk8s/SqlRunner.java``) next to the demo
script ``java/clickstream.sql``. :func:`build_sql_runner_jar` compiles it with ``javac``
against Flink's ``lib/`` jars and packs ``sql-runner.jar`` (``Main-Class:
flinkk8s.SqlRunner``) into ``<cache>/sqlrunner/<digest>/``: the digest covers the sources,
the Flink version and the compiler options, so a changed source builds a new jar and an
unchanged one is reused. ``<cache>`` is ``<repo>/.cache`` in a checkout (git-ignored) and
the user's cache directory (``$XDG_CACHE_HOME`` or ``~/.cache``, then
``airflow-provider-flink-k8s``) otherwise. Builds are safe across threads and processes:
a lock file serialises them and the result appears by an atomic rename.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from flink_k8s_sandbox.flink.distribution import (
    JDK_INSTALL_HINT,
    find_distribution,
    find_java,
)
from flink_k8s_sandbox.flink.errors import SqlRunnerBuildError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from flink_k8s_sandbox.flink.distribution import (
        FlinkDistribution,
        JavaRuntime,
    )

__all__ = [
    "CLICKSTREAM_SQL",
    "JAVA_SOURCES",
    "SQL_RUNNER_CLASS",
    "SQL_RUNNER_JAR",
    "build_sql_runner_jar",
    "default_cache_dir",
    "stage_usrlib",
]

SQL_RUNNER_CLASS = "flinkk8s.SqlRunner"
SQL_RUNNER_JAR = "sql-runner.jar"
JAVA_SOURCES = Path(__file__).resolve().parent / "java"
"""The runner's Java sources (and the demo SQL next to them)."""
CLICKSTREAM_SQL = JAVA_SOURCES / "clickstream.sql"
"""The demo job: datagen -> clicks per user per 10 s window -> blackhole."""

_JAVAC_OPTIONS = ("--release", "11", "-encoding", "UTF-8", "-nowarn")
_PROJECT = Path(__file__).resolve().parents[2]
"""``sandbox/`` in a source checkout (its ``pyproject.toml``), else ``site-packages``."""
_BUILD_LOCK = threading.Lock()
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def default_cache_dir() -> Path:
    """``.cache`` at the repository's root in a source checkout, else the user's cache."""
    # A checkout: sandbox/ holds this distribution's pyproject.toml (an installed package's
    # site-packages may hold some other project's stray one).
    project = _PROJECT / "pyproject.toml"
    if project.is_file() and 'name = "flink-k8s-sandbox"' in project.read_text(encoding="utf-8"):
        return _PROJECT.parent / ".cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flink-k8s-sandbox"


def _sources() -> list[Path]:
    sources = sorted(JAVA_SOURCES.rglob("*.java"))
    if not sources:
        raise SqlRunnerBuildError(
            f"no Java sources under {JAVA_SOURCES}: the package was installed without its "
            "data files (package-data must include **/*.java and **/*.sql)"
        )
    return sources


def _digest(sources: Iterable[Path], flink_version: str) -> str:
    digest = hashlib.sha256(f"flink {flink_version}\0{' '.join(_JAVAC_OPTIONS)}\0".encode())
    for source in sources:
        digest.update(source.relative_to(JAVA_SOURCES).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    """This thread and process alone build (a thread lock, then ``flock`` on a file)."""
    with _BUILD_LOCK:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with lock_file.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SqlRunnerBuildError(f"{what} failed to run: {exc}") from exc
    if result.returncode != 0:
        raise SqlRunnerBuildError(
            f"{what} failed ({result.returncode}):\n{result.stderr}{result.stdout}"
        )


def _manifest(main_class: str) -> bytes:
    return (
        "Manifest-Version: 1.0\r\n"
        f"Main-Class: {main_class}\r\n"
        "Created-By: airflow-provider-flink-k8s\r\n\r\n"
    ).encode()


def _zip_jar(classes: Path, jar: Path, main_class: str) -> None:
    """Pack ``classes`` as ``jar`` does: the manifest first, then every file, fixed dates."""
    with zipfile.ZipFile(jar, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("META-INF/", _ZIP_EPOCH), b"")
        archive.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", _ZIP_EPOCH), _manifest(main_class))
        for path in sorted(classes.rglob("*")):
            name = path.relative_to(classes).as_posix() + ("/" if path.is_dir() else "")
            info = zipfile.ZipInfo(name, _ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if path.is_dir() else path.read_bytes())


def _compile(
    staging: Path, sources: list[Path], distribution: FlinkDistribution, java: JavaRuntime
) -> None:
    if java.javac is None:
        raise SqlRunnerBuildError(
            f"building the SQL runner needs `javac` (a JDK, not only a JRE): `{JDK_INSTALL_HINT}`"
        )
    classes = staging / "classes"
    classes.mkdir()
    classpath = ":".join(str(jar) for jar in distribution.lib_jars())
    javac = [str(java.javac), *_JAVAC_OPTIONS, "-d", str(classes), "-cp", classpath]
    _run([*javac, *map(str, sources)], "javac")
    jar = staging / SQL_RUNNER_JAR
    if java.jar is not None:
        packer = [str(java.jar), "--create", "--file", str(jar), "--main-class", SQL_RUNNER_CLASS]
        _run([*packer, "-C", str(classes), "."], "jar")
    else:
        _zip_jar(classes, jar, SQL_RUNNER_CLASS)
    shutil.rmtree(classes)


def build_sql_runner_jar(
    cache_dir: Path | None = None,
    *,
    distribution: FlinkDistribution | None = None,
    java: JavaRuntime | None = None,
) -> Path:
    """The path of ``sql-runner.jar`` for the current sources, building it if needed.

    :param cache_dir: where builds are kept (default: :func:`default_cache_dir`).
    :param distribution: Flink's jars to compile against (default: the installed ones).
    :param java: the JDK; its ``jar`` tool packs the jar when present, Python's
        ``zipfile`` otherwise (default: :func:`.distribution.find_java`).
    :raises SqlRunnerBuildError: without sources or ``javac``, or when a tool fails.
    :raises FlinkDistributionError: without Flink's jars or a Java runtime.
    """
    distribution = distribution or find_distribution()
    java = java or find_java()
    sources = _sources()
    root = (cache_dir or default_cache_dir()) / "sqlrunner"
    target = root / _digest(sources, distribution.version)
    jar = target / SQL_RUNNER_JAR
    if jar.is_file():
        return jar
    with _locked(root / ".lock"):
        if jar.is_file():  # built by another thread or process meanwhile
            return jar
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".build-"))
        try:
            _compile(staging, sources, distribution, java)
            staging.chmod(0o755)  # mkdtemp made it private
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return jar


def stage_usrlib(
    usrlib: Path, *, scripts: Iterable[Path] = (CLICKSTREAM_SQL,), jar: Path | None = None
) -> Path:
    """Fill a folder to mount at ``/opt/flink/usrlib``: the runner's jar and SQL scripts.

    :param usrlib: the folder (created if missing).
    :param scripts: SQL files to copy next to the jar (default: the demo's).
    :param jar: the runner jar (default: :func:`build_sql_runner_jar`).
    :return: ``usrlib``.
    """
    usrlib.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(jar or build_sql_runner_jar(), usrlib / SQL_RUNNER_JAR)
    for script in scripts:
        shutil.copyfile(script, usrlib / script.name)
    return usrlib
