"""What every Flink cluster task shares: the cluster argument, the hooks, and the wait.

A task names its cluster with ``cluster=``, in any form a DAG author has at hand:

- a :class:`FlinkCluster`, or a mapping of its fields;
- the path of a ``.yaml``/``.yml``/``.json`` file (a template: Jinja runs over it, found
  next to the DAG file or on the DAG's ``template_searchpath``; an absolute path is read
  as is), or YAML/JSON text -- our spec, or a Flink Kubernetes Operator FlinkDeployment;
- the XCom result of :class:`~.deploy.FlinkDeployOperator` (``deploy.output``), which
  carries the deployed spec.

Arguments follow their rules (:mod:`.arguments`): a literal value is checked when the task
is created, a templated one once rendered, by the same function.

Waits go through one pure decision (:class:`WaitFor`): in the worker with
:class:`ClusterObserver` (polling), or deferred to :class:`FlinkClusterTrigger`
(watching). An operation with several waits chains its steps with
:meth:`FlinkClusterMixin.wait_then` (act, wait, continue in the next method -- after a
deferral, or at once in the worker). Either way each wait ends with
:meth:`FlinkClusterMixin.finish_wait`, which puts the failing containers' log tails into
the task log and raises with the cause.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NoReturn, TypeVar

from airflow.providers.common.compat.sdk import BaseOperator, BaseOperatorLink, conf

from airflow_provider_flink_k8s.exceptions import FlinkK8sError
from airflow_provider_flink_k8s.flinkrest import FlinkRestService, RetryPolicy
from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.hooks.observer import ClusterObserver
from airflow_provider_flink_k8s.observation import (
    Lifecycle,
    Outcome,
    Verdict,
    root_exception_of,
)
from airflow_provider_flink_k8s.observation.waits import WaitFor, WaitKind
from airflow_provider_flink_k8s.operators.arguments import (
    ArgumentError,
    check_kube_options,
    check_rest_route,
    check_seconds,
    literal,
)
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster
from airflow_provider_flink_k8s.triggers.cluster import FlinkClusterTrigger, outcome_of_event

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

__all__ = [
    "CLUSTER_TEMPLATE_EXT",
    "FlinkClusterMixin",
    "FlinkClusterOperator",
    "FlinkWebUILink",
    "RestRoute",
    "WEB_UI_ATTRIBUTE",
    "cluster_from",
    "dashboard_url",
]

RestRoute = Literal["auto", "cluster_dns", "service_proxy"]
_T = TypeVar("_T")
CLUSTER_TEMPLATE_EXT = (".yaml", ".yml", ".json")
"""Suffixes of a ``cluster`` value that is a file (as the official provider's
``application_file``)."""
WEB_UI_ATTRIBUTE = "flink_web_ui_url"
"""The operator attribute holding the URL :class:`FlinkWebUILink` shows; it travels
through a deferral in the trigger's resume context under the same key."""
_TRIGGER_MARGIN = timedelta(minutes=2)
"""Extra time Airflow gives a deferral beyond the trigger's own deadline, so the trigger
reports the timeout (with the last verdict) rather than Airflow cutting it off."""
ATTACH_LOG_LINES = 100
"""Lines of the JobManager's log ``attach_log`` puts in the task log."""


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


def in_namespace(cluster: FlinkCluster, namespace: str | None) -> FlinkCluster:
    """``cluster`` moved to ``namespace`` (a task's override of the spec's), validated."""
    if not namespace or namespace == cluster.namespace:
        return cluster
    fields = cluster.model_dump(mode="json", exclude_defaults=True)
    return load_cluster({**fields, "namespace": namespace})


def dashboard_url(rest_url: str | None) -> str | None:
    """The Flink dashboard's page for a REST API base URL (they are served together)."""
    return f"{rest_url}/#/overview" if rest_url else None


class FlinkWebUILink(BaseOperatorLink):
    """ "Flink Web UI" on every task that knows its cluster: the JobManager's dashboard.

    The task stores the URL in XCom (:meth:`FlinkClusterMixin.persist_web_ui_link`) as
    soon as it knows the cluster, before any wait, so the link works while it waits.
    Airflow asks :meth:`get_link` on the worker at the end of each run of the task and
    stores the answer under :attr:`xcom_key` for the UI.
    """

    name = "Flink Web UI"
    key: ClassVar[str] = "flink_web_ui_url"

    @property
    def xcom_key(self) -> str:
        return self.key

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        """The URL the task found, or ``""`` when it found none (it failed before it
        knew its cluster, or the teardown found nothing): no link, and nothing logged.

        Read from the operator, not from XCom: a missing XCom makes the task runner log
        an error, and a link must never make noise or fail the task.
        """
        url = getattr(operator, WEB_UI_ATTRIBUTE, None)
        return url if isinstance(url, str) else ""


