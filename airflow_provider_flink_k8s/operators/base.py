"""What every Flink cluster task shares: the cluster argument, the hooks, and the wait.

A task names its cluster with ``cluster=``, in any form a DAG author has at hand:

- a :class:`FlinkCluster`, or a mapping of its fields;
- the path of a ``.yaml``/``.yml``/``.json`` file (a template: Jinja runs over it, found
  next to the DAG file or on the DAG's ``template_searchpath``; an absolute path is read
  as is), or YAML/JSON text -- our spec, or a Flink Kubernetes Operator FlinkDeployment;
- the XCom result of :class:`~.deploy.FlinkDeployOperator` (``deploy.output``), which
  carries the deployed spec.

Waits go through one pure decision (:class:`WaitFor`): in the worker with
:class:`ClusterObserver` (polling), or deferred to :class:`FlinkClusterTrigger`
(watching). Either way the task ends with :meth:`FlinkClusterMixin.finish_wait`, which
puts the failing containers' log tails into the task log and raises with the cause.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, conf

from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.observer import ClusterObserver
from airflow_provider_flink_k8s.observation import Lifecycle, Outcome, Verdict
from airflow_provider_flink_k8s.observation.waits import WaitFor
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster
from airflow_provider_flink_k8s.triggers.cluster import FlinkClusterTrigger, outcome_of_event

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

__all__ = [
    "CLUSTER_TEMPLATE_EXT",
    "FlinkClusterMixin",
    "FlinkWebUILink",
    "RestRoute",
    "cluster_from",
    "dashboard_url",
]

RestRoute = Literal["auto", "cluster_dns", "service_proxy"]
CLUSTER_TEMPLATE_EXT = (".yaml", ".yml", ".json")
"""Suffixes of a ``cluster`` value that is a file (as the official provider's
``application_file``)."""
_TRIGGER_MARGIN = timedelta(minutes=2)
"""Extra time Airflow gives a deferral beyond the trigger's own deadline, so the trigger
reports the timeout (with the last verdict) rather than Airflow cutting it off."""


def _default_deferrable() -> bool:
    """Airflow's ``[operators] default_deferrable`` (read when a task is created)."""
    return bool(conf.getboolean("operators", "default_deferrable", fallback=False))


def cluster_from(value: Any) -> FlinkCluster:
    """The cluster spec a task's ``cluster`` argument names (see the module docstring).

    :raises SpecError: naming every broken field and rule.
    """
    if isinstance(value, Mapping) and isinstance(value.get("cluster"), Mapping):
        # A FlinkDeployOperator result: the spec it deployed is under "cluster".
        return load_cluster(value["cluster"])
    if isinstance(value, str) and value.strip() and "\n" not in value:
        path = Path(value.strip())
        if path.suffix in CLUSTER_TEMPLATE_EXT and path.is_file():
            return load_cluster(path)
    return load_cluster(value)


def dashboard_url(rest_url: str | None) -> str | None:
    """The Flink dashboard's page for a REST API base URL (they are served together)."""
    return f"{rest_url}/#/overview" if rest_url else None


class FlinkWebUILink(BaseOperatorLink):
    """ "Flink Web UI" on every task that knows its cluster: the JobManager's dashboard.

    The task stores the URL in XCom (:meth:`FlinkClusterMixin.persist_web_ui_link`) as
    soon as it knows the cluster, before any wait, so the link works while it waits.
    """

    name = "Flink Web UI"
    key: ClassVar[str] = "flink_web_ui_url"

    @property
    def xcom_key(self) -> str:
        return self.key

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """The stored URL, or ``""`` when the task has not stored one (never raises)."""
        from airflow.sdk.execution_time.xcom import XCom

        try:
            url = XCom.get_value(ti_key=ti_key, key=self.key)
        except Exception:  # a link must never fail the task
            return ""
        return url if isinstance(url, str) else ""


