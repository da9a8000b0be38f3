"""The Kubernetes JSON form of a Kubernetes protobuf message, both ways (pure).

Generic over message descriptors, with the few rules where Kubernetes' JSON is not
protobuf's JSON mapping (so ``json_format`` is not used):

* int64/uint64 are JSON numbers, ``bytes`` base64, maps stay objects;
* a field is present only when the message has it (proto2 presence), and a scalar
  holding its zero value is left out unless Go's JSON would keep it: Go writes every
  non-pointer field to protobuf, so an empty string there means "unset", as
  ``omitempty`` does in JSON (``gen.gofields.KEEP_ZERO`` lists the exceptions,
  read from the Go types);
* messages Go embeds inline (``Volume``'s ``VolumeSource``, ``Probe``'s handler) are
  flattened into their parent (``gen.gofields.INLINE``), and the few JSON names
  that differ from the protobuf names are renamed (``gen.gofields.JSON_NAMES``);
* the apimachinery types with their own JSON form: ``resource.Quantity`` (a string),
  ``intstr.IntOrString`` (an int or a string), ``metav1.Time`` / ``MicroTime`` (RFC 3339,
  absent when zero), ``metav1.Duration`` (Go's duration string), ``runtime.RawExtension``
  and ``metav1.FieldsV1`` (embedded JSON), and Go named slices (``metav1.Verbs``,
  ``ExtraValue``: a message whose only field is ``repeated items``) as JSON arrays.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from flink_k8s_sandbox.protobuf.gen.gofields import INLINE, JSON_NAMES, KEEP_ZERO

__all__ = ["from_json", "to_json"]

_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# Descriptors as the runtime hands them out: the stubs type them as the union of the
# pure-Python and upb classes, which share the attributes used here.
Descriptor = Any
Field = Any
_ABSENT = object()
"""What a special type's JSON form is when the Go value marshals to ``null`` (zero Time)."""


@dataclass(frozen=True)
class _Special:
    """A message type whose JSON form is not an object of its fields."""

    to_json: Callable[[Any], Any]
    from_json: Callable[[Any, Any], None]
    is_zero: Callable[[Any], bool] = lambda message: False
    """Whether a value is Go's zero value, which the server reads as unset."""


def _quantity_from(value: Any, message: Any) -> None:
    message.string = str(value)


def _int_or_string_to(message: Any) -> Any:
    return message.strVal if message.type == 1 else message.intVal


def _int_or_string_from(value: Any, message: Any) -> None:
    if isinstance(value, str):
        message.type, message.strVal = 1, value
    else:
        message.type, message.intVal = 0, int(value)


