"""Merging a user's PodTemplateSpec into the pod the provider generates.

The rules follow Kubernetes' strategic merge (and the Flink Kubernetes Operator, whose
pod templates users already know):

* mappings merge key by key, the user's value winning; ``null`` removes a key;
* lists of named things merge item by item by their merge key -- containers (by
  ``name``, so the Flink container is ``flink-main-container``), volumes, env, ports,
  volume mounts (by ``mountPath``), image pull secrets, host aliases; new items are
  appended after the generated ones, so the Flink container stays first;
* a container is merged field by field, but an env var, volume, port or mount the user
  names again replaces the generated one whole: its fields are alternatives (``value``
  or ``valueFrom``, ``configMap`` or ``emptyDir``) that must not be mixed;
* any other list (``tolerations``, ``args``...) is the user's when given;
* labels and annotations merge, then the provider's own labels are laid over them, so
  selectors keep matching whatever a template says.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAIN_CONTAINER", "merge_objects", "merge_pod_templates"]

MAIN_CONTAINER = "flink-main-container"
"""Name of the Flink container, in generated pods and in user templates alike."""

# List fields merged item by item, and the item field that identifies an item.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "ports": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "resourceClaims": "name",
}
# Of those, the lists whose items are replaced whole rather than merged field by field.
_REPLACED_ITEMS = frozenset(_MERGE_KEYS) - {"containers", "initContainers", "ephemeralContainers"}

# A PodTemplateSpec has only metadata and spec; these may appear in user templates copied
# from Pod manifests and mean nothing here.
_IGNORED_TEMPLATE_KEYS = ("apiVersion", "kind")


def _merge_list(field: str, base: list[Any], overlay: list[Any]) -> list[Any]:
    key = _MERGE_KEYS[field]
    merged = [copy.deepcopy(item) for item in base]
    for item in overlay:
        ident = item.get(key) if isinstance(item, dict) else None
        match = next(
            (
                index
                for index, existing in enumerate(merged)
                if ident is not None and isinstance(existing, dict) and existing.get(key) == ident
            ),
            None,
        )
        if match is None:
            merged.append(copy.deepcopy(item))
        elif field in _REPLACED_ITEMS:
            merged[match] = copy.deepcopy(item)
        else:
            merged[match] = merge_objects(merged[match], item)
    return merged


def merge_objects(base: Any, overlay: Any, field: str = "") -> Any:
    """Merge ``overlay`` into ``base`` by the module's rules; neither is modified.

    :param base: the generated value.
    :param overlay: the user's value; it wins wherever the two disagree.
    :param field: the key both values sit under (selects the list merge rule).
    :return: a new value sharing no mutable parts with either argument.
    """
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = copy.deepcopy(base)
        for key, value in overlay.items():
            if value is None:
                # As in a strategic merge patch: an explicit null removes the key.
                merged.pop(key, None)
            elif key in merged:
                merged[key] = merge_objects(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(overlay, list) and field in _MERGE_KEYS:
        return _merge_list(field, base, overlay)
    return copy.deepcopy(overlay)


def _template_part(template: Mapping[str, Any] | None) -> dict[str, Any]:
    if not template:
        return {}
    return {k: v for k, v in template.items() if k not in _IGNORED_TEMPLATE_KEYS}


def merge_pod_templates(
    base: Mapping[str, Any],
    *overlays: Mapping[str, Any] | None,
    owned_labels: Mapping[str, str] | None = None,
    owned_annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Lay user PodTemplateSpecs over a generated one, later overlays winning.

    :param base: the generated PodTemplateSpec (``metadata``, ``spec``).
    :param overlays: user templates, e.g. the cluster's ``pod_template`` then the role's;
        ``None`` entries are skipped.
    :param owned_labels: labels the provider relies on (selectors); they win over any
        template.
    :param owned_annotations: annotations the provider relies on (the config checksum).
    :return: a new PodTemplateSpec; labels and annotations sorted by key.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for overlay in overlays:
        merged = merge_objects(merged, _template_part(overlay))
    metadata = merged.setdefault("metadata", {})
    for field, owned in (("labels", owned_labels), ("annotations", owned_annotations)):
        values = {**(metadata.get(field) or {}), **(owned or {})}
        if values:
            metadata[field] = dict(sorted(values.items()))
        else:
            metadata.pop(field, None)
    return merged