class FlinkClusterMixin(BaseOperator):
    """Base of the provider's operators and (with :class:`BaseSensorOperator`) sensors.

    Subclasses call :meth:`init_cluster_task` from ``__init__``.

    :param cluster: the cluster (see the module docstring). Templated.
    :param namespace: the namespace, overriding the spec's (or the FlinkDeployment's
        ``metadata.namespace``). Templated.
    :param kubernetes_conn_id: the cncf.kubernetes connection. Templated.
    :param flink_conn_id: a ``flink`` connection for Flink's REST API (an ingress URL);
        ``None``: the cluster's REST Service, by ``rest_route``. Templated.
    :param rest_route: ``auto`` (cluster DNS when Airflow runs in the cluster, else the
        API server's service proxy), ``cluster_dns`` or ``service_proxy``.
    :param poll_interval: seconds between checks while waiting.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    """

    template_fields: tuple[str, ...] = (
        "cluster",
        "namespace",
        "kubernetes_conn_id",
        "flink_conn_id",
    )
    template_ext: tuple[str, ...] = CLUSTER_TEMPLATE_EXT
    template_fields_renderers: ClassVar[dict[str, str]] = {"cluster": "yaml"}
    operator_extra_links = (FlinkWebUILink(),)
    ui_color = "#e6f1f2"

    cluster: Any
    namespace: str | None
    kubernetes_conn_id: str
    flink_conn_id: str | None
    rest_route: RestRoute
    poll_interval: float
    deferrable: bool
    timeout: float

    def init_cluster_task(
        self,
        *,
        cluster: Any,
        kubernetes_conn_id: str,
        flink_conn_id: str | None,
        rest_route: RestRoute,
        poll_interval: float,
        deferrable: bool | None,
        namespace: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Set the shared arguments (no I/O: hooks are created on first use).

        :param timeout: seconds the task's wait may take, when it has one.
        :raises ValueError: naming the argument and the rule it breaks.
        """
        if cluster is None:
            raise ValueError("cluster is required: a spec, a spec file, or a deploy result")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0 seconds, not {poll_interval}")
        if timeout is not None:
            if timeout <= 0:
                raise ValueError(f"timeout must be > 0 seconds, not {timeout}")
            self.timeout = timeout
        self.cluster = cluster
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.flink_conn_id = flink_conn_id
        self.rest_route = rest_route
        self.poll_interval = poll_interval
        self.deferrable = _default_deferrable() if deferrable is None else deferrable

    # -- templating ------------------------------------------------------------------

    def render_template(
        self,
        content: Any,
        context: Context,
        jinja_env: jinja2.Environment | None = None,
        seen_oids: set[int] | None = None,
    ) -> Any:
        """Render as Airflow does, and also read an absolute ``.yaml`` path (Jinja's
        loader only knows the DAG folder and ``template_searchpath``)."""
        if isinstance(content, str) and content.endswith(self.template_ext):
            path = Path(content)
            if path.is_absolute() and path.is_file():
                env = jinja_env or self.get_template_env()
                return self._render(env.from_string(path.read_text(encoding="utf-8")), context)
        return super().render_template(content, context, jinja_env, seen_oids)

    # -- the cluster and its hooks ----------------------------------------------------

    @cached_property
    def flink_cluster(self) -> FlinkCluster:
        """The validated spec (raises :class:`SpecError` before anything is sent), in
        ``namespace`` when the task overrides the spec's."""
        return self.resolve_cluster()

    def resolve_cluster(self) -> FlinkCluster:
        """Build :attr:`flink_cluster` from the rendered arguments (subclasses with other
        ways to name the cluster extend this)."""
        cluster = cluster_from(self.cluster)
        if self.namespace and self.namespace != cluster.namespace:
            fields = cluster.model_dump(mode="json", exclude_defaults=True)
            cluster = load_cluster({**fields, "namespace": self.namespace})
        return cluster

    @cached_property
    def kube_hook(self) -> FlinkKubernetesHook:
        """The Kubernetes hook (created on first use)."""
        return FlinkKubernetesHook(self.kubernetes_conn_id)

    def rest_hook(self, *, retry: RetryPolicy | None = None) -> FlinkRestHook:
        """A Flink REST hook for the cluster (close it, or use it as a context manager)."""
        if self.flink_conn_id:
            return FlinkRestHook(self.flink_conn_id, retry=retry)
        cluster = self.flink_cluster
        service = FlinkRestService.for_cluster(
            cluster.name,
            cluster.namespace,
            kubernetes_conn_id=self.kubernetes_conn_id,
            route=self.rest_route,
        )
        return FlinkRestHook(service=service, retry=retry)

    def rest_url(self) -> str | None:
        """The base URL of Flink's REST API as this task reaches it, ``None`` if unknown."""
        try:
            with self.rest_hook() as rest:
                return rest.get_endpoint().base_url
        except Exception as error:  # a missing URL is not a failure
            self.log.info("The Flink REST URL is unknown: %s", error)
            return None

    def web_ui_url(self) -> str | None:
        """The Flink dashboard's URL as this task reaches it, ``None`` if unknown."""
        return dashboard_url(self.rest_url())

    def persist_web_ui_link(self, context: Context, url: str | None = None) -> str | None:
        """Store the "Flink Web UI" link's URL for this task instance."""
        url = url or self.web_ui_url()
        if url:
            context["ti"].xcom_push(key=FlinkWebUILink.key, value=url)
        return url

    # -- waiting ---------------------------------------------------------------------

    def cluster_wait(self, kind: Literal["cluster", "job"] = "cluster", **fields: Any) -> WaitFor:
        """A :class:`WaitFor` about this task's cluster."""
        cluster = self.flink_cluster
        return WaitFor(
            kind=kind,
            name=cluster.name,
            namespace=cluster.namespace,
            target=cluster.target,
            **fields,
        )

    def wait_or_defer(
        self,
        context: Context,
        wait: WaitFor,
        *,
        timeout: float,
        resume: Mapping[str, Any] | None = None,
        method_name: str = "execute_complete",
        delete_on_kill: bool = False,
    ) -> Outcome:
        """Wait here (``deferrable=False``) and return the outcome, or defer to
        :class:`FlinkClusterTrigger`, which resumes ``method_name(context, event)`` with
        ``resume`` in the event's context.
        """
        if self.deferrable:
            self.defer_wait(
                wait,
                timeout=timeout,
                resume=resume,
                method_name=method_name,
                delete_on_kill=delete_on_kill,
            )
        self.log.info("Waiting up to %.0fs for %s", timeout, wait.description)
        with self.rest_hook(retry=RetryPolicy.never()) as rest:
            observer = ClusterObserver(self.kube_hook, rest if wait.needs_rest else None)
            return observer.wait(
                wait, timeout=timeout, poll_interval=self.poll_interval, on_verdict=self._log
            )

    def defer_wait(
        self,
        wait: WaitFor,
        *,
        timeout: float,
        resume: Mapping[str, Any] | None = None,
        method_name: str = "execute_complete",
        delete_on_kill: bool = False,
    ) -> NoReturn:
        """Defer to :class:`FlinkClusterTrigger` for ``wait``."""
        trigger = FlinkClusterTrigger(
            wait=wait.to_dict(),
            kubernetes_conn_id=self.kubernetes_conn_id,
            flink_conn_id=self.flink_conn_id,
            rest_route=self.rest_route,
            deadline=time.time() + timeout,
            poll_interval=self.poll_interval,
            context=dict(resume or {}),
            delete_on_kill=delete_on_kill,
        )
        self.defer(
            trigger=trigger,
            method_name=method_name,
            timeout=timedelta(seconds=timeout) + _TRIGGER_MARGIN,
        )

    def _log(self, verdict: Verdict) -> None:
        self.log.info("%s (%s): %s", verdict.lifecycle.value, verdict.reason.value, verdict.message)

    def finish_wait(
        self,
        outcome: Outcome,
        *,
        success: tuple[Lifecycle, ...] = (Lifecycle.READY,),
    ) -> Outcome:
        """Log the outcome (and, unless it succeeded, the log tails); raise unless it
        reached ``success``.

        :raises DeploymentFailed: with the cause (``ImagePullBackOff``, ``JobFailed``...).
        :raises DeploymentTimeout: when the wait gave up.
        """
        verdict = outcome.verdict
        tails = verdict.details.get("log_tails") or {}
        for pod, text in tails.items():
            self.log.error("Last log lines of %s:\n%s", pod, text)
        if verdict.lifecycle in success and not outcome.timed_out:
            self.log.info("%s", verdict.message)
        return outcome.raise_for_failure(success=success)

    def outcome_of(self, event: Mapping[str, Any]) -> tuple[Outcome, dict[str, Any]]:
        """The outcome and resume context of a trigger event."""
        return outcome_of_event(event)
