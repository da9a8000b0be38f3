"""``flink-k8s-sandbox demo DAG_FILE``: run an Airflow DAG on the sandbox with real Flink.

The sandbox is the embedded default for a demo, like SQLite for a database library: this
command starts it with the ``local`` runtime (Flink containers run as real Flink
processes from Flink's own jars), points Airflow's ``kubernetes_default`` connection at
it, builds the bundled SQL runner job, and runs the DAG with ``airflow dags test`` on a
throw-away Airflow home (SQLite). The DAG gets two params filled in -- ``jar``, the SQL
runner's jar, and ``state_dir``, a folder for checkpoints and savepoints -- plus any
``--conf``. Then it prints every task's state, duration and result, stops the sandbox
and checks that no Flink process is left.

It needs Airflow and the providers the DAG imports in the same environment (``make
demo`` runs the provider's ``example_dags/flink_batch_to_stream.py``); it imports none of
them itself until the DAG run is over, to read the results from Airflow's database.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

__all__ = ["DAG_TIMEOUT", "add_arguments", "airflow_environment", "main", "run_dag", "summary"]

DAG_TIMEOUT = 600.0
"""Seconds ``airflow dags test`` may take before the demo gives up."""

_RESULT_WIDTH = 110


def airflow_environment(home: Path, dag_file: Path) -> dict[str, str]:
    """A throw-away Airflow home whose DAGs folder links the DAG file's folder.

    The whole folder is linked, not the file: a DAG finds its specs and SQL beside it.
    """
    if home.exists():
        shutil.rmtree(home)
    dags = home / "dags"
    dags.mkdir(parents=True)
    (dags / dag_file.parent.name).symlink_to(dag_file.parent, target_is_directory=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def _airflow(args: list[str], log: Path, timeout: float) -> int:
    """Run the ``airflow`` CLI of this environment, its output appended to ``log``."""
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"\n$ airflow {' '.join(args)}\n")
        sink.flush()
        done = subprocess.run(
            command, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
    return done.returncode


def run_dag(dag_file: Path, dag_id: str, out: Path, conf: dict[str, Any]) -> int:
    """Start the sandbox, run the DAG with ``airflow dags test``, print the summary."""
    from flink_k8s_sandbox import SandboxServer
    from flink_k8s_sandbox.clock import Timing
    from flink_k8s_sandbox.flink import build_sql_runner_jar, live_processes
    from flink_k8s_sandbox.runtime.local import LocalRuntime

    if shutil.which("airflow", path=str(Path(sys.executable).parent)) is None:
        print("the demo needs Airflow in this environment (pip install apache-airflow)")
        return 1
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(out / "airflow", dag_file))
    log = out / "airflow.log"
    log.write_text("")
    started = time.monotonic()
    print(f"Airflow home {out / 'airflow'} (SQLite); the DAG run's log: {log}")
    if _airflow(["db", "migrate"], log, 300) != 0:
        print(f"airflow db migrate failed; see {log}", file=sys.stderr)
        return 1
    conf = {"jar": str(build_sql_runner_jar()), "state_dir": (out / "state").as_uri(), **conf}
    # Readiness probes ten times faster than Flink's defaults: the demo's pods are local.
    timing = Timing(probe_scale=0.1, backoff_base=1.0, backoff_max=5.0)
    runtime = LocalRuntime(timing, workdir=Path(tempfile.mkdtemp(prefix="flink-k8s-demo-pods-")))
    returncode = 1
    with SandboxServer(runtime=runtime, timing=timing) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(out / "kubeconfig")
        os.environ["AIRFLOW_CONN_KUBERNETES_DEFAULT"] = json.dumps(
            {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
        )
        print(f"Sandbox Kubernetes API server at {sandbox.url} (kubeconfig: {kubeconfig})")
        print(f"Running `airflow dags test {dag_id}` with config {json.dumps(conf)} ...")
        returncode = _airflow(["dags", "test", dag_id, "-c", json.dumps(conf)], log, DAG_TIMEOUT)
    leftovers = live_processes()
    print(summary(dag_id))
    print(
        f"\nDemo finished in {time.monotonic() - started:.0f}s; Flink processes left: "
        f"{len(leftovers)}"
    )
    if returncode != 0:
        print(f"The DAG run failed; see {log}", file=sys.stderr)
    return 0 if returncode == 0 and not leftovers else 1


def _result_lines(value: Any) -> list[str]:
    """A task's result under its row: a dict as ``key=value`` pairs, wrapped, indented."""
    if value is None:
        return []
    if isinstance(value, dict):
        text = " ".join(f"{key}={json.dumps(item, default=str)}" for key, item in value.items())
    else:
        text = str(value)
    indent = " " * 6
    return textwrap.wrap(
        text,
        _RESULT_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def summary(dag_id: str) -> str:
    """Every task of the latest run of ``dag_id``: its state and duration on a row, what it
    returned (its ``return_value`` XCom) on the lines below."""
    from airflow.models import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = DagRun.find(dag_id=dag_id, session=session)
        if not runs:
            return f"\nNo run of {dag_id} was recorded."
        run = max(runs, key=lambda r: r.id)
        tis = sorted(
            run.get_task_instances(session=session),
            key=lambda t: t.start_date.timestamp() if t.start_date else float("inf"),
        )
        lines = [f"\nDAG run {run.run_id}: {run.state}"]
        for ti in tis:
            took = (
                f"{(ti.end_date - ti.start_date).total_seconds():6.1f}s"
                if ti.end_date and ti.start_date
                else "     -"
            )
            query = XComModel.get_many(
                run_id=ti.run_id, key="return_value", task_ids=ti.task_id, dag_ids=ti.dag_id
            )
            row = session.scalars(query).first()
            value = None if row is None else XComModel.deserialize_value(row)
            lines.append(f"  {ti.task_id:<24} {ti.state!s:<10} {took}")
            lines.extend(_result_lines(value))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo`` command's arguments (:mod:`.cli` adds them to its sub-command)."""
    parser.add_argument("dag_file", type=Path, help="the DAG file to run")
    parser.add_argument("--dag-id", help="the DAG to run (default: the file's name)")
    parser.add_argument(
        "--conf", default="{}", help="more DAG run config, a JSON object (e.g. params)"
    )
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")


def main(args: argparse.Namespace) -> int:
    """Run ``args.dag_file`` on the sandbox (see the module docstring)."""
    dag_file = args.dag_file.resolve()
    if not dag_file.is_file():
        print(f"dag_file: no such file {dag_file}", file=sys.stderr)
        return 2
    try:
        conf = json.loads(args.conf)
    except json.JSONDecodeError as error:
        print(f"--conf: not JSON ({error})", file=sys.stderr)
        return 2
    if not isinstance(conf, dict):
        print("--conf: must be a JSON object", file=sys.stderr)
        return 2
    return run_dag(dag_file, args.dag_id or dag_file.stem, args.out.resolve(), conf)
