"""Vendor and compile the Kubernetes protobuf definitions of flink_k8s_sandbox.protobuf.

Two steps (``make protos`` runs the second):

``vendor --api DIR --apimachinery DIR --ref TAG``
    Copies the ``generated.proto`` files of the groups the sandbox decodes from git
    checkouts (or bare mirrors) of k8s.io/api and k8s.io/apimachinery at ``TAG`` into
    ``sandbox/proto/k8s.io/...`` and writes ``gen/gofields.py``: what
    the .proto files do not say about the Kubernetes JSON form, read from the same tag's
    Go ``types.go`` (fields inlined into their parent's JSON, scalars whose zero value
    JSON keeps -- Go pointers and fields without ``omitempty`` --, JSON names that differ
    from the protobuf names). Then compiles.

``compile``
    Runs protoc (``grpcio-tools``; generation only, the runtime needs just ``protobuf``)
    over the vendored files into ``flink_k8s_sandbox/protobuf/gen/``, rewriting protoc's
    ``k8s.io.*`` imports (not a Python package name) to the package's own modules.
"""

from __future__ import annotations

import argparse
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[1]
# The .proto files stay out of the package: the runtime reads only protoc's output.
PROTO_DIR = SANDBOX / "proto"
GEN_DIR = SANDBOX / "flink_k8s_sandbox" / "protobuf" / "gen"
GEN_MODULE = "flink_k8s_sandbox.protobuf.gen"

# (repository, directory, Go package's protobuf package): the groups the sandbox serves.
API_GROUPS = ("core", "apps", "autoscaling", "rbac", "authorization", "authentication")
APIMACHINERY = (
    "pkg/api/resource",
    "pkg/apis/meta/v1",
    "pkg/runtime",
    "pkg/runtime/schema",
    "pkg/util/intstr",
)


def _sources() -> list[tuple[str, str, str]]:
    """(repository key, directory in it, protobuf package) of every vendored file."""
    found = [("api", f"{group}/v1", f"k8s.io.api.{group}.v1") for group in API_GROUPS]
    for directory in APIMACHINERY:
        package = "k8s.io.apimachinery." + directory.replace("/", ".")
        found.append(("apimachinery", directory, package))
    return found


def _git_show(repo: Path, ref: str, path: str) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, text=True
    )
    return result.stdout if result.returncode == 0 else None


