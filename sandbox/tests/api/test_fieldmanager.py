"""Server-side apply and managedFields: ownership, conflicts and FieldsV1 as clients see them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_k8s_sandbox.fieldmanager import (
    ApplyConflict,
    Conflict,
    apply,
    owned_fields,
    record_update,
)
from flink_k8s_sandbox.patching import PatchError

T0, T1, T2 = "2024-05-01T10:00:00Z", "2024-05-01T10:01:00Z", "2024-05-01T10:02:00Z"


def config(replicas: int = 2, **extra: Any) -> dict[str, Any]:
    """A Deployment as ``kubectl apply --server-side`` sends it."""
    containers = [{"name": "app", "image": "nginx:1", "ports": [{"containerPort": 80}]}]
    spec = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "labels": {"app": "web"}},
        "spec": spec | extra,
    }


def created(manager: str = "mgr", **extra: Any) -> dict[str, Any]:
    return apply(None, config(**extra), manager=manager, force=False, now=T0)


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the server adds after the field manager ran (system fields, defaults, status)."""
    out = copy.deepcopy(obj)
    out["metadata"] |= {"uid": "u-1", "resourceVersion": "7", "generation": 1}
    out["metadata"]["creationTimestamp"] = T0
    for port in out["spec"]["template"]["spec"]["containers"][0].get("ports", []):
        port.setdefault("protocol", "TCP")
    out["status"] = {"replicas": 2}
    return out


def entries(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (e["manager"], e["operation"], e.get("subresource", ""))
        for e in obj["metadata"].get("managedFields", [])
    ]


def scaled(live: dict[str, Any], replicas: int) -> dict[str, Any]:
    """``kubectl scale``: an Update through the scale subresource."""
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = replicas
    return record_update(live, new, manager="kubectl", subresource="scale", now=T1)


def test_create_through_apply_records_fields_v1_as_kubernetes_does() -> None:
    obj = created()
    body = {k: v for k, v in obj.items() if k != "metadata"}
    assert body == {k: v for k, v in config().items() if k != "metadata"}
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "mgr",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},  # a LabelSelector is atomic
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"app"}': {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {
                                        'k:{"containerPort":80,"protocol":"TCP"}': {
                                            ".": {},
                                            "f:containerPort": {},
                                        }
                                    },
                                }
                            }
                        },
                    },
                },
            },
        }
    ]


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    live = stored(created())
    assert apply(live, config(), manager="mgr", force=False, now=T2) == live


def test_an_unchanged_field_can_be_shared_without_conflict() -> None:
    live = stored(created())
    same = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    result = apply(live, same | {"spec": {"replicas": 2}}, manager="other", force=False, now=T1)
    assert ".spec.replicas" in owned_fields(result, "mgr")
    assert owned_fields(result, "other") == {".spec.replicas"}
    assert {k: v for k, v in result.items() if k != "metadata"} == {
        k: v for k, v in live.items() if k != "metadata"
    }


def test_conflict_with_another_apply_manager() -> None:
    live = stored(created())
    with pytest.raises(ApplyConflict) as caught:
        apply(live, config(replicas=3), manager="other", force=False, now=T1)
    error = caught.value
    assert isinstance(error, PatchError) and (error.code, error.reason) == (409, "Conflict")
    # printManager writes "using <apiVersion>" for Update managers only
    assert str(error) == 'Apply failed with 1 conflict: conflict with "mgr": .spec.replicas'
    assert error.causes == (
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "mgr"',
            "field": ".spec.replicas",
        },
    )
    assert error.conflicts == (Conflict("mgr", "apps/v1", ".spec.replicas", "Apply"),)


def test_conflict_after_kubectl_scale_changed_replicas() -> None:
    live = stored(scaled(stored(created()), 5))
    assert entries(live) == [("mgr", "Apply", ""), ("kubectl", "Update", "scale")]
    assert owned_fields(live, "kubectl", "Update", "scale") == {".spec.replicas"}
    assert ".spec.replicas" not in owned_fields(live, "mgr")
    with pytest.raises(ApplyConflict) as caught:
        apply(live, config(), manager="mgr", force=False, now=T2)
    assert str(caught.value) == (
        'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" '
        "using apps/v1: .spec.replicas"
    )
    assert caught.value.causes[0]["message"] == (
        'conflict with "kubectl" with subresource "scale" using apps/v1'
    )


def test_force_moves_ownership_to_the_applier() -> None:
    live = stored(scaled(stored(created()), 5))
    result = apply(live, config(), manager="mgr", force=True, now=T2)
    assert result["spec"]["replicas"] == 2
    assert entries(result) == [("mgr", "Apply", "")]  # kubectl owned nothing else
    assert ".spec.replicas" in owned_fields(result, "mgr")
    assert result["metadata"]["managedFields"][0]["time"] == T2


