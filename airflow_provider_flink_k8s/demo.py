"""``make demo``: the batch-to-stream pipeline, as an Airflow DAG, on the embedded sandbox.

The demo starts the embedded Kubernetes API server with its ``local`` runtime (the pods
run as real Flink processes from Flink's own jars), points Airflow's
``kubernetes_default`` connection at it, and runs ``example_dags/flink_batch_to_stream.py``
with ``airflow dags test`` on a throw-away Airflow home (SQLite). Then it prints what
happened -- every task's state and duration, when the cluster was ready, the job, the
rescale and its measured pause, the savepoints -- stops the sandbox and checks that no
Flink process is left.

``--render-only`` plans and renders the example application cluster instead
(``example_dags/specs/clickstream.yaml``, written to ``out/demo/manifests``) without
starting anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.spec import load_cluster

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO / "example_dags"
DEFAULT_SPEC = EXAMPLE_DAGS / "specs" / "clickstream.yaml"
DAG_ID = "flink_batch_to_stream"
DAG_TIMEOUT = 600.0
"""Seconds ``airflow dags test`` may take before the demo gives up."""


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (the ConfigMap's files) as readable ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def render(spec: Path, out: Path) -> int:
    """Plan ``spec``, write its Kubernetes objects to ``out``, print the plan."""
    try:
        cluster = load_cluster(spec)
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    plan = plan_cluster(cluster)
    manifests = render_manifests(cluster, plan=plan)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    for index, obj in enumerate(manifests):
        name = f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (out / name).write_text(yaml.dump(obj, Dumper=_BlockDumper, sort_keys=False))
    print(f"Cluster {cluster.namespace}/{cluster.name} ({cluster.mode} mode, {cluster.target})")
    print(plan.summary())
    print(f"Wrote {len(manifests)} Kubernetes objects to {out}/:")
    for obj in manifests:
        print(f"  {obj['kind']:<16} {obj['metadata']['name']}")
    return 0


def airflow_environment(home: Path) -> dict[str, str]:
    """The environment of a throw-away Airflow home whose DAGs folder links the examples."""
    if home.exists():
        shutil.rmtree(home)
    dags = home / "dags"
    dags.mkdir(parents=True)
    (dags / "example_dags").symlink_to(EXAMPLE_DAGS, target_is_directory=True)
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


def run_pipeline(out: Path, conf: dict[str, Any]) -> int:
    """Start the sandbox, run the DAG with ``airflow dags test``, print the summary."""
    from airflow_provider_flink_k8s.sandbox import SandboxServer
    from airflow_provider_flink_k8s.sandbox.clock import Timing
    from airflow_provider_flink_k8s.sandbox.flink import live_processes
    from airflow_provider_flink_k8s.sandbox.runtime.local import LocalRuntime

    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(airflow_environment(out / "airflow"))
    log = out / "airflow.log"
    log.write_text("")
    started = time.monotonic()
    print(f"Airflow home {out / 'airflow'} (SQLite); the DAG run's log: {log}")
    if _airflow(["db", "migrate"], log, 300) != 0:
        print(f"airflow db migrate failed; see {log}", file=sys.stderr)
        return 1
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
        print(f"Running `airflow dags test {DAG_ID}` with config {json.dumps(conf)} ...")
        returncode = _airflow(["dags", "test", DAG_ID, "-c", json.dumps(conf)], log, DAG_TIMEOUT)
    leftovers = live_processes()
    print(summary(DAG_ID))
    print(
        f"\nDemo finished in {time.monotonic() - started:.0f}s; Flink processes left: "
        f"{len(leftovers)}"
    )
    if returncode != 0:
        print(f"The DAG run failed; see {log}", file=sys.stderr)
    return 0 if returncode == 0 and not leftovers else 1


def _xcom(ti: Any) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=ti.run_id, key="return_value", task_ids=ti.task_id, dag_ids=ti.dag_id
        )
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def summary(dag_id: str) -> str:
    """A readable account of the latest run of ``dag_id`` from Airflow's database."""
    from airflow.models import DagRun
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
        results = {}
        for ti in tis:
            took = (
                (ti.end_date - ti.start_date).total_seconds()
                if ti.end_date and ti.start_date
                else None
            )
            lines.append(
                f"  {ti.task_id:<24} {ti.state!s:<10} "
                + (f"{took:6.1f}s" if took is not None else "     -")
            )
            results[ti.task_id] = (ti, took)
    lines.append("")
    lines.extend(_facts({task: (_xcom(ti), took) for task, (ti, took) in results.items()}))
    return "\n".join(lines)


def _facts(results: dict[str, tuple[Any, float | None]]) -> list[str]:
    """The pipeline's figures, from its tasks' XCom results."""
    facts = []
    deploy, deploy_took = results.get("deploy_session_cluster", (None, None))
    if isinstance(deploy, dict):
        plan = deploy.get("plan", {})
        facts.append(
            f"Cluster ready in {deploy_took:.1f}s: {plan.get('taskmanagers')} TaskManagers x "
            f"{plan.get('slots_per_taskmanager')} slots; Web UI {deploy.get('web_ui_url')}"
        )
    backfill, backfill_took = results.get("backfill", (None, None))
    if backfill:
        facts.append(f"Backfill job {backfill} FINISHED in {backfill_took:.1f}s")
    stream, _ = results.get("submit_stream", (None, None))
    if stream:
        facts.append(f"Streaming job {stream} RUNNING")
    rescale, _ = results.get("rescale", (None, None))
    if isinstance(rescale, dict):
        facts.append(
            f"Rescaled {rescale.get('old_parallelism')} -> {rescale.get('new_parallelism')} "
            f"({rescale.get('strategy')}); job down {rescale.get('downtime_seconds')}s, "
            f"at the new parallelism after {rescale.get('time_to_target_seconds')}s"
        )
    savepoint, _ = results.get("savepoint", (None, None))
    if savepoint:
        facts.append(f"Savepoint: {savepoint}")
    final, _ = results.get("teardown", (None, None))
    if final:
        facts.append(f"Final savepoint at teardown: {final}")
    return facts


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline on the sandbox (default), or only plan and render a spec."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "out" / "demo"), help="output folder")
    parser.add_argument(
        "--render-only", action="store_true", help="plan and render a spec; start nothing"
    )
    parser.add_argument("--spec", default=str(DEFAULT_SPEC), help="spec for --render-only")
    parser.add_argument("--parallelism", type=int, default=2, help="the job's parallelism")
    parser.add_argument(
        "--rescale-to", default="4", help="parallelism after the rescale, or 'auto'"
    )
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if args.render_only:
        return render(Path(args.spec), out / "manifests")
    rescale: int | str = int(args.rescale_to) if args.rescale_to.isdigit() else args.rescale_to
    conf = {
        "parallelism": args.parallelism,
        "rescale_parallelism": rescale,
        "state_dir": (out / "state").as_uri(),
    }
    return run_pipeline(out, conf)


if __name__ == "__main__":
    raise SystemExit(main())
