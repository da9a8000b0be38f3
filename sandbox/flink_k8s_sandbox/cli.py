"""``flink-k8s-sandbox``: run a sandbox API server in the foreground, or find and stop one.

::

    flink-k8s-sandbox up --kubeconfig PATH [--port N] [--runtime simulated|local]
                         [--nodes N --node-cpu C --node-memory M]
                         [--auth [--token-file PATH]] [--flink-operator]
    flink-k8s-sandbox status [--kubeconfig PATH]
    flink-k8s-sandbox down [--kubeconfig PATH] [--timeout SECONDS]
    flink-k8s-sandbox demo DAG_FILE [--dag-id ID] [--conf JSON] [--out DIR]

``up`` serves on 127.0.0.1 until SIGINT or SIGTERM, writes the kubeconfig once it
serves and prints the URL. While it runs, a state file ``<port>.json`` (pid, url, port,
kubeconfig) lives in the state directory: ``$FLINK_K8S_SANDBOX_STATE_DIR``, else
``$XDG_CACHE_HOME/flink-k8s-sandbox``, else ``~/.cache/flink-k8s-sandbox``. ``status``
and ``down`` read those files (only the one serving ``--kubeconfig`` when given),
drop stale ones, and ``down`` sends SIGTERM and waits for the process to exit.
Objects live in memory only: nothing survives ``down``. ``demo`` runs an Airflow DAG on
a sandbox with real Flink (:mod:`.demo`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import ssl
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "state_dir"]


def state_dir() -> Path:
    """Where running sandboxes leave their state files."""
    explicit = os.environ.get("FLINK_K8S_SANDBOX_STATE_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "flink-k8s-sandbox"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flink-k8s-sandbox", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="serve in the foreground until SIGINT/SIGTERM")
    up.add_argument("--kubeconfig", required=True, type=Path, help="kubeconfig file to write")
    up.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    up.add_argument(
        "--runtime",
        default="simulated",
        choices=["local", "simulated"],
        help="simulated: containers run nothing; local: Flink containers run real Flink "
        "processes (Java 17 + apache-flink-libraries)",
    )
    up.add_argument("--nodes", type=int, default=3, help="Ready nodes to create")
    up.add_argument("--node-cpu", default="4", help="CPU of each node (a quantity)")
    up.add_argument("--node-memory", default="16Gi", help="memory of each node (a quantity)")
    up.add_argument(
        "--auth",
        action="store_true",
        help="enforce RBAC and serve HTTPS; the kubeconfig gets the admin token and the CA",
    )
    up.add_argument(
        "--token-file",
        type=Path,
        help="static bearer tokens, one 'token,user,uid,\"group1,group2\"' line each",
    )
    up.add_argument(
        "--flink-operator",
        action="store_true",
        help="install the Flink Kubernetes Operator's CRDs and run the stand-in operator",
    )
    from flink_k8s_sandbox import demo

    demo.add_arguments(
        commands.add_parser("demo", help="run an Airflow DAG on a sandbox with real Flink")
    )
    for name, text in (("status", "show running sandboxes"), ("down", "stop running sandboxes")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--kubeconfig", type=Path, help="only the sandbox serving this file")
        if name == "down":
            command.add_argument("--timeout", type=float, default=30.0)
    return parser


async def _serve(args: argparse.Namespace) -> int:
    from flink_k8s_sandbox.seed import NodeShape
    from flink_k8s_sandbox.server import SandboxServer

    nodes = NodeShape(count=args.nodes, cpu=args.node_cpu, memory=args.node_memory)
    server = SandboxServer(
        port=args.port,
        nodes=nodes,
        runtime=args.runtime,
        auth=args.auth,
        token_file=args.token_file,
        flink_operator=args.flink_operator,
    )
    try:
        await server.start()
    except OSError as error:
        print(f"flink-k8s-sandbox: cannot serve on port {args.port}: {error}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    kubeconfig = server.write_kubeconfig(args.kubeconfig).resolve()
    state = state_dir() / f"{server.port}.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": os.getpid(), "url": server.url, "port": server.port}
    state.write_text(json.dumps({**record, "kubeconfig": str(kubeconfig)}), encoding="utf-8")
    print(f"flink-k8s-sandbox serving {server.url} (kubeconfig {kubeconfig})", flush=True)
    try:
        await stop.wait()
    finally:
        state.unlink(missing_ok=True)
        await server.stop()
    print("flink-k8s-sandbox stopped", flush=True)
    return 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _ready(url: str) -> bool:
    try:
        # a loopback probe: the sandbox's own self-signed certificate is not checked
        context = ssl._create_unverified_context() if url.startswith("https:") else None
        with urllib.request.urlopen(f"{url}/readyz", timeout=2, context=context) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _running(kubeconfig: Path | None) -> list[dict[str, Any]]:
    """Live sandboxes from the state files; stale files are removed."""
    found = []
    for path in sorted(state_dir().glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not _alive(int(record.get("pid", 0))):
            path.unlink(missing_ok=True)
            continue
        if kubeconfig is None or Path(record["kubeconfig"]) == kubeconfig.resolve():
            found.append(record)
    return found


def _status(args: argparse.Namespace) -> int:
    records = _running(args.kubeconfig)
    for record in records:
        health = "ready" if _ready(record["url"]) else "not answering"
        print(f"{record['url']} pid={record['pid']} kubeconfig={record['kubeconfig']} {health}")
    if not records:
        print("no flink-k8s-sandbox is running")
        return 1
    return 0


def _down(args: argparse.Namespace) -> int:
    records = _running(args.kubeconfig)
    if not records:
        print("no flink-k8s-sandbox is running")
        return 1
    for record in records:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(record["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    remaining = list(records)
    while remaining and time.monotonic() < deadline:
        remaining = [r for r in remaining if _alive(int(r["pid"]))]
        time.sleep(0.05)
    for record in records:
        state = "still running" if record in remaining else "stopped"
        print(f"{record['url']} pid={record['pid']} {state}")
    return 1 if remaining else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script."""
    args = _parser().parse_args(argv)
    if args.command == "up":
        return asyncio.run(_serve(args))
    if args.command == "status":
        return _status(args)
    if args.command == "demo":
        from flink_k8s_sandbox import demo

        return demo.main(args)
    return _down(args)


if __name__ == "__main__":
    sys.exit(main())
