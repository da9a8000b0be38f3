"""The one trigger of the provider: wait until a :class:`WaitFor` is decided.

Deferrable operators and sensors hand it a plain-JSON :class:`WaitFor` -- any kind: the
cluster ready, a job's state, a savepoint written, a FlinkDeployment suspended, a
FlinkSessionJob running, the cluster gone... -- the connection ids and an absolute
deadline; it watches what the wait is about with :class:`AsyncClusterObserver`, through
one Kubernetes client for its whole life, and yields one event::

    {"outcome": Outcome.to_event(), "context": {...what the task needs to resume...}}

The task reads it back with :func:`outcome_of_event`. ``context`` travels in the event
rather than in ``defer(kwargs=...)`` because ``dag.test()`` on Airflow 3.3.2 drops those.
The deadline is absolute (epoch seconds) so a triggerer restart resumes the same wait
instead of starting a fresh timeout.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any, Literal

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest_async import AsyncFlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes_async import AsyncFlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.observer import AsyncClusterObserver
from airflow_provider_flink_k8s.observation import Outcome, Verdict
from airflow_provider_flink_k8s.observation.waits import WaitFor

__all__ = ["FlinkClusterTrigger", "outcome_of_event"]

RestRoute = Literal["auto", "cluster_dns", "service_proxy"]


def outcome_of_event(event: Mapping[str, Any]) -> tuple[Outcome, dict[str, Any]]:
    """The outcome and the task's context carried by a :class:`FlinkClusterTrigger` event.

    :raises ValueError: if ``event`` is not such an event.
    """
    if not isinstance(event, Mapping) or "outcome" not in event:
        raise ValueError(f"not a Flink cluster trigger event: {event!r}")
    return Outcome.from_event(event["outcome"]), dict(event.get("context") or {})


class FlinkClusterTrigger(BaseTrigger):
    """Wait, in the triggerer, until a Flink cluster or job reaches what ``wait`` asks.

    :param wait: a :meth:`WaitFor.to_dict` (re-validated here).
    :param kubernetes_conn_id: the cncf.kubernetes connection.
    :param kube_options: ``config_file``, ``cluster_context``, ``in_cluster`` overriding
        the connection's (plain JSON, as the task was given them).
    :param flink_conn_id: a ``flink`` connection to reach the REST API; ``None``: the
        cluster's REST Service by ``rest_route``.
    :param rest_route: ``auto``, ``cluster_dns`` or ``service_proxy``.
    :param deadline: when to give up, in epoch seconds.
    :param poll_interval: seconds between REST checks when nothing in Kubernetes changes.
    :param context: plain JSON handed back to the task with the outcome.
    :param delete_on_kill: delete the cluster when a user kills the deferred task (the
        deploy task that created it sets this; see the operators' ``on_kill`` policy).
    :param owner: with ``delete_on_kill``, delete only the objects recording this task
        instance as their creator, as they are at the moment of deleting.
    """

    def __init__(
        self,
        *,
        wait: Mapping[str, Any],
        kubernetes_conn_id: str | None = "kubernetes_default",
        kube_options: Mapping[str, Any] | None = None,
        flink_conn_id: str | None = None,
        rest_route: RestRoute = "auto",
        deadline: float,
        poll_interval: float = 5.0,
        context: Mapping[str, Any] | None = None,
        delete_on_kill: bool = False,
        owner: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.wait = WaitFor.from_dict(wait)
        self.kubernetes_conn_id = kubernetes_conn_id
        self.kube_options = dict(kube_options or {})
        self.flink_conn_id = flink_conn_id
        self.rest_route: RestRoute = rest_route
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.context = dict(context or {})
        self.delete_on_kill = bool(delete_on_kill)
        self.owner = owner

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The classpath and plain-JSON kwargs (Airflow's deserialization allow-list
        admits no provider classes)."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "wait": self.wait.to_dict(),
                "kubernetes_conn_id": self.kubernetes_conn_id,
                "kube_options": self.kube_options,
                "flink_conn_id": self.flink_conn_id,
                "rest_route": self.rest_route,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "context": self.context,
                "delete_on_kill": self.delete_on_kill,
                "owner": self.owner,
            },
        )

    def _kube_hook(self) -> AsyncFlinkKubernetesHook:
        return AsyncFlinkKubernetesHook(self.kubernetes_conn_id, **self.kube_options)

    def _rest_hook(self) -> AsyncFlinkRestHook | None:
        if not self.wait.needs_rest:
            return None
        # The wait loop is the retry: a call that fails is a "not yet", not an error.
        if self.flink_conn_id:
            return AsyncFlinkRestHook(self.flink_conn_id, retry=RetryPolicy.never())
        service = FlinkRestService.for_cluster(
            self.wait.name,
            self.wait.namespace,
            kubernetes_conn_id=self.kubernetes_conn_id,
            route=self.rest_route,
            kube_options=self.kube_options,
        )
        return AsyncFlinkRestHook(service=service, retry=RetryPolicy.never())

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Yield one event: the outcome (ready, failed, timed out) and the task's context."""
        rest = self._rest_hook()
        kube = self._kube_hook()
        observer = AsyncClusterObserver(kube, rest)
        remaining = max(self.deadline - time.time(), 0.0)
        self.log.info("Waiting up to %.0fs for %s", remaining, self.wait.description)
        try:
            async with kube.connected():
                outcome = await observer.wait(
                    self.wait,
                    timeout=remaining,
                    poll_interval=self.poll_interval,
                    on_verdict=self._log_verdict,
                )
        except Exception as error:  # reported to the task, never lost
            outcome = Outcome.from_error(error)
        finally:
            if rest is not None:
                await rest.aclose()
        event = {"outcome": outcome.to_event(), "context": self.context}
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]

    def _log_verdict(self, verdict: Verdict) -> None:
        self.log.info("%s: %s", verdict.lifecycle.value, verdict.message)

    async def on_kill(self) -> None:
        """A user killed the deferred task: delete the cluster if this wait's task created
        it (``delete_on_kill``; only the objects recording ``owner``, re-read now), so no
        half-deployed cluster is left behind."""
        if not self.delete_on_kill:
            return
        self.log.info("Task killed while waiting: deleting %s", self.wait.description)
        await self._kube_hook().delete_cluster(
            self.wait.name,
            self.wait.namespace,
            wait=False,
            timeout=timedelta(minutes=1).seconds,
            owner=self.owner,
        )
