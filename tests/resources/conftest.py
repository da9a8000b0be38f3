"""Fixtures for the resources tests: Flink's own memory code as an oracle.

``flink_oracle`` compiles ``tests/resources/oracle/MemoryOracle.java`` against the jars of
``apache-flink-libraries`` (once, into ``.cache/oracle/<hash of the source>/``, which git
ignores) and starts one JVM for the whole session; every test sends it batches of
requests. Without ``java``/``javac`` or the Flink jars the tests using it fail -- they are
the proof the memory model is Flink's, so they must not silently disappear.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

_REPO = Path(__file__).resolve().parents[2]
_SOURCE = Path(__file__).resolve().parent / "oracle" / "MemoryOracle.java"
_CACHE = _REPO / ".cache" / "oracle"
_NO_JAVA = (
    "The memory oracle tests run Flink's own BashJavaUtils and need a JDK 17 on PATH "
    "(`java` and `javac`; e.g. `apt-get install openjdk-17-jdk-headless`). Missing: {}."
)


@dataclass(frozen=True)
class OracleReply:
    """One answer: Flink's results, or the exception Flink failed with."""

    ok: bool
    fields: tuple[str, ...]

    @property
    def value(self) -> str:
        assert self.ok, f"Java failed: {self.fields}"
        return self.fields[0]

    @property
    def jvm_args(self) -> str:
        """BashJavaUtils' first result line."""
        return self.value

    @property
    def dynamic_properties(self) -> dict[str, str]:
        """BashJavaUtils' second result line, ``-D key=value ...`` (HashMap order) as a dict."""
        assert self.ok, f"Java failed: {self.fields}"
        pairs = self.fields[1].removeprefix("-D ").split(" -D ")
        return dict(pair.split("=", 1) for pair in pairs)

    @property
    def error_class(self) -> str:
        assert not self.ok, f"Java succeeded: {self.fields}"
        return self.fields[0]

    @property
    def message(self) -> str:
        """The message of the exception BashJavaUtils dies with."""
        assert not self.ok, f"Java succeeded: {self.fields}"
        return self.fields[1]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(text: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "\\")
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(following, following))
        else:
            out.append(char)
    return "".join(out)


class FlinkOracle:
    """A running ``MemoryOracle`` JVM; see the protocol in ``oracle/MemoryOracle.java``."""

    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self._process = process
        self._log = log
        self._lock = threading.Lock()

    def ask(self, requests: Sequence[Sequence[str]]) -> list[OracleReply]:
        """Send a batch of requests, return one reply per request, in order."""
        payload = "".join("\t".join(map(_escape, request)) + "\n" for request in requests)
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            # A writer thread, so a batch larger than the pipe buffers cannot deadlock.
            writer = threading.Thread(target=lambda: (stdin.write(payload), stdin.flush()))
            writer.start()
            lines = [stdout.readline() for _ in requests]
            writer.join()
        if not all(line.endswith("\n") for line in lines):
            raise RuntimeError(f"the oracle JVM died; its log:\n{self._log.read_text()[-4000:]}")
        replies = []
        for line in lines:
            status, *fields = (_unescape(field) for field in line.rstrip("\n").split("\t"))
            replies.append(OracleReply(status == "OK", tuple(fields)))
        return replies

    def taskmanager(self, configs: Sequence[Mapping[str, str]]) -> list[OracleReply]:
        """BashJavaUtils ``GET_TM_RESOURCE_PARAMS`` with ``-D key=value`` per entry."""
        return self.ask([["TM", *(f"{k}={v}" for k, v in c.items())] for c in configs])

    def jobmanager(self, configs: Sequence[Mapping[str, str]]) -> list[OracleReply]:
        """BashJavaUtils ``GET_JM_RESOURCE_PARAMS`` with ``-D key=value`` per entry."""
        return self.ask([["JM", *(f"{k}={v}" for k, v in c.items())] for c in configs])

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def _flink_classpath() -> str:
    # apache-flink-libraries installs ``pyflink`` as a namespace package (no __init__.py).
    spec = importlib.util.find_spec("pyflink")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in map(Path, locations):
        bash_java_utils = location / "bin" / "bash-java-utils.jar"
        if list(location.glob("lib/flink-dist-*.jar")) and bash_java_utils.exists():
            return os.pathsep.join([str(location / "lib" / "*"), str(bash_java_utils)])
    pytest.fail(
        "The memory oracle tests need Flink's jars (pyflink/lib/flink-dist-*.jar and "
        "pyflink/bin/bash-java-utils.jar): install apache-flink-libraries (flink-k8s-sandbox, "
        "which `make test` installs, depends on it).",
        pytrace=False,
    )


def _compiled(javac: str, classpath: str) -> Path:
    """The directory holding MemoryOracle.class for this source, compiling it on first use."""
    source = _SOURCE.read_bytes()
    target = _CACHE / hashlib.sha256(source).hexdigest()[:16]
    if (target / "MemoryOracle.class").exists():
        return target
    _CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=_CACHE, prefix="build-"))
    result = subprocess.run(
        [javac, "-d", str(staging), "-cp", classpath, str(_SOURCE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"javac failed on {_SOURCE}:\n{result.stderr}", pytrace=False)
    (staging / "conf").mkdir()
    (staging / "conf" / "config.yaml").write_text("")
    # BashJavaUtils logs to stdout by default; the oracle only wants its replies there.
    (staging / "log4j2.properties").write_text("rootLogger.level = OFF\n")
    try:
        staging.rename(target)
    except OSError:  # another session compiled the same source meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def flink_oracle() -> Iterator[FlinkOracle]:
    """One JVM running Flink's BashJavaUtils code for the whole test session."""
    java, javac = shutil.which("java"), shutil.which("javac")
    missing = [name for name, path in (("java", java), ("javac", javac)) if path is None]
    if java is None or javac is None:
        pytest.fail(_NO_JAVA.format(", ".join(missing)), pytrace=False)
    classpath = _flink_classpath()
    classes = _compiled(javac, classpath)
    log = classes / "oracle.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                java,
                f"-Dlog4j2.configurationFile={classes / 'log4j2.properties'}",
                "-cp",
                os.pathsep.join([classpath, str(classes)]),
                "MemoryOracle",
                str(classes / "conf"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
        )
    oracle = FlinkOracle(process, log)
    try:
        yield oracle
    finally:
        oracle.close()
