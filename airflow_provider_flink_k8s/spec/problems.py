"""Turning pydantic's validation errors into the provider's ``field: rule`` problems.

pydantic checks a model's own rule between fields (an ``after`` model validator) only
once every field is valid, so one round would report a broken field and hide, say, a
missing job. :func:`all_problems` validates again with the broken fields left out and
adds what the rules between fields find then; a rule reading a broken field is skipped
(it learns which through the validation context, :data:`BROKEN_FIELDS`), so no problem
is reported about a value the author did not write.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from airflow_provider_flink_k8s.exceptions import SpecError, SpecProblem

__all__ = [
    "BROKEN_FIELDS",
    "all_problems",
    "fields_overlap",
    "problems_from_validation_error",
    "unknown_field_rule",
]

BROKEN_FIELDS = "broken_fields"
"""Validation-context key: the dotted paths of fields left out because they are broken;
a rule between fields that reads one of them is not checked."""

# A second round can only leave out more fields; the models nest three deep.
_MAX_ROUNDS = 4


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


def fields_overlap(field: str, other: str) -> bool:
    """Whether one dotted field path is, holds or lies in the other
    (``job`` and ``job.jar_uri``; ``labels['app']`` and ``labels``)."""
    first, second = field.split("[")[0], other.split("[")[0]
    return first == second or first.startswith(f"{second}.") or second.startswith(f"{first}.")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (``JobSpec | None`` -> ``JobSpec``), if any."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _model_at(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The nested model whose field ``loc`` leads to (``("taskmanager",)`` ->
    ``TaskManagerSpec``); ``None`` when the path leaves the models."""
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _model_of(model.model_fields[part].annotation)
    return model


def unknown_field_rule(name: str, valid: Iterable[str], what: str = "field") -> str:
    """The rule an unknown field breaks: the closest valid name, if one is close, and the
    valid names (``unknown field; did you mean 'taskmanager'? Valid fields: ...``).

    :param what: what the field is called (``FlinkDeployment field``).
    """
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=1)
    listed = ", ".join(names)
    if close:
        return f"unknown {what}; did you mean {close[0]!r}? Valid fields: {listed}"
    return f"unknown {what}; valid fields: {listed}"


def _unknown_field(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str:
    owner = _model_at(model, loc[:-1])
    if owner is None:
        return "unknown field (check the spelling; see docs/spec.md for the fields)"
    return unknown_field_rule(str(loc[-1]), owner.model_fields)


def problems_from_validation_error(
    error: ValidationError, model: type[BaseModel] | None = None
) -> tuple[SpecProblem, ...]:
    """Turn pydantic's errors into ``field: rule`` problems, unwrapping cross-field ones.

    :param model: the model validated; with it an unknown field is told the closest valid
        name and the valid ones.
    """
    problems: list[SpecProblem] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, SpecError):
            problems.extend(cause.problems)
            continue
        field = _field_path(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = _unknown_field(model, item["loc"])
        elif item["type"] == "missing":
            message = "required"
        if isinstance(cause, ValueError) and str(cause).startswith(f"{field}."):
            # The models' own messages already name the (nested) field.
            field = ""
        problems.append(SpecProblem(field, message))
    return tuple(problems)


def _broken_locs(error: ValidationError) -> list[tuple[int | str, ...]]:
    """Where the field errors are, cut at the first list index or mapping key below a
    model (the whole list or mapping is left out)."""
    locs = []
    for item in error.errors():
        if isinstance((item.get("ctx") or {}).get("error"), SpecError):
            continue
        loc: tuple[int | str, ...] = ()
        for part in item["loc"]:
            if isinstance(part, int):
                break
            loc += (part,)
        locs.append(loc)
    return locs


def _without(data: Any, loc: tuple[int | str, ...]) -> None:
    """Remove ``loc`` from nested mappings in place, if it is there."""
    node = data
    for part in loc[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(loc[-1], None)


def _as_dicts(data: Any) -> Any:
    """A deep copy with every mapping a dict, so fields can be left out."""
    if isinstance(data, Mapping):
        return {key: _as_dicts(value) for key, value in data.items()}
    return copy.deepcopy(data)


def all_problems(
    model: type[BaseModel],
    data: Any,
    error: ValidationError,
    *,
    context: Mapping[str, Any] | None = None,
    stand_ins: Mapping[str, Any] | None = None,
) -> tuple[SpecProblem, ...]:
    """Every problem of ``data``: ``error``'s, then those of the rules between fields.

    :param model: the model ``data`` was validated as.
    :param error: what that validation raised.
    :param context: the validation context it had.
    :param stand_ins: values for required top-level fields, used when one of them is
        broken (it cannot just be left out); the rules reading it are skipped all the same.
    """
    problems = list(problems_from_validation_error(error, model))
    broken = _broken_locs(error)
    if not isinstance(data, Mapping) or not broken or len(broken) < len(error.errors()):
        # Not a mapping to leave fields out of, or the rules between fields already ran.
        return tuple(problems)
    pruned = _as_dicts(data)
    for _ in range(_MAX_ROUNDS):
        for loc in broken:
            if len(loc) == 1 and isinstance(loc[0], str) and loc[0] in (stand_ins or {}):
                pruned[loc[0]] = (stand_ins or {})[loc[0]]
            elif loc:
                _without(pruned, loc)
        paths = tuple(_field_path(loc) for loc in broken)
        try:
            model.__pydantic_validator__.validate_python(
                pruned, context={**(context or {}), BROKEN_FIELDS: paths}
            )
        except ValidationError as again:
            more = _broken_locs(again)
            if not more:
                problems.extend(problems_from_validation_error(again, model))
                break
            # A required field left out is missing now: leave out what holds it.
            stuck = [loc for loc in more if loc in broken]
            if any(len(loc) <= 1 for loc in stuck):
                break  # a top-level field nothing can stand in for: no rule can run
            broken += [loc[:-1] if loc in broken else loc for loc in more]
        else:
            break
    return tuple(problems)