def _time_to(fraction: bool) -> Callable[[Any], Any]:
    # metav1.Time marshals as null (absent here) when zero; protobuf sends an empty message.
    def convert(message: Any) -> Any:
        if not message.HasField("seconds") and not message.HasField("nanos"):
            return _ABSENT
        when = datetime.fromtimestamp(message.seconds, timezone.utc)
        if not fraction:  # Time is whole seconds on the wire, as in its JSON.
            return when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{message.nanos // 1000:06d}Z"

    return convert


def _time_from(value: Any, message: Any) -> None:
    text = str(value).replace("Z", "+00:00")
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    message.seconds = int(when.timestamp() // 1)
    message.nanos = when.microsecond * 1000


_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_GO_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_GO_UNIT_NS["h"] = 60 * _GO_UNIT_NS["m"]


def _decimal(value: int, unit: int) -> str:
    """``value / unit`` as Go prints it: no trailing zeros, no point when whole."""
    whole, fraction = divmod(value, unit)
    digits = f"{fraction:0{len(str(unit)) - 1}d}".rstrip("0") if unit > 1 else ""
    return f"{whole}.{digits}" if digits else str(whole)


def _duration_to(message: Any) -> str:
    """Go's ``time.Duration.String``: ``1h0m0s``, ``1m30.5s``, ``500ms``, ``0s``."""
    nanos = int(message.duration)
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    if nanos < 10**9:
        unit = "ns" if nanos < 10**3 else "µs" if nanos < 10**6 else "ms"
        return f"{sign}{_decimal(nanos, _GO_UNIT_NS[unit])}{unit}"
    hours, rest = divmod(nanos, _GO_UNIT_NS["h"])
    minutes, rest = divmod(rest, _GO_UNIT_NS["m"])
    text = f"{_decimal(rest, 10**9)}s"
    if hours or minutes:
        text = f"{minutes}m{text}"
    return f"{sign}{hours}h{text}" if hours else f"{sign}{text}"


def _duration_from(value: Any, message: Any) -> None:
    text = str(value)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body == "0":
        message.duration = 0
        return
    parts = _GO_DURATION.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    message.duration = sign * round(sum(float(n) * _GO_UNIT_NS[u] for n, u in parts))


def _raw_to(field: str) -> Callable[[Any], Any]:
    def convert(message: Any) -> Any:
        raw = getattr(message, field)
        return json.loads(raw) if raw else _ABSENT

    return convert


def _raw_from(field: str) -> Callable[[Any, Any], None]:
    def convert(value: Any, message: Any) -> None:
        setattr(message, field, json.dumps(value, separators=(",", ":")).encode())

    return convert


_SPECIAL: dict[str, _Special] = {
    "k8s.io.apimachinery.pkg.api.resource.Quantity": _Special(
        lambda m: m.string or "0", _quantity_from
    ),
    # A zero IntOrString in a non-pointer field (a Service's targetPort) is unset to the
    # server, which defaults it: left out, so the sandbox's defaulting sees it missing.
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": _Special(
        _int_or_string_to,
        _int_or_string_from,
        lambda m: m.type == 0 and m.intVal == 0,
    ),
    _META + "Time": _Special(_time_to(fraction=False), _time_from),
    _META + "MicroTime": _Special(_time_to(fraction=True), _time_from),
    _META + "Duration": _Special(_duration_to, _duration_from),
    _META + "FieldsV1": _Special(_raw_to("Raw"), _raw_from("Raw")),
    "k8s.io.apimachinery.pkg.runtime.RawExtension": _Special(_raw_to("raw"), _raw_from("raw")),
}


def _is_named_slice(descriptor: Descriptor) -> bool:
    """Go's ``type Verbs []string``: a message whose one field is ``repeated items``."""
    fields = descriptor.fields
    return len(fields) == 1 and fields[0].name == "items" and _repeated(fields[0])


def _repeated(field: Field) -> bool:
    return bool(field.is_repeated)


def _is_map(field: Field) -> bool:
    message = field.message_type
    return message is not None and bool(message.GetOptions().map_entry)


def _map_value(field: Field) -> Field:
    """The ``value`` field of a map field's entry message."""
    return field.message_type.fields_by_name["value"]


# -- protobuf -> JSON ---------------------------------------------------------------


def to_json(message: Message) -> Any:
    """The Kubernetes JSON form of ``message`` (an object, or a special type's scalar).

    A zero ``Time`` or empty ``RawExtension`` gives an internal "absent" marker only
    below the top level; callers get objects.
    """
    descriptor = message.DESCRIPTOR
    special = _SPECIAL.get(descriptor.full_name)
    if special is not None:
        return special.to_json(message)
    if _is_named_slice(descriptor):
        return list(getattr(message, "items"))  # noqa: B009 -- a field, not dict.items
    name = descriptor.full_name
    inline, keep = INLINE.get(name, frozenset()), KEEP_ZERO.get(name, frozenset())
    renames = JSON_NAMES.get(name, {})
    result: dict[str, Any] = {}
    for field, value in message.ListFields():
        if field.name in inline:
            result.update(to_json(value))
            continue
        if _is_map(field):
            value_field = _map_value(field)
            converted: Any = {key: _value_to(value_field, item) for key, item in value.items()}
        elif _repeated(field):
            converted = [_value_to(field, item) for item in value]
        elif field.name not in keep and _is_zero(field, value):
            continue  # Go's non-pointer zero value: unset, as omitempty leaves it out
        else:
            converted = _value_to(field, value)
        if converted is not _ABSENT:
            result[renames.get(field.name, field.name)] = converted
    return result


def _is_zero(field: Field, value: Any) -> bool:
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return not value
    special = _SPECIAL.get(field.message_type.full_name)
    return special is not None and special.is_zero(value)


def _value_to(field: Field, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return to_json(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    return value


# -- JSON -> protobuf ---------------------------------------------------------------


def from_json(value: Any, message: Message) -> None:
    """Fill ``message`` from its Kubernetes JSON form ``value``; unknown keys are skipped.

    :raises ValueError: (or ``TypeError``) for a value of the wrong type.
    """
    descriptor = message.DESCRIPTOR
    special = _SPECIAL.get(descriptor.full_name)
    if special is not None:
        special.from_json(value, message)
        return
    if _is_named_slice(descriptor):
        getattr(message, "items").extend(str(item) for item in value)  # noqa: B009
        return
    if not isinstance(value, dict):
        raise TypeError(f"{descriptor.name} must be an object, not {type(value).__name__}")
    name = descriptor.full_name
    renames = JSON_NAMES.get(name, {})
    by_json = {renames.get(f.name, f.name): f for f in descriptor.fields}
    for field_name in INLINE.get(name, frozenset()):
        from_json(value, getattr(message, field_name))
    for key, item in value.items():
        field = by_json.get(key)
        if field is None or item is None or field.name in INLINE.get(name, ()):
            continue
        target = getattr(message, field.name)
        if _is_map(field):
            value_field = _map_value(field)
            for map_key, map_value in item.items():
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    from_json(map_value, target[map_key])
                else:
                    target[map_key] = _scalar_from(value_field, map_value)
        elif _repeated(field):
            for element in item:
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    from_json(element, target.add())
                else:
                    target.append(_scalar_from(field, element))
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            target.SetInParent()  # an empty object is present, as {} is in JSON
            from_json(item, target)
        else:
            setattr(message, field.name, _scalar_from(field, item))


_INTS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}


def _scalar_from(field: Field, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_BYTES:
        return base64.b64decode(value)
    if field.type in _INTS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{field.name} must be an integer, not {value!r}")
        return int(value)
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return float(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise TypeError(f"{field.name} must be a boolean, not {value!r}")
        return value
    if not isinstance(value, str):
        raise TypeError(f"{field.name} must be a string, not {value!r}")
    return value
