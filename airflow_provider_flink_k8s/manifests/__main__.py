"""``python -m airflow_provider_flink_k8s.manifests SPEC``: plan a spec and write its objects.

Reads a cluster spec (YAML), plans it (TaskManagers, slots, memory, requests and
limits) and writes every Kubernetes object the deploy would apply to ``--out`` (one YAML
file each, in apply order), printing the plan. It starts nothing and needs no cluster: a
review or a ``kubectl apply --dry-run=server -f`` away from a real one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from airflow_provider_flink_k8s.exceptions import SpecError
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.resources.plan import plan_cluster
from airflow_provider_flink_k8s.spec import load_cluster


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


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_flink_k8s.manifests",
        description=(__doc__ or "").splitlines()[0],
    )
    parser.add_argument("spec", type=Path, help="the cluster spec, a YAML file")
    parser.add_argument("--out", type=Path, default=Path("out/manifests"), help="output folder")
    args = parser.parse_args(argv)
    return render(args.spec, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
