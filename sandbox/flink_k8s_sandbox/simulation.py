"""The simulated cluster behind the API server: workload controllers, scheduler, kubelet.

:class:`WorkloadSimulation` builds, for one server, the Deployment and ReplicaSet
controllers, the scheduler and the kubelet (with its container runtime), sharing one
:class:`~.clock.Timers` on the server's loop and one :class:`~.events.EventRecorder`.
The server adds ``WorkloadSimulation.controllers`` to its
:class:`~.controllers.ControllerManager` and awaits :meth:`WorkloadSimulation.close`
when it stops.
"""

from __future__ import annotations

import asyncio

from flink_k8s_sandbox.clock import Timers, Timing
from flink_k8s_sandbox.controllers import Controller
from flink_k8s_sandbox.events import EventRecorder
from flink_k8s_sandbox.kubelet import Kubelet
from flink_k8s_sandbox.network import PodNetwork
from flink_k8s_sandbox.podfaults import PodFaults
from flink_k8s_sandbox.podlogs import PodLogs
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.runtime import ContainerRuntime, create_runtime
from flink_k8s_sandbox.scheduler import Scheduler
from flink_k8s_sandbox.storage import Storage
from flink_k8s_sandbox.workloads.deployment import DeploymentController
from flink_k8s_sandbox.workloads.replicaset import ReplicaSetController

__all__ = ["WorkloadSimulation"]


class WorkloadSimulation:
    """The controllers that make Deployments run, for one server.

    :param loop: the server's loop (timers and pod workers run on it).
    :param runtime: the container runtime or its name (:data:`.runtime.RUNTIMES`).
    :param network: pod IPs and exposed ports.
    :param logs: container logs (the server's ``ApiState.logs``).
    :param faults: per-pod fault rules.
    :param timing: the simulation's delays and back-off.
    :raises ValueError: for an unknown runtime.
    """

    def __init__(
        self,
        storage: Storage,
        registry: ResourceRegistry,
        loop: asyncio.AbstractEventLoop,
        *,
        runtime: str | ContainerRuntime,
        network: PodNetwork,
        logs: PodLogs,
        faults: PodFaults,
        timing: Timing,
    ) -> None:
        self.timers = Timers(loop)
        self.events = EventRecorder(storage, registry)
        self.kubelet = Kubelet(
            storage,
            registry,
            self.timers,
            self.events,
            runtime=create_runtime(runtime, timing) if isinstance(runtime, str) else runtime,
            network=network,
            logs=logs,
            faults=faults,
            timing=timing,
        )
        self.controllers: list[Controller] = [
            DeploymentController(storage, registry, self.timers, self.events),
            ReplicaSetController(storage, registry, self.timers, self.events),
            Scheduler(storage, registry, self.timers, self.events),
            self.kubelet,
        ]

    async def close(self) -> None:
        """Stop every container and cancel every timer."""
        await self.kubelet.close()
        await self.timers.close()
