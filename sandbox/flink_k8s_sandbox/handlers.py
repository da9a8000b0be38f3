"""The resource endpoints: one aiohttp handler that routes by URL, method and subresource.

Every branch parses its options (:mod:`.options`), calls the storage pipeline
(:mod:`.storage`, :mod:`.deletion`, :mod:`.mutations`) or the watch stream
(:mod:`.watch`) and writes JSON; failures are :class:`~.errors.ApiError` and become
``Status`` responses in :mod:`.routes`' middleware.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml
from aiohttp import web

from flink_k8s_sandbox import errors
from flink_k8s_sandbox.deletion import delete_collection, delete_object
from flink_k8s_sandbox.discovery import api_resource_list
from flink_k8s_sandbox.mutations import (
    APPLY_PATCH,
    accepted_patch_types,
    decode_patch,
    patch_mutation,
    scale_edit,
    scale_mutation,
    scale_replacement,
)
from flink_k8s_sandbox.options import (
    delete_options,
    list_options,
    selection,
    write_options,
)
from flink_k8s_sandbox.podlogs import serve_log
from flink_k8s_sandbox.protobuf import PROTOBUF, ProtobufError, decode_object
from flink_k8s_sandbox.proxy import proxy_request
from flink_k8s_sandbox.resources import ResourceType
from flink_k8s_sandbox.routing import Target, parse_path
from flink_k8s_sandbox.selectors import format_label_selector
from flink_k8s_sandbox.state import ApiState
from flink_k8s_sandbox.storage import Written
from flink_k8s_sandbox.subresources import scale_of
from flink_k8s_sandbox.watch import serve_watch

__all__ = ["STATE", "json_response", "resource_request"]

Obj = dict[str, Any]
STATE = web.AppKey("sandbox_state", ApiState)


def json_response(obj: Any, status: int = 200, warnings: Iterable[str] = ()) -> web.Response:
    """A compact JSON response, with one ``Warning: 299`` header per warning."""
    response = web.Response(
        body=json.dumps(obj, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )
    for warning in warnings:
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def _written(result: Written) -> web.Response:
    return json_response(result.obj, 201 if result.created else 200, result.warnings)


_TEXT_TYPES = ("application/json", "application/yaml")
_BODY_TYPES = (*_TEXT_TYPES, PROTOBUF)
# libyaml's parser when PyYAML has it (same results as SafeLoader, ~10x faster).
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


async def _body(request: web.Request, rt: ResourceType | None = None) -> Obj:
    """The request's object, from JSON, YAML or (built-in kinds) protobuf.

    :param rt: the type the URL names, when the body is one of its objects (custom
        resources have no protobuf form: 415, as from the API server).
    """
    accepted = _TEXT_TYPES if rt is not None and rt.custom else _BODY_TYPES
    if request.content_type not in (*accepted, "application/octet-stream"):
        raise errors.unsupported_media_type(accepted)
    raw = await request.read()
    if request.content_type == PROTOBUF:
        return _protobuf_body(raw)
    try:
        if "yaml" in request.content_type:
            body = yaml.load(raw.decode("utf-8"), Loader=_YAML_LOADER)
        else:
            body = json.loads(raw) if raw else None
    except (ValueError, yaml.YAMLError) as error:
        raise errors.bad_request(f"the object provided is unrecognized: {error}") from error
    if not isinstance(body, dict):
        raise errors.bad_request("the object provided is unrecognized (must be an object)")
    return body


def _protobuf_body(raw: bytes) -> Obj:
    """The JSON form of a protobuf body; from here on it goes the JSON body's way (the
    storage pipeline rejects a kind or apiVersion other than the URL's, as for JSON)."""
    try:
        return decode_object(raw)
    except ProtobufError as error:
        raise errors.bad_request(f"the object provided is unrecognized: {error}") from error


def _require(rt: ResourceType, verb: str) -> None:
    if verb not in rt.verbs:
        raise errors.method_not_allowed()


async def resource_request(request: web.Request) -> web.StreamResponse:
    """Every ``/api/...`` and ``/apis/...`` request below a group-version."""
    state = request.app[STATE]
    target = parse_path(request.path)
    if target is None:
        raise errors.path_not_found()
    if target.plural is None:
        document = api_resource_list(state.registry, target.group, target.version)
        if document is None or request.method != "GET":
            raise errors.path_not_found()
        return json_response(document)
    rt = state.registry.get(target.group, target.version, target.plural)
    if rt is None or (target.namespace is not None and not rt.namespaced):
        raise errors.path_not_found()
    if target.name is None:
        return await _collection(request, state, rt, target.namespace)
    if rt.namespaced and target.namespace is None:
        raise errors.path_not_found()
    if target.subresource is not None:
        return await _subresource(request, state, rt, target)
    return await _item(request, state, rt, target)


