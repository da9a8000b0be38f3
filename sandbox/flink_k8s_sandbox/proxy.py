"""The API server's proxy: ``services/<id>/proxy/...`` and ``pods/<id>/proxy/...``.

``<id>`` is ``name``, ``name:port`` or ``scheme:name:port`` (``SplitSchemeNamePort``).
A Service resolves as ``ResourceLocation`` does: a port number is turned into the name
of the service port declaring it, then a random ready address of the Service's
Endpoints serving a port of that name is taken; a pod uses its ``podIP`` and the given
port (else its first container port). The pod address is turned into a loopback one
with :meth:`.PodNetwork.resolve` and the request is forwarded there with aiohttp's
client: any method, the path after ``/proxy`` and the raw query, the body, and the
headers minus hop-by-hop ones and the credentials (the API server strips
``Authorization`` and ``Impersonate-*`` once it has used them). ``X-Forwarded-For`` and
``X-Forwarded-Uri`` are added, the response streams back as it arrives (status,
headers, body; ``Content-Encoding`` untouched), a same-host redirect's ``Location`` is
prefixed with the proxy path, and ``GET .../proxy`` without a trailing slash is
redirected (301) to ``.../proxy/``.

Failures are the API server's: 404 for a missing Service/pod/Endpoints, 503
``no service port 8081 found for service "x"``, 503 ``no endpoints available for
service "x"``, 400 ``address not allowed`` for a pod without IP, and 503
``error trying to reach service: dial tcp 10.244.0.7:8081: connect: connection refused``
when nothing is exposed at that pod address (or the loopback server refuses).
"""

from __future__ import annotations

import asyncio
import random
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.network import PodNetwork
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.routing import Target
from flink_k8s_sandbox.state import ApiState

__all__ = ["PROXY", "ProxyContext", "install_proxy", "proxy_request", "split_scheme_name_port"]

Obj = dict[str, Any]
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Connection",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
    )
)
_DROPPED_REQUEST = frozenset(("host", "content-length", "authorization"))
_AUTO_HEADERS = ("Accept-Encoding", "User-Agent", "Content-Type", "Accept")


@dataclass
class ProxyContext:
    """What the proxy needs: the pod network and one client session (made on first use)."""

    network: PodNetwork
    session: aiohttp.ClientSession | None = None
    rng: random.Random = field(default_factory=random.Random)

    def client(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            )
        return self.session


PROXY = web.AppKey("sandbox_proxy", ProxyContext)


def install_proxy(app: web.Application, network: PodNetwork) -> None:
    """Give ``app``'s proxy routes ``network``; the client session closes with the app."""
    context = ProxyContext(network, rng=random.Random())
    app[PROXY] = context

    async def close(_: web.Application) -> None:
        if context.session is not None:
            await context.session.close()

    app.on_cleanup.append(close)


def split_scheme_name_port(raw: str) -> tuple[str, str, str] | None:
    """``(scheme, name, port)`` of a proxy id, or ``None`` when it is malformed."""
    parts = raw.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme, name, port


def _unavailable(message: str) -> errors.ApiError:
    return errors.ApiError(errors.status_failure(503, "ServiceUnavailable", message))


def _unreachable(ip: str, port: str | int) -> errors.ApiError:
    return _unavailable(
        f"error trying to reach service: dial tcp {ip}:{port}: connect: connection refused"
    )


def _pick(rng: random.Random, items: list[Any]) -> list[Any]:
    """``items`` rotated from a random start (the API server's random subset/address)."""
    if not items:
        return []
    start = rng.randrange(len(items))
    return items[start:] + items[:start]


def _service_location(
    state: ApiState, rng: random.Random, namespace: str, raw: str
) -> tuple[str, str, int]:
    parsed = split_scheme_name_port(raw)
    if parsed is None:
        raise errors.bad_request(f'invalid service request "{raw}"')
    scheme, name, port_name = parsed
    services = state.registry.get("", "v1", "services")
    endpoints_type = state.registry.get("", "v1", "endpoints")
    assert services is not None and endpoints_type is not None
    service = state.storage.get(services, namespace, name)
    if port_name.isdigit():
        number = int(port_name)
        declared = [
            p for p in service.get("spec", {}).get("ports") or [] if p.get("port") == number
        ]
        if not declared:
            raise _unavailable(f'no service port {number} found for service "{name}"')
        port_name = declared[0].get("name", "")
    endpoints = state.storage.get(endpoints_type, namespace, name)
    subsets = endpoints.get("subsets") or []
    if not subsets:
        raise _unavailable(f'no endpoints available for service "{name}"')
    pods = state.registry.get("", "v1", "pods")
    for subset in _pick(rng, subsets):
        for port in subset.get("ports") or []:
            if port.get("name", "") != port_name:
                continue
            for address in _pick(rng, subset.get("addresses") or []):
                if _valid_address(state, pods, namespace, address):
                    return scheme or "http", address["ip"], int(port["port"])
    raise _unavailable(f'no endpoints available for service "{raw}"')


