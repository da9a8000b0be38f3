"""JSON patch, merge patch and strategic merge patch as the API server applies them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_k8s_sandbox.patching import (
    ListStrategy,
    PatchError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
    list_strategy,
    merge_key_table,
)

INVALID = "the server rejected our request due to an error in our request"


def deployment(**spec: Any) -> dict[str, Any]:
    containers = [
        {"name": "app", "image": "app:1", "args": ["--a"], "env": [{"name": "A", "value": "1"}]},
        {"name": "log", "image": "log:1"},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}} | spec,
    }


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def pod_spec_of_default() -> dict[str, Any]:
    return {"spec": pod_spec(deployment())}


def template_patch(**pod: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": pod}}}


# --- JSON patch --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ops", "path", "expected"),
    [
        (
            [{"op": "add", "path": "/metadata/labels/tier", "value": "front"}],
            "metadata.labels.tier",
            "front",
        ),
        ([{"op": "replace", "path": "/spec/replicas", "value": 3}], "spec.replicas", 3),
        ([{"op": "remove", "path": "/metadata/labels/app"}], "metadata.labels", {}),
        (
            [{"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/n"}],
            "metadata.labels.n",
            "web",
        ),
        (
            [{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/x"}],
            "metadata.x",
            "web",
        ),
        (
            [{"op": "add", "path": "/metadata/finalizers/-", "value": "c"}],
            "metadata.finalizers",
            ["a", "b", "c"],
        ),
        (
            [{"op": "add", "path": "/metadata/finalizers/0", "value": "c"}],
            "metadata.finalizers",
            ["c", "a", "b"],
        ),
        (
            [{"op": "add", "path": "/metadata/finalizers/-1", "value": "c"}],
            "metadata.finalizers",
            ["a", "b", "c"],
        ),
        ([{"op": "remove", "path": "/metadata/finalizers/-1"}], "metadata.finalizers", ["a"]),
        (
            [{"op": "replace", "path": "/metadata/finalizers/1", "value": "z"}],
            "metadata.finalizers",
            ["a", "z"],
        ),
        (
            [
                {"op": "add", "path": "/metadata/annotations", "value": {"a~b/c": "1"}},
                {"op": "replace", "path": "/metadata/annotations/a~0b~1c", "value": "2"},
            ],
            "metadata.annotations",
            {"a~b/c": "2"},
        ),
        # evanphx/json-patch v4: replacing a missing object member adds it
        (
            [{"op": "replace", "path": "/metadata/labels/new", "value": "v"}],
            "metadata.labels.new",
            "v",
        ),
        (
            [
                {"op": "test", "path": "/spec/replicas", "value": 1},
                {"op": "test", "path": "/metadata/finalizers", "value": ["a", "b"]},
                {"op": "test", "path": "/metadata/missing", "value": None},  # null matches absent
            ],
            "spec.replicas",
            1,
        ),
    ],
)
def test_json_patch_operations(ops: list[Any], path: str, expected: Any) -> None:
    patched: Any = apply_json_patch(deployment(), ops)
    for part in path.split("."):
        patched = patched[part]
    assert patched == expected


def test_json_patch_can_replace_the_whole_document() -> None:
    assert apply_json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {
        "b": 2
    }


@pytest.mark.parametrize(
    ("op", "detail"),
    [
        (
            {"op": "test", "path": "/spec/replicas", "value": 2},
            "testing value /spec/replicas failed: test failed",
        ),
        (
            {"op": "test", "path": "/spec/replicas"},
            "testing value /spec/replicas failed: test failed",
        ),
        (
            {"op": "test", "path": "/spec/missing", "value": 1},
            "testing value /spec/missing failed: test failed",
        ),
        (
            {"op": "add", "path": "/nope/x", "value": 1},
            'add operation does not apply: doc is missing path: "/nope/x"',
        ),
        (
            {"op": "remove", "path": "/metadata/labels/nope"},
            "Unable to remove nonexistent key: nope: missing value",
        ),
        (
            {"op": "replace", "path": "/metadata/finalizers/5", "value": "x"},
            "Unable to access invalid index: 5: invalid index referenced",
        ),
        (
            {"op": "add", "path": "/metadata/finalizers/x", "value": "x"},
            'strconv.Atoi: parsing "x": invalid syntax',
        ),
        (
            {"op": "move", "from": "/nope", "path": "/x"},
            "Unable to remove nonexistent key: nope: missing value",
        ),
        (
            {"op": "copy", "from": "/a/b", "path": "/x"},
            "copy operation does not apply: doc is missing from path: /a/b",
        ),
        ({"op": "frobnicate", "path": "/x"}, "Unexpected kind: frobnicate"),
        ({"path": "/x"}, "Unexpected kind: unknown"),
        ({"op": "add", "value": 1}, "add operation failed to decode path: missing value"),
        (
            {"op": "add", "path": "spec", "value": 1},
            'add operation does not apply: doc is missing path: "spec"',
        ),
    ],
)
def test_json_patch_failures_are_422_invalid(op: dict[str, Any], detail: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(deployment(), [op])
    error = caught.value
    assert (error.code, error.reason, str(error), error.detail) == (422, "Invalid", INVALID, detail)


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        (["add"], "json: cannot unmarshal string into Go value of type jsonpatch.Operation"),
        ([[1]], "json: cannot unmarshal array into Go value of type jsonpatch.Operation"),
    ],
)
def test_json_patch_body_that_does_not_decode_is_400(ops: Any, message: str) -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch(deployment(), ops)
    assert (caught.value.code, caught.value.reason, str(caught.value)) == (
        400,
        "BadRequest",
        message,
    )


def test_json_patch_with_too_many_operations_is_413() -> None:
    with pytest.raises(PatchError) as caught:
        apply_json_patch({}, [{"op": "test", "path": "/a", "value": None}] * 10001)
    assert caught.value.code == 413
    assert str(caught.value) == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )


def test_json_patch_never_mutates_its_inputs() -> None:
    obj, ops = deployment(), [{"op": "add", "path": "/metadata/labels/x", "value": {"deep": [1]}}]
    before = copy.deepcopy((obj, ops))
    patched = apply_json_patch(obj, ops)
    patched["metadata"]["labels"]["x"]["deep"].append(2)
    assert (obj, ops) == before


# --- merge patch -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386 appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
        ({"a": 1}, {"a": {"b": None, "c": 2}}, {"a": {"c": 2}}),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert apply_merge_patch(target, patch) == result


def test_merge_patch_must_be_an_object() -> None:
    with pytest.raises(PatchError) as caught:
        apply_merge_patch({}, [1])  # type: ignore[arg-type]
    assert caught.value.code == 400
    assert str(caught.value) == (
        "error decoding patch: json: cannot unmarshal array into Go value of type "
        "map[string]interface {}"
    )


def test_merge_patch_never_mutates_its_inputs() -> None:
    obj, patch = deployment(), {"metadata": {"labels": {"x": {"y": 1}}, "name": None}}
    before = copy.deepcopy((obj, patch))
    apply_merge_patch(obj, patch)["metadata"]["labels"]["x"]["y"] = 2
    assert (obj, patch) == before


json_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=2)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("abc", max_size=2), inner, max_size=3)
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.text("abc", max_size=2), json_values, max_size=4)


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


def merge_diff(original: Any, target: Any) -> Any:
    """The merge patch turning ``original`` into ``target`` (RFC 7386 section 3)."""
    if not isinstance(original, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Any] = {k: None for k in original if k not in target}
    for key, value in target.items():
        if key not in original or original[key] != value:
            patch[key] = merge_diff(original.get(key), value)
    return patch


@given(documents, documents)
def test_merge_patch_of_a_diff_reproduces_the_target(original: Any, target: Any) -> None:
    target = strip_nulls(target)  # a merge patch cannot write null members (they are pruned)
    assert apply_merge_patch(original, merge_diff(original, target)) == target


# --- strategic merge patch ------------------------------------------------------------------


def test_smp_merges_containers_by_name_new_items_first() -> None:
    patched = apply_strategic_merge_patch(
        deployment(),
        template_patch(
            containers=[{"name": "side", "image": "s:1"}, {"name": "log", "image": "log:2"}]
        ),
    )
    containers = pod_spec(patched)["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("side", "s:1"),  # new: before the items only the server had
        ("app", "app:1"),
        ("log", "log:2"),
    ]


def test_smp_prepends_items_the_server_did_not_have() -> None:
    patched = apply_strategic_merge_patch(
        deployment(), template_patch(containers=[{"name": "side"}])
    )
    assert [c["name"] for c in pod_spec(patched)["containers"]] == ["side", "app", "log"]


def test_smp_keeps_the_patch_order_among_merged_items() -> None:
    """apimachinery's "preserve the order from the patch in a merging list 2" case."""
    obj = {
        "kind": "Pod",
        "spec": {"containers": [{"name": "1"}, {"name": "2", "image": "b"}, {"name": "3"}]},
    }
    patch = {"spec": {"containers": [{"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}}
    assert apply_strategic_merge_patch(obj, patch)["spec"]["containers"] == [
        {"name": "2", "image": "b"},
        {"name": "3", "image": "c"},
        {"name": "1", "image": "a"},
    ]


@pytest.mark.parametrize(
    ("patch", "path", "expected"),
    [
        (  # env by name, args atomic
            template_patch(
                containers=[{"name": "app", "env": [{"name": "B", "value": "2"}], "args": ["--b"]}]
            ),
            ("spec", "template", "spec", "containers", 0),
            {
                "name": "app",
                "image": "app:1",
                "args": ["--b"],
                "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
            },
        ),
        (  # tolerations are atomic
            template_patch(tolerations=[{"key": "b"}]),
            ("spec", "template", "spec", "tolerations"),
            [{"key": "b"}],
        ),
        (  # finalizers merge as a set; server-only items keep their place before shared ones
            {"metadata": {"finalizers": ["b", "c"]}},
            ("metadata", "finalizers"),
            ["a", "b", "c"],
        ),
        (  # ... and come after new ones
            {"metadata": {"finalizers": ["c"]}},
            ("metadata", "finalizers"),
            ["c", "a", "b"],
        ),
        (
            {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}},
            ("metadata", "finalizers"),
            ["b"],
        ),
        (
            {"metadata": {"$setElementOrder/finalizers": ["b", "a"]}},
            ("metadata", "finalizers"),
            ["b", "a"],
        ),
        (  # $patch: delete removes the item with that key
            template_patch(containers=[{"name": "app", "$patch": "delete"}]),
            ("spec", "template", "spec", "containers"),
            [{"name": "log", "image": "log:1"}],
        ),
        (  # $patch: replace in a list replaces the whole list
            template_patch(containers=[{"name": "only"}, {"$patch": "replace"}]),
            ("spec", "template", "spec", "containers"),
            [{"name": "only"}],
        ),
        (  # $patch: replace in a map replaces the map
            {"metadata": {"labels": {"$patch": "replace", "x": "y"}}},
            ("metadata", "labels"),
            {"x": "y"},
        ),
        (  # $patch: delete in a map empties it
            {"metadata": {"labels": {"$patch": "delete"}}},
            ("metadata", "labels"),
            {},
        ),
        (  # $retainKeys clears the keys it does not list
            {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
            ("spec", "strategy"),
            {"type": "Recreate"},
        ),
        (  # $setElementOrder orders merged items
            template_patch(
                **{
                    "$setElementOrder/containers": [{"name": "log"}, {"name": "app"}],
                    "containers": [{"name": "app", "image": "app:2"}],
                }
            ),
            ("spec", "template", "spec", "containers"),
            [
                {"name": "log", "image": "log:1"},
                {
                    "name": "app",
                    "image": "app:2",
                    "args": ["--a"],
                    "env": [{"name": "A", "value": "1"}],
                },
            ],
        ),
        (  # null deletes, nulls and directives inside new values are dropped
            {"spec": {"replicas": None, "paused": {"x": None, "$patch": "merge", "y": 1}}},
            ("spec",),
            {"template": pod_spec_of_default(), "paused": {"y": 1}},
        ),
    ],
)
def test_smp_directives_and_strategies(
    patch: dict[str, Any], path: tuple[Any, ...], expected: Any
) -> None:
    obj = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}})
    patched: Any = apply_strategic_merge_patch(obj, patch)
    for part in path:
        patched = patched[part]
    if path == ("spec",):
        patched = {k: v for k, v in patched.items() if k != "strategy"}
    assert patched == expected


@pytest.mark.parametrize(
    ("kind", "obj", "patch", "expected"),
    [
        (
            "Pod",
            {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "ports": [{"containerPort": 80}],
                            "volumeMounts": [{"mountPath": "/x", "name": "v"}],
                        }
                    ]
                }
            },
            {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "ports": [{"containerPort": 81}],
                            "volumeMounts": [{"mountPath": "/x", "readOnly": True}],
                        }
                    ]
                }
            },
            {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "ports": [{"containerPort": 81}, {"containerPort": 80}],
                            "volumeMounts": [{"mountPath": "/x", "name": "v", "readOnly": True}],
                        }
                    ]
                }
            },
        ),
        (
            "Service",
            {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443}]}},
            {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}},
            {"spec": {"ports": [{"port": 80, "name": "http", "targetPort": 8080}, {"port": 443}]}},
        ),
        (
            "Pod",
            {
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "False"},
                        {"type": "PodScheduled", "status": "True"},
                    ]
                }
            },
            {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            {
                "status": {
                    "conditions": [
                        {"type": "Ready", "status": "True"},
                        {"type": "PodScheduled", "status": "True"},
                    ]
                }
            },
        ),
        (
            "ConfigMap",
            {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]}, "data": {"k": "v"}},
            {"metadata": {"ownerReferences": [{"uid": "1", "controller": True}]}},
            {
                "metadata": {"ownerReferences": [{"uid": "1", "name": "a", "controller": True}]},
                "data": {"k": "v"},
            },
        ),
        (  # a kind without a schema: lists are atomic, maps merge
            "Widget",
            {"spec": {"items": [{"name": "a"}], "m": {"a": 1}}},
            {"spec": {"items": [{"name": "b"}], "m": {"b": 2}}},
            {"spec": {"items": [{"name": "b"}], "m": {"a": 1, "b": 2}}},
        ),
    ],
)
def test_smp_merge_keys_by_kind(kind: str, obj: Any, patch: Any, expected: Any) -> None:
    assert apply_strategic_merge_patch(obj, patch, kind=kind) == expected


