"""``make demo``: the example pipeline's cluster, planned, deployed and torn down on the sandbox.

The demo loads the example spec, plans its resources, checks the plan against the
sandbox's nodes, renders the Kubernetes objects (also written to ``out/demo/``), applies
them to an embedded Kubernetes API server with the provider's Kubernetes hook, waits for
the rollout, shows that a second apply changes nothing, scales the TaskManagers, and
deletes everything again. With the ``local`` runtime (the default) the pods are real Flink
processes: the SQL-runner job runs, and Flink's REST API is read through the API server's
service proxy with the provider's Flink REST hook. Running the pipeline as an Airflow DAG
is the next step of the roadmap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from airflow_provider_flink_k8s.exceptions import FlinkK8sError, SpecError
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import deployment_rolled_out
from airflow_provider_flink_k8s.resources.placement import NodeCapacity, check_placement
from airflow_provider_flink_k8s.resources.plan import ClusterPlan, plan_cluster
from airflow_provider_flink_k8s.spec import FlinkCluster, load_cluster

if TYPE_CHECKING:
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO / "example_dags" / "specs" / "clickstream.yaml"
ROLLOUT_TIMEOUT = 180.0
KUBE_CONN_ID = "flink_k8s_demo_sandbox"


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (the ConfigMap's files) as readable ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def _write_manifests(manifests: list[dict[str, Any]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.yaml"):
        old.unlink()
    for index, obj in enumerate(manifests):
        name = f"{index:02d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
        (out / name).write_text(yaml.dump(obj, Dumper=_BlockDumper, sort_keys=False))


def _wait_rolled_out(hook: FlinkKubernetesHook, cluster: FlinkCluster) -> float:
    """Seconds until both Deployments report a complete rollout (kubectl's rule)."""
    start = time.monotonic()
    while True:
        snapshot = hook.observe(cluster.name, cluster.namespace)
        states = [snapshot.jobmanager, snapshot.taskmanager]
        verdicts = [deployment_rolled_out(d) if d else (False, "not created") for d in states]
        if all(done for done, _ in verdicts):
            return time.monotonic() - start
        if time.monotonic() - start > ROLLOUT_TIMEOUT:
            raise TimeoutError("; ".join(message for _, message in verdicts))
        time.sleep(0.2)


def _runtime(name: str, out: Path) -> Any:
    """The sandbox's container runtime: real Flink processes, or simulated containers."""
    if name != "local":
        return name
    from airflow_provider_flink_k8s.sandbox.flink import stage_usrlib
    from airflow_provider_flink_k8s.sandbox.runtime.local import LocalRuntime

    # The SQL-runner job and its script, mounted as /opt/flink/usrlib in every Flink pod.
    usrlib = stage_usrlib(out / "usrlib")
    return LocalRuntime(
        workdir=Path(tempfile.mkdtemp(prefix="flink-k8s-demo-pods-")), usrlib=usrlib
    )


def _wait_flink(rest: Any, cluster: FlinkCluster, slots: int) -> str:
    """Wait until Flink reports ``slots`` task slots (and, in application mode, the job
    RUNNING); return a one-line account read from Flink's own REST API."""
    start = time.monotonic()
    while time.monotonic() - start < ROLLOUT_TIMEOUT:
        try:
            overview = rest.overview()
            jobs = rest.jobs() if cluster.job else []
        except FlinkK8sError:  # the JobManager is still starting
            time.sleep(0.5)
            continue
        running = [job for job in jobs if job.state == "RUNNING"]
        if overview.slots_total == slots and (running or not cluster.job):
            account = f"{overview.taskmanagers} TaskManagers, {overview.slots_total} slots"
            if running:
                details = rest.job(running[0].id)
                account += f"; job {details.id} RUNNING at parallelism {details.parallelism}"
            return f"{account} ({time.monotonic() - start:.1f}s)"
        time.sleep(0.5)
    raise TimeoutError(f"Flink did not report {slots} slots within {ROLLOUT_TIMEOUT:.0f}s")


def _deploy_on_sandbox(cluster: FlinkCluster, plan: ClusterPlan, out: Path, runtime: str) -> None:
    """Apply, wait, re-apply, scale and tear down the cluster on an embedded sandbox."""
    # Airflow reads its home at import: keep the demo's out of the user's ~/airflow.
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flink-k8s-demo-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow_provider_flink_k8s.flinkrest import FlinkRestService
    from airflow_provider_flink_k8s.hooks.flink_rest import FlinkRestHook
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
    from airflow_provider_flink_k8s.sandbox import SandboxServer

    with SandboxServer(runtime=_runtime(runtime, out)) as sandbox:
        kubeconfig = sandbox.write_kubeconfig(out / "kubeconfig")
        print(
            f"\nSandbox Kubernetes API server at {sandbox.url} ({runtime} runtime, "
            f"kubeconfig: {kubeconfig})"
        )
        os.environ[f"AIRFLOW_CONN_{KUBE_CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
        )
        hook = FlinkKubernetesHook(kubernetes_conn_id=KUBE_CONN_ID)
        nodes = [n for n in map(NodeCapacity.from_k8s, _nodes(hook)) if n is not None]
        print(f"Placement on the sandbox's {len(nodes)} nodes: {check_placement(plan, nodes)}")
        manifests = render_manifests(cluster, plan=plan)
        if cluster.namespace != "default":
            hook.apply(
                [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": cluster.namespace}}]
            )
        for applied in hook.apply(manifests).objects:
            print(f"  {applied}")
        print(f"Rolled out in {_wait_rolled_out(hook, cluster):.1f}s")
        service = FlinkRestService.for_cluster(
            cluster.name,
            cluster.namespace,
            kubernetes_conn_id=KUBE_CONN_ID,
            route="service_proxy",
        )
        with FlinkRestHook(service=service) as rest:
            if runtime == "local":
                print(
                    f"Flink (REST via the service proxy): "
                    f"{_wait_flink(rest, cluster, plan.total_slots)}"
                )
            again = hook.apply(manifests)
            print(
                f"Applying the same spec again: {len(again.objects)} objects, "
                f"{'some changed (unexpected)' if again.changed else 'all unchanged'}"
            )
            replicas = plan.taskmanager.replicas + 1
            scaled = hook.scale_taskmanagers(cluster, replicas)
            print(
                f"Scaled {scaled.name} from {scaled.previous} to {scaled.replicas} "
                f"TaskManagers; rolled out in {_wait_rolled_out(hook, cluster):.1f}s"
            )
            if runtime == "local":
                slots = replicas * plan.slots_per_taskmanager
                print(f"Flink followed: {_wait_flink(rest, cluster, slots)}")
        deleted = hook.delete_cluster(cluster.name, cluster.namespace, timeout=120)
        print(f"Deleted {len(deleted.deleted)} objects and waited until they were gone")


def _nodes(hook: FlinkKubernetesHook) -> list[dict[str, Any]]:
    from kubernetes import client

    core = client.CoreV1Api(hook.get_conn())
    response = core.list_node(_preload_content=False)
    items: list[dict[str, Any]] = json.loads(response.data)["items"]
    return items


def main(argv: list[str] | None = None) -> int:
    """Plan, render and (unless ``--render-only``) deploy a cluster spec on the sandbox."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(DEFAULT_SPEC), help="cluster spec file")
    parser.add_argument("--out", default=str(REPO / "out" / "demo"), help="output folder")
    parser.add_argument("--render-only", action="store_true", help="do not start a sandbox")
    parser.add_argument(
        "--runtime",
        choices=("local", "simulated"),
        default="local",
        help="run the pods as real Flink processes (local) or simulated containers",
    )
    args = parser.parse_args(argv)

    try:
        cluster = load_cluster(Path(args.spec))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 1
    plan = plan_cluster(cluster)
    out = Path(args.out)
    manifests = render_manifests(cluster, plan=plan)
    _write_manifests(manifests, out)

    print(f"Cluster {cluster.namespace}/{cluster.name} ({cluster.mode} mode, {cluster.target})")
    print(json.dumps(plan.summary(), indent=2))
    print(f"Wrote {len(manifests)} Kubernetes objects to {out}/:")
    for obj in manifests:
        print(f"  {obj['kind']:<16} {obj['metadata']['name']}")
    if args.render_only:
        return 0
    try:
        _deploy_on_sandbox(cluster, plan, out, args.runtime)
    except (FlinkK8sError, TimeoutError) as exc:
        print(f"Deploying on the sandbox failed: {exc}", file=sys.stderr)
        return 1
    print("\nRunning the whole pipeline as an Airflow DAG on the sandbox is the next step.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
