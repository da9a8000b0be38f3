"""Real ``tcpSocket`` and ``httpGet`` probes against a host port, with the kubelet's messages.

The kubelet's wording is kept so that ``Unhealthy`` events read as on a node, naming the
pod's address (``dial tcp 10.244.0.5:8081: connect: connection refused``) rather than the
127.0.0.1 port that really serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from flink_k8s_sandbox.runtime.base import ProbeResult

__all__ = ["http_probe", "tcp_probe"]

_HOST = "127.0.0.1"


def _refused(pod_address: str) -> str:
    return f"dial tcp {pod_address}: connect: connection refused"


async def tcp_probe(host_port: int | None, pod_address: str, timeout: float) -> ProbeResult:
    """Success when ``127.0.0.1:host_port`` accepts a connection within ``timeout``."""
    if host_port is None:
        return ProbeResult(False, _refused(pod_address))
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(_HOST, host_port), timeout)
    except asyncio.TimeoutError:
        return ProbeResult(False, f"dial tcp {pod_address}: i/o timeout")
    except OSError:
        return ProbeResult(False, _refused(pod_address))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(True)


async def http_probe(
    host_port: int | None, pod_address: str, action: Mapping[str, Any], timeout: float
) -> ProbeResult:
    """``GET path`` on ``127.0.0.1:host_port``: success on a status from 200 to 399."""
    path = str(action.get("path") or "/")
    url = f"http://{pod_address}{path}"
    if host_port is None:
        return ProbeResult(False, f'Get "{url}": {_refused(pod_address)}')
    headers = "".join(
        f"{h.get('name')}: {h.get('value')}\r\n" for h in action.get("httpHeaders") or []
    )
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {pod_address}\r\nUser-Agent: kube-probe/1.31\r\n"
        f"Accept: */*\r\n{headers}Connection: close\r\n\r\n"
    ).encode()

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(_HOST, host_port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    try:
        status_line = await asyncio.wait_for(exchange(), timeout)
    except asyncio.TimeoutError:
        return ProbeResult(
            False,
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting '
            "headers)",
        )
    except OSError:
        return ProbeResult(False, f'Get "{url}": {_refused(pod_address)}')
    parts = status_line.decode("latin-1").split()
    code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if 200 <= code < 400:
        return ProbeResult(True)
    return ProbeResult(False, f"HTTP probe failed with statuscode: {code}")
