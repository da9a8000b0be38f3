"""``make demo``: the example pipeline's cluster, planned, deployed and torn down on the sandbox.

The demo loads the example spec, plans its resources, checks the plan against the
sandbox's nodes, renders the Kubernetes objects (also written to ``out/demo/``), applies
them to an embedded Kubernetes API server with the provider's Kubernetes hook, waits for
the rollout, shows that a second apply changes nothing, scales the TaskManagers, and
deletes everything again. The sandbox's containers are simulated for now: running the
pods as real Flink processes (and the full Airflow DAG) is the next step of the roadmap.
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
ROLLOUT_TIMEOUT = 60.0


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


def _deploy_on_sandbox(cluster: FlinkCluster, plan: ClusterPlan, out: Path) -> None:
    """Apply, wait, re-apply, scale and tear down the cluster on an embedded sandbox."""
    # Airflow reads its home at import: keep the demo's out of the user's ~/airflow.
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="flink-k8s-demo-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
    from airflow_provider_flink_k8s.sandbox import SandboxServer

    with SandboxServer() as sandbox:
        kubeconfig = sandbox.write_kubeconfig(out / "kubeconfig")
        print(f"\nSandbox Kubernetes API server at {sandbox.url} (kubeconfig: {kubeconfig})")
        hook = FlinkKubernetesHook(config_file=str(kubeconfig))
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
        again = hook.apply(manifests)
        print(
            f"Applying the same spec again: {len(again.objects)} objects, "
            f"{'some changed (unexpected)' if again.changed else 'all unchanged'}"
        )
        scaled = hook.scale_taskmanagers(cluster, plan.taskmanager.replicas + 1)
        print(
            f"Scaled {scaled.name} from {scaled.previous} to {scaled.replicas} TaskManagers; "
            f"rolled out in {_wait_rolled_out(hook, cluster):.1f}s"
        )
        deleted = hook.delete_cluster(cluster.name, cluster.namespace, timeout=60)
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
        _deploy_on_sandbox(cluster, plan, out)
    except (FlinkK8sError, TimeoutError) as exc:
        print(f"Deploying on the sandbox failed: {exc}", file=sys.stderr)
        return 1
    print(
        "\nThe sandbox ran simulated containers: running the pods as real Flink processes, "
        "and the whole pipeline as an Airflow DAG, is the next step."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
