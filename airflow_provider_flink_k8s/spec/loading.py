"""Read a cluster spec from whatever a DAG author has: a model, a dict, YAML/JSON text or a file.

Any of them may also hold a Flink Kubernetes Operator ``FlinkDeployment`` instead of a
spec (told apart by its ``apiVersion``/``kind``), so a manifest written for the operator,
or for the official Airflow provider's ``application_file``, works unchanged.

Every refusal is a :class:`~airflow_provider_flink_k8s.exceptions.SpecError` listing each
broken rule as ``field: rule``, whether pydantic or a cross-field check found it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem
from airflow_provider_flink_k8s.spec.cluster import FlinkCluster
from airflow_provider_flink_k8s.spec.flinkdeployment import (
    is_operator_manifest,
    read_flink_deployment,
)
from airflow_provider_flink_k8s.spec.problems import problems_from_validation_error

__all__ = [
    "SPEC_FILE_SUFFIXES",
    "load_cluster",
    "load_document",
    "problems_from_validation_error",
]

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def _read_text(source: str | os.PathLike[str]) -> tuple[Any, str]:
    """Parse a path's contents, or the text itself; return (document, where it came from)."""
    text = os.fspath(source)
    path = Path(text)
    looks_like_path = "\n" not in text and text.strip().endswith(SPEC_FILE_SUFFIXES)
    if isinstance(source, os.PathLike) or looks_like_path:
        if not path.is_file():
            raise SpecError([SpecProblem("", f"spec file {text!r} does not exist")])
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        origin = "spec text"
    try:
        return yaml.safe_load(text), origin
    except yaml.YAMLError as exc:
        raise SpecError([SpecProblem("", f"{origin} is not valid YAML/JSON: {exc}")]) from None


def load_document(source: Mapping[str, Any] | str | os.PathLike[str]) -> Any:
    """A mapping as is; YAML or JSON text, or a ``.yaml``/``.yml``/``.json`` file, parsed.

    :raises SpecError: when the file does not exist or the text does not parse.
    """
    if isinstance(source, Mapping):
        return source
    return _read_text(source)[0]


def load_cluster(
    source: FlinkCluster | Mapping[str, Any] | str | os.PathLike[str],
    *,
    target: Literal["standalone", "operator"] | None = None,
) -> FlinkCluster:
    """Return a validated :class:`FlinkCluster` from a model, dict, YAML/JSON text or file.

    :param source: a ``FlinkCluster`` (returned as is), a mapping of its fields, YAML or
        JSON text, or the path of a ``.yaml``/``.yml``/``.json`` file. A mapping, text or
        file holding a ``FlinkDeployment`` (``apiVersion: flink.apache.org/v1beta1``) is
        read with :meth:`FlinkCluster.from_flink_deployment`.
    :param target: the target to validate and render for, replacing the spec's own
        (a FlinkDeployment defaults to ``operator``); ignored for a ``FlinkCluster``.
    :raises SpecError: listing every problem, each naming the field and the rule (for a
        FlinkDeployment, its own field: ``spec.jobManager.resource.memory``).
    """
    if isinstance(source, FlinkCluster):
        return source
    origin = "spec"
    data: Any = source
    if isinstance(source, (str, os.PathLike)):
        data, origin = _read_text(source)
    if not isinstance(data, Mapping):
        raise SpecError(
            [
                SpecProblem(
                    "", f"{origin} must be a mapping of cluster fields, not {type(data).__name__}"
                )
            ]
        )
    if is_operator_manifest(data):
        return read_flink_deployment(data, target=target or "operator")
    fields = dict(data) if target is None else {**data, "target": target}
    return FlinkCluster.model_validate(fields)
