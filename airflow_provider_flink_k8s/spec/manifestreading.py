"""Reading the Flink Kubernetes Operator's custom resources: what FlinkDeployment and
FlinkSessionJob share.

A :class:`ManifestReader` walks one manifest, checks each value it takes against the CRD's
type, collects every problem under the manifest's own field path
(``spec.job.parallelism``), and remembers where each spec field came from, so a problem
the spec's validation finds later is reported at the manifest field that caused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flink_k8s.exceptions import SpecProblem
from airflow_provider_flink_k8s.spec.problems import unknown_field_rule

__all__ = [
    "FLINK_API_GROUP",
    "FLINK_API_VERSION",
    "JOB_FIELDS",
    "JOB_NONCES",
    "ManifestReader",
    "item_path",
]

FLINK_API_GROUP = "flink.apache.org"
FLINK_API_VERSION = f"{FLINK_API_GROUP}/v1beta1"
"""The one version the Flink Kubernetes Operator serves for its custom resources."""

JOB_FIELDS: dict[str, tuple[str, type]] = {
    "jarURI": ("jar_uri", str),
    "entryClass": ("entry_class", str),
    "args": ("args", list),
    "parallelism": ("parallelism", int),
    "upgradeMode": ("upgrade_mode", str),
    "state": ("state", str),
    "initialSavepointPath": ("initial_savepoint", str),
    "allowNonRestoredState": ("allow_non_restored_state", bool),
}
"""``spec.job`` fields with a :class:`~airflow_provider_flink_k8s.spec.JobSpec` field:
CRD name -> (spec field, the CRD's type)."""

JOB_NONCES = (
    "savepointTriggerNonce",
    "checkpointTriggerNonce",
    "savepointRedeployNonce",
    "autoscalerResetNonce",
)
"""``spec.job`` fields that ask the operator for an action when they change."""

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", list: "a list"}


def item_path(path: str, key: str) -> str:
    """The path of a map entry whose key may hold dots: ``spec.flinkConfiguration['a.b']``."""
    return f"{path}[{key!r}]"


class ManifestReader:
    """Problems found, and spec-field origins, while reading one manifest.

    :param kind: the custom resource kind being read (``FlinkDeployment``).
    :param origins: spec field path -> manifest field path, for fields whose origin is
        fixed; the reader adds those it learns while reading.
    """

    def __init__(self, kind: str, origins: Mapping[str, str]) -> None:
        self.kind = kind
        self.problems: list[SpecProblem] = []
        self.origins: dict[str, str] = dict(origins)

    def problem(self, path: str, rule: str) -> None:
        """Record that the manifest field at ``path`` breaks ``rule``."""
        self.problems.append(SpecProblem(path, rule))

    def mapping(self, value: Any, path: str, known: frozenset[str] | None = None) -> dict[str, Any]:
        """``value`` as a dict (``{}`` when absent), refusing non-mappings and unknown keys."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a mapping, not {type(value).__name__}")
            return {}
        for key in value:
            if not isinstance(key, str):
                self.problem(path, f"key {key!r} must be a string")
            elif known is not None and key not in known:
                self.problem(
                    f"{path}.{key}" if path else key,
                    unknown_field_rule(key, known, f"{self.kind} field"),
                )
        return {key: item for key, item in value.items() if known is None or key in known}

    def typed(self, value: Any, path: str, expected: type) -> Any:
        """``value`` if it has the CRD's type (``None`` passes: unset), else ``None``."""
        if value is None:
            return None
        ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
        if expected is list and ok:
            bad = [item for item in value if not isinstance(item, str)]
            if bad:
                self.problem(path, f"must be a list of strings; {bad[0]!r} is not a string")
                return None
        if not ok:
            self.problem(path, f"must be {_TYPE_NAMES[expected]}, not {value!r}")
            return None
        return value

    def string_map(self, value: Any, path: str) -> dict[str, str]:
        """A map of strings to strings (labels, annotations, logging files)."""
        entries = self.mapping(value, path)
        for key, item in entries.items():
            if not isinstance(item, str):
                self.problem(item_path(path, key), f"must be a string, not {item!r}")
        return {key: item for key, item in entries.items() if isinstance(item, str)}

    def check_type(self, manifest: Any, kind: str) -> dict[str, Any] | None:
        """The manifest as a dict if it is a ``flink.apache.org/v1beta1`` ``kind``."""
        if not isinstance(manifest, Mapping):
            self.problem("", f"a {kind} must be a mapping, not {type(manifest).__name__}")
            return None
        api_version, found = manifest.get("apiVersion"), manifest.get("kind")
        if api_version is None:
            self.problem("apiVersion", f"required: {FLINK_API_VERSION}")
        elif api_version != FLINK_API_VERSION:
            self.problem(
                "apiVersion",
                f"{api_version!r} is not supported: the Flink Kubernetes Operator serves "
                f"{FLINK_API_VERSION} (older v1alpha1 manifests need updating)",
            )
        if found is None:
            self.problem("kind", f"required: {kind}")
        elif found != kind:
            self.problem("kind", f"{found!r} is not a {kind}")
        return dict(manifest)

    def metadata(self, value: Any) -> dict[str, Any]:
        """``metadata.name``/``namespace``/``labels``/``annotations``, as spec fields.

        Other metadata (``uid``, ``resourceVersion``, ``finalizers``...) is the API
        server's, or not the spec's to keep: it is refused rather than dropped.
        """
        known = frozenset({"name", "namespace", "labels", "annotations"})
        metadata = self.mapping(value, "metadata", known)
        out: dict[str, Any] = {}
        name = self.typed(metadata.get("name"), "metadata.name", str)
        if name is None and "name" not in metadata:
            self.problem("metadata.name", "required")
        elif name is not None:
            out["name"] = name
        namespace = self.typed(metadata.get("namespace"), "metadata.namespace", str)
        if namespace is not None:
            out["namespace"] = namespace
        for field in ("labels", "annotations"):
            if metadata.get(field) is not None:
                out[field] = self.string_map(metadata[field], f"metadata.{field}")
        return out

    def job(self, value: Any, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """``spec.job`` as :class:`JobSpec` fields, and its nonces (kept verbatim)."""
        job = self.mapping(value, path, frozenset(JOB_FIELDS) | frozenset(JOB_NONCES))
        fields: dict[str, Any] = {}
        for crd_name, (field, expected) in JOB_FIELDS.items():
            self.origins[f"job.{field}"] = f"{path}.{crd_name}"
            item = self.typed(job.get(crd_name), f"{path}.{crd_name}", expected)
            if item is not None:
                fields[field] = item
        nonces = {}
        for nonce in JOB_NONCES:
            item = self.typed(job.get(nonce), f"{path}.{nonce}", int)
            if item is not None:
                nonces[nonce] = item
        return fields, nonces

    def translate(self, problems: tuple[SpecProblem, ...]) -> list[SpecProblem]:
        """Re-address problems the spec found to the manifest fields they came from.

        A spec field maps to its origin; a field below a mapped one keeps its tail
        (``flink_configuration['x']`` -> ``spec.flinkConfiguration['x']``). Fields the
        manifest cannot have set keep their spec name.
        """
        translated = []
        prefixes = sorted(self.origins, key=len, reverse=True)
        for problem in problems:
            field = problem.field
            if field in self.origins:
                field = self.origins[field]
            else:
                for prefix in prefixes:
                    if field.startswith(prefix) and field[len(prefix) : len(prefix) + 1] in ".[":
                        field = self.origins[prefix] + field[len(prefix) :]
                        break
            translated.append(SpecProblem(field, problem.rule))
        return translated
