"""Server-side apply: checking, resolving, classifying, and the flow's requests."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kube_flows import not_found, run_flow

from airflow_provider_flink_k8s.exceptions import ResourceConflict, ResourceNotFound, SpecError
from airflow_provider_flink_k8s.kube import (
    FIELD_MANAGER,
    ApiRequest,
    ApplyOutcome,
    ApplyResult,
    apply_flow,
    check_manifests,
    classify_apply,
    live_flow,
)
from airflow_provider_flink_k8s.kube.apply import (
    AppliedObject,
    ClaimResult,
    claim_flow,
    plan_apply,
)
from airflow_provider_flink_k8s.kube.resources import ResourceTable
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.spec import load_cluster

CLUSTER = load_cluster({"name": "orders", "namespace": "streaming", "taskmanager": {"slots": 2}})


def _live(manifest: dict[str, Any], version: str = "7") -> dict[str, Any]:
    live = copy.deepcopy(manifest)
    live["metadata"].update(
        resourceVersion=version, uid="u-1", generation=1, managedFields=[{"manager": "m"}]
    )
    live["status"] = {"observedGeneration": 1}
    return live


def test_check_manifests_lists_every_problem() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}},
        {"kind": "ConfigMap", "metadata": {}},
        "not an object",
    ]
    assert [str(p) for p in check_manifests(manifests)] == [
        "manifests[1].apiVersion: is required",
        "manifests[1].metadata.name: is required",
        "manifests[2]: must be a mapping (a Kubernetes object)",
    ]


def test_plan_apply_needs_a_namespace_for_namespaced_kinds() -> None:
    manifests = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "own"}},
    ]
    with pytest.raises(SpecError) as caught:
        plan_apply(manifests, ResourceTable(), None)
    assert [str(p) for p in caught.value.problems] == [
        "manifests[0].metadata.namespace: is required for a namespaced kind (or pass namespace=)"
    ]
    targets = plan_apply(manifests, ResourceTable(), "fallback")
    assert [(t.ref.plural, t.namespace, t.name) for t in targets] == [
        ("configmaps", "fallback", "a"),
        ("namespaces", None, "n"),
        ("configmaps", "own", "b"),
    ]


@pytest.mark.parametrize(
    ("before", "after", "dry_run", "outcome"),
    [
        (None, {"metadata": {"resourceVersion": "1"}}, False, ApplyOutcome.CREATED),
        (None, {"metadata": {}}, True, ApplyOutcome.CREATED),
        (
            {"metadata": {"resourceVersion": "5"}, "data": {"a": "1"}},
            {"metadata": {"resourceVersion": "5"}, "data": {"a": "2"}},
            False,
            ApplyOutcome.UNCHANGED,
        ),
        (
            {"metadata": {"resourceVersion": "5"}, "data": {"a": "1"}},
            {"metadata": {"resourceVersion": "6"}, "data": {"a": "2"}},
            False,
            ApplyOutcome.CONFIGURED,
        ),
        (
            {
                "metadata": {"resourceVersion": "5", "generation": 1},
                "spec": {"r": 1},
                "status": {"x": 1},
            },
            {
                "metadata": {"resourceVersion": "6", "generation": 1},
                "spec": {"r": 1},
                "status": {"x": 2},
            },
            False,
            ApplyOutcome.UNCHANGED,
        ),
        (
            {"metadata": {"resourceVersion": "5"}, "spec": {"r": 1}},
            {"metadata": {"resourceVersion": "5"}, "spec": {"r": 2}},
            True,
            ApplyOutcome.CONFIGURED,
        ),
        (
            {"metadata": {"resourceVersion": "5", "labels": {"a": "b"}}},
            {"metadata": {"resourceVersion": "5", "labels": {"a": "b"}}},
            True,
            ApplyOutcome.UNCHANGED,
        ),
    ],
)
def test_classify_apply(
    before: dict[str, Any] | None, after: dict[str, Any], dry_run: bool, outcome: ApplyOutcome
) -> None:
    assert classify_apply(before, after, dry_run=dry_run) is outcome


def test_apply_flow_reads_then_applies_each_object_in_order() -> None:
    manifests = render_manifests(CLUSTER)
    live = {(m["kind"], m["metadata"]["name"]): _live(m) for m in manifests}
    del live[("ConfigMap", "orders-config")]
    live[("Deployment", "orders-jobmanager")]["spec"]["replicas"] = 2  # changed by hand

    def server(request: ApiRequest) -> Any:
        kind = "Deployment" if "/deployments/" in request.path else None
        kind = kind or ("Service" if "/services/" in request.path else "ConfigMap")
        key = (kind, request.path.rsplit("/", 1)[1])
        if request.method == "GET":
            return live.get(key) or not_found()
        before = live.get(key)
        changed = before is None or before["spec"] != request.body.get("spec", before["spec"])
        return _live(request.body, "8" if changed else "7")

    run = run_flow(apply_flow(manifests, table=ResourceTable()), server)
    result: ApplyResult = run.result
    assert [str(o) for o in result.objects] == [
        "configmap/orders-config created",
        "service/orders-jobmanager unchanged",
        "service/orders-rest unchanged",
        "deployment.apps/orders-jobmanager configured",
        "deployment.apps/orders-taskmanager unchanged",
    ]
    assert result.changed and result.summary() == "1 created, 1 configured, 3 unchanged"
    patch = run.requests[1]
    assert (patch.method, patch.content_type) == ("PATCH", "application/apply-patch+yaml")
    assert patch.path == "/api/v1/namespaces/streaming/configmaps/orders-config"
    assert patch.query == (("fieldManager", FIELD_MANAGER), ("force", "true"))
    assert patch.body == manifests[0]
    assert [r.method for r in run.requests] == ["GET", "PATCH"] * 5


def test_dry_run_adds_the_query_parameter() -> None:
    manifest = render_manifests(CLUSTER)[0]
    run = run_flow(
        apply_flow([manifest], table=ResourceTable(), dry_run=True),
        lambda r: not_found() if r.method == "GET" else _live(r.body),
    )
    assert ("dryRun", "All") in run.requests[1].query
    assert run.result.summary() == "1 created, 0 configured, 0 unchanged (dry run)"


def test_unknown_kinds_are_discovered_once() -> None:
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "n"},
    }
    listing = {"resources": [{"name": "widgets", "kind": "Widget", "namespaced": True}]}

    def server(request: ApiRequest) -> Any:
        if request.path == "/apis/example.com/v1":
            return listing
        return not_found() if request.method == "GET" else _live(request.body)

    table = ResourceTable()
    first = run_flow(apply_flow([widget], table=table), server)
    assert first.requests[0].path == "/apis/example.com/v1"
    assert first.requests[2].path == "/apis/example.com/v1/namespaces/n/widgets/w"
    second = run_flow(apply_flow([widget], table=table), server)
    assert "/apis/example.com/v1" not in [r.path for r in second.requests]


def test_a_kind_the_server_does_not_serve_fails_before_any_write() -> None:
    manifests = [
        render_manifests(CLUSTER)[0],
        {"apiVersion": "nope.io/v1", "kind": "Thing", "metadata": {"name": "t", "namespace": "n"}},
    ]
    with pytest.raises(
        ResourceNotFound, match=r'no matches for kind "Thing" in version "nope\.io/v1"'
    ):
        run_flow(apply_flow(manifests, table=ResourceTable()), lambda r: not_found())


def test_malformed_manifests_fail_before_any_request() -> None:
    requests: list[ApiRequest] = []
    with pytest.raises(SpecError, match="2 problems"):
        run_flow(apply_flow([{"metadata": {"name": "x"}}], table=ResourceTable()), requests.append)  # type: ignore[arg-type]
    assert requests == []


def test_applied_object_str() -> None:
    obj = AppliedObject(
        "flink.apache.org/v1beta1", "FlinkDeployment", "n", "orders", ApplyOutcome.CREATED, "1"
    )
    assert str(obj) == "flinkdeployment.flink.apache.org/orders created"


def test_live_flow_reads_each_object_and_writes_nothing() -> None:
    manifests = render_manifests(CLUSTER)
    live = {m["metadata"]["name"]: _live(m) for m in manifests if m["kind"] == "Deployment"}

    def server(request: ApiRequest) -> Any:
        assert request.method == "GET"
        if "/deployments/" not in request.path:
            return not_found()
        return live.get(request.path.rsplit("/", 1)[1]) or not_found()

    run = run_flow(live_flow(manifests, table=ResourceTable()), server)
    assert [obj and obj["metadata"]["name"] for obj in run.result] == [
        None,
        None,
        None,
        "orders-jobmanager",
        "orders-taskmanager",
    ]
    assert len(run.requests) == len(manifests)


def test_live_flow_refuses_malformed_manifests_before_any_request() -> None:
    with pytest.raises(SpecError, match=r"manifests\[0\]\.kind: is required"):
        run_flow(
            live_flow([{"apiVersion": "v1", "metadata": {"name": "x"}}], table=ResourceTable()),
            lambda request: not_found(),
        )


CONFIG_MAPS = "/api/v1/namespaces/streaming/configmaps"


def test_a_claim_creates_the_object_with_a_create_only_post() -> None:
    anchor = render_manifests(CLUSTER)[0]
    run = run_flow(claim_flow(anchor, table=ResourceTable()), lambda request: _live(anchor))
    (post,) = run.requests
    assert (post.method, post.path) == ("POST", CONFIG_MAPS)
    assert ("fieldManager", FIELD_MANAGER) in post.query
    assert post.body == anchor
    assert run.result == ClaimResult(True, _live(anchor))


@pytest.mark.parametrize("existing", [True, False])
def test_a_claim_that_finds_the_object_reads_it_back(existing: bool) -> None:
    anchor = render_manifests(CLUSTER)[0]

    def server(request: ApiRequest) -> Any:
        if request.method == "POST":
            return ResourceConflict(409, "AlreadyExists", 'configmaps "orders-config" exists')
        return _live(anchor) if existing else not_found()

    run = run_flow(claim_flow(anchor, table=ResourceTable()), server)
    assert [(r.method, r.path) for r in run.requests] == [
        ("POST", CONFIG_MAPS),
        ("GET", f"{CONFIG_MAPS}/orders-config"),
    ]
    assert run.result == ClaimResult(False, _live(anchor) if existing else None)


def test_a_claim_passes_on_other_conflicts_and_malformed_manifests() -> None:
    anchor = render_manifests(CLUSTER)[0]
    conflict = ResourceConflict(409, "Conflict", "the object has been modified")
    with pytest.raises(ResourceConflict, match="modified"):
        run_flow(claim_flow(anchor, table=ResourceTable()), lambda request: conflict)
    with pytest.raises(SpecError, match="kind: is required"):
        run_flow(
            claim_flow({"apiVersion": "v1", "metadata": {"name": "x"}}, table=ResourceTable()),
            lambda request: not_found(),
        )
