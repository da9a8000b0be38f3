"""The aiohttp application: discovery, OpenAPI, health, resources, and errors as Status.

The middleware turns :class:`~.errors.ApiError` into its ``Status`` (with the error's
headers), unknown routes into a 404 ``Status``, and anything unexpected into a 500
``InternalError`` -- a client never sees an HTML error page. Responses are JSON; a
client whose ``Accept`` takes only protobuf gets the same object as protobuf, or 406
when it has no protobuf form (custom resources, discovery, watch streams).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.discovery import (
    api_group,
    api_group_list,
    api_versions,
    version_info,
)
from flink_k8s_sandbox.handlers import STATE, json_response, resource_request
from flink_k8s_sandbox.openapi import group_version_document, openapi_root
from flink_k8s_sandbox.protobuf import PROTOBUF, ProtobufError, encode_object, only_protobuf
from flink_k8s_sandbox.state import ApiState

__all__ = ["build_app"]

_LOG = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _status_response(error: errors.ApiError) -> web.Response:
    response = json_response(error.status, error.code)
    response.headers.update(error.headers)
    return response


@web.middleware
async def _statuses(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except errors.ApiError as error:
        return _status_response(error)
    except web.HTTPException as http_error:
        if http_error.status == 404:
            return _status_response(errors.path_not_found())
        if http_error.status == 405:
            return _status_response(errors.method_not_allowed())
        raise
    except Exception as error:
        _LOG.exception("sandbox request %s %s failed", request.method, request.path)
        return _status_response(errors.internal_error(str(error)))


def _not_acceptable() -> errors.ApiError:
    message = "only the following media types are accepted: application/json, application/yaml"
    return errors.ApiError(errors.status_failure(406, "NotAcceptable", message, {}))


def _as_protobuf(response: web.Response) -> web.Response:
    """``response``'s JSON object as protobuf (same status and headers)."""
    obj = json.loads(response.body) if isinstance(response.body, bytes) else None
    try:
        if not isinstance(obj, dict):
            raise ProtobufError("not an object")
        body = encode_object(obj)
    except ProtobufError:
        return _status_response(_not_acceptable())
    converted = web.Response(body=body, status=response.status, content_type=PROTOBUF)
    for name, value in response.headers.items():
        if name not in ("Content-Type", "Content-Length"):
            converted.headers.add(name, value)
    return converted


@web.middleware
async def _negotiate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Protobuf for a client that takes nothing else; JSON (client-go's choice) otherwise."""
    if not only_protobuf(request.headers.get("Accept", "")):
        return await handler(request)
    if request.query.get("watch") in ("1", "true"):
        return _status_response(_not_acceptable())  # a protobuf watch stream is not served
    response = await handler(request)
    if isinstance(response, web.Response) and response.content_type == "application/json":
        return _as_protobuf(response)
    return response


async def _version(request: web.Request) -> web.Response:
    return json_response(version_info())


async def _api(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response(api_versions(f"{state.host}:{state.port}"))


async def _apis(request: web.Request) -> web.Response:
    return json_response(api_group_list(request.app[STATE].registry))


async def _group(request: web.Request) -> web.Response:
    document = api_group(request.app[STATE].registry, request.match_info["group"])
    if document is None:
        raise errors.path_not_found()
    return json_response(document)


async def _openapi_root(request: web.Request) -> web.Response:
    return json_response(openapi_root(request.app[STATE].registry))


async def _openapi_group_version(request: web.Request) -> web.Response:
    parts = request.match_info["path"].split("/")
    if parts[0] == "api" and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[0] == "apis" and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        raise errors.path_not_found()
    document = group_version_document(request.app[STATE].registry, group, version)
    if document is None:
        raise errors.path_not_found()
    return json_response(document)


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok", content_type="text/plain")


def build_app(
    state: ApiState,
    middlewares: Sequence[Middleware] = (),
    routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    """The application serving one sandbox's API.

    :param middlewares: run inside the Status middleware, in order (access control,
        fault injection); their :class:`~.errors.ApiError` become ``Status`` responses.
    :param routes: served before the generic resource routes (review APIs, admin paths).
    """
    stack: list[Middleware] = [_negotiate, _statuses, *middlewares]
    app = web.Application(middlewares=stack, client_max_size=16 * 1024 * 1024)
    app[STATE] = state
    app.add_routes(routes)
    for path in ("/version", "/version/"):
        app.router.add_get(path, _version)
    for prefix in ("/api", "/api/"):
        app.router.add_get(prefix, _api)
    for prefix in ("/apis", "/apis/"):
        app.router.add_get(prefix, _apis)
    app.router.add_get("/openapi/v3", _openapi_root)
    app.router.add_get("/openapi/v3/{path:.+}", _openapi_group_version)
    for probe in ("/healthz", "/readyz", "/livez"):
        app.router.add_get(probe, _ok)
    app.router.add_get("/apis/{group}", _group)
    app.router.add_route("*", "/api/{path:.+}", resource_request)
    app.router.add_route("*", "/apis/{group}/{path:.+}", resource_request)
    return app
