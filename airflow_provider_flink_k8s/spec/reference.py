"""The spec reference (``docs/spec.md``), generated from the models' own field docs.

The models are the single source of truth: each field's docstring becomes its
description here, and a test fails when ``docs/spec.md`` falls behind. Regenerate with
``python -m airflow_provider_flink_k8s.spec.reference > docs/spec.md``.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from airflow_provider_flink_k8s.spec.cluster import FlinkCluster

__all__ = ["render_reference"]

_INTRO = """\
# Cluster spec reference

A `FlinkCluster` is what a DAG author writes: as keyword arguments, a dict, or a YAML/JSON
file. However it is given, a bad spec raises one `SpecError` (importable from
`airflow_provider_flink_k8s.spec` and `airflow_provider_flink_k8s.exceptions`) listing every
problem at once, each naming the field and the rule; an unknown field is told the closest
valid name and the valid ones. Memory values use Flink's syntax (`"1600m"` = 1600 MiB,
`"4g"`) or Kubernetes quantities (`"2Gi"`); a bare number is bytes and must be at least
1 MiB; `"2G"`, `"2GB"` or `"2000M"` are read as Flink reads them (2 GiB, 2000 MiB) with a
`SpecWarning` saying so. CPU is cores (`0.5`) or millicores (`"500m"`).

A Flink Kubernetes Operator `FlinkDeployment` (`flink.apache.org/v1beta1`) works too, as a
dict, text or file given to `load_cluster`, or through `FlinkCluster.from_flink_deployment`:
its fields map onto the spec's, and what the spec has no field for is kept in
[`operator`](#operatorspec), so rendering it for the operator gives the same FlinkDeployment.
Its memory values, in `resource` and `resources.requests`/`limits` alike, are read as the
operator reads them: Flink's syntax first (`2048m` is 2048 MiB, `2G` 2 GiB), a Kubernetes
quantity only when Flink refuses it (`2Gi`, `2048mi`).

This page is generated from the models (`airflow_provider_flink_k8s/spec/cluster.py`).
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(arg) for arg in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(see below)"
        return f"`{json.dumps(value)}`"
    if field.default is PydanticUndefined:
        return "**required**"
    return f"`{json.dumps(field.default)}`"


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """The model and every nested model, in order of first appearance."""
    found = [model]
    for field in model.model_fields.values():
        for candidate in _nested(field.annotation):
            if candidate not in found:
                found += [m for m in _models(candidate) if m not in found]
    return found


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _nested(arg)]


def _section(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
    lines = [
        f"## {model.__name__}",
        "",
        doc,
        "",
        "| field | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in model.model_fields.items():
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(
            f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | {description} |"
        )
    return "\n".join(lines) + "\n"


def render_reference() -> str:
    """The Markdown reference of every spec model and field."""
    return _INTRO + "\n" + "\n".join(_section(model) for model in _models(FlinkCluster))


if __name__ == "__main__":
    print(render_reference(), end="")
