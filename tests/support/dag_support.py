"""Helpers of the DAG-run tests (fixtures are in ``conftest.py``).

A module of its own, imported as ``dag_support``: ``from conftest import ...`` would find
whichever ``conftest`` module another test directory loaded first.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.clock import Timing

FAST_TIMING = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)
PROVIDER = "airflow_provider_flink_k8s."


def use_sandbox(kubeconfig: Path) -> None:
    """Point ``kubernetes_default`` at the sandbox whose kubeconfig is ``kubeconfig``."""
    os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = json.dumps(
        {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    )


@dataclass(frozen=True)
class LocalSandbox:
    """A sandbox whose Flink pods are real Flink processes (the ``local`` runtime)."""

    server: SandboxServer
    kubeconfig: Path
    usrlib: Path
    """The folder mounted as ``/opt/flink/usrlib``: ``sql-runner.jar`` and ``clickstream.sql``."""
    state: Path
    """A folder for checkpoints and savepoints (``state.as_uri()`` in a spec)."""


def load_dag_bag(dag_folder: str) -> Any:
    """The DagBag of ``dag_folder`` (its class moved to ``airflow.dag_processing`` in 3.2)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.0 and 3.1
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=dag_folder)


def rescale_conf(spec: dict[str, Any], **params: Any) -> dict[str, Any]:
    """A run config of the ``flink_test_rescale*`` DAGs for the cluster ``spec``: every
    param, at its default unless given (a run keeps the last run's value of a param its
    config leaves out)."""
    defaults = {
        "parallelism": 2,
        "strategy": "auto",
        "job_id": None,
        "jar_id": None,
        "entry_class": None,
        "args": [],
        "metrics": None,
    }
    return {"cluster": spec, **defaults, **params}


def task_states(dag_run: Any) -> dict[str, str | None]:
    """``{task_id: state}`` of a finished DagRun."""
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def provider_sleeps(callers: list[str]) -> list[str]:
    """Of the ``time.sleep`` callers ``worker_sleeps`` recorded, the provider's own modules
    (the sandbox runs in the test process too, in its own threads: its sleeps are the
    simulated cluster's, not a task's)."""
    return [c for c in callers if c.startswith(PROVIDER) and not c.startswith(PROVIDER + "sandbox")]


def deferrals(caplog: Any) -> dict[str, int]:
    """Per task, how many times ``dag.test()`` ran its trigger inline (one per deferral),
    from Airflow's own ``[DAG TEST]`` log records (``caplog`` at INFO)."""
    counts: dict[str, int] = {}
    task = "?"
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("[DAG TEST] starting task_id="):
            task = message.split("task_id=", 1)[1].split()[0]
        elif message == "[DAG TEST] running trigger in line":
            counts[task] = counts.get(task, 0) + 1
    return counts


def orders_jar(folder: Path) -> Path:
    """A jar whose manifest names its entry class, ``demo.Orders`` (what Flink lists in
    ``/jars``; the simulated runtime runs it)."""
    jar = folder / "orders.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nMain-Class: demo.Orders\n")
        archive.writestr("demo/Orders.class", b"\xca\xfe\xba\xbe")
    return jar