def _commit(repo: Path, ref: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


_STRUCT = re.compile(r"^type (\w+) struct \{$")
# `Name Type `json:"..." protobuf:"..."``, or an embedded `Type `...``.
_FIELD = re.compile(r"^\s+(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")
_TAG = re.compile(r'(\w+):"([^"]*)"')


def _lower_camel(type_name: str) -> str:
    base = type_name.rsplit(".", 1)[-1].lstrip("*")
    return base[:1].lower() + base[1:]


def go_fields(package: str, source: str, tables: dict[str, dict[str, object]]) -> None:
    """Add what one Go file's structs say about their messages' JSON form to ``tables``."""
    message: str | None = None
    for line in source.splitlines():
        if match := _STRUCT.match(line):
            message = f"{package}.{match.group(1)}"
            continue
        if line.startswith("}"):
            message = None
            continue
        field = _FIELD.match(line)
        if message is None or field is None:
            continue
        name, go_type, tags = field.group(1), field.group(2), dict(_TAG.findall(field.group(3)))
        if "protobuf" not in tags or "json" not in tags:
            continue
        proto_opts = dict(p.split("=", 1) for p in tags["protobuf"].split(",") if "=" in p)
        proto_name = proto_opts.get("name") or _lower_camel(go_type)
        json_name, *json_opts = tags["json"].split(",")
        if name is None and (json_name == "" or "inline" in json_opts):
            _add(tables["inline"], message, proto_name)
            continue
        if go_type.startswith("*") or "omitempty" not in json_opts:
            _add(tables["keep_zero"], message, proto_name)
        if json_name and json_name != proto_name:
            renames = tables["json_names"].setdefault(message, {})
            assert isinstance(renames, dict)
            renames[proto_name] = json_name


def _add(table: dict[str, object], message: str, field: str) -> None:
    names = table.setdefault(message, set())
    assert isinstance(names, set)
    names.add(field)


def vendor(api: Path, apimachinery: Path, ref: str) -> None:
    repos = {"api": api, "apimachinery": apimachinery}
    shutil.rmtree(PROTO_DIR / "k8s.io", ignore_errors=True)
    tables: dict[str, dict[str, object]] = {"inline": {}, "keep_zero": {}, "json_names": {}}
    for key, directory, package in _sources():
        repo = repos[key]
        proto = _git_show(repo, ref, f"{directory}/generated.proto")
        if proto is None:
            raise SystemExit(f"{key}@{ref} has no {directory}/generated.proto")
        target = PROTO_DIR / "k8s.io" / key / directory / "generated.proto"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(proto)
        listing = subprocess.run(
            ["git", "-C", str(repo), "ls-tree", "--name-only", f"{ref}:{directory}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for name in sorted(listing):
            if name.endswith(".go") and not name.endswith("_test.go"):
                go_fields(package, _git_show(repo, ref, f"{directory}/{name}") or "", tables)
    commits = {key: _commit(repo, ref) for key, repo in repos.items()}
    _write_gofields(ref, commits, tables)
    print(f"vendored k8s.io/api and k8s.io/apimachinery {ref}: {commits}")


def _write_gofields(
    ref: str, commits: dict[str, str], tables: dict[str, dict[str, object]]
) -> None:
    def frozen(table: dict[str, object]) -> str:
        body = {k: sorted(v) for k, v in sorted(table.items())}  # type: ignore[call-overload]
        text = pprint.pformat(body, width=88, sort_dicts=True)
        return re.sub(r"(\[[^\[\]]*\])", r"frozenset(\1)", text)

    lines = [
        f'"""Generated by sandbox/scripts/k8s_protos.py from the Go types of {ref}; do not edit.',
        "",
        f"k8s.io/api {commits['api']}, k8s.io/apimachinery {commits['apimachinery']}.",
        '"""',
        "",
        f"REF = {ref!r}",
        "",
        "# Message -> protobuf fields whose message Go embeds inline in the parent's JSON.",
        f"INLINE: dict[str, frozenset[str]] = {frozen(tables['inline'])}",
        "",
        "# Message -> scalar fields whose zero value JSON keeps (Go pointers, no omitempty).",
        f"KEEP_ZERO: dict[str, frozenset[str]] = {frozen(tables['keep_zero'])}",
        "",
        "# Message -> {protobuf field name: JSON name} where the two differ.",
        "JSON_NAMES: dict[str, dict[str, str]] = "
        + pprint.pformat(
            {k: dict(sorted(v.items())) for k, v in sorted(tables["json_names"].items())},  # type: ignore[attr-defined]
            width=88,
        ),
        "",
    ]
    GEN_DIR.mkdir(parents=True, exist_ok=True)
    (GEN_DIR / "gofields.py").write_text("\n".join(lines))


_IMPORT = re.compile(r"^from k8s\.io\.([\w.]+) import generated_pb2 as (\w+)$", re.M)


def _module_name(proto: Path) -> str:
    """``k8s.io/api/core/v1/generated.proto`` -> ``api_core_v1_pb2``."""
    parts = proto.relative_to(PROTO_DIR / "k8s.io").parent.parts
    return "_".join(parts).replace("pkg_", "").replace("apis_", "") + "_pb2"


def compile_protos() -> None:
    from grpc_tools import protoc  # type: ignore[import-untyped]

    protos = sorted((PROTO_DIR / "k8s.io").rglob("generated.proto"))
    names = {
        str(p.relative_to(PROTO_DIR / "k8s.io").parent).replace("/", "."): _module_name(p)
        for p in protos
    }
    with tempfile.TemporaryDirectory() as out:
        args = ["protoc", f"-I{PROTO_DIR}", f"--python_out={out}"]
        args += [str(p.relative_to(PROTO_DIR)) for p in protos]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        for proto in protos:
            # protoc writes k8s.io/x.proto's module to k8s/io/x_pb2.py.
            relative = proto.relative_to(PROTO_DIR / "k8s.io").with_name("generated_pb2.py")
            code = (Path(out) / "k8s" / "io" / relative).read_text()
            code = _IMPORT.sub(
                lambda m: f"from {GEN_MODULE} import {names[m.group(1)]} as {m.group(2)}", code
            )
            (GEN_DIR / _module_name(proto)).with_suffix(".py").write_text(code)
    init = GEN_DIR / "__init__.py"
    modules = sorted(names.values())
    init.write_text(
        '"""protoc output for the vendored Kubernetes definitions (see ../README.md)."""\n\n'
        + "".join(f"from {GEN_MODULE} import {m} as {m}\n" for m in modules)
    )
    print(f"compiled {len(protos)} files into {GEN_DIR}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    vendor_cmd = commands.add_parser("vendor", help="copy the .proto files, then compile")
    vendor_cmd.add_argument("--api", type=Path, required=True, help="k8s.io/api checkout")
    vendor_cmd.add_argument("--apimachinery", type=Path, required=True)
    vendor_cmd.add_argument("--ref", required=True, help="the tag, e.g. v0.37.0")
    commands.add_parser("compile", help="regenerate gen/ from the vendored .proto files")
    args = parser.parse_args(argv)
    if args.command == "vendor":
        vendor(args.api, args.apimachinery, args.ref)
    compile_protos()


if __name__ == "__main__":
    sys.exit(main())
