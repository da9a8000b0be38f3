"""Start a real Flink JobManager or TaskManager on 127.0.0.1, and a handle to it.

:func:`start_flink_process` picks free ports, plans the launch
(:func:`.launch.plan_launch`), writes the process's ``conf/`` and links into its working
directory, asks Flink's ``BashJavaUtils`` for the memory options (:mod:`.resourceparams`)
and starts ``java`` through :mod:`.reaper`, which guarantees no process
outlives this Python process. The handle, :class:`FlinkProcess`, waits for ports and
URLs, and stops or kills the process.

Example: a session cluster of one JobManager and one TaskManager::

    jm = start_flink_process(FlinkProcessSpec(("jobmanager",), conf, workdir=tmp / "jm"))
    tm = start_flink_process(
        FlinkProcessSpec(
            ("taskmanager",), conf, workdir=tmp / "tm",
            jobmanager_address=("127.0.0.1", jm.ports["rpc"]),
        )
    )
    jm.wait_http(f"{jm.rest_url}/overview", timeout=60)
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from typing import TYPE_CHECKING

from flink_k8s_sandbox.flink import reaper
from flink_k8s_sandbox.flink.configuration import HOST, port_names
from flink_k8s_sandbox.flink.distribution import find_distribution, find_java
from flink_k8s_sandbox.flink.errors import FlinkProcessError
from flink_k8s_sandbox.flink.launch import (
    FlinkLaunch,
    FlinkProcessSpec,
    plan_launch,
)
from flink_k8s_sandbox.flink.resourceparams import resource_params

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path
    from types import TracebackType

    from flink_k8s_sandbox.flink.distribution import (
        FlinkDistribution,
        JavaRuntime,
    )

__all__ = [
    "FlinkProcess",
    "FlinkProcessSpec",
    "allocate_ports",
    "live_processes",
    "start_flink_process",
]

_POLL_SECONDS = 0.2
_RESERVED: set[int] = set()
_RESERVED_LOCK = threading.Lock()


def allocate_ports(
    names: Iterable[str], *, fixed: Mapping[str, int] | None = None
) -> dict[str, int]:
    """A free port on 127.0.0.1 for each name (``fixed`` ones kept as given).

    Ports handed out by this process are not handed out again while their process runs.
    Another program may still take a port between this call and Flink binding it.
    """
    wanted = tuple(names)
    ports = {name: port for name, port in (fixed or {}).items() if name in wanted}
    sockets: list[socket.socket] = []
    try:
        with _RESERVED_LOCK:
            for name in wanted:
                if name in ports:
                    continue
                while True:
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    sockets.append(sock)
                    sock.bind((HOST, 0))
                    port: int = sock.getsockname()[1]
                    if port not in _RESERVED:
                        break
                ports[name] = port
            _RESERVED.update(ports.values())
    finally:
        for sock in sockets:
            sock.close()
    return ports


def _release_ports(ports: Iterable[int]) -> None:
    with _RESERVED_LOCK:
        _RESERVED.difference_update(ports)


def live_processes() -> tuple[FlinkProcess, ...]:
    """Every Flink process started here that is still running."""
    return tuple(p for p in reaper.live_processes() if isinstance(p, FlinkProcess))


class FlinkProcess:
    """A running (or finished) Flink process; a context manager that stops it on exit."""

    def __init__(self, launch: FlinkLaunch, popen: subprocess.Popen[bytes]) -> None:
        self.launch = launch
        self._popen = popen
        self._stop_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "running" if self.is_alive() else f"exited {self.returncode}"
        return f"<FlinkProcess {self.name} {self.launch.role} pid={self.pid} {state}>"

    @property
    def name(self) -> str:
        return self.launch.name

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def ports(self) -> dict[str, int]:
        """Host port by name (``rpc``, ``blob``, ``rest``, ``data``, ``metrics``)."""
        return dict(self.launch.ports)

    @property
    def port_map(self) -> dict[int, int]:
        """Container port (as the pod's configuration has it) -> host port."""
        return dict(self.launch.port_map)

    @property
    def rest_url(self) -> str:
        """The JobManager's REST API, e.g. ``http://127.0.0.1:40123``.

        :raises AttributeError: on a TaskManager.
        """
        if self.launch.rest_url is None:
            raise AttributeError(f"{self.name} is a TaskManager: it has no REST API")
        return self.launch.rest_url

    @property
    def log_path(self) -> Path:
        """Flink's log file (what the web UI shows)."""
        return self.launch.log_path

    @property
    def out_path(self) -> Path:
        """stdout and stderr of the JVM."""
        return self.launch.out_path

    @property
    def returncode(self) -> int | None:
        """The exit status (``-N`` for signal N), or ``None`` while running."""
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the console output, then of Flink's log."""
        parts = []
        for path in (self.out_path, self.log_path):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"[{path.name}]\n" + "\n".join(text))
        return "\n".join(parts)

    def _check_alive(self, waiting_for: str) -> None:
        if not self.is_alive():
            raise FlinkProcessError(
                f"{self.name} exited with {self.returncode} while waiting for {waiting_for}",
                log_tail=self.log_tail(),
            )

    def wait_tcp(self, port: int, timeout: float = 60.0, host: str = HOST) -> None:
        """Wait until ``host:port`` accepts connections.

        :raises FlinkProcessError: when the process exits or the time is up.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive(f"{host}:{port}")
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1.0):
                return
            if time.monotonic() > deadline:
                raise FlinkProcessError(
                    f"{self.name}: nothing listens on {host}:{port} after {timeout}s",
                    log_tail=self.log_tail(),
                )
            time.sleep(_POLL_SECONDS)

    def wait_http(self, url: str, timeout: float = 60.0) -> bytes:
        """Wait until ``GET url`` answers 2xx; return the body.

        :raises FlinkProcessError: when the process exits or the time is up.
        """
        deadline = time.monotonic() + timeout
        last_error = ""
        while True:
            self._check_alive(url)
            try:
                with urllib.request.urlopen(url, timeout=5.0) as response:
                    body: bytes = response.read()
                    return body
            except (OSError, http.client.HTTPException) as exc:  # HTTPError is an OSError
                last_error = str(exc)
            if time.monotonic() > deadline:
                raise FlinkProcessError(
                    f"{self.name}: {url} not ready after {timeout}s ({last_error})",
                    log_tail=self.log_tail(),
                )
            time.sleep(_POLL_SECONDS)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for the REST API (a JobManager) or the RPC port (a TaskManager)."""
        if self.launch.rest_url is not None:
            self.wait_http(f"{self.rest_url}/overview", timeout)
        else:
            self.wait_tcp(self.ports["rpc"], timeout)

    def _finish(self) -> None:
        reaper.unregister(self)
        _release_ports(self.launch.ports.values())

    def stop(self, grace_seconds: float = 10.0) -> int | None:
        """``SIGTERM`` to the process group, ``SIGKILL`` after ``grace_seconds``.

        :return: the exit status (``None`` only if even ``SIGKILL`` did not end it in 10 s).
        """
        with self._stop_lock:
            if self.is_alive():
                reaper.kill_group(self.pid, signal.SIGTERM)
                try:
                    self._popen.wait(timeout=grace_seconds)
                except subprocess.TimeoutExpired:
                    reaper.kill_group(self.pid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self._popen.wait(timeout=10.0)
            self._finish()
            return self.returncode

    def kill(self) -> int | None:
        """``SIGKILL`` the process group at once (a crashed pod, an OOM kill).

        :return: the exit status (``-9``), as :meth:`stop`.
        """
        with self._stop_lock:
            if self.is_alive():
                reaper.kill_group(self.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._popen.wait(timeout=10.0)
            self._finish()
            return self.returncode

    def __enter__(self) -> FlinkProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _prepare_workdir(launch: FlinkLaunch) -> None:
    for directory in (launch.conf_dir, launch.log_dir, launch.tmp_dir):
        directory.mkdir(parents=True, exist_ok=True)
    for name, content in launch.files.items():
        (launch.conf_dir / name).write_text(content, encoding="utf-8")
    for name, target in launch.links.items():
        link = launch.workdir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target, target_is_directory=True)
    # usrlib: a real directory (Flink lists it without following a linked directory)
    # holding links to the mounted folder's entries.
    if launch.usrlib is not None:
        shutil.rmtree(launch.usrlib_dir, ignore_errors=True)
        launch.usrlib_dir.mkdir()
        for entry in sorted(launch.usrlib.iterdir()):
            (launch.usrlib_dir / entry.name).symlink_to(entry.resolve())


def start_flink_process(
    spec: FlinkProcessSpec,
    *,
    distribution: FlinkDistribution | None = None,
    java: JavaRuntime | None = None,
) -> FlinkProcess:
    """Start the Flink process a pod describes; return at once (see ``wait_ready``).

    :param spec: the container and where to run it.
    :param distribution: Flink's jars (default: :func:`.distribution.find_distribution`).
    :param java: the JVM (default: :func:`.distribution.find_java`).
    :raises FlinkDistributionError: without a JDK or Flink's jars.
    :raises .resourceparams.FlinkConfigurationError: when Flink would refuse the memory
        configuration.
    :raises ValueError: for unusable arguments.
    """
    distribution = distribution or find_distribution()
    java = java or find_java()
    ports = allocate_ports(port_names(spec.role), fixed=spec.ports)
    try:
        launch = plan_launch(spec, ports, distribution=distribution, java=java, host_env=os.environ)
        _prepare_workdir(launch)
        memory = resource_params(
            launch.role,
            launch.conf_dir,
            launch.dynamic_properties,
            distribution=distribution,
            java=java,
        )
        with launch.out_path.open("ab") as out:
            popen = reaper.spawn(
                list(launch.command(memory)),
                cwd=launch.workdir,
                env=launch.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    except BaseException:
        _release_ports(ports.values())
        raise
    process = FlinkProcess(launch, popen)
    reaper.register(process)
    return process
