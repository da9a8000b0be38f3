"""``/sandbox/faults``: the fault injector over HTTP (for a sandbox in another process).

- ``GET /sandbox/faults`` -> ``{"rules": [...], "podRules": [...]}``;
- ``POST /sandbox/faults`` with one JSON object, by ``action``:

  - ``{"action": "fail", "status": 503, "method": "GET", "path": "/deployments",
    "times": 2, "retryAfter": 1, "message": "..."}`` -> 201 and the rule;
  - ``{"action": "delay", "seconds": 0.5, "method": ..., "path": ..., "times": ...}``;
  - ``{"action": "reset", "method": ..., "path": ..., "times": ...}``;
  - ``{"action": "dropWatches", "path": "/pods", "abort": false}`` -> ``{"dropped": n}``;
  - ``{"action": "compact"}`` -> ``{"compacted": true}``;
  - ``{"action": "pod", "fault": "CrashLoopBackOff", "namespace": "ns", "name": "web-*",
    "selector": "app=web", "containers": "main", "afterSeconds": 2, "exitCode": 3,
    "message": "..."}`` -> 201 and the kubelet's rule;

  ``method`` (default any), ``path`` (a regular expression searched in the URL path,
  default every path) and ``times`` (``null``: until removed; default 1 for ``fail``
  and ``reset``, ``null`` for ``delay``) are optional;
- ``DELETE /sandbox/faults`` removes every request rule (and pod rule);
  ``DELETE /sandbox/faults/<id>`` one request rule.

Bad bodies get a 400 ``Status``. With access control on, these are non-resource paths:
``cluster-admin`` may use them.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.faults import FaultInjector
from flink_k8s_sandbox.handlers import json_response

__all__ = ["fault_routes"]

Obj = dict[str, Any]
_MISSING: Any = object()
_POD_KEYS = {
    "fault": "fault",
    "namespace": "namespace",
    "name": "name",
    "selector": "selector",
    "containers": "containers",
    "afterSeconds": "after_seconds",
    "exitCode": "exit_code",
    "message": "message",
}


async def _body(request: web.Request) -> Obj:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError as error:
        raise errors.bad_request(f"invalid JSON: {error}") from error
    if not isinstance(body, dict):
        raise errors.bad_request("the body must be a JSON object with an action")
    return body


def _selection(body: Obj, default_times: int | None) -> Obj:
    times = body.get("times", _MISSING)
    return {
        "method": body.get("method"),
        "path": body.get("path") or "",
        "times": default_times if times is _MISSING else times,
    }


def _apply(faults: FaultInjector, body: Obj) -> tuple[Obj, int]:
    action = body.get("action")
    if action == "fail":
        rule = faults.fail(
            int(body.get("status", 500)),
            retry_after=body.get("retryAfter"),
            message=body.get("message"),
            **_selection(body, 1),
        )
        return rule.to_dict(), 201
    if action == "delay":
        rule = faults.delay(float(body["seconds"]), **_selection(body, None))
        return rule.to_dict(), 201
    if action == "reset":
        return faults.reset(**_selection(body, 1)).to_dict(), 201
    if action == "dropWatches":
        dropped = faults.drop_watches(body.get("path") or "", abort=bool(body.get("abort")))
        return {"dropped": dropped}, 200
    if action == "compact":
        faults.compact()
        return {"compacted": True}, 200
    if action == "pod":
        unknown = set(body) - set(_POD_KEYS) - {"action"}
        if unknown:
            raise ValueError(f"unknown pod fault fields: {', '.join(sorted(unknown))}")
        fault = {_POD_KEYS[k]: v for k, v in body.items() if k in _POD_KEYS}
        return dict(faults.pod(**fault)), 201
    raise ValueError(
        f"unknown action {action!r}: use fail, delay, reset, dropWatches, compact or pod"
    )


def fault_routes(faults: FaultInjector) -> list[web.RouteDef]:
    """The admin routes driving ``faults``."""

    async def show(request: web.Request) -> web.StreamResponse:
        pod_rules = faults.pod_rules()
        return json_response({"rules": [r.to_dict() for r in faults.rules], "podRules": pod_rules})

    async def add(request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        try:
            result, code = _apply(faults, body)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise errors.bad_request(f"cannot inject fault: {error}") from error
        return json_response(result, code)

    async def clear(request: web.Request) -> web.StreamResponse:
        faults.clear(pods=True)
        return json_response({"cleared": True})

    async def remove(request: web.Request) -> web.StreamResponse:
        raw = request.match_info["id"]
        if not raw.isdigit() or not faults.remove(int(raw)):
            raise errors.ApiError(
                errors.status_failure(404, "NotFound", f"no fault rule {raw}", {})
            )
        return json_response({"removed": int(raw)})

    return [
        web.get("/sandbox/faults", show),
        web.post("/sandbox/faults", add),
        web.delete("/sandbox/faults", clear),
        web.delete("/sandbox/faults/{id}", remove),
    ]