async def _collection(
    request: web.Request, state: ApiState, rt: ResourceType, namespace: str | None
) -> web.StreamResponse:
    query = request.query
    if request.method == "GET":
        opts = list_options(query)
        selected = selection(rt, namespace, opts)
        if opts.watch:
            _require(rt, "watch")
            return await serve_watch(request, state, rt, selected, opts)
        _require(rt, "list")
        listed = state.storage.list_objects(
            rt,
            selected,
            limit=opts.limit,
            continue_token=opts.continue_token,
            resource_version=opts.resource_version,
            resource_version_match=opts.resource_version_match,
        )
        return json_response(listed)
    if request.method == "POST":
        _require(rt, "create")
        if rt.namespaced and namespace is None:
            raise errors.path_not_found()
        body = await _body(request, rt)
        opts_w = write_options(query, "CreateOptions", user_agent=_agent(request))
        return _written(state.storage.create(rt, namespace or "", body, opts_w))
    if request.method == "DELETE":
        _require(rt, "deletecollection")
        opts = list_options(query)
        options_body = await _body(request) if request.can_read_body else None
        result = delete_collection(
            state.storage, rt, selection(rt, namespace, opts), delete_options(query, options_body)
        )
        return json_response(result)
    raise errors.method_not_allowed()


def _agent(request: web.Request) -> str:
    return request.headers.get("User-Agent", "")


async def _item(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    namespace, name = target.namespace or "", target.name or ""
    if request.method == "GET":
        _require(rt, "get")
        return json_response(state.storage.get(rt, namespace, name))
    if request.method == "PUT":
        _require(rt, "update")
        opts = write_options(request.query, "UpdateOptions", user_agent=_agent(request))
        body = await _body(request, rt)
        return _written(state.storage.replace(rt, namespace, name, body, opts))
    if request.method == "PATCH":
        _require(rt, "patch")
        return await _patch(request, state, rt, target)
    if request.method == "DELETE":
        _require(rt, "delete")
        options_body = await _body(request) if request.can_read_body else None
        code, result = delete_object(
            state.storage, rt, namespace, name, delete_options(request.query, options_body)
        )
        return json_response(result, code)
    raise errors.method_not_allowed()


async def _patch(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    accepted = accepted_patch_types(rt, target.subresource)
    content_type = request.content_type
    if content_type not in accepted:
        raise errors.unsupported_media_type(accepted)
    origin = "apply" if content_type == APPLY_PATCH else "patch"
    opts = write_options(request.query, "PatchOptions", origin=origin, user_agent=_agent(request))
    patch = decode_patch(content_type, await request.read())
    namespace, name = target.namespace or "", target.name or ""
    if target.subresource == "scale":
        mutation = scale_mutation(rt, name, scale_edit(content_type, patch))
        scale_opts = write_options(request.query, "PatchOptions", origin="patch")
        written = state.storage.modify(rt, namespace, name, mutation, scale_opts, "scale")
        return json_response(scale_of(rt, written.obj, format_label_selector))
    mutation = patch_mutation(
        rt, name, content_type, patch, opts, state.storage.fields, target.subresource
    )
    written = state.storage.modify(rt, namespace, name, mutation, opts, target.subresource)
    return _written(written)


async def _subresource(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    sub = target.subresource or ""
    if rt.subresource(sub) is None or (target.rest and sub not in ("proxy", "log")):
        raise errors.path_not_found()
    namespace, name = target.namespace or "", target.name or ""
    if sub == "scale":
        return await _scale(request, state, rt, target)
    if sub == "log":
        return await _log(request, state, rt, target)
    if sub == "proxy":
        return await proxy_request(request, state, rt, target)
    if request.method == "GET" and sub == "status":
        return json_response(state.storage.get(rt, namespace, name))
    if request.method == "PUT" and sub in ("status", "finalize"):
        opts = write_options(request.query, "UpdateOptions", user_agent=_agent(request))
        body = await _body(request, rt)
        return _written(state.storage.replace(rt, namespace, name, body, opts, sub))
    if request.method == "PATCH" and sub == "status":
        return await _patch(request, state, rt, target)
    raise errors.method_not_allowed()


async def _scale(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    namespace, name = target.namespace or "", target.name or ""
    if request.method == "GET":
        return json_response(
            scale_of(rt, state.storage.get(rt, namespace, name), format_label_selector)
        )
    if request.method == "PATCH":
        return await _patch(request, state, rt, target)
    if request.method != "PUT":
        raise errors.method_not_allowed()
    body = await _body(request)
    opts = write_options(request.query, "UpdateOptions", user_agent=_agent(request))
    mutation = scale_mutation(rt, name, scale_replacement(body))
    written = state.storage.modify(rt, namespace, name, mutation, opts, "scale")
    return json_response(scale_of(rt, written.obj, format_label_selector))


async def _log(
    request: web.Request, state: ApiState, rt: ResourceType, target: Target
) -> web.StreamResponse:
    if request.method != "GET":
        raise errors.method_not_allowed()
    pod = state.storage.get(rt, target.namespace or "", target.name or "")
    return await serve_log(request, state.logs, pod, state.watch_queues)
