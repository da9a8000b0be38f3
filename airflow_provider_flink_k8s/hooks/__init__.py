"""Hooks: the provider's I/O seams, each built on Airflow's own hooks and the pure core.

The Kubernetes hooks (:mod:`.kubernetes`, :mod:`.kubernetes_async`) apply, observe, watch,
scale and tear down a cluster's objects through the cncf.kubernetes provider's clients.
The Flink REST hooks (:mod:`.flink_rest`, :mod:`.flink_rest_async`) talk to a JobManager
directly, through cluster DNS, or through the Kubernetes API server's service proxy.

Names are imported on first use, so importing one hook does not load the others' clients.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AsyncFlinkKubernetesHook",
    "AsyncFlinkRestHook",
    "FlinkKubernetesHook",
    "FlinkRestHook",
]

_MODULES = {
    "AsyncFlinkKubernetesHook": "kubernetes_async",
    "AsyncFlinkRestHook": "flink_rest_async",
    "FlinkKubernetesHook": "kubernetes",
    "FlinkRestHook": "flink_rest",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return getattr(module, name)