def test_conflicts_are_listed_per_manager_in_plural() -> None:
    live = stored(apply(stored(created()), config(paused=True), manager="mgr", force=False, now=T1))
    live = stored(scaled(live, 5))
    with pytest.raises(ApplyConflict) as caught:
        apply(live, config(replicas=1, paused=False), manager="third", force=False, now=T2)
    assert str(caught.value) == (
        "Apply failed with 2 conflicts: "
        'conflicts with "kubectl" with subresource "scale" using apps/v1:\n'
        "- .spec.replicas\n"
        'conflicts with "mgr":\n'
        "- .spec.paused"
    )
    assert [c["field"] for c in caught.value.causes] == [".spec.replicas", ".spec.paused"]


def test_a_field_the_manager_stopped_applying_is_removed() -> None:
    live = stored(apply(stored(created()), config(paused=True), manager="mgr", force=False, now=T1))
    result = apply(live, config(), manager="mgr", force=False, now=T2)
    assert "paused" not in result["spec"]
    assert ".spec.paused" not in owned_fields(result, "mgr")


def test_a_field_another_manager_also_owns_is_kept() -> None:
    live = stored(apply(stored(created()), config(paused=True), manager="mgr", force=False, now=T1))
    shared = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    live = stored(
        apply(live, shared | {"spec": {"paused": True}}, manager="b", force=False, now=T1)
    )
    result = apply(live, config(), manager="mgr", force=False, now=T2)
    assert result["spec"]["paused"] is True


def test_removing_the_last_owned_label_drops_the_emptied_map() -> None:
    bare = config()
    del bare["metadata"]["labels"]
    result = apply(stored(created()), bare, manager="mgr", force=False, now=T1)
    assert "labels" not in result["metadata"]


def test_fields_set_by_an_update_manager_are_not_pruned() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["metadata"]["annotations"] = {"note": "x"}
    live = stored(record_update(live, new, manager="kubectl-annotate", now=T1))
    result = apply(live, config(), manager="mgr", force=False, now=T2)
    assert result["metadata"]["annotations"] == {"note": "x"}


def sidecar() -> dict[str, Any]:
    containers = [{"name": "sidecar", "image": "busybox"}]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"template": {"spec": {"containers": containers}}},
    }


def test_two_managers_share_the_containers_list_map() -> None:
    live = stored(apply(stored(created()), sidecar(), manager="side", force=False, now=T1))
    names = [c["name"] for c in live["spec"]["template"]["spec"]["containers"]]
    assert names == ["app", "sidecar"]
    assert owned_fields(live, "side") == {
        '.spec.template.spec.containers[name="sidecar"]',
        '.spec.template.spec.containers[name="sidecar"].image',
        '.spec.template.spec.containers[name="sidecar"].name',
    }
    assert apply(live, config(), manager="mgr", force=False, now=T2) == live
    without_app = config()
    without_app["spec"]["template"]["spec"]["containers"] = []
    result = apply(live, without_app, manager="mgr", force=False, now=T2)
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == ["sidecar"]


@pytest.mark.parametrize(
    ("live_names", "applied_names", "merged"),
    [
        (["a"], ["x", "a"], ["x", "a"]),  # new items take the configuration's place
        (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),  # live-only items stay put
        (["a", "b"], ["b", "a"], ["b", "a"]),
        (["a", "b"], ["c"], ["a", "b", "c"]),
    ],
)
def test_list_map_merge_order(
    live_names: list[str], applied_names: list[str], merged: list[str]
) -> None:
    def pod(names: list[str]) -> dict[str, Any]:
        containers = [{"name": n} for n in names]
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": containers},
        }

    result = apply(pod(live_names), pod(applied_names), manager="m", force=False, now=T0)
    assert [c["name"] for c in result["spec"]["containers"]] == merged


# --- record_update ------------------------------------------------------------------------------


def test_create_by_update_owns_every_field_but_system_ones() -> None:
    obj = record_update(None, stored(config()), manager="kubectl-create", now=T0)
    assert entries(obj) == [("kubectl-create", "Update", "")]
    owned = owned_fields(obj, "kubectl-create", "Update")
    assert {".metadata.labels.app", ".spec.replicas", ".status.replicas"} <= owned
    forbidden = {".apiVersion", ".kind", ".metadata.name", ".metadata.namespace", ".metadata.uid"}
    assert not owned & (forbidden | {".metadata.resourceVersion", ".metadata.generation"})
    assert not owned & {".metadata.creationTimestamp", ".metadata.managedFields"}


def test_update_moves_changed_fields_and_drops_removed_ones() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 4
    del new["metadata"]["labels"]
    result = record_update(live, new, manager="editor", now=T1)
    assert owned_fields(result, "editor", "Update") == {".spec.replicas"}
    mine = owned_fields(result, "mgr")
    assert ".spec.replicas" not in mine and ".metadata.labels.app" not in mine
    assert result["metadata"]["managedFields"][1]["time"] == T1


