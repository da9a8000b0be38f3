"""Turning pydantic's validation errors into the provider's ``field: rule`` problems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["problems_from_validation_error"]


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
