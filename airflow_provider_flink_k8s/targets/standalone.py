"""The standalone target: the provider's own Deployments and Services, Flink's REST API
for everything else."""

from __future__ import annotations

from airflow_provider_flink_k8s.targets.base import ClusterTarget, TargetName

__all__ = ["STANDALONE", "StandaloneTarget"]


class StandaloneTarget(ClusterTarget):
    """Flink's standalone Kubernetes setup, rendered and deployed by the provider."""

    name: TargetName = "standalone"
    controller = "Kubernetes"
    renders_workloads = True
    reads_status_object = False
    session_jobs_as_objects = False
    uploads_jars = True
    rescales_by_patching = False

    def controls_job(self, mode: str) -> bool:
        """Never: the task stops and savepoints jobs through Flink's REST API."""
        return False

    def session_job_jar(self, jar_uri: str) -> str:
        """The local path of a ``file://`` URI (the worker uploads it).

        :raises ValueError: for a remote URI, which nothing here would fetch.
        """
        if jar_uri.startswith("file://"):
            return jar_uri.removeprefix("file://")
        if "://" in jar_uri:
            raise ValueError(
                f"session_job spec.job.jarURI: the standalone target uploads the jar "
                f"from the Airflow worker; give a file path or file:// URI, not {jar_uri!r}"
            )
        return jar_uri


STANDALONE = StandaloneTarget()
