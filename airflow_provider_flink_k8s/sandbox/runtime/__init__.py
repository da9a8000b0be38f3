"""Container runtimes the sandbox's kubelet can drive (see :mod:`.base` for the interface).

:func:`create_runtime` builds one by name; ``simulated`` is always available. A later
runtime (``local``: a real process per container) registers itself in :data:`RUNTIMES`.
"""

from __future__ import annotations

from collections.abc import Callable

from airflow_provider_flink_k8s.sandbox.clock import Timing
from airflow_provider_flink_k8s.sandbox.runtime.base import (
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
from airflow_provider_flink_k8s.sandbox.runtime.simulated import SimulatedRuntime

__all__ = [
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

RUNTIMES: dict[str, Callable[[Timing], ContainerRuntime]] = {
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
