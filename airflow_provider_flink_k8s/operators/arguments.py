"""The rules of the tasks' arguments: each written once, checked when its value is known.

A literal argument is checked when the task is created, so a bad value fails the DAG
file's import (Airflow lists it among the import errors); a templated one -- a string
with Jinja (``{{``, ``{%``), a ``.yaml``/``.yml``/``.json`` file, an XCom value such as
``deploy.output`` -- once it is rendered, by the same function, with the same message
(:meth:`~.base.FlinkClusterMixin.check_arguments` runs them at both times).

Every rule raises :class:`ArgumentError` (a :class:`SpecError`, a ``ValueError``) whose
message starts with the argument's name, or :class:`SpecError` naming the field of a spec
and its rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from airflow.sdk.definitions._internal.mixins import ResolveMixin

from airflow_provider_flink_k8s.exceptions import ArgumentError, SpecError, SpecProblem
from airflow_provider_flink_k8s.observation.job import job_states as observed_job_states
from airflow_provider_flink_k8s.resources.rescaling import STRATEGIES, parse_parallelism
from airflow_provider_flink_k8s.targets import target_of

__all__ = [
    "FLINK_DEPLOYMENT_API",
    "REST_ROUTES",
    "ArgumentError",
    "check_flink_deployment_api",
    "check_jar",
    "check_kube_options",
    "check_rest_route",
    "check_seconds",
    "flink_job_id",
    "is_template_file",
    "is_templated",
    "job_parallelism",
    "job_states",
    "program_args",
    "rescale_parallelism",
    "rescale_strategy",
]

REST_ROUTES = ("auto", "cluster_dns", "service_proxy")
"""The values of ``rest_route``."""
FLINK_DEPLOYMENT_API = {
    "api_group": "flink.apache.org",
    "api_version": "v1beta1",
    "plural": "flinkdeployments",
}
"""The FlinkDeployment API the official provider's ``api_group``/``api_version``/``plural``
name by default: the one the provider reads and writes."""
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_JINJA = ("{{", "{%", "{#")


# -- what is known before rendering -------------------------------------------------------


def is_templated(value: Any) -> bool:
    """Whether ``value`` is only known once rendered: a string with Jinja, an XCom value
    (``task.output``), or a mapping or list holding one."""
    if isinstance(value, str):
        return any(marker in value for marker in _JINJA)
    if isinstance(value, ResolveMixin):
        return True
    if isinstance(value, Mapping):
        return any(is_templated(key) or is_templated(item) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(is_templated(item) for item in value)
    return False


def is_template_file(value: Any, extensions: Sequence[str]) -> bool:
    """Whether Airflow renders ``value`` as a template file (a one-line string ending with
    one of ``extensions``): its content is only known once rendered."""
    return (
        isinstance(value, str) and "\n" not in value and value.strip().endswith(tuple(extensions))
    )


def literal(value: Any, extensions: Sequence[str] = ()) -> bool:
    """Whether ``value`` is what the task will use (neither templated nor a template file)."""
    return not is_templated(value) and not is_template_file(value, extensions)


# -- rules --------------------------------------------------------------------------------


def check_seconds(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A duration in seconds: a number > 0 (>= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(name, f"{name} must be a number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ArgumentError(name, f"{name} must be {bound} seconds, not {value}")
    return float(value)


def check_rest_route(value: Any) -> Literal["auto", "cluster_dns", "service_proxy"]:
    """``rest_route``: how the REST Service is reached."""
    if value == "auto" or value == "cluster_dns" or value == "service_proxy":
        return value  # type: ignore[no-any-return]
    raise ArgumentError(
        "rest_route", f"rest_route must be one of {', '.join(REST_ROUTES)}, not {value!r}"
    )


def check_kube_options(
    *, config_file: Any, cluster_context: Any, in_cluster: Any
) -> dict[str, Any]:
    """``config_file``, ``cluster_context``, ``in_cluster`` (cncf.kubernetes' meaning: each
    overrides the connection's); the ones given, as hook keyword arguments."""
    for name, value in (("config_file", config_file), ("cluster_context", cluster_context)):
        if value is not None and not (isinstance(value, str) and value.strip()):
            raise ArgumentError(name, f"{name} must be a non-empty string, not {value!r}")
    if in_cluster is not None and not isinstance(in_cluster, bool):
        raise ArgumentError(
            "in_cluster", f"in_cluster must be True, False or None, not {in_cluster!r}"
        )
    given = {
        "config_file": config_file,
        "cluster_context": cluster_context,
        "in_cluster": in_cluster,
    }
    return {name: value for name, value in given.items() if value is not None}


def check_flink_deployment_api(**given: Any) -> None:
    """The official provider's ``api_group``, ``api_version``, ``plural``: accepted when they
    name the FlinkDeployment API (the only one the provider deploys and watches)."""
    for name, value in given.items():
        expected = FLINK_DEPLOYMENT_API[name]
        if value != expected:
            raise ArgumentError(
                name,
                f"{name} must be {expected!r} (the FlinkDeployment API "
                f"flink.apache.org/v1beta1 flinkdeployments, the one this provider "
                f"deploys and watches), not {value!r}",
            )


def job_states(name: str, value: Any) -> tuple[str, ...]:
    """Flink job states (one, or a list), upper-cased: the rule of
    :func:`~airflow_provider_flink_k8s.observation.job.job_states`, on argument ``name``."""
    try:
        return observed_job_states(value, field=name)
    except ValueError as error:
        raise ArgumentError(name, str(error)) from None


def flink_job_id(value: Any) -> str | None:
    """``job_id``: 32 hex digits, or empty (``None``: the cluster's job)."""
    if value is None or value == "":
        return None
    if not (isinstance(value, str) and _JOB_ID.fullmatch(value)):
        raise ArgumentError(
            "job_id", f"job_id must be a Flink job id (32 hex digits), not {value!r}"
        )
    return value


def job_parallelism(value: Any) -> int | None:
    """A submitted job's ``parallelism``: a whole number >= 1 (digits too); empty: ``None``."""
    if value is None or value == "":
        return None
    whole = f"parallelism must be a whole number, not {value!r}"
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ArgumentError("parallelism", whole)
    try:
        parallelism = int(value)
    except (TypeError, ValueError):
        raise ArgumentError("parallelism", whole) from None
    if parallelism < 1:
        raise ArgumentError("parallelism", f"parallelism must be at least 1, not {value}")
    return parallelism


def rescale_parallelism(value: Any) -> int | Literal["auto"]:
    """A rescale's ``parallelism``: a whole number >= 1 or ``"auto"`` (``SpecError``)."""
    return parse_parallelism(value)


def rescale_strategy(value: Any) -> str:
    """A rescale's ``strategy``: one of :data:`STRATEGIES` (``SpecError``)."""
    if value not in STRATEGIES:
        rule = f"must be one of {', '.join(STRATEGIES)}, got {value!r}"
        raise SpecError([SpecProblem("strategy", rule)], subject="rescale request")
    return str(value)


def program_args(value: Any) -> list[str]:
    """A job's ``args``: a list of strings (``None``: none). A string is refused: it would
    be one argument, or split where Flink would not."""
    if value is None:
        return []
    if isinstance(value, str):
        raise ArgumentError(
            "args", f"args must be a list of strings (one per argument), not the string {value!r}"
        )
    if not isinstance(value, Sequence):
        raise ArgumentError("args", f"args must be a list of strings, not {value!r}")
    return [str(arg) for arg in value]


def is_uri(value: str) -> bool:
    """Whether a jar is given as a URI (``https://``, ``local://``...) rather than a path."""
    return "://" in value


def check_jar(jar: Any, jar_id: Any, target: str | None) -> None:
    """``jar`` and ``jar_id`` of a submitted job, for a cluster of ``target`` (``None``:
    not known yet -- then only what holds for every target)."""
    jar, jar_id = jar or None, jar_id or None
    if jar and jar_id:
        raise ArgumentError(
            "jar",
            "jar and jar_id must not both be given: jar is a file to upload, jar_id an "
            "uploaded jar",
        )
    if not jar and not jar_id:
        raise ArgumentError("jar", "jar is required: a jar file to upload, or give jar_id")
    known = target_of(target) if target is not None else None
    broken = known.jar_rule(jar=jar, jar_id=jar_id) if known is not None else None
    if broken is not None:
        raise ArgumentError(*broken)
    # A jar the worker uploads must be a file here; an unknown target may still take a URI.
    uploads = known.uploads_jars if known is not None else not is_uri(str(jar or ""))
    if jar and uploads and not Path(str(jar)).is_file():
        raise ArgumentError("jar", f"jar: no such file {jar!r} on the Airflow worker")
