"""Submit a job to a session cluster, and wait until it runs (or finishes).

Also home of what the job, savepoint and teardown operators share: the stable ids a task
instance derives for its Flink operations (:func:`task_key`, :func:`stable_id`).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_flink_k8s.exceptions import (
    DeploymentFailed,
    FlinkK8sError,
    FlinkRestError,
    SpecError,
    SpecProblem,
)
from airflow_provider_flink_k8s.manifests import cluster_labels
from airflow_provider_flink_k8s.manifests.sessionjob import render_session_job, session_job_name
from airflow_provider_flink_k8s.observation import (
    GLOBALLY_TERMINAL_JOB_STATES,
    Outcome,
    Reason,
)
from airflow_provider_flink_k8s.operators.arguments import (
    ArgumentError,
    check_jar,
    job_parallelism,
    job_states,
    literal,
    program_args,
)
from airflow_provider_flink_k8s.operators.base import FlinkClusterMixin, FlinkClusterOperator
from airflow_provider_flink_k8s.spec import FlinkCluster, SessionJobSpec, load_cluster
from airflow_provider_flink_k8s.spec.loading import load_document
from airflow_provider_flink_k8s.spec.sessionjob import read_flink_session_job
from airflow_provider_flink_k8s.targets import target_of

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flink_k8s.flinkrest import JobOverview
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook

__all__ = [
    "FlinkSubmitJobOperator",
    "stable_id",
    "task_key",
]

MAX_ATTEMPTS = 64
"""How many job ids (one per earlier submission that ended) a task instance may use."""


# -- shared: stable ids ---------------------------------------------------------------


def task_key(context: Context) -> str:
    """``dag_id/task_id/run_id/map_index`` of the running task instance: the same for
    every try, so ids derived from it survive retries and clears."""
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.task_id}/{ti.run_id}/{ti.map_index}"


def stable_id(*parts: object) -> str:
    """32 hex digits derived from ``parts`` (the form of Flink's job and trigger ids)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- the operator ----------------------------------------------------------------------


class FlinkSubmitJobOperator(FlinkClusterOperator):
    """Submit a job to a session cluster and wait until it is RUNNING (or ``wait_for``).

    Standalone target, through Flink's REST API: upload ``jar`` (or reuse ``jar_id``, or
    a jar of the same file name the cluster already has), then run it under a job id
    derived from the task instance (dag, task, run, map index). Idempotent: a retried or
    cleared task first looks for the job it started -- still running, it re-attaches
    and waits instead of submitting a duplicate; FINISHED while ``wait_for`` says
    FINISHED, it is done; ended otherwise (failed, cancelled), it submits anew under
    the next id of the sequence.

    Operator target: the job becomes a ``FlinkSessionJob`` ``<cluster>-<task_id>`` on
    the session FlinkDeployment (``jar`` must then be a URI the operator fetches;
    applying it again changes nothing), and the task waits for its job's state -- in the
    triggerer when ``deferrable`` (the cluster trigger watches the FlinkSessionJob).

    ``session_job``: a FlinkSessionJob (file, text or mapping, as the Flink Kubernetes
    Operator takes it) instead of ``jar``/``entry_class``/``args``/``parallelism``/
    ``savepoint_path``. Its ``spec.deploymentName`` names the session cluster when
    ``cluster`` is not given (operator target, in the FlinkSessionJob's namespace); the
    operator target applies the file itself (every field kept, the cluster's labels
    added); the standalone target runs its job through the REST API (``jarURI`` must then
    be a file on the Airflow worker: a path or ``file://`` URI).

    ``on_kill``: cancels the job only if this try submitted it (a re-attached job, or
    one submitted by an earlier try, is left running).

    The arguments every task shares -- ``cluster`` (the session cluster; optional with
    ``session_job``), ``namespace``, the connections, ``rest_route``, ``poll_interval``,
    ``deferrable``, ``timeout`` (here: seconds to wait for ``wait_for``), the kubeconfig
    overrides -- are :class:`FlinkClusterOperator`'s.

    :param session_job: a FlinkSessionJob file (``.yaml``/``.yml``/``.json``), YAML/JSON
        text or mapping. Templated.
    :param jar: a local jar file to upload (operator target: the jar's URI). Templated.
    :param jar_id: an uploaded jar's id, instead of ``jar``. Templated.
    :param entry_class: the main class (default: the jar manifest's). Templated.
    :param args: the program's arguments. Templated.
    :param parallelism: the job's parallelism (default: the cluster's). Templated.
    :param savepoint_path: a savepoint to restore the job's state from. Templated.
    :param allow_non_restored_state: skip savepoint state no operator of the job claims.
    :param wait_for: Flink job states that end the wait successfully: ``("RUNNING",)``
        for a streaming job, ``("FINISHED",)`` for a batch job.
    :return: the job id (XCom).
    """

    template_fields: tuple[str, ...] = (
        *FlinkClusterMixin.template_fields,
        "session_job",
        "jar",
        "jar_id",
        "entry_class",
        "args",
        "parallelism",
        "savepoint_path",
    )
    argument_rules: ClassVar[Mapping[str, Callable[[Any], object]]] = {
        "args": program_args,
        "parallelism": job_parallelism,
    }
    cluster_arguments: ClassVar[tuple[str, ...]] = ("cluster", "namespace", "session_job")

    def __init__(
        self,
        *,
        session_job: Any = None,
        jar: str | None = None,
        jar_id: str | None = None,
        entry_class: str | None = None,
        args: Sequence[str] | str = (),
        parallelism: int | str | None = None,
        savepoint_path: str | None = None,
        allow_non_restored_state: bool = False,
        wait_for: Sequence[str] | str = ("RUNNING",),
        **kwargs: Any,
    ) -> None:
        states = job_states("wait_for", wait_for)
        if kwargs.get("cluster") is None:
            if session_job is None:
                raise ArgumentError(
                    "cluster", "cluster is required (or a session_job naming its deploymentName)"
                )
            kwargs["cluster"] = _FROM_SESSION_JOB
        super().__init__(**kwargs)
        self.session_job = session_job
        self.jar = jar
        self.jar_id = jar_id
        self.entry_class = entry_class
        self.args = args
        self.parallelism: int | str | None = parallelism
        self.savepoint_path = savepoint_path
        self.allow_non_restored_state = allow_non_restored_state
        self.wait_for = states
        self._submitted: str | None = None
        self.check_arguments()

    # -- inputs (validated after rendering, before any write) ---------------------------

    @cached_property
    def session_job_manifest(self) -> dict[str, Any] | None:
        """The rendered ``session_job`` as a FlinkSessionJob mapping (``None`` without one).

        :raises SpecError: naming the FlinkSessionJob's field and rule.
        """
        if self.session_job is None or self.session_job == "":
            return None
        document = load_document(self.session_job)
        self.session_job_spec_of(document)
        return copy.deepcopy(dict(document))

    @staticmethod
    def session_job_spec_of(document: Any) -> SessionJobSpec:
        """Validate a FlinkSessionJob (``SpecError`` names its field and rule)."""
        if not isinstance(document, Mapping):
            raise SpecError(
                [SpecProblem("session_job", "must be a FlinkSessionJob mapping, file or text")],
                subject="FlinkSessionJob",
            )
        return read_flink_session_job(document)

    def resolve_cluster(self, *, cache: bool = True) -> FlinkCluster:
        """The session cluster: ``cluster``, or the session job's ``deploymentName``."""
        if self.cluster != _FROM_SESSION_JOB:
            return super().resolve_cluster(cache=cache)
        manifest = self.session_job_manifest if cache else load_document(self.session_job)
        job = self.session_job_spec_of(manifest)
        return load_cluster(
            {
                "name": job.deployment_name,
                "namespace": self.namespace or job.namespace,
                "mode": "session",
                "target": "operator",
            }
        )

    def _take_session_job(self, target: str) -> None:
        """Fill the job's fields from ``session_job`` (refusing the same given twice)."""
        manifest = self.session_job_manifest
        if manifest is None:
            return
        given = [
            name
            for name in ("jar", "jar_id", "entry_class", "args", "parallelism", "savepoint_path")
            if getattr(self, name) not in (None, "", (), [])
        ]
        if given:
            raise ValueError(f"session_job describes the job: do not also give {', '.join(given)}")
        job = self.session_job_spec_of(manifest).job
        jar = target_of(target).session_job_jar(job.jar_uri)
        self.jar = jar
        self.entry_class = job.entry_class
        self.args = list(job.args)
        self.parallelism = job.parallelism
        self.savepoint_path = job.initial_savepoint
        self.allow_non_restored_state = job.allow_non_restored_state

    def check_with_cluster(self, cluster: FlinkCluster | None, *, rendered: bool) -> None:
        """The session job (a FlinkSessionJob's rules), else ``jar``/``jar_id`` for the
        cluster's target."""
        if self.session_job is not None and self.session_job != "":
            if rendered:
                self.session_job_manifest  # noqa: B018 -- validates it
            elif literal(self.session_job, self.template_ext):
                self.session_job_spec_of(load_document(self.session_job))
            return
        if rendered or (literal(self.jar) and literal(self.jar_id)):
            check_jar(self.jar, self.jar_id, cluster.target if cluster else None)

    def _check_inputs(self, target: str) -> None:
        self._take_session_job(target)
        check_jar(self.jar, self.jar_id, target)
        program_args(self.args)
        job_parallelism(self.parallelism)

    # -- execute -------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        cluster = self.flink_cluster
        self._check_inputs(cluster.target)
        if cluster.mode != "session":
            raise ValueError(
                f"cluster {cluster.name} runs in {cluster.mode} mode; jobs are submitted to "
                "session clusters (an application cluster runs its spec's job)"
            )
        if target_of(cluster).session_jobs_as_objects:
            return self._execute_session_job(context)
        self.persist_web_ui_link(context)
        key = task_key(context)
        with self.rest_hook() as rest:
            job_id, known = self._find_own_job(rest, key)
            if known is not None and known.state in self.wait_for:
                self.log.info("Job %s, submitted before by this task, is %s", job_id, known.state)
                return job_id
            if known is not None:
                self.log.info(
                    "Re-attaching to job %s, submitted before by this task (%s)",
                    job_id,
                    known.state,
                )
            else:
                self._submit(rest, job_id)
        wait = self.cluster_wait("job", job_id=job_id, target_states=self.wait_for)
        outcome = self.wait_or_defer(context, wait, timeout=self.timeout, resume={"job_id": job_id})
        return self._finish(outcome, job_id, ask_flink=True)

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> str:
        """Resume after the trigger: the job id, or the failure with Flink's cause."""
        outcome, resume = self.outcome_of(event)
        return self._finish(outcome, str(resume["job_id"]), ask_flink=True)

    def on_kill(self) -> None:
        """Cancel the job if this try submitted it (see the class docstring)."""
        if self._submitted is None:
            self.log.info("Killed: this try submitted no job, so none is cancelled")
            return
        self.log.info("Killed: cancelling job %s, which this try submitted", self._submitted)
        try:
            with self.rest_hook() as rest:
                rest.cancel(self._submitted)
        except FlinkK8sError as error:
            self.log.warning("Could not cancel job %s: %s", self._submitted, error)

    # -- standalone: REST ----------------------------------------------------------------

    def _find_own_job(self, rest: FlinkRestHook, key: str) -> tuple[str, JobOverview | None]:
        """The job id this try uses, and the job if Flink knows it and it has not ended
        (or reached ``wait_for``): the latest of this task instance's id sequence."""
        jobs = {job.id: job for job in rest.jobs()}
        for attempt in range(MAX_ATTEMPTS):
            job_id = stable_id(key, attempt)
            job = jobs.get(job_id)
            if job is None:
                return job_id, None
            if job.state not in GLOBALLY_TERMINAL_JOB_STATES or job.state in self.wait_for:
                return job_id, job
            self.log.info("Job %s, submitted before by this task, is %s", job_id, job.state)
        raise DeploymentFailed(
            "JobFailed",
            f"this task instance already submitted {MAX_ATTEMPTS} jobs that ended; "
            "start a new DAG run",
        )

    def _jar_id(self, rest: FlinkRestHook) -> str:
        if self.jar_id:
            return self.jar_id
        path = Path(str(self.jar))
        same = [jar for jar in rest.jars() if jar.name == path.name]
        if same:
            newest = max(same, key=lambda jar: jar.uploaded or 0)
            self.log.info("Reusing %s, already uploaded as %s", path.name, newest.id)
            return newest.id
        jar_id = rest.upload_jar(path)
        self.log.info("Uploaded %s as %s", path, jar_id)
        return jar_id

    def _submit(self, rest: FlinkRestHook, job_id: str) -> None:
        jar_id = self._jar_id(rest)
        self.log.info("Submitting %s as job %s", jar_id, job_id)
        try:
            submitted = rest.run_jar(
                jar_id,
                self.entry_class or None,
                program_args(self.args),
                job_parallelism(self.parallelism),
                self.savepoint_path or None,
                self.allow_non_restored_state,
                job_id=job_id,
            )
        except FlinkRestError as error:
            if any(job.id == job_id for job in rest.jobs()):
                # The request reached Flink before the error (a lost answer): re-attach.
                self.log.info("Job %s was submitted despite %s; re-attaching", job_id, error)
                return
            self.log.error("Flink refused the job: %s", error)
            raise
        self._submitted = submitted

    def _finish(self, outcome: Outcome, job_id: str, *, ask_flink: bool = False) -> str:
        root = outcome.verdict.details.get("root_exception")
        if not root and ask_flink and outcome.verdict.reason is Reason.JOB_FAILED:
            root = self.root_exception(job_id)
        if root:
            self.log.error("Root exception of job %s:\n%s", job_id, root)
        self.finish_wait(outcome)
        return job_id

    # -- operator target: a FlinkSessionJob -----------------------------------------------

    def _session_job_to_apply(self, cluster: FlinkCluster) -> dict[str, Any]:
        """The FlinkSessionJob: the user's (every field kept, in the cluster's namespace,
        with its labels added), or one rendered from the task's arguments."""
        given = self.session_job_manifest
        if given is None:
            return render_session_job(
                cluster,
                session_job_name(cluster.name, self.task_id),
                jar_uri=str(self.jar),
                entry_class=self.entry_class or None,
                args=program_args(self.args),
                parallelism=job_parallelism(self.parallelism),
                initial_savepoint=self.savepoint_path or None,
                allow_non_restored_state=self.allow_non_restored_state,
            )
        deployment = given.get("spec", {}).get("deploymentName")
        if deployment != cluster.name:
            raise ValueError(
                f"session_job spec.deploymentName is {deployment!r}, but the cluster is "
                f"{cluster.name!r}"
            )
        metadata = given.setdefault("metadata", {})
        metadata["namespace"] = cluster.namespace
        metadata["labels"] = {**cluster_labels(cluster), **(metadata.get("labels") or {})}
        return given

    def _execute_session_job(self, context: Context) -> str:
        cluster = self.flink_cluster
        manifest = self._session_job_to_apply(cluster)
        name = str(manifest["metadata"]["name"])
        self.persist_web_ui_link(context)
        self.kube_hook.apply([manifest])
        wait = self.cluster_wait("session_job", session_job=name, target_states=self.wait_for)
        return self.wait_then(
            context,
            wait,
            timeout=self.timeout,
            resume={"session_job": name},
            then=self.execute_session_job_complete,
        )

    def execute_session_job_complete(self, context: Context, event: Mapping[str, Any]) -> str:
        """Resume after the FlinkSessionJob's wait: its job id, or the failure."""
        outcome, _ = self.outcome_of(event)
        return self._finish(outcome, outcome.job_id or "")


_FROM_SESSION_JOB = "<the session_job's deploymentName>"
"""``cluster`` when only ``session_job`` names the session cluster."""
