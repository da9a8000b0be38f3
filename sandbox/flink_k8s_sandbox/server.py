"""``SandboxServer``: one in-process sandbox API server on 127.0.0.1.

Use it as an async context manager inside a running loop, or as a sync context manager
(it then runs its own loop in a background thread, so blocking clients -- the
``kubernetes`` client, kubectl, Airflow hooks -- can talk to it from the test's thread)::

    with SandboxServer() as sandbox:
        sandbox.write_kubeconfig(tmp_path / "kubeconfig")
        ...

Code that must touch the store directly (in-process controllers, test knobs such as
:meth:`compact_history`) runs on the server's loop through :meth:`call`.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import yaml
from aiohttp import web

from flink_k8s_sandbox.auth import AccessControl, UserInfo, read_token_file
from flink_k8s_sandbox.auth.bootstrap import seed_rbac
from flink_k8s_sandbox.auth.tls import ServingCertificate, serving_certificate
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.controllers import (
    Controller,
    ControllerManager,
    CrdController,
    NamespaceController,
)
from flink_k8s_sandbox.endpoints import EndpointsController
from flink_k8s_sandbox.faultroutes import fault_routes
from flink_k8s_sandbox.faults import FaultInjector
from flink_k8s_sandbox.flinkoperator import (
    FlinkOperator,
    OperatorTiming,
    install_operator_crds,
    operator_crd_path,
)
from flink_k8s_sandbox.gc import GarbageCollector
from flink_k8s_sandbox.loadbalancers import LoadBalancerController
from flink_k8s_sandbox.metadata import format_time
from flink_k8s_sandbox.network import PodNetwork
from flink_k8s_sandbox.podfaults import PodFaults
from flink_k8s_sandbox.proxy import install_proxy
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.routes import build_app
from flink_k8s_sandbox.runtime import RUNTIMES, ContainerRuntime
from flink_k8s_sandbox.seed import NodeShape, seed
from flink_k8s_sandbox.services import ServiceAllocator, seed_api_service
from flink_k8s_sandbox.simulation import WorkloadSimulation
from flink_k8s_sandbox.state import ApiState, WatchSettings
from flink_k8s_sandbox.storage import Storage
from flink_k8s_sandbox.store import Store

__all__ = ["SandboxServer", "kubeconfig_dict"]

T = TypeVar("T")
_LOOPBACK = ("127.0.0.1", "localhost")
_CONTEXT = "flink-k8s-sandbox"


def kubeconfig_dict(
    url: str,
    name: str = _CONTEXT,
    namespace: str = "default",
    token: str | None = None,
    ca_pem: str | None = None,
) -> dict[str, Any]:
    """A kubeconfig with one cluster and its context; ``token`` is the user's bearer
    token (none: no credentials), ``ca_pem`` the CA of an HTTPS server."""
    cluster: dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token} if token else {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        ],
        "current-context": name,
        "preferences": {},
    }


class SandboxServer:
    """An embedded Kubernetes API server.

    :param port: TCP port on 127.0.0.1; ``0`` picks a free one.
    :param nodes: the Ready nodes to create at start.
    :param history_limit: watch events kept per type (older resumptions get 410).
    :param watch: bookmark interval and default watch timeout.
    :param runtime: the kubelet's container runtime: a name of :data:`.runtime.RUNTIMES`
        (``simulated``, ``local``) or a runtime instance (e.g. a configured
        :class:`.runtime.local.LocalRuntime`); the server closes it when it stops.
    :param timing: simulated container start delay, restart back-off, probe scale.
    :param workloads: run the Deployment/ReplicaSet controllers, the scheduler and the
        kubelet (:mod:`.simulation`); per-pod faults go to ``pod_faults``.
    :param auth: enforce RBAC on bearer-token users (:mod:`.auth`); the kubeconfig the
        server writes then carries the admin token (:attr:`auth` ``.admin_token``).
    :param tokens: static bearer tokens and their users.
    :param token_file: more of them, in kube-apiserver's ``--token-auth-file`` format.
    :param tls: serve HTTPS with a fresh self-signed CA (default: when ``auth`` is on, as
        kubectl sends no credentials to an ``http://`` server).
    :param flink_operator: install the Flink Kubernetes Operator's CRDs and run the
        stand-in operator (:mod:`.flinkoperator`), paced by ``timing``.
    :raises ValueError: for a host other than loopback or an unknown runtime.
    :raises OperatorCrdsMissing: with ``flink_operator``, when the CRD files are missing.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        nodes: NodeShape | None = None,
        history_limit: int = 1000,
        watch: WatchSettings | None = None,
        runtime: str | ContainerRuntime = "simulated",
        timing: Timing | None = None,
        workloads: bool = True,
        auth: bool = False,
        tokens: Mapping[str, UserInfo] | None = None,
        token_file: str | Path | None = None,
        tls: bool | None = None,
        flink_operator: bool = False,
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the sandbox binds loopback only, not {host!r}")
        if isinstance(runtime, str) and runtime not in RUNTIMES:
            known = ", ".join(f"'{name}'" for name in sorted(RUNTIMES))
            raise ValueError(f"unknown runtime {runtime!r}; supported: {known}")
        self.host = "127.0.0.1"
        self.port = port
        self.nodes = nodes or NodeShape()
        self.history_limit = history_limit
        self.watch_settings = watch or WatchSettings()
        self.runtime = runtime
        self.timing = timing or Timing()
        self.workloads = workloads
        self.flink_operator = flink_operator
        if flink_operator:  # fail here, not on the server's loop, when the CRDs are missing
            operator_crd_path("flinkdeployments")
            operator_crd_path("flinksessionjobs")
        self.pod_faults = PodFaults()
        self.network = PodNetwork()
        self.faults = FaultInjector(self.call, lambda: getattr(self, "pod_faults", None))
        static = {**(read_token_file(token_file) if token_file else {}), **(tokens or {})}
        self.auth = AccessControl(auth, self.call, static)
        self.tls = auth if tls is None else tls
        self.certificate: ServingCertificate | None = None
        self.state: ApiState | None = None
        self._runner: web.AppRunner | None = None
        self._controllers: ControllerManager | None = None
        self._simulation: WorkloadSimulation | None = None
        self._operator: FlinkOperator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Build the state, seed it and serve; afterwards :attr:`url` is valid."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        store = Store(self.history_limit)
        registry = ResourceRegistry()
        storage = Storage(store)
        allocator = ServiceAllocator(store)
        storage.admission.append(allocator)
        self.state = ApiState(store, storage, registry, self.watch_settings, self.host)
        controllers: list[Controller] = [
            GarbageCollector(storage, registry),
            NamespaceController(storage, registry),
            CrdController(storage, registry),
            EndpointsController(storage, registry),
            LoadBalancerController(storage, registry, loop.call_later),
        ]
        if self.workloads:
            self._simulation = WorkloadSimulation(
                storage,
                registry,
                loop,
                runtime=self.runtime,
                network=self.network,
                logs=self.state.logs,
                faults=self.pod_faults,
                timing=self.timing,
            )
            controllers.extend(self._simulation.controllers)
        if self.flink_operator:
            self._operator = FlinkOperator(
                storage, registry, loop, timing=OperatorTiming.from_timing(self.timing)
            )
            controllers.append(self._operator)
        self._controllers = ControllerManager(storage, controllers, loop.call_soon)
        seed(storage, registry, self.nodes, format_time(storage.clock()))
        seed_rbac(storage, registry)
        if self.flink_operator:
            install_operator_crds(storage, registry)
        self._controllers.run_pending()
        self.faults.attach(self.state)
        self.auth.attach(self.state)
        app = build_app(
            self.state,
            middlewares=[self.auth.middleware, self.faults.middleware],
            routes=[*self.auth.routes(), *fault_routes(self.faults)],
        )
        install_proxy(app, self.network)
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=2.0, access_log=None
        )
        await runner.setup()
        if self.tls and self.certificate is None:
            self.certificate = serving_certificate()
        ssl_context = self.certificate.server_context() if self.certificate else None
        site = web.TCPSite(runner, self.host, self.port, ssl_context=ssl_context)
        await site.start()
        self._runner = runner
        self.port = self.state.port = _bound_port(runner)
        seed_api_service(storage, registry, allocator.first_ip, self.port)

    async def stop(self) -> None:
        """Close every watch and stop serving."""
        if self.state is not None:
            self.state.close_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._controllers is not None:
            self._controllers.close()
            self._controllers = None
        if self._operator is not None:
            await self._operator.close()
            self._operator = None
        if self._simulation is not None:
            await self._simulation.close()
            self._simulation = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __enter__(self) -> SandboxServer:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="flink-k8s-sandbox", daemon=True)
        thread.start()
        self._thread = thread
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=60)
        except BaseException:
            self._stop_thread(loop)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=60)
        finally:
            self._stop_thread(loop)

    def _stop_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        loop.close()
        self._loop = None

    # -- access --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with TLS) once started."""
        if self._runner is None:
            raise RuntimeError("the sandbox is not running")
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def kubeconfig_dict(
        self, namespace: str = "default", token: str | None = None
    ) -> dict[str, Any]:
        """A kubeconfig for this sandbox; with access control on and no ``token``, the
        admin's."""
        if token is None and self.auth.enabled:
            token = self.auth.admin_token
        ca = self.certificate.ca_pem if self.certificate else None
        return kubeconfig_dict(self.url, namespace=namespace, token=token, ca_pem=ca)

    def write_kubeconfig(
        self, path: str | Path, namespace: str = "default", token: str | None = None
    ) -> Path:
        """Write a kubeconfig for this sandbox (mode 0600) and return its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        document = self.kubeconfig_dict(namespace, token)
        target.write_text(yaml.safe_dump(document), encoding="utf-8")
        target.chmod(0o600)
        return target

    def call(self, function: Callable[[ApiState], T]) -> T:
        """Run ``function(state)`` on the server's loop and return its result."""
        loop, state = self._loop, self.state
        if loop is None or state is None:
            raise RuntimeError("the sandbox is not running")
        if self._thread is None or threading.current_thread() is self._thread:
            return function(state)

        async def run() -> T:
            return function(state)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=30)

    def compact_history(self) -> None:
        """Forget retained watch events: resuming from an older resourceVersion gets 410."""
        self.call(lambda state: state.store.compact())


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the sandbox's site has no socket")