@pytest.mark.parametrize(
    ("patch", "code", "reason", "message"),
    [
        (
            {"spec": {"$patch": "merge"}},
            500,
            "",
            "unknown patch type: merge in map: map[$patch:merge]",
        ),
        (
            template_patch(containers=[{"$patch": "merge"}]),
            500,
            "",
            "merging lists cannot yet be specified in the patch",
        ),
        (
            template_patch(containers=[{"name": "x", "$patch": "bogus"}]),
            500,
            "",
            "unknown patch type: bogus in map: map[$patch:bogus name:x]",
        ),
        (
            template_patch(containers=[{"image": "x"}]),
            500,
            "",
            "map: map[image:x] does not contain declared merge key: name",
        ),
        (
            template_patch(containers=[{"$patch": "delete", "image": "x"}]),
            500,
            "",
            "map: map[$patch:delete image:x] does not contain declared merge key: name",
        ),
        (
            {"spec": {"$retainKeys": "type"}},
            400,
            "BadRequest",
            "invalid patch format of retainKeys",
        ),
        (
            {"spec": {"$retainKeys": ["type"], "replicas": 2}},
            400,
            "BadRequest",
            "invalid patch format of retainKeys",
        ),
        (
            {"metadata": {"$deleteFromPrimitiveList": ["a"]}},
            400,
            "BadRequest",
            "invalid patch format of primitive list",
        ),
        (
            {"metadata": {"$setElementOrderX/finalizers": ["a"]}},
            400,
            "BadRequest",
            "invalid patch format of setElementOrder list",
        ),
        (
            {"metadata": {"finalizers": [1]}},
            500,
            "",
            "list element types are not identical: [[a b] [1]]",
        ),
        (
            {"metadata": {"$setElementOrder/finalizers": ["a"], "finalizers": ["c", "a"]}},
            500,
            "",
            "The order in patch list:\n[c a]\n doesn't match $setElementOrder list:\n[a]\n",
        ),
    ],
)
def test_smp_errors_carry_the_api_server_code(
    patch: dict[str, Any], code: int, reason: str, message: str
) -> None:
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch(deployment(), patch)
    assert (caught.value.code, caught.value.reason, str(caught.value)) == (code, reason, message)


