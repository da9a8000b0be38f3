"""The operator target: a FlinkDeployment the Flink Kubernetes Operator reconciles."""

from __future__ import annotations

from airflow_provider_flink_k8s.targets.base import ClusterTarget, TargetName

__all__ = ["OPERATOR", "OperatorTarget"]


class OperatorTarget(ClusterTarget):
    """The Flink Kubernetes Operator's ``FlinkDeployment`` and ``FlinkSessionJob``: the
    task changes their specs and waits for the operator to reconcile them."""

    name: TargetName = "operator"
    controller = "the Flink Kubernetes Operator"
    renders_workloads = False
    reads_status_object = True
    session_jobs_as_objects = True
    uploads_jars = False
    rescales_by_patching = True

    def controls_job(self, mode: str) -> bool:
        """An application's job: the operator takes its savepoints
        (``savepointTriggerNonce``) and suspends it; a session cluster's jobs are
        Flink's (through the REST API) or FlinkSessionJobs'."""
        return mode == "application"

    def session_job_jar(self, jar_uri: str) -> str:
        """The URI as given: the operator fetches it."""
        return jar_uri

    def jar_rule(self, *, jar: str | None, jar_id: str | None) -> tuple[str, str] | None:
        """A FlinkSessionJob takes a jar URI the operator can fetch: no ``jar_id``, no
        local path."""
        if jar_id:
            return (
                "jar_id",
                "jar_id: the operator target submits a FlinkSessionJob, which takes a jar "
                "URI; give jar=<URI> instead",
            )
        if jar and "://" not in jar:
            return (
                "jar",
                f"jar must be a URI the Flink operator can fetch (https://..., "
                f"local:///...) for the operator target, not the local path {jar!r}",
            )
        return None


OPERATOR = OperatorTarget()
