"""A stand-in Flink Kubernetes Operator for the sandbox (opt-in).

``SandboxServer(flink_operator=True)`` installs the operator's CRDs (``FlinkDeployment``,
``FlinkSessionJob``, from the shared reference data: :mod:`.crds`) and runs
:class:`FlinkOperator` as one of its controllers. It moves ``status`` through the real
operator's states and creates the native objects Flink's native mode would (a
JobManager Deployment, its Services and ConfigMap, TaskManager pods), so a client's
operator path -- deploy, wait for READY/STABLE and a RUNNING job, rescale, savepoint,
suspend, delete -- runs end to end without the Java operator.

Modules: :mod:`.status` (pure status rules), :mod:`.validation` (the validator's checks),
:mod:`.natives` (the native objects, pure), :mod:`.snapshots` (savepoint bookkeeping),
:mod:`.access` (reads and writes),
:mod:`.deployments` and :mod:`.sessionjobs` (one reconcile pass each), :mod:`.reconciler`
(the controller: queues and pacing), :mod:`.crds` (finding and installing the CRDs).
"""

from __future__ import annotations

from flink_k8s_sandbox.flinkoperator.crds import (
    OperatorCrdsMissing,
    install_operator_crds,
    load_operator_crds,
    operator_crd_dir,
    operator_crd_path,
)
from flink_k8s_sandbox.flinkoperator.reconciler import (
    FlinkOperator,
    OperatorTiming,
)

__all__ = [
    "FlinkOperator",
    "OperatorCrdsMissing",
    "OperatorTiming",
    "install_operator_crds",
    "load_operator_crds",
    "operator_crd_dir",
    "operator_crd_path",
]