def test_an_update_that_changes_nothing_records_nothing() -> None:
    live = stored(created())
    assert record_update(live, copy.deepcopy(live), manager="noop", now=T1) == live


def test_status_is_not_owned_when_the_kind_has_a_status_subresource() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["status"]["replicas"] = 9
    result = record_update(live, new, manager="x", now=T1, ignore_status=True)
    assert entries(result) == [("mgr", "Apply", "")]
    with_status = config() | {"status": {"replicas": 100}}
    applied = apply(live, with_status, manager="mgr", force=False, now=T1, ignore_status=True)
    assert applied["status"] == {"replicas": 2} and applied == live


def test_status_subresource_writes_record_the_subresource() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["status"]["readyReplicas"] = 2
    result = record_update(live, new, manager="controller", subresource="status", now=T1)
    entry = result["metadata"]["managedFields"][1]
    assert (entry["manager"], entry["subresource"]) == ("controller", "status")
    assert entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}}}


def test_managed_fields_sent_by_the_client_are_honoured_or_reset() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in record_update(live, new, manager="x", now=T1)["metadata"]
    del new["metadata"]["managedFields"]  # omitted: the stored ones are kept
    assert entries(record_update(live, new, manager="x", now=T1)) == [("mgr", "Apply", "")]


def test_entries_sort_apply_first_then_time_then_manager() -> None:
    live = stored(created())
    new = copy.deepcopy(live)
    new["metadata"]["annotations"] = {"b": "1"}
    live = record_update(live, new, manager="zz", now=T1)
    new = copy.deepcopy(live)
    new["metadata"]["annotations"]["a"] = "1"
    live = record_update(live, new, manager="aa", now=T1)
    assert entries(live) == [("mgr", "Apply", ""), ("aa", "Update", ""), ("zz", "Update", "")]


# --- errors and purity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("containers", "message"),
    [
        (
            [{"image": "x"}],
            ".spec.template.spec.containers: element 0: associative list with keys has an "
            'element that omits key field "name" (and doesn\'t have default value)',
        ),
        (
            [{"name": "a"}, {"name": "a"}],
            '.spec.template.spec.containers: duplicate entries for key [name="a"]',
        ),
    ],
)
def test_malformed_list_maps_are_refused_as_the_api_server_does(
    containers: list[Any], message: str
) -> None:
    body = config()
    body["spec"]["template"]["spec"]["containers"] = containers
    with pytest.raises(PatchError) as caught:
        apply(None, body, manager="m", force=False, now=T0)
    assert (caught.value.code, caught.value.reason) == (500, "")
    prefix = "failed to create typed patch object (ns/web; apps/v1, Kind=Deployment): "
    assert str(caught.value) == prefix + message


def test_applied_managed_fields_are_refused() -> None:
    body = config()
    body["metadata"]["managedFields"] = []
    with pytest.raises(PatchError) as caught:
        apply(None, body, manager="m", force=False, now=T0)
    assert (caught.value.code, str(caught.value)) == (400, "metadata.managedFields must be nil")


def test_inputs_are_never_mutated() -> None:
    live, body = stored(created()), config(replicas=7)
    before = copy.deepcopy((live, body))
    apply(live, body, manager="other", force=True, now=T1)
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = 1
    new_before = copy.deepcopy(new)
    record_update(live, new, manager="x", now=T1)
    assert (live, body) == before and new == new_before


def test_custom_resources_have_atomic_lists() -> None:
    cr = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "f", "finalizers": ["flinkdeployments.flink.apache.org/finalizer"]},
        "spec": {"flinkConfiguration": {"a": "1"}, "args": ["x"], "job": {"jarURI": "local:///j"}},
    }
    assert owned_fields(apply(None, cr, manager="op", force=False, now=T0), "op") == {
        '.metadata.finalizers[="flinkdeployments.flink.apache.org/finalizer"]',
        ".spec.flinkConfiguration.a",
        ".spec.args",
        ".spec.job.jarURI",
    }


labels = st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["1", "2"]), max_size=4)


@given(labels, labels, st.integers(0, 5))
def test_apply_then_reapply_is_a_fixed_point(
    first: dict[str, str], second: dict[str, str], n: int
) -> None:
    live = stored(
        apply(
            None,
            config(replicas=n) | {"metadata": {"name": "web", "labels": first}},
            manager="m",
            force=False,
            now=T0,
        )
    )
    body = config(replicas=n) | {"metadata": {"name": "web", "labels": second}}
    once = apply(live, body, manager="m", force=False, now=T1)
    assert once["metadata"].get("labels", {}) == second
    assert apply(once, body, manager="m", force=False, now=T2) == once
