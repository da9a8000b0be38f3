"""Shared helpers of the workload tests (Deployments, scheduler, kubelet, pod faults).

Each of those modules runs its own sandbox with :data:`FAST` timing: containers start
after 50 ms, back-off starts at 400 ms (doubling to 3.2 s), probe delays and periods are
a twentieth of what the pod spec says.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.state import WatchSettings

T = TypeVar("T")
FAST = Timing(start_delay=0.05, backoff_base=0.4, backoff_max=3.2, probe_scale=0.05)


def fast_sandbox() -> Iterator[SandboxServer]:
    """A module's sandbox with :data:`FAST` timing (use as a fixture body)."""
    with SandboxServer(watch=WatchSettings(bookmark_interval=0.3), timing=FAST) as server:
        yield server


def eventually(check: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what or check}")
        time.sleep(0.03)


def deployment(
    name: str,
    replicas: int = 1,
    *,
    image: str = "nginx:1.25",
    annotations: dict[str, str] | None = None,
    container: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Deployment of one container ``app`` labelled ``app=<name>``."""
    labels = {"app": name}
    pod_meta: dict[str, Any] = {"labels": labels}
    if annotations:
        pod_meta["annotations"] = annotations
    main = {"name": "app", "image": image, **(container or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": pod_meta, "spec": {"containers": [main]}},
            **spec,
        },
    }


def pod(
    name: str,
    *,
    image: str = "busybox:1.36",
    annotations: dict[str, str] | None = None,
    container: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A bare pod with one container ``app``."""
    metadata: dict[str, Any] = {"name": name, "labels": {"app": name}}
    if annotations:
        metadata["annotations"] = annotations
    main = {"name": "app", "image": image, **(container or {})}
    return {"metadata": metadata, "spec": {"containers": [main], **spec}}


def condition(status: Any, kind: str) -> Any:
    """The condition of ``kind`` in a client model's ``status.conditions``."""
    return next((c for c in status.conditions or [] if c.type == kind), None)