def _valid_address(
    state: ApiState, pods: ResourceType | None, namespace: str, address: Obj
) -> bool:
    ref = address.get("targetRef") or {}
    if ref.get("kind") != "Pod" or pods is None:
        return True
    pod = state.storage.find(pods, ref.get("namespace") or namespace, ref.get("name", ""))
    return pod is not None and pod.get("status", {}).get("podIP") == address.get("ip")


def _pod_location(
    state: ApiState, rt: ResourceType, namespace: str, raw: str
) -> tuple[str, str, str]:
    parsed = split_scheme_name_port(raw)
    if parsed is None:
        raise errors.bad_request(f'invalid pod request "{raw}"')
    scheme, name, port = parsed
    pod = state.storage.get(rt, namespace, name)
    if not port:
        for container in pod.get("spec", {}).get("containers") or []:
            if container.get("ports"):
                port = str(container["ports"][0].get("containerPort", ""))
                break
    ip = pod.get("status", {}).get("podIP") or ""
    if not ip or ip.startswith("127.") or ip in ("0.0.0.0", "::", "::1"):
        raise errors.bad_request("address not allowed")
    return scheme or "http", ip, port or ("443" if scheme == "https" else "80")


def _split_path(request: web.Request, rt: ResourceType, raw_id: str) -> tuple[str, str]:
    """``(proxy prefix, path to forward)`` from the decoded request path."""
    marker = f"/{rt.plural}/{raw_id}/proxy"
    path = request.path
    index = path.find(marker)
    prefix = path[: index + len(marker)]
    rest = path[index + len(marker) :]
    return prefix, rest


async def proxy_request(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    """Serve one ``.../proxy[/...]`` request (every method)."""
    context = request.app.get(PROXY)
    network = context.network if context is not None else PodNetwork()
    rng = context.rng if context is not None else random.Random()
    namespace, raw_id = target.namespace or "", target.name or ""
    if rt.kind == "Service":
        scheme, ip, number = _service_location(state, rng, namespace, raw_id)
        port = str(number)
    else:
        scheme, ip, port = _pod_location(state, rt, namespace, raw_id)
    prefix, rest = _split_path(request, rt, raw_id)
    if not rest and request.method in ("GET", "HEAD"):
        query = f"?{request.rel_url.raw_query_string}" if request.rel_url.raw_query_string else ""
        raise web.HTTPMovedPermanently(location=f"{request.path}/{query}")
    if not port.isdigit():
        raise _unavailable(
            f"error trying to reach service: dial tcp: address {ip}:{port}: unknown port"
        )
    location = network.resolve(ip, int(port))
    if location is None or context is None:
        raise _unreachable(ip, port)
    return await _forward(
        request, context.client(), scheme, location, rest or "/", prefix, (ip, port)
    )


def _request_headers(request: web.Request, prefix: str, path: str) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    for key, value in request.headers.items():
        lowered = key.lower()
        if (
            lowered in _HOP_BY_HOP
            or lowered in _DROPPED_REQUEST
            or lowered.startswith("impersonate-")
        ):
            continue
        headers.add(key, value)
    peer = request.remote or "127.0.0.1"
    forwarded = request.headers.get("X-Forwarded-For")
    headers["X-Forwarded-For"] = f"{forwarded}, {peer}" if forwarded else peer
    headers["X-Forwarded-Uri"] = prefix + urllib.parse.quote(path)
    return headers


def _rewrite_location(value: str, backend: str, request_host: str, prefix: str) -> str:
    """A same-host absolute-path redirect gets the proxy prefix (``Transport.rewriteURL``)."""
    parts = urllib.parse.urlsplit(value)
    if parts.netloc and parts.netloc not in (backend, request_host):
        return value
    if not parts.path.startswith("/"):
        return value
    if parts.path.startswith(prefix):
        return urllib.parse.urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    path = prefix + parts.path
    return urllib.parse.urlunsplit(("", "", path, parts.query, parts.fragment))


async def _forward(
    request: web.Request,
    session: aiohttp.ClientSession,
    scheme: str,
    location: tuple[str, int],
    path: str,
    prefix: str,
    shown: tuple[str, str],
) -> web.StreamResponse:
    host, port = location
    url = URL.build(scheme=scheme, host=host, port=port, path=path)
    if request.rel_url.raw_query_string:
        url = URL(f"{url}?{request.rel_url.raw_query_string}", encoded=True)
    headers = _request_headers(request, prefix, path)
    skip = [name for name in _AUTO_HEADERS if name not in headers]
    body = await request.read()
    try:
        upstream = await session.request(
            request.method,
            url,
            headers=headers,
            data=body or None,
            allow_redirects=False,
            skip_auto_headers=skip,
            ssl=False,
        )
    except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
        raise _unreachable(*shown) from error
    async with upstream:
        response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
        for key, value in upstream.headers.items():
            lowered = key.lower()
            if lowered in _HOP_BY_HOP or lowered.startswith("access-control-"):
                continue
            if lowered == "location":
                value = _rewrite_location(value, f"{host}:{port}", request.host, prefix)
            response.headers.add(key, value)
        await response.prepare(request)
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
        await response.write_eof()
        return response
