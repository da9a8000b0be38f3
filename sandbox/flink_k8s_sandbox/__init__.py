"""An embedded, single-machine Kubernetes API server for tests and local runs.

The real ``kubernetes`` client, ``kubernetes_asyncio``, Airflow's ``KubernetesHook`` and
kubectl talk to it unchanged over HTTP on 127.0.0.1. :class:`SandboxServer` runs one
in-process (async or sync context manager); ``flink-k8s-sandbox up`` runs one in the
foreground (:mod:`.cli`).

The pure pieces (selectors, patches, field managers, Status builders, the resource
table) import no asyncio or aiohttp; this package's ``__init__`` loads the server lazily
so importing them stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flink_k8s_sandbox.server import SandboxServer

__version__ = "0.1.0"

__all__ = ["SandboxServer", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "SandboxServer":
        from flink_k8s_sandbox.server import SandboxServer

        return SandboxServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
