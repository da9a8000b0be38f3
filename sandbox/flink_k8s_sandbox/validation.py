"""Schema checks: Kubernetes' OpenAPI schemas for built-ins, a CRD's openAPIV3Schema for CRs.

:class:`SchemaValidator.check` returns a :class:`SchemaReport`: the rule violations
(422 Invalid with causes) and, separately, the unknown fields -- those are not errors
but pruned, warned about or refused depending on ``fieldValidation``
(:func:`unknown_field_message`). Built-in schemas come from ``kubernetes_validate``'s
strict JSON schemas, loaded once per kind.
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import referencing

from flink_k8s_sandbox.errors import (
    ApiError,
    ErrorType,
    FieldError,
    bad_request,
    invalid,
    unknown_error,
)
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.rules import semantic_errors

__all__ = [
    "KUBERNETES_SCHEMA_VERSION",
    "SchemaReport",
    "SchemaValidator",
    "builtin_validator",
    "check_object",
    "crd_validator",
    "format_path",
    "prune",
    "unknown_field_message",
]

KUBERNETES_SCHEMA_VERSION = "1.37"

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaReport:
    """What a schema says about one object."""

    errors: tuple[FieldError, ...] = ()
    unknown: tuple[Path, ...] = ()


def format_path(path: Iterable[str | int]) -> str:
    """``("spec", "containers", 0, "name")`` -> ``spec.containers[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def unknown_field_message(unknown: Sequence[Path]) -> str:
    """``strict decoding error: unknown field "spec.foo", unknown field "bar"``."""
    fields = ", ".join(f'unknown field "{format_path(path)}"' for path in unknown)
    return f"strict decoding error: {fields}"


def prune(obj: Any, unknown: Iterable[Path]) -> None:
    """Remove the unknown fields from ``obj`` in place (the server drops them)."""
    for path in unknown:
        parent = obj
        for part in path[:-1]:
            parent = parent[part]
        parent.pop(path[-1], None)


_PY_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _PY_TYPES:
        if isinstance(value, python_type):
            return name
    return "array" if isinstance(value, list) else "object"


def _extra_keys(error: jsonschema.ValidationError) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = set(schema.get("properties", {}))
    return [key for key in error.instance if key not in known]


def _missing_property(error: jsonschema.ValidationError) -> str:
    """The property a ``required`` error is about (jsonschema reports one per property)."""
    message = str(error.message)
    quoted = message.removesuffix(" is a required property")
    try:
        return str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted


def _type_error(path: str, error: jsonschema.ValidationError) -> FieldError:
    expected = error.validator_value
    names = [expected] if isinstance(expected, str) else [t for t in expected if t != "null"]
    actual = _json_type(error.instance)
    detail = f'{path} in body must be of type {" or ".join(names)}: "{actual}"'
    return FieldError(ErrorType.TYPE_INVALID, path, actual, detail)


def _field_errors(error: jsonschema.ValidationError) -> list[FieldError]:
    path = format_path(error.absolute_path)
    kind = error.validator
    if kind == "required":
        prefix = f"{path}." if path else ""
        return [FieldError(ErrorType.REQUIRED, prefix + _missing_property(error))]
    if kind == "type":
        return [_type_error(path, error)]
    if kind == "enum":
        values = ", ".join(json.dumps(v) for v in error.validator_value if v is not None)
        detail = f"supported values: {values}"
        return [FieldError(ErrorType.NOT_SUPPORTED, path, error.instance, detail)]
    details = {
        "minimum": f"should be greater than or equal to {error.validator_value}",
        "maximum": f"should be less than or equal to {error.validator_value}",
        "pattern": f"should match '{error.validator_value}'",
        "minLength": f"should be at least {error.validator_value} chars long",
        "maxLength": f"should be at most {error.validator_value} chars long",
        "minItems": f"should have at least {error.validator_value} items",
        "maxItems": f"should have at most {error.validator_value} items",
    }
    detail = f"{path} in body {details[kind]}" if kind in details else error.message
    return [FieldError(ErrorType.INVALID, path, error.instance, detail)]


class SchemaValidator:
    """A compiled JSON schema that reports errors and unknown fields separately."""

    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def check(self, obj: Mapping[str, Any]) -> SchemaReport:
        errors: list[FieldError] = []
        unknown: list[Path] = []
        for error in self._validator.iter_errors(obj):
            if error.validator == "additionalProperties" and error.validator_value is False:
                base = tuple(error.absolute_path)
                unknown.extend((*base, key) for key in _extra_keys(error))
            else:
                errors.extend(_field_errors(error))
        return SchemaReport(tuple(errors), tuple(sorted(unknown, key=format_path)))


def _schema_file(name: str) -> Any:
    folder = f"v{KUBERNETES_SCHEMA_VERSION}.0-local-strict"
    path = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema" / folder
    with (path / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def _definitions_registry() -> referencing.Registry[Any]:
    definitions = referencing.Resource.from_contents(_schema_file("_definitions.json"))
    return definitions @ referencing.Registry()


@functools.cache
def _builtin(api_version: str, kind: str) -> SchemaValidator | None:
    group, _, version = api_version.rpartition("/")
    prefix = f"-{group.split('.')[0]}" if group else ""
    try:
        schema = _schema_file(f"{kind.lower()}{prefix}-{version}.json")
    except FileNotFoundError:
        return None
    validator = jsonschema.Draft202012Validator(schema, registry=_definitions_registry())
    return SchemaValidator(validator)


def builtin_validator(resource_type: ResourceType) -> SchemaValidator | None:
    """The strict Kubernetes schema of a built-in kind (``None`` when there is none)."""
    return _builtin(resource_type.api_version, resource_type.kind)


_DROPPED = {"format", "nullable", "default", "description", "example", "externalDocs"}
_ROOT_FIELDS = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}}


