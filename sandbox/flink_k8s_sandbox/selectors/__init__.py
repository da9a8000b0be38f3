"""Label and field selectors as the API server parses and matches them (pure).

Label selectors (:mod:`.labels`) follow apimachinery ``pkg/labels/selector.go``: the same
lexer, the same parser (``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``,
``k``, ``!k``, ``k>5``, ``k<5``; comma is AND; blanks are skipped) and the same error
wording (:mod:`.validation`), which the server returns as a 400 BadRequest. Requirements
are kept sorted by key, as Kubernetes sorts them, so ``str()`` of a
:class:`.labels.LabelSelector` prints what ``kubectl`` and a Scale's ``status.selector``
show.

Field selectors (:mod:`.fields`) follow ``pkg/fields/selector.go``: only ``=``, ``==`` and
``!=``, terms split on unescaped commas, values unescaped (``\\,``, ``\\=``, ``\\\\``), no
blank trimming. A label the kind does not support is refused with the wording of the
kind's field-label conversion function (``field label not supported: <f>`` for most kinds).
"""

from __future__ import annotations

from flink_k8s_sandbox.selectors.errors import SelectorError
from flink_k8s_sandbox.selectors.fields import (
    FieldRequirement,
    FieldSelector,
    default_field_selectors,
    parse_field_selector,
)
from flink_k8s_sandbox.selectors.labels import (
    LabelRequirement,
    LabelSelector,
    format_label_selector,
    label_selector_from_dict,
    parse_label_selector,
)

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelRequirement",
    "LabelSelector",
    "SelectorError",
    "default_field_selectors",
    "format_label_selector",
    "label_selector_from_dict",
    "parse_field_selector",
    "parse_label_selector",
]
