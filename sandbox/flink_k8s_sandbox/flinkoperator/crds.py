"""Where the operator's CRDs come from, and installing them into a sandbox.

The sandbox serves the real operator's CRDs (``FlinkDeployment``, ``FlinkSessionJob``),
shipped unmodified as package data in ``operator_crds/`` (source, commit and licence in
the ``NOTICE`` beside them), so an installed wheel or a lone clone needs nothing else.
``$FLINK_K8S_SANDBOX_OPERATOR_CRDS`` may name another folder holding the same two files,
to try another operator release's schema.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from flink_k8s_sandbox.errors import ApiError
from flink_k8s_sandbox.resources import ResourceRegistry
from flink_k8s_sandbox.storage import Storage, WriteOptions

__all__ = [
    "CRD_DIR_VARIABLE",
    "CRD_FILES",
    "OperatorCrdsMissing",
    "PACKAGED_CRD_DIR",
    "install_operator_crds",
    "load_operator_crds",
    "operator_crd_dir",
    "operator_crd_path",
]

CRD_DIR_VARIABLE = "FLINK_K8S_SANDBOX_OPERATOR_CRDS"
CRD_FILES = {
    "flinkdeployments": "flinkdeployments.flink.apache.org-v1.yml",
    "flinksessionjobs": "flinksessionjobs.flink.apache.org-v1.yml",
}
"""The CRD file of each plural the stand-in operator serves."""


class OperatorCrdsMissing(FileNotFoundError):
    """Raised when the operator's CRD files cannot be found."""


PACKAGED_CRD_DIR = Path(__file__).resolve().parent / "operator_crds"
"""The CRDs shipped with the package (Flink Kubernetes Operator, commit 6e9caeb4)."""


def operator_crd_dir() -> Path:
    """The folder holding the operator's CRDs: ``$FLINK_K8S_SANDBOX_OPERATOR_CRDS`` when
    set, else the package's own copy (:data:`PACKAGED_CRD_DIR`)."""
    explicit = os.environ.get(CRD_DIR_VARIABLE)
    if explicit:
        return Path(explicit)
    return PACKAGED_CRD_DIR


def operator_crd_path(plural: str) -> Path:
    """The CRD file of ``flinkdeployments`` or ``flinksessionjobs``.

    :raises OperatorCrdsMissing: when the file is not there.
    """
    path = operator_crd_dir() / CRD_FILES[plural]
    if not path.is_file():
        why = (
            f"${CRD_DIR_VARIABLE} names a folder without it (unset it to use the CRDs "
            "shipped with the sandbox)"
            if os.environ.get(CRD_DIR_VARIABLE)
            else f"the sandbox package is incomplete (reinstall it): its CRDs belong in "
            f"{PACKAGED_CRD_DIR}"
        )
        raise OperatorCrdsMissing(
            f"the Flink Kubernetes Operator CRD {CRD_FILES[plural]} was not found at {path}: {why}"
        )
    return path


def load_operator_crds() -> list[dict[str, Any]]:
    """The FlinkDeployment and FlinkSessionJob CRDs, parsed.

    :raises OperatorCrdsMissing: when a file is not there.
    """
    crds = []
    for plural in CRD_FILES:
        document = yaml.safe_load(operator_crd_path(plural).read_text(encoding="utf-8"))
        crds.append(dict(document))
    return crds


def install_operator_crds(storage: Storage, registry: ResourceRegistry) -> None:
    """Create the operator's CRDs (an existing one is left as it is); the CRD controller
    serves their types on its next pass.

    :raises OperatorCrdsMissing: when a file is not there.
    """
    rt = registry.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert rt is not None
    opts = WriteOptions(field_manager="flink-kubernetes-operator")
    for crd in load_operator_crds():
        try:
            storage.create(rt, "", crd, opts)
        except ApiError as error:
            if error.code != 409:
                raise