def _json_schema(node: Any) -> Any:
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {name: _json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _json_schema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [_json_schema(sub) for sub in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if node.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {}).update(_ROOT_FIELDS, metadata={"type": "object"})
    if (
        node.get("type") == "object"
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def crd_validator(open_api_v3_schema: Mapping[str, Any]) -> SchemaValidator:
    """A validator for custom resources of one CRD version.

    ``metadata``, ``apiVersion`` and ``kind`` are the server's to check, so the root
    accepts them whatever the schema says; unknown fields elsewhere are reported as
    unknown (to be pruned), as a structural schema prunes them.
    """
    schema = _json_schema(open_api_v3_schema)
    schema.setdefault("properties", {}).update(_ROOT_FIELDS, metadata={"type": "object"})
    schema.setdefault("type", "object")
    if not open_api_v3_schema.get("x-kubernetes-preserve-unknown-fields"):
        schema["additionalProperties"] = False
    return SchemaValidator(jsonschema.Draft7Validator(schema))


def _validator_for(resource_type: ResourceType) -> SchemaValidator | None:
    if resource_type.custom:
        checker: SchemaValidator | None = resource_type.validator
        return checker
    return builtin_validator(resource_type)


def _strict_failure(
    resource_type: ResourceType, obj: Mapping[str, Any], unknown: Sequence[Path], origin: str
) -> ApiError:
    message = unknown_field_message(unknown)
    if origin == "patch":
        patched = json.dumps(obj, separators=(",", ":"))
        error = FieldError(ErrorType.INVALID, "patch", patched, message)
        return invalid("", "", "", [error])
    kind, version = resource_type.kind, resource_type.version
    return bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {message}')


def _apply_failure(resource_type: ResourceType, unknown: Sequence[Path]) -> ApiError:
    gvk = f"{resource_type.group}/{resource_type.version}, Kind={resource_type.kind}"
    fields = ", ".join(f".{format_path(path)}: field not declared in schema" for path in unknown)
    return unknown_error(f"failed to create typed patch object ({gvk}): {fields}")


def check_object(
    resource_type: ResourceType,
    obj: dict[str, Any],
    field_validation: str,
    origin: str,
    found: Sequence[FieldError] = (),
) -> tuple[str, ...]:
    """Validate a write; prune unknown fields; return the warnings to send.

    :param field_validation: ``Strict`` (unknown fields refused), ``Warn`` or ``Ignore``.
    :param origin: ``body`` (refusal is 400), ``patch`` (422 on ``patch``) or ``apply``
        (server-side apply cannot hold undeclared fields: 500, as the real server).
    :raises ApiError: 422 Invalid listing every violation, or the strict refusal.
    """
    checker = _validator_for(resource_type)
    report = checker.check(obj) if checker is not None else SchemaReport()
    problems = [*found, *report.errors, *semantic_errors(resource_type, obj)]
    if problems:
        name = str(obj.get("metadata", {}).get("name", ""))
        raise invalid(resource_type.group, resource_type.kind, name, problems)
    if not report.unknown:
        return ()
    if origin == "apply" and not resource_type.custom:
        raise _apply_failure(resource_type, report.unknown)
    if field_validation == "Strict":
        raise _strict_failure(resource_type, obj, report.unknown, origin)
    prune(obj, report.unknown)
    if field_validation == "Ignore":
        return ()
    return tuple(f'unknown field "{format_path(path)}"' for path in report.unknown)
