"""Read a cluster spec from whatever a DAG author has: a model, a dict, YAML/JSON text or a file.

Every refusal is a :class:`~airflow_provider_flink_k8s.exceptions.SpecError` listing each
broken rule as ``field: rule``, whether pydantic or a cross-field check found it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem
from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["SPEC_FILE_SUFFIXES", "load_cluster", "problems_from_validation_error"]

SPEC_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = part
    return path


def problems_from_validation_error(error: ValidationError) -> tuple[SpecProblem, ...]:
    """Turn pydantic's errors into ``field: rule`` problems, unwrapping cross-field ones."""
    problems: list[SpecProblem] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, SpecError):
            problems.extend(cause.problems)
            continue
        field = _field_path(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs/spec.md for the fields)"
        elif item["type"] == "missing":
            message = "required"
        if isinstance(cause, ValueError) and str(cause).startswith(f"{field}."):
            # The models' own messages already name the (nested) field.
            field = ""
        problems.append(SpecProblem(field, message))
    return tuple(problems)


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


def load_cluster(source: FlinkCluster | Mapping[str, Any] | str | os.PathLike[str]) -> FlinkCluster:
    """Return a validated :class:`FlinkCluster` from a model, dict, YAML/JSON text or file.

    :param source: a ``FlinkCluster`` (returned as is), a mapping of its fields, YAML or
        JSON text, or the path of a ``.yaml``/``.yml``/``.json`` file.
    :raises SpecError: listing every problem, each naming the field and the rule.
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
    try:
        return FlinkCluster.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(problems_from_validation_error(exc)) from None
