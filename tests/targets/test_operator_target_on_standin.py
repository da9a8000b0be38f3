"""The stand-in Flink Kubernetes Operator, driven by the provider's hook and classifiers.

One sandbox per module with ``flink_operator=True`` and :data:`FAST` timing (one
operator step = 50 ms); FlinkDeployments are rendered by the provider and applied with
:class:`FlinkKubernetesHook`; the verdicts come from ``classify_operator_deployment``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from kubernetes import client
from workload_support import FAST, eventually

from airflow_provider_flink_k8s.hooks.kubernetes import FlinkKubernetesHook
from airflow_provider_flink_k8s.manifests import render_manifests
from airflow_provider_flink_k8s.observation import classify_operator_deployment
from airflow_provider_flink_k8s.observation.verdict import Lifecycle, Reason, Verdict
from airflow_provider_flink_k8s.spec import load_cluster
from flink_k8s_sandbox import SandboxServer
from flink_k8s_sandbox.flinkoperator.status import (
    job_id_for,
)
from flink_k8s_sandbox.state import WatchSettings

GROUP, VERSION, PLURAL = "flink.apache.org", "v1beta1", "flinkdeployments"
Kubectl = Callable[..., Any]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    watch = WatchSettings(bookmark_interval=0.3)
    with SandboxServer(watch=watch, timing=FAST, flink_operator=True) as server:
        yield server


@pytest.fixture(scope="module")
def hook(kubeconfig: Path) -> FlinkKubernetesHook:
    return FlinkKubernetesHook(config_file=str(kubeconfig))


def _cluster(name: str, namespace: str, tmp: Path | None = None, **fields: Any) -> Any:
    spec: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "target": "operator",
        "flink_version": "1.20",
        "jobmanager": {"cpu": 0.5, "memory": "1600m"},
        "taskmanager": {"cpu": 1, "memory": "1728m", "slots": 2},
        "job": {
            "jar_uri": "local:///opt/flink/examples/streaming/StateMachineExample.jar",
            "parallelism": 4,
            "upgrade_mode": "stateless" if tmp is None else "savepoint",
        },
    }
    if tmp is not None:
        spec["savepoint_dir"] = (tmp / "savepoints").as_uri()
        spec["checkpoint_dir"] = (tmp / "checkpoints").as_uri()
    spec.update(fields)
    return load_cluster(spec)


def _get(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    return obj


def _status(custom: client.CustomObjectsApi, namespace: str, name: str) -> dict[str, Any]:
    return dict(_get(custom, namespace, name).get("status") or {})


def _patch(custom: client.CustomObjectsApi, namespace: str, name: str, spec: Any) -> None:
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, {"spec": spec})


def _verdict(hook: FlinkKubernetesHook, namespace: str, name: str, target: Any = "job") -> Verdict:
    snapshot = hook.observe(name, namespace, target="operator", log_lines=0)
    return classify_operator_deployment(snapshot, target=target, now=datetime.now(timezone.utc))


def _follow(
    custom: client.CustomObjectsApi,
    namespace: str,
    name: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 10.0,
) -> list[tuple[Any, ...]]:
    """Poll the status until ``until(status)``; the distinct (lifecycle, JobManager, job)
    triples seen, in order."""
    seen: list[tuple[Any, ...]] = []
    deadline = time.monotonic() + timeout
    while True:
        status = _status(custom, namespace, name)
        triple = (
            status.get("lifecycleState"),
            status.get("jobManagerDeploymentStatus"),
            (status.get("jobStatus") or {}).get("state"),
        )
        if not seen or seen[-1] != triple:
            seen.append(triple)
        if until(status):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s; seen {seen}")
        time.sleep(0.01)


def _stable(status: dict[str, Any]) -> bool:
    return status.get("lifecycleState") == "STABLE"


def _deploy_stable(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    namespace: str,
    name: str,
    tmp: Path | None = None,
    **fields: Any,
) -> dict[str, Any]:
    hook.apply(render_manifests(_cluster(name, namespace, tmp, **fields)))
    _follow(custom, namespace, name, _stable)
    return _status(custom, namespace, name)


def _reconciled(status: dict[str, Any], key: str = "lastReconciledSpec") -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(status["reconciliationStatus"][key])
    return spec


def _reasons(core: client.CoreV1Api, namespace: str, name: str) -> list[str]:
    selector = f"involvedObject.name={name},involvedObject.kind=FlinkDeployment"
    return [e.reason for e in core.list_namespaced_event(namespace, field_selector=selector).items]


def _tm_pods(core: client.CoreV1Api, namespace: str, name: str) -> list[str]:
    selector = f"app={name},component=taskmanager,type=flink-native-kubernetes"
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted(p.metadata.name for p in pods if p.metadata.deletion_timestamp is None)


def _file(location: str) -> Path:
    assert location.startswith("file:/"), location
    return Path(urlparse(location).path)


# -- deploy -------------------------------------------------------------------------


def test_deploy_goes_progressing_then_ready_and_stable(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    started = time.monotonic()
    hook.apply(render_manifests(_cluster("demo", namespace)))
    verdicts: list[tuple[Lifecycle, Reason]] = []
    while time.monotonic() - started < 10:
        verdict = _verdict(hook, namespace, "demo")
        if not verdicts or verdicts[-1] != (verdict.lifecycle, verdict.reason):
            verdicts.append((verdict.lifecycle, verdict.reason))
        if verdict.lifecycle is Lifecycle.READY and _stable(_status(custom, namespace, "demo")):
            break
    assert time.monotonic() - started < 8  # about 0.6 s; slack for a loaded machine
    assert verdicts[0][0] is Lifecycle.PROGRESSING
    assert (Lifecycle.PROGRESSING, Reason.DEPLOYING) in verdicts
    assert verdicts[-1] == (Lifecycle.READY, Reason.READY)

    obj = _get(custom, namespace, "demo")
    status = obj["status"]
    assert obj["metadata"]["finalizers"] == ["flinkdeployments.flink.apache.org/finalizer"]
    assert status["observedGeneration"] == 1
    assert status["jobManagerDeploymentStatus"] == "READY"
    job = status["jobStatus"]
    assert job["state"] == "RUNNING"
    assert job["jobName"] == "demo"
    assert re.fullmatch(r"[0-9a-f]{32}", job["jobId"])
    assert job["jobId"] == job_id_for(obj["metadata"]["uid"], 1)
    assert int(job["startTime"]) <= int(job["updateTime"])
    reconciled = _reconciled(status)
    assert reconciled["resource_metadata"]["firstDeployment"] is True
    assert reconciled["job"]["parallelism"] == 4
    assert status["reconciliationStatus"]["state"] == "DEPLOYED"
    assert (
        status["reconciliationStatus"]["lastStableSpec"]
        == (status["reconciliationStatus"]["lastReconciledSpec"])
    )
    assert status["clusterInfo"]["flink-version"] == "1.20.0"
    assert status["taskManager"] == {
        "labelSelector": "component=taskmanager,app=demo",
        "replicas": 2,
    }
    assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
        ("Running", "True", "Running")
    ]

    jm = apps.read_namespaced_deployment("demo", namespace)
    assert jm.metadata.labels == {
        "app": "demo",
        "component": "jobmanager",
        "type": "flink-native-kubernetes",
    }
    assert jm.metadata.owner_references[0].kind == "FlinkDeployment"
    container = jm.spec.template.spec.containers[0]
    assert (container.name, container.image) == ("flink-main-container", "flink:1.20")
    assert container.resources.requests == {"cpu": "0.5", "memory": "1600Mi"}
    rest = core.read_namespaced_service("demo-rest", namespace)
    assert [(p.name, p.port) for p in rest.spec.ports] == [("rest", 8081)]
    assert _tm_pods(core, namespace, "demo") == ["demo-taskmanager-1-1", "demo-taskmanager-1-2"]
    assert _reasons(core, namespace, "demo")[0] == "Submit"


def test_parallelism_change_upgrades_with_a_savepoint(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    tmp_path: Path,
) -> None:
    before = _deploy_stable(hook, custom, namespace, "up", tmp_path)
    _patch(custom, namespace, "up", {"job": {"parallelism": 6}})
    seen = _follow(
        custom,
        namespace,
        "up",
        lambda s: _stable(s) and s.get("observedGeneration") == 2,
    )
    lifecycles = [triple[0] for triple in seen]
    assert "UPGRADING" in lifecycles
    assert lifecycles.index("UPGRADING") < lifecycles.index("DEPLOYED") < len(lifecycles) - 1
    assert ("UPGRADING", "READY", "SUSPENDED") in seen
    assert ("UPGRADING", "MISSING", "SUSPENDED") in seen
    status = _status(custom, namespace, "up")
    assert _reconciled(status)["job"]["parallelism"] == 6
    assert _reconciled(status, "lastStableSpec")["job"]["parallelism"] == 6
    job = status["jobStatus"]
    assert job["jobId"] != before["jobStatus"]["jobId"]  # a new job id per upgrade
    path = job["upgradeSavepointPath"]
    assert path.startswith((tmp_path / "savepoints").as_uri() + "/savepoint-")
    assert (_file(path) / "_metadata").is_file()
    assert job["savepointInfo"]["lastSavepoint"]["triggerType"] == "UPGRADE"
    assert len(_tm_pods(core, namespace, "up")) == 3
    assert "SpecChanged" in _reasons(core, namespace, "up")
    assert _verdict(hook, namespace, "up").lifecycle is Lifecycle.READY


def test_taskmanager_replicas_only_scale(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    before = _deploy_stable(hook, custom, namespace, "sc")
    jm_uid = apps.read_namespaced_deployment("sc", namespace).metadata.uid
    custom.patch_namespaced_custom_object_scale(
        GROUP, VERSION, namespace, PLURAL, "sc", {"spec": {"replicas": 3}}
    )
    seen = _follow(
        custom,
        namespace,
        "sc",
        lambda s: _stable(s) and (s.get("taskManager") or {}).get("replicas") == 3,
    )
    assert "UPGRADING" not in [triple[0] for triple in seen]
    status = _status(custom, namespace, "sc")
    assert status["jobStatus"]["jobId"] == before["jobStatus"]["jobId"]
    assert apps.read_namespaced_deployment("sc", namespace).metadata.uid == jm_uid
    assert _tm_pods(core, namespace, "sc") == [f"sc-taskmanager-1-{n}" for n in (1, 2, 3)]
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, PLURAL, "sc")
    assert scale["status"]["replicas"] == 3
    assert "Scaling" in _reasons(core, namespace, "sc")


def test_parallelism_overrides_scale_in_place(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    conf = {"jobmanager.scheduler": "adaptive"}
    before = _deploy_stable(hook, custom, namespace, "ip", flink_configuration=conf)
    overrides = {"pipeline.jobvertex-parallelism-overrides": "bc764cd8ddf7a0cff126f51c16239658:2"}
    _patch(custom, namespace, "ip", {"flinkConfiguration": overrides})
    seen = _follow(
        custom, namespace, "ip", lambda s: _stable(s) and s.get("observedGeneration") == 2
    )
    assert "UPGRADING" not in [triple[0] for triple in seen]
    assert _status(custom, namespace, "ip")["jobStatus"]["jobId"] == before["jobStatus"]["jobId"]
    selector = "involvedObject.name=ip,reason=Scaling"
    events = core.list_namespaced_event(namespace, field_selector=selector).items
    assert [e.message for e in events] == ["In-place scaling triggered"]


def test_savepoint_nonce_takes_a_savepoint_on_disk(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    core: client.CoreV1Api,
    namespace: str,
    tmp_path: Path,
) -> None:
    _deploy_stable(hook, custom, namespace, "sp", tmp_path)
    _patch(custom, namespace, "sp", {"job": {"savepointTriggerNonce": 7}})
    triggered = _follow(
        custom,
        namespace,
        "sp",
        lambda s: bool(s["jobStatus"].get("savepointInfo", {}).get("triggerId")),
    )
    assert triggered
    info = _status(custom, namespace, "sp")["jobStatus"]["savepointInfo"]
    assert info["triggerType"] == "MANUAL"
    assert re.fullmatch(r"[0-9a-f]{32}", info["triggerId"])
    _follow(
        custom,
        namespace,
        "sp",
        lambda s: "lastSavepoint" in s["jobStatus"].get("savepointInfo", {}),
    )
    info = _status(custom, namespace, "sp")["jobStatus"]["savepointInfo"]
    last = info["lastSavepoint"]
    assert (last["triggerType"], last["formatType"], last["triggerNonce"]) == (
        "MANUAL",
        "CANONICAL",
        7,
    )
    assert last["location"].startswith((tmp_path / "savepoints").as_uri())
    assert (_file(last["location"]) / "_metadata").is_file()
    assert info["savepointHistory"] == [last]
    assert "triggerId" not in info
    assert {"SavepointTriggered", "SavepointCompleted"} <= set(_reasons(core, namespace, "sp"))


# -- failures -----------------------------------------------------------------------


def test_image_pull_failure_is_failed_with_the_kubelet_reason(
    hook: FlinkKubernetesHook, custom: client.CustomObjectsApi, namespace: str
) -> None:
    image = "registry.example.com/team/does-not-exist/flink:1.20"
    hook.apply(render_manifests(_cluster("pull", namespace, image=image)))

    def failed() -> Verdict | None:
        verdict = _verdict(hook, namespace, "pull")
        return verdict if verdict.lifecycle is Lifecycle.FAILED else None

    verdict = eventually(failed, timeout=10)
    assert verdict is not None
    assert verdict.reason in (Reason.ERR_IMAGE_PULL, Reason.IMAGE_PULL_BACK_OFF)
    # Whichever is seen first -- the pod's pull failure or the operator's ERROR -- names
    # the image; the operator then reports the kubelet's reason in its status.
    assert image in verdict.message
    assert "cannot pull image" in verdict.message or "deployment failed" in verdict.message

    def errored() -> dict[str, Any] | None:
        status = _status(custom, namespace, "pull")
        return status if status.get("jobManagerDeploymentStatus") == "ERROR" else None

    status = eventually(errored, timeout=10)
    assert status is not None
    verdict = _verdict(hook, namespace, "pull")
    assert "the JobManager deployment failed" in verdict.message and image in verdict.message
    error = json.loads(status["error"])
    assert error["type"].endswith("DeploymentFailedException")
    assert error["additionalMetadata"]["reason"] in ("ErrImagePull", "ImagePullBackOff")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("image", "", "Image must be defined."),
        (
            "jobManager",
            {"replicas": 2, "resource": {"cpu": 1, "memory": "1g"}},
            "Kubernetes High availability should be enabled when starting standby JobManagers.",
        ),
        ("taskManager", {"replicas": 1}, "TaskManager resource memory must be defined."),
    ],
)
def test_validator_refuses_a_bad_spec(
    custom: client.CustomObjectsApi,
    hook: FlinkKubernetesHook,
    namespace: str,
    field: str,
    value: Any,
    message: str,
) -> None:
    (body,) = render_manifests(_cluster("bad", namespace))
    body["spec"][field] = value
    if not value:
        del body["spec"][field]
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    _follow(custom, namespace, "bad", lambda s: s.get("lifecycleState") == "FAILED")
    status = _status(custom, namespace, "bad")
    assert json.loads(status["error"])["message"] == message
    assert "lastReconciledSpec" not in status.get("reconciliationStatus", {})
    verdict = _verdict(hook, namespace, "bad", target="cluster")
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, Reason.FLINK_DEPLOYMENT_ERROR)
    assert message in verdict.message


# -- suspend, delete ----------------------------------------------------------------


def test_suspend_and_resume(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
    tmp_path: Path,
) -> None:
    _deploy_stable(hook, custom, namespace, "su", tmp_path)
    _patch(custom, namespace, "su", {"job": {"state": "suspended"}})
    _follow(custom, namespace, "su", lambda s: s.get("lifecycleState") == "SUSPENDED")
    status = _status(custom, namespace, "su")
    assert status["jobManagerDeploymentStatus"] == "MISSING"
    assert status["jobStatus"]["state"] == "SUSPENDED"
    assert (_file(status["jobStatus"]["upgradeSavepointPath"]) / "_metadata").is_file()
    assert apps.list_namespaced_deployment(namespace, label_selector="app=su").items == []
    assert _tm_pods(core, namespace, "su") == []
    verdict = _verdict(hook, namespace, "su")
    assert (verdict.lifecycle, verdict.reason) == (Lifecycle.FAILED, Reason.SUSPENDED)

    _patch(custom, namespace, "su", {"job": {"state": "running"}})
    _follow(custom, namespace, "su", lambda s: _stable(s) and s["observedGeneration"] == 3)
    assert _status(custom, namespace, "su")["jobStatus"]["state"] == "RUNNING"
    assert _verdict(hook, namespace, "su").lifecycle is Lifecycle.READY


def test_delete_removes_the_cluster_then_the_resource(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    _deploy_stable(hook, custom, namespace, "gone")
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "gone")
    assert _status(custom, namespace, "gone")["lifecycleState"] in ("STABLE", "DELETING")
    _follow(custom, namespace, "gone", lambda s: s.get("lifecycleState") == "DELETING")

    def gone() -> bool:
        try:
            _get(custom, namespace, "gone")
        except client.ApiException as error:
            return bool(error.status == 404)
        return False

    eventually(gone, timeout=10)
    assert apps.list_namespaced_deployment(namespace, label_selector="app=gone").items == []
    assert core.list_namespaced_pod(namespace, label_selector="app=gone").items == []
    assert "Cleanup" in _reasons(core, namespace, "gone")
    verdict = _verdict(hook, namespace, "gone")
    assert verdict.lifecycle is Lifecycle.MISSING


# -- session clusters ---------------------------------------------------------------


def _session_job(name: str, deployment: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FlinkSessionJob",
        "metadata": {"name": name},
        "spec": {
            "deploymentName": deployment,
            "job": {
                "jarURI": "https://repo.example.com/jobs/top-speed.jar",
                "parallelism": 2,
                "upgradeMode": "stateless",
            },
        },
    }


def _session_status(custom: client.CustomObjectsApi, namespace: str, name: str) -> Any:
    obj = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "flinksessionjobs", name)
    return obj.get("status") or {}


def test_session_cluster_runs_a_session_job(
    hook: FlinkKubernetesHook, custom: client.CustomObjectsApi, namespace: str
) -> None:
    cluster = _cluster(
        "sess",
        namespace,
        mode="session",
        job=None,
        taskmanager={"cpu": 1, "memory": "1728m", "slots": 2, "replicas": 1},
    )
    hook.apply(render_manifests(cluster))
    eventually(
        lambda: _verdict(hook, namespace, "sess", target="cluster").lifecycle is Lifecycle.READY
    )
    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, "flinksessionjobs", _session_job("top", "sess")
    )
    status = eventually(
        lambda: (
            (s := _session_status(custom, namespace, "top")).get("lifecycleState") == "STABLE" and s
        )
    )
    assert status["jobStatus"]["state"] == "RUNNING"
    assert re.fullmatch(r"[0-9a-f]{32}", status["jobStatus"]["jobId"])
    assert json.loads(status["reconciliationStatus"]["lastReconciledSpec"])["deploymentName"] == (
        "sess"
    )

    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, "flinksessionjobs", _session_job("lost", "nowhere")
    )
    status = eventually(
        lambda: (s := _session_status(custom, namespace, "lost")).get("error") and s
    )
    assert status["lifecycleState"] == "FAILED"
    assert json.loads(status["error"])["message"] == "Session cluster deployment is not found"


# -- CRDs, kubectl, pure rules ------------------------------------------------------


def test_kubectl_lists_flinkdeployments_with_the_printer_columns(
    hook: FlinkKubernetesHook,
    custom: client.CustomObjectsApi,
    extensions: client.ApiextensionsV1Api,
    kubectl: Kubectl,
    namespace: str,
) -> None:
    _deploy_stable(hook, custom, namespace, "ctl")
    crd = extensions.read_custom_resource_definition("flinkdeployments.flink.apache.org")
    columns = crd.spec.versions[0].additional_printer_columns
    assert [c.name for c in columns] == ["Job Status", "Lifecycle State"]
    # The sandbox serves no server-side Table: kubectl prints the CRD's printer columns
    # when asked for them by their JSONPaths.
    spec = ",".join(
        ["NAME:.metadata.name"]
        + [f"{c.name.upper().replace(' ', '_')}:{c.json_path}" for c in columns]
    )
    out = kubectl("get", "flinkdeployments", "-n", namespace, "-o", f"custom-columns={spec}")
    rows = [line.split() for line in out.stdout.splitlines()]
    assert rows == [["NAME", "JOB_STATUS", "LIFECYCLE_STATE"], ["ctl", "RUNNING", "STABLE"]]
    short = kubectl("get", "flinkdep", "ctl", "-n", namespace, "-o", "name")
    assert short.stdout.strip() == "flinkdeployment.flink.apache.org/ctl"