class FlinkClusterMixin(BaseOperator):
    """Base of the provider's sensors and (through :class:`FlinkClusterOperator`)
    operators: it owns the arguments every task shares; a subclass's ``__init__`` takes
    only its own and passes the rest on (``super().__init__(**kwargs)``), then ends with
    :meth:`check_arguments`.

    :param cluster: the cluster (see the module docstring); required. Templated.
    :param namespace: the namespace, overriding the spec's (or the FlinkDeployment's
        ``metadata.namespace``). Templated.
    :param kubernetes_conn_id: the cncf.kubernetes connection. Templated.
    :param flink_conn_id: a ``flink`` connection for Flink's REST API (an ingress URL);
        ``None``: the cluster's REST Service, by ``rest_route``. Templated.
    :param rest_route: ``auto`` (cluster DNS when Airflow runs in the cluster, else the
        API server's service proxy), ``cluster_dns`` or ``service_proxy``.
    :param poll_interval: seconds between checks while waiting (``None``: the task's
        :attr:`default_poll_interval`, 2 s; 1 s for a savepoint or a teardown).
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :param config_file: a kubeconfig path, overriding the connection's (as in
        cncf.kubernetes). Templated.
    :param cluster_context: the kubeconfig context, overriding the connection's. Templated.
    :param in_cluster: use the pod's service account, overriding the connection's.

    Arguments are checked by their rules (:mod:`.arguments`): literal ones when the task
    is created, templated ones once rendered (:meth:`check_arguments`).
    """

    template_fields: tuple[str, ...] = (
        "cluster",
        "namespace",
        "kubernetes_conn_id",
        "flink_conn_id",
        "config_file",
        "cluster_context",
    )
    template_ext: tuple[str, ...] = CLUSTER_TEMPLATE_EXT
    template_fields_renderers: ClassVar[dict[str, str]] = {"cluster": "yaml"}
    operator_extra_links = (FlinkWebUILink(),)
    ui_color = "#e6f1f2"

    argument_rules: ClassVar[Mapping[str, Callable[[Any], object]]] = {}
    """Per templated argument, its rule (run on the literal value when the task is
    created, on the rendered one before it runs)."""
    cluster_arguments: ClassVar[tuple[str, ...]] = ("cluster", "namespace")
    """The arguments that name the cluster (it is validated when all are literal)."""
    default_poll_interval: ClassVar[float] = 2.0
    """``poll_interval`` when the task is given none (a subclass may set its own)."""

    cluster: Any
    namespace: str | None
    kubernetes_conn_id: str
    flink_conn_id: str | None
    rest_route: RestRoute
    poll_interval: float
    deferrable: bool
    timeout: float
    config_file: str | None
    cluster_context: str | None
    in_cluster: bool | None

    def __init__(
        self,
        *,
        cluster: Any = None,
        namespace: str | None = None,
        kubernetes_conn_id: str = "kubernetes_default",
        flink_conn_id: str | None = None,
        rest_route: RestRoute = "auto",
        poll_interval: float | None = None,
        deferrable: bool | None = None,
        config_file: str | None = None,
        cluster_context: str | None = None,
        in_cluster: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # Checked now (no I/O: hooks are created on first use).
        self.poll_interval = check_seconds(
            "poll_interval", self.default_poll_interval if poll_interval is None else poll_interval
        )
        self.rest_route = check_rest_route(rest_route)
        self.cluster = cluster
        self.namespace = namespace
        self.kubernetes_conn_id = kubernetes_conn_id
        self.flink_conn_id = flink_conn_id
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self.config_file = config_file
        self.cluster_context = cluster_context
        self.in_cluster = in_cluster

    # -- the arguments' rules ----------------------------------------------------------

    def check_arguments(self, *, rendered: bool = False) -> None:
        """Check the arguments by their rules: the literal ones (``rendered=False``, when
        the task is created), or all of them once rendered. The cluster is validated too
        (:class:`SpecError`) when every argument naming it is known.

        :raises ArgumentError: naming the argument and the rule it breaks.
        :raises SpecError: naming the spec's field and rule.
        """
        if self.cluster is None:
            raise ArgumentError(
                "cluster", "cluster is required: a spec, a spec file, or a deploy result"
            )
        for name, rule in self.argument_rules.items():
            value = getattr(self, name, None)
            if rendered or literal(value):
                rule(value)
        if rendered or (literal(self.config_file) and literal(self.cluster_context)):
            self.kube_options  # noqa: B018 -- checks them
        cluster: FlinkCluster | None
        if rendered:
            cluster = self.flink_cluster
        elif all(
            literal(getattr(self, name), self.template_ext) for name in self.cluster_arguments
        ):
            cluster = self.resolve_cluster(cache=False)
        else:
            cluster = None
        self.check_with_cluster(cluster, rendered=rendered)

    def check_with_cluster(self, cluster: FlinkCluster | None, *, rendered: bool) -> None:
        """Rules that depend on the cluster (``None``: not known yet); subclasses add them."""

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render as Airflow does, then check every argument by its rule."""
        super().render_template_fields(context, jinja_env)
        self.check_arguments(rendered=True)

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

    def resolve_cluster(self, *, cache: bool = True) -> FlinkCluster:
        """Build :attr:`flink_cluster` from the arguments (subclasses with other ways to
        name the cluster extend this).

        :param cache: whether values derived on the way may be kept (not before rendering).
        """
        return in_namespace(cluster_from(self.cluster), self.namespace)

    @property
    def kube_options(self) -> dict[str, Any]:
        """``config_file``, ``cluster_context``, ``in_cluster`` as the hooks take them (the
        ones given; checked by their rule)."""
        return check_kube_options(
            config_file=self.config_file,
            cluster_context=self.cluster_context,
            in_cluster=self.in_cluster,
        )

    @cached_property
    def kube_hook(self) -> FlinkKubernetesHook:
        """The Kubernetes hook (created on first use)."""
        return FlinkKubernetesHook(self.kubernetes_conn_id, **self.kube_options)

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
            kube_options=self.kube_options,
        )
        return FlinkRestHook(service=service, retry=retry)

    def root_exception(self, job_id: str) -> str | None:
        """A failed job's root exception, as Flink's exception history tells it (read
        once more: Flink may list a job FAILED a moment before its history has the
        cause). ``None`` when Flink does not tell -- never an error of its own."""
        try:
            with self.rest_hook() as rest:
                found = rest.job_exceptions(job_id).model_dump(mode="json", by_alias=True)
        except FlinkK8sError as error:
            self.log.info("Could not read the root exception of job %s: %s", job_id, error)
            return None
        return root_exception_of(found)

    def rest_url(self) -> str | None:
        """The base URL of Flink's REST API as this task reaches it, ``None`` if unknown."""
        try:
            with self.rest_hook() as rest:
                return rest.get_endpoint().base_url
        except Exception as error:  # a missing URL is not a failure
            self.log.info("The Flink REST URL is unknown: %s", error)
            return None

    def web_ui_url(self, rest_url: str | None = None) -> str | None:
        """The Flink dashboard's URL for people: the spec's ``rest_service.web_ui_url``
        when set, else the dashboard at the REST API's URL as this task reaches it
        (``rest_url`` when the caller has it already); ``None`` if unknown (never
        raises)."""
        try:
            configured = self.flink_cluster.rest_service.web_ui_url
        except Exception as error:  # a bad spec fails the task elsewhere, not the link
            self.log.debug("No Web UI link: %s", error)
            return None
        return configured or dashboard_url(rest_url or self.rest_url())

    def persist_web_ui_link(self, context: Context, url: str | None = None) -> str | None:
        """Store the "Flink Web UI" link's URL for this task instance, in XCom at once
        (so the link works while the task waits) and on the operator (what
        :meth:`FlinkWebUILink.get_link` answers when the task ends)."""
        url = url or self.web_ui_url()
        if url:
            setattr(self, WEB_UI_ATTRIBUTE, url)
            context["ti"].xcom_push(key=FlinkWebUILink.key, value=url)
        return url

    # -- waiting ---------------------------------------------------------------------

    def cluster_wait(self, kind: WaitKind = "cluster", **fields: Any) -> WaitFor:
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
        owner: str | None = None,
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
                owner=owner,
            )
        return self.wait_here(wait, timeout=timeout)

    def wait_here(self, wait: WaitFor, *, timeout: float) -> Outcome:
        """Wait in the worker with :class:`ClusterObserver` (the trigger's decision, polled
        every ``poll_interval`` seconds); the outcome."""
        self.log.info("Waiting up to %.0fs for %s", timeout, wait.description)
        if not wait.needs_rest:
            observer = ClusterObserver(self.kube_hook, None)
            return observer.wait(
                wait, timeout=timeout, poll_interval=self.poll_interval, on_verdict=self._log
            )
        with self.rest_hook(retry=RetryPolicy.never()) as rest:
            observer = ClusterObserver(self.kube_hook, rest)
            return observer.wait(
                wait, timeout=timeout, poll_interval=self.poll_interval, on_verdict=self._log
            )

    def wait_then(
        self,
        context: Context,
        wait: WaitFor,
        *,
        timeout: float,
        resume: Mapping[str, Any],
        then: Callable[[Context, Mapping[str, Any]], _T],
    ) -> _T:
        """Wait for ``wait``, then continue with ``then(context, event)`` (a method of this
        operator): deferred to :class:`FlinkClusterTrigger` (``deferrable``; the task
        resumes in ``then``), or here through the same decision, calling ``then`` with the
        event the trigger would have sent. Either way the step after a wait is one method,
        and a task may wait (defer) more than once: each step acts, then waits for the next.

        :param resume: plain JSON the next step needs (it travels in the event).
        """
        if self.deferrable:
            self.defer_wait(wait, timeout=timeout, resume=resume, method_name=then.__name__)
        outcome = self.wait_here(wait, timeout=timeout)
        return then(context, {"outcome": outcome.to_event(), "context": dict(resume)})

    def defer_wait(
        self,
        wait: WaitFor,
        *,
        timeout: float,
        resume: Mapping[str, Any] | None = None,
        method_name: str = "execute_complete",
        delete_on_kill: bool = False,
        owner: str | None = None,
    ) -> NoReturn:
        """Defer to :class:`FlinkClusterTrigger` for ``wait``."""
        trigger = FlinkClusterTrigger(
            wait=wait.to_dict(),
            kubernetes_conn_id=self.kubernetes_conn_id,
            kube_options=self.kube_options,
            flink_conn_id=self.flink_conn_id,
            rest_route=self.rest_route,
            deadline=time.time() + timeout,
            poll_interval=self.poll_interval,
            context=_with_link(resume, getattr(self, WEB_UI_ATTRIBUTE, None)),
            delete_on_kill=delete_on_kill,
            owner=owner,
        )
        self.defer(
            trigger=trigger,
            method_name=method_name,
            timeout=timedelta(seconds=timeout) + _TRIGGER_MARGIN,
        )

    def _log(self, verdict: Verdict) -> None:
        self.log.info("%s (%s): %s", verdict.lifecycle.value, verdict.reason.value, verdict.message)

    def attach_jobmanager_log(
        self, wait: WaitFor, *, logged: Mapping[str, Any] | None = None
    ) -> None:
        """Put the last :data:`ATTACH_LOG_LINES` lines of the JobManager's log in the task
        log (``attach_log``), unless ``logged`` (by pod) has them already. A log that
        cannot be read is reported, never a failure."""
        try:
            snapshot = self.kube_hook.observe(
                wait.name, wait.namespace, target=wait.target, log_lines=ATTACH_LOG_LINES
            )
        except FlinkK8sError as error:
            self.log.warning("Could not read the JobManager's log: %s", error)
            return
        jobmanagers = [pod.name for pod in snapshot.active_pods if pod.component == "jobmanager"]
        tails = {pod: snapshot.log_tails[pod] for pod in jobmanagers if pod in snapshot.log_tails}
        if not tails:
            self.log.info("No JobManager log of %s/%s to attach", wait.namespace, wait.name)
        for pod, text in tails.items():
            if pod not in (logged or {}):
                self.log.info("JobManager log (%s, last lines):\n%s", pod, text)

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
        """The outcome and resume context of a trigger event (the Web UI link's URL,
        which travelled with the context, is restored on this new operator instance)."""
        outcome, resume = outcome_of_event(event)
        url = resume.pop(WEB_UI_ATTRIBUTE, None)
        if isinstance(url, str) and url:
            setattr(self, WEB_UI_ATTRIBUTE, url)
        return outcome, resume


class FlinkClusterOperator(FlinkClusterMixin):
    """Base of the provider's operators: the arguments of :class:`FlinkClusterMixin`, and
    how long the operation may wait (a sensor's ``timeout`` is the sensor's own).

    :param timeout: seconds each wait of the task may take (``None``: the operator's
        :attr:`default_timeout`, 600 s; 300 s for a teardown).
    """

    default_timeout: ClassVar[float] = 600.0
    """``timeout`` when the task is given none (a subclass may set its own)."""

    def __init__(self, *, timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout = check_seconds(
            "timeout", self.default_timeout if timeout is None else timeout
        )


def _with_link(resume: Mapping[str, Any] | None, url: str | None) -> dict[str, Any]:
    """The resume context of a deferral, with the Web UI link's URL when known."""
    context = dict(resume or {})
    if url:
        context[WEB_UI_ATTRIBUTE] = url
    return context