def test_smp_refuses_lists_of_lists_with_422() -> None:
    obj = {"metadata": {"finalizers": [["a"]]}}
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch(obj, {"metadata": {"finalizers": [["b"]]}}, kind="Pod")
    assert (caught.value.code, caught.value.reason, str(caught.value)) == (422, "Invalid", INVALID)
    assert caught.value.detail == "lists of lists are not supported"


def test_smp_body_must_be_an_object() -> None:
    with pytest.raises(PatchError) as caught:
        apply_strategic_merge_patch(deployment(), [])  # type: ignore[arg-type]
    assert caught.value.code == 400


def test_smp_never_mutates_its_inputs() -> None:
    obj = deployment()
    patch = template_patch(
        containers=[{"name": "app", "env": [{"name": "B"}]}, {"name": "log", "$patch": "delete"}]
    )
    before = copy.deepcopy((obj, patch))
    apply_strategic_merge_patch(obj, patch)
    assert (obj, patch) == before


maps_only = st.recursive(
    st.none() | st.integers(-3, 3) | st.text("xy", max_size=2),
    lambda inner: st.dictionaries(st.sampled_from(["spec", "data", "k", "v"]), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(st.sampled_from(["spec", "data", "k"]), maps_only, max_size=3),
    st.dictionaries(st.sampled_from(["spec", "data", "k"]), maps_only, max_size=3),
)
def test_smp_without_lists_or_directives_equals_merge_patch(obj: Any, patch: Any) -> None:
    obj = strip_nulls(obj)
    assert apply_strategic_merge_patch(obj, patch, kind="ConfigMap") == apply_merge_patch(
        obj, patch
    )


# --- the merge-key table ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "path", "strategy"),
    [
        ("Deployment", "spec.template.spec.containers", ListStrategy("name", ("name",))),
        (
            "Pod",
            "spec.containers.ports",
            ListStrategy("containerPort", ("containerPort", "protocol"), (("protocol", "TCP"),)),
        ),
        ("Pod", "spec.initContainers.env", ListStrategy("name", ("name",))),
        (
            "StatefulSet",
            "spec.template.spec.containers.volumeMounts",
            ListStrategy("mountPath", ("mountPath",)),
        ),
        ("CronJob", "spec.jobTemplate.spec.template.spec.volumes", ListStrategy("name", ("name",))),
        ("PodTemplate", "template.spec.imagePullSecrets", ListStrategy("name", ("name",))),
        (
            "Service",
            "spec.ports",
            ListStrategy("port", ("port", "protocol"), (("protocol", "TCP"),)),
        ),
        ("Deployment", "status.conditions", ListStrategy("type", ("type",))),
        ("Node", "status.addresses", ListStrategy("type", ("type",))),
        ("FlinkDeployment", "metadata.finalizers", ListStrategy()),
        ("ConfigMap", "metadata.ownerReferences", ListStrategy("uid", ("uid",))),
    ],
)
def test_merge_key_table(kind: str, path: str, strategy: ListStrategy) -> None:
    assert merge_key_table(kind)[path] == strategy
    assert list_strategy(kind, path.split(".")) == strategy


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("Pod", "spec.tolerations"),
        ("Pod", "spec.containers.args"),
        ("Pod", "spec.containers.envFrom"),
        ("Pod", "status.containerStatuses"),
        ("FlinkDeployment", "spec.podTemplate.spec.containers"),
    ],
)
def test_atomic_lists_have_no_strategy(kind: str, path: str) -> None:
    assert list_strategy(kind, path.split(".")) is None
