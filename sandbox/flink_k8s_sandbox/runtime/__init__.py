"""Container runtimes the sandbox's kubelet can drive (see :mod:`~.runtime.base` for the interface).

:func:`create_runtime` builds one by name; ``simulated`` is always available. A later
runtime (``local``: a real process per container) registers itself in :data:`RUNTIMES`.
"""

from __future__ import annotations

from collections.abc import Callable

from flink_k8s_sandbox.clock import Timing
from flink_k8s_sandbox.runtime.base import (
    ClusterView,
    ContainerExit,
    ContainerHandle,
    ContainerIO,
    ContainerRuntime,
    ContainerSpec,
    ContainerStartError,
    ImagePullError,
    PortSpec,
    ProbeResult,
    PulledImage,
    image_reference,
)
from flink_k8s_sandbox.runtime.simulated import SimulatedRuntime

__all__ = [
    "ClusterView",
    "ContainerExit",
    "ContainerHandle",
    "ContainerIO",
    "ContainerRuntime",
    "ContainerSpec",
    "ContainerStartError",
    "ImagePullError",
    "PortSpec",
    "ProbeResult",
    "PulledImage",
    "RUNTIMES",
    "SimulatedRuntime",
    "create_runtime",
    "image_reference",
]


def _local(timing: Timing) -> ContainerRuntime:
    from flink_k8s_sandbox.runtime.local import local_runtime_from_env

    return local_runtime_from_env(timing)


RUNTIMES: dict[str, Callable[[Timing], ContainerRuntime]] = {
    "local": _local,
    "simulated": lambda timing: SimulatedRuntime(timing),
}
"""Runtime factories by name; each gets the sandbox's :class:`~..clock.Timing`."""


def create_runtime(name: str, timing: Timing) -> ContainerRuntime:
    """The runtime called ``name``.

    :raises ValueError: for an unknown name.
    """
    factory = RUNTIMES.get(name)
    if factory is None:
        known = ", ".join(f"'{n}'" for n in sorted(RUNTIMES))
        raise ValueError(f"unknown runtime {name!r}; supported: {known}")
    return factory(timing)
