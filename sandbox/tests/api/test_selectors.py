"""Label and field selectors: apimachinery's grammar, matching rules and error wording."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flink_k8s_sandbox.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    default_field_selectors,
    format_label_selector,
    label_selector_from_dict,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "replicas": "3", "empty": ""}
NAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


@pytest.mark.parametrize(
    ("text", "selected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=api", False),
        ("app!=api", True),
        ("missing!=x", True),  # a missing key satisfies !=
        ("app in (web,api)", True),
        ("app in (api)", False),
        ("app notin (api,db)", True),
        ("missing notin (x)", True),
        ("app notin (web)", False),
        ("app", True),
        ("missing", False),
        ("!missing", True),
        ("!app", False),
        ("replicas>2", True),
        ("replicas>3", False),
        ("replicas<4", True),
        ("app>2", False),  # not an integer: no match
        ("missing<4", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("  app = web ,  tier  in ( front , back )  ", True),
        ("empty=", True),
        ("empty in ()", True),
        ("in in (in)", False),  # keywords are identifiers where a value is expected
    ],
)
def test_label_selector_matches_as_kubernetes_does(text: str, selected: bool) -> None:
    assert parse_label_selector(text).matches(LABELS) is selected


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("tier=front,app=web", "app=web,tier=front"),
        ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
        ("env notin (prod, dev)", "env notin (dev,prod)"),
        ("b==1,!a,c!=2", "!a,b==1,c!=2"),
        ("k>5,j<7", "j<7,k>5"),
        ("example.com/role=db", "example.com/role=db"),
    ],
)
def test_label_selector_prints_sorted_by_key(text: str, canonical: str) -> None:
    assert str(parse_label_selector(text)) == canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in b)", "unable to parse requirement: found 'b' expected: '('"),
        ("a in )", "unable to parse requirement: found ')' expected: '('"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
        ("a!", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("-a=b", f'unable to parse requirement: <nil>: Invalid value: "-a": {NAME_RULE}'),
        (
            "k>x",
            'unable to parse requirement: values[0]: Invalid value: "x": '
            "for 'Gt', 'Lt' operators, the value must be an integer",
        ),
        (
            "a=-b",
            'unable to parse requirement: values[0][a]: Invalid value: "-b": a valid label must '
            "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
            "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (
            "/a=b",
            'unable to parse requirement: <nil>: Invalid value: "/a": '
            "prefix part must be non-empty",
        ),
        (
            "a/b/c",
            'unable to parse requirement: <nil>: Invalid value: "a/b/c": a qualified name must '
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
            "subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
        (
            "a" * 64,
            f'unable to parse requirement: <nil>: Invalid value: "{"a" * 64}": '
            "name part must be no more than 63 characters",
        ),
    ],
)
def test_label_selector_errors_use_the_api_server_wording(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_label_selector(text)
    assert str(caught.value) == message


def test_selector_error_is_a_value_error() -> None:
    assert issubclass(SelectorError, ValueError)


DEPLOYMENT_SELECTOR = {
    "matchLabels": {"app": "x"},
    "matchExpressions": [
        {"key": "component", "operator": "In", "values": ["tm", "jm"]},
        {"key": "canary", "operator": "DoesNotExist"},
        {"key": "tier", "operator": "NotIn", "values": ["db"]},
        {"key": "app", "operator": "Exists"},
    ],
}


def test_label_selector_from_dict_formats_as_a_scale_status_selector() -> None:
    expected = "app=x,app,!canary,component in (jm,tm),tier notin (db)"  # sorted by key
    assert format_label_selector(DEPLOYMENT_SELECTOR) == expected
    assert format_label_selector({"matchLabels": {"app": "x"}}) == "app=x"
    assert format_label_selector({}) == ""


@pytest.mark.parametrize(
    ("labels", "selected"),
    [
        ({"app": "x", "component": "jm"}, True),
        ({"app": "x", "component": "tm", "tier": "web"}, True),
        ({"app": "x", "component": "tm", "canary": "1"}, False),
        ({"app": "x", "component": "other"}, False),
        ({"app": "y", "component": "jm"}, False),
    ],
)
def test_label_selector_from_dict_matches(labels: dict[str, str], selected: bool) -> None:
    assert label_selector_from_dict(DEPLOYMENT_SELECTOR).matches(labels) is selected


def test_empty_and_nil_selectors() -> None:
    everything, nothing = label_selector_from_dict({}), label_selector_from_dict(None)
    assert everything.empty and everything.matches({})
    assert not nothing.empty and not nothing.matches({"a": "b"})
    assert format_label_selector(None) == ""
    assert parse_label_selector("") == LabelSelector()


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Bogus"}]},
            '"Bogus" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values: Invalid value: []string{}: "
            "for 'in', 'notin' operators, values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]},
            'values: Invalid value: []string{"b"}: values set must be empty for exists and does '
            "not exist",
        ),
        ({"matchLabels": {"-a": "b"}}, f'key: Invalid value: "-a": {NAME_RULE}'),
    ],
)
def test_label_selector_from_dict_errors(selector: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        label_selector_from_dict(selector)
    assert str(caught.value) == message


label_values = st.from_regex(r"\A([a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?)?\Z")
label_keys = st.from_regex(r"\A[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?\Z")


@given(st.dictionaries(label_keys, label_values, max_size=5))
def test_a_selector_printed_from_labels_parses_back_and_selects_them(
    labels: dict[str, str],
) -> None:
    text = format_label_selector({"matchLabels": labels})
    reparsed = parse_label_selector(text)
    assert str(reparsed) == text
    assert reparsed.matches(labels)


@given(st.dictionaries(label_keys, label_values, max_size=5), label_keys, label_values)
def test_equals_and_not_equals_partition_every_label_set(
    labels: dict[str, str], key: str, value: str
) -> None:
    equal = parse_label_selector(f"{key}={value}").matches(labels)
    assert equal is not parse_label_selector(f"{key}!={value}").matches(labels)


# --- field selectors -----------------------------------------------------------------------

POD: dict[str, Any] = {
    "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "ns"},
    "spec": {"nodeName": "node-1", "restartPolicy": "Always", "schedulerName": "default"},
    "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]},
}
EVENT: dict[str, Any] = {
    "kind": "Event",
    "metadata": {"name": "web-0.1", "namespace": "ns"},
    "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "ns", "uid": "u1"},
    "reason": "BackOff",
    "type": "Warning",
    "source": {},
    "reportingComponent": "kubelet",
}


@pytest.mark.parametrize(
    ("obj", "text", "selected"),
    [
        (POD, "", True),
        (POD, "metadata.name=web-0", True),
        (POD, "metadata.name==web-0", True),
        (POD, "metadata.name!=web-0", False),
        (POD, "metadata.namespace=ns,status.phase=Running", True),
        (POD, "status.phase!=Running", False),
        (POD, "spec.nodeName=node-1,spec.restartPolicy=Always", True),
        (POD, "status.nominatedNodeName=", True),  # unset reads as ""
        (POD, "spec.serviceAccountName=x", False),
        (POD, "spec.hostNetwork=false", True),  # unset bool reads "false"
        (POD, "status.podIP=10.0.0.5", True),
        (POD, "status.podIPs=10.0.0.5", False),  # accepted, never set
        (EVENT, "involvedObject.kind=Pod,involvedObject.name=web-0", True),
        (EVENT, "involvedObject.uid=u1,reason=BackOff,type=Warning", True),
        (EVENT, "source=kubelet", True),  # falls back to reportingComponent
        (EVENT, "reportingComponent=kubelet", True),
    ],
)
def test_field_selector_matches(obj: dict[str, Any], text: str, selected: bool) -> None:
    selector = parse_field_selector(text, default_field_selectors(obj["kind"]))
    assert selector.matches(obj) is selected


@pytest.mark.parametrize(
    ("obj", "label", "value"),
    [
        ({"spec": {"unschedulable": True}}, "spec.unschedulable", "true"),
        ({}, "spec.unschedulable", "false"),
        ({"status": {"replicas": 3}}, "status.replicas", "3"),
        ({}, "status.replicas", "0"),
        ({"status": {"succeeded": 2}}, "status.successful", "2"),
        ({"type": "Opaque"}, "type", "Opaque"),
    ],
)
def test_field_values_are_stringified_as_selectable_fields(
    obj: dict[str, Any], label: str, value: str
) -> None:
    assert parse_field_selector(f"{label}={value}", {label}).matches(obj)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("metadata.name=a\\,b", "a,b"),
        ("metadata.name=a\\=b", "a=b"),
        ("metadata.name=a\\\\b", "a\\b"),
    ],
)
def test_field_selector_values_are_unescaped(text: str, value: str) -> None:
    selector = parse_field_selector(text, {"metadata.name"})
    assert selector.requires_exact_match("metadata.name") == value


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("spec.foo=1", "Pod", "field label not supported: spec.foo"),
        ("spec.foo=1", None, "field label not supported: spec.foo"),
        (
            "status.replicas=1",
            "Deployment",
            '"status.replicas" is not a known field selector: only "metadata.name", '
            '"metadata.namespace"',
        ),
        ("status.active=1", "Job", 'field label "status.active" not supported for Job'),
        ("metadata.namespace=x", "Node", "field label not supported: metadata.namespace"),
        (
            "metadata.name",
            "Pod",
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
        ),
        (
            "status.phase>1",
            "Pod",
            "invalid selector: 'status.phase>1'; can't understand 'status.phase>1'",
        ),
        ("metadata.name=a=b", "Pod", "invalid field selector: unescaped character in value: ="),
        ("metadata.name=a\\x", "Pod", "invalid field selector: invalid escape sequence: \\x"),
        ("metadata.name=a\\", "Pod", "invalid field selector: invalid escape sequence: \\"),
        (" metadata.name=a", "Pod", "field label not supported:  metadata.name"),  # no trimming
    ],
)
def test_field_selector_errors(text: str, kind: str | None, message: str) -> None:
    supported = default_field_selectors(kind or "FlinkDeployment")
    with pytest.raises(SelectorError) as caught:
        parse_field_selector(text, supported, builtin_kind=kind)
    assert str(caught.value) == message


def test_default_field_selectors_per_kind() -> None:
    assert default_field_selectors("FlinkDeployment") == {"metadata.name", "metadata.namespace"}
    assert default_field_selectors("Deployment") == {"metadata.name", "metadata.namespace"}
    assert default_field_selectors("Node") == {"metadata.name", "spec.unschedulable"}
    assert default_field_selectors("Namespace") == {"metadata.name", "status.phase"}
    assert default_field_selectors("Secret") == {"metadata.name", "metadata.namespace", "type"}
    assert {"spec.nodeName", "status.phase", "status.podIP"} <= default_field_selectors("Pod")
    assert {"involvedObject.uid", "reason", "source", "type"} <= default_field_selectors("Event")


def test_empty_field_selector_selects_everything() -> None:
    selector = parse_field_selector("", set())
    assert selector == FieldSelector() and selector.empty and selector.matches({})
    assert selector.requires_exact_match("metadata.name") is None
