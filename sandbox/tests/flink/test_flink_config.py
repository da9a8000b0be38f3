"""The pure half of running a Flink pod locally: arguments, configuration, the command.

No Java runs here: :func:`plan_launch` gets a fake distribution (a ``lib/`` of empty
jars) and a fake JDK, and the command is built from a fixed BashJavaUtils answer
(``test_resource_params.py`` asks the real one).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from flink_k8s_sandbox import flink
from flink_k8s_sandbox.flink import (
    JAVA_MODULE_OPTIONS,
    MAIN_CLASSES,
    EntrypointArgs,
    FlinkDistribution,
    FlinkProcessSpec,
    JavaRuntime,
    container_port_map,
    find_distribution,
    flink_java_options,
    host_configuration,
    host_overrides,
    java_module_options_of,
    map_container_paths,
    merge_flink_properties,
    parse_config_yaml,
    parse_entrypoint_args,
    plan_launch,
    port_names,
)
from flink_k8s_sandbox.flink.resourceparams import parse_resource_params

REPO = Path(__file__).resolve().parents[3]

# What our manifests render for a session cluster's config.yaml (see the manifests tests).
POD_CONFIG = {
    "blob.server.port": "6124",
    "jobmanager.bind-host": "0.0.0.0",
    "jobmanager.memory.process.size": "1g",
    "jobmanager.rpc.address": "demo-jobmanager",
    "jobmanager.rpc.port": "6123",
    "rest.address": "demo-jobmanager",
    "rest.bind-address": "0.0.0.0",
    "rest.port": "8081",
    "taskmanager.bind-host": "0.0.0.0",
    "taskmanager.cpu.cores": "1.0",
    "taskmanager.memory.process.size": "1280m",
    "taskmanager.numberOfTaskSlots": "2",
    "taskmanager.rpc.port": "6122",
}
# What BashJavaUtils answers for a 2g TaskManager (its two result lines, shortened).
MEMORY = parse_resource_params(
    "INFO  [] - Loading configuration property: taskmanager.memory.process.size, 2g\n"
    "BASH_JAVA_UTILS_EXEC_RESULT:-Xmx536870902 -Xms536870902 -XX:MaxDirectMemorySize=27"
    "9172878 -XX:MaxMetaspaceSize=268435456\n"
    "BASH_JAVA_UTILS_EXEC_RESULT:-D taskmanager.memory.network.min=144703488b "
    "-D taskmanager.cpu.cores=1.0 -D taskmanager.memory.task.heap.size=402653174b\n"
)
JM_PORTS = {"rpc": 40001, "blob": 40002, "rest": 40003, "metrics": 40004}
TM_PORTS = {"rpc": 40011, "data": 40012, "metrics": 40013}

# --- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["jobmanager"], EntrypointArgs("jobmanager")),
        (["taskmanager"], EntrypointArgs("taskmanager")),
        (
            ["jobmanager", "-Djobmanager.rpc.address=10.0.0.7", "-D", "a=b=c", "-Dflag"],
            EntrypointArgs(
                "jobmanager",
                dynamic_properties=(
                    ("jobmanager.rpc.address", "10.0.0.7"),
                    ("a", "b=c"),
                    ("flag", "true"),
                ),
            ),
        ),
        (
            ["standalone-job", "--job-classname", "C", "--", "--script", "/x.sql"],
            EntrypointArgs(
                "standalone-job", options=(("job-classname", "C"),), rest=("--script", "/x.sql")
            ),
        ),
        (
            [
                "standalone-job",
                "-j",
                "C",
                "--allowNonRestoredState",
                "--fromSavepoint=/sp",
                "-jid",
                "00000000000000000000000000000001",
                "--jars",
                "a.jar",
                "b.jar",
                "-D",
                "k=v",
                "--configDir",
                "/ignored",
                "job-arg",
                "-D",
                "not=parsed",
            ],
            EntrypointArgs(
                "standalone-job",
                options=(
                    ("job-classname", "C"),
                    ("allowNonRestoredState", None),
                    ("fromSavepoint", "/sp"),
                    ("job-id", "00000000000000000000000000000001"),
                    ("jars", "a.jar"),
                    ("jars", "b.jar"),
                ),
                dynamic_properties=(("k", "v"),),
                config_dir="/ignored",
                rest=("job-arg", "-D", "not=parsed"),
            ),
        ),
        # An option Flink 2.3 does not know ends the options (commons-cli stopAtNonOption).
        (
            ["jobmanager", "--host", "h", "-Da=b"],
            EntrypointArgs("jobmanager", rest=("--host", "h", "-Da=b")),
        ),
        (
            ["taskmanager", "--job-classname", "C"],
            EntrypointArgs("taskmanager", rest=("--job-classname", "C")),
        ),
    ],
)
def test_entrypoint_args_are_split_as_flink_splits_them(
    args: list[str], expected: EntrypointArgs
) -> None:
    assert parse_entrypoint_args(args) == expected


def test_standalone_job_options_have_names() -> None:
    args = parse_entrypoint_args(["standalone-job", "-j", "C", "-s", "/sp", "-n", "--", "a"])

    assert (args.job_classname, args.from_savepoint, args.allow_non_restored_state) == (
        "C",
        "/sp",
        True,
    )
    assert args.to_args() == [
        "--job-classname", "C", "--fromSavepoint", "/sp", "--allowNonRestoredState", "--", "a",
    ]  # fmt: skip
    assert parse_entrypoint_args(["standalone-job", *args.to_args()]) == args


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no arguments"),
        (["history-server"], "'history-server'"),
        (["jobmanager", "-D"], "-D needs"),
        (["standalone-job", "--job-classname"], "--job-classname needs a value"),
        (["standalone-job", "-j", "--", "x"], "-j needs a value"),
    ],
)
def test_unusable_arguments_are_refused(args: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_entrypoint_args(args)


# --- paths, configuration, ports -----------------------------------------------------------

MOUNTS = {"/opt/flink": "/w", "/opt/flink/usrlib": "/u", "/tmp/flink": "/t"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/opt/flink/usrlib/job.jar", "/u/job.jar"),
        ("/opt/flink/usrlib", "/u"),
        ("/opt/flink/conf/x", "/w/conf/x"),
        ("local:///opt/flink/usrlib/a.jar", "local:///u/a.jar"),
        (
            "file:///opt/flink/usrlib/a.jar;file:///opt/flink/lib/b.jar",
            "file:///u/a.jar;file:///w/lib/b.jar",
        ),
        ("file:/tmp/flink/checkpoints", "file:/t/checkpoints"),
        ("-Dlog=/opt/flink/log/x -Xloggc:/opt/flink/log/gc", "-Dlog=/w/log/x -Xloggc:/w/log/gc"),
        ("/opt/flinkx/a", "/opt/flinkx/a"),
        ("s3://bucket/opt/flink/a", "s3://bucket/opt/flink/a"),
        ("hdfs:///opt/flink/a", "hdfs:///opt/flink/a"),
        ("relative/opt/flink", "relative/opt/flink"),
        ("10s", "10s"),
    ],
)
def test_container_paths_are_mapped_to_host_paths(text: str, expected: str) -> None:
    assert map_container_paths(text, MOUNTS) == expected


def test_a_jobmanager_binds_and_advertises_127_0_0_1_on_its_own_ports() -> None:
    overrides = host_overrides(
        "jobmanager", JM_PORTS, jobmanager_address=None, rest_address=None, tmp_dir=Path("/w/tmp")
    )

    assert overrides == {
        "blob.server.port": "40002",
        "io.tmp.dirs": "/w/tmp",
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": "40001",
        "metrics.internal.query-service.port": "40004",
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": "40003",
        "web.tmpdir": "/w/tmp",
    }


def test_a_taskmanager_points_at_the_jobmanager_it_is_given() -> None:
    overrides = host_overrides(
        "taskmanager",
        TM_PORTS,
        jobmanager_address=("127.0.0.1", 40001),
        rest_address=("127.0.0.1", 40003),
        tmp_dir=Path("/w/tmp"),
    )

    assert overrides == {
        "io.tmp.dirs": "/w/tmp",
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": "40001",
        "metrics.internal.query-service.port": "40013",
        "rest.address": "127.0.0.1",
        "rest.port": "40003",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.data.port": "40012",
        "taskmanager.host": "127.0.0.1",
        "taskmanager.rpc.port": "40011",
    }


def test_overrides_need_every_port_and_a_jobmanager_for_taskmanagers() -> None:
    with pytest.raises(ValueError, match="no host port for data"):
        host_overrides(
            "taskmanager", {"rpc": 1, "metrics": 2}, jobmanager_address=("h", 1), rest_address=None,
            tmp_dir=Path("/t"),
        )  # fmt: skip
    with pytest.raises(ValueError, match="needs jobmanager_address"):
        host_overrides(
            "taskmanager", TM_PORTS, jobmanager_address=None, rest_address=None, tmp_dir=Path("/t")
        )


def test_host_configuration_maps_paths_drops_bind_ports_and_applies_overrides() -> None:
    configuration = {
        "rest.bind-port": "8080-8090",
        "taskmanager.rpc.bind-port": "6122",
        "state.checkpoints.dir": "file:///tmp/flink/checkpoints",
        "rest.port": "8081",
        "parallelism.default": "4",
    }

    result = host_configuration(configuration, {"rest.port": "40003"}, MOUNTS)

    assert result == {
        "parallelism.default": "4",
        "rest.port": "40003",
        "state.checkpoints.dir": "file:///t/checkpoints",
    }


@pytest.mark.parametrize(
    ("role", "configuration", "ports", "expected"),
    [
        ("jobmanager", POD_CONFIG, JM_PORTS, {6123: 40001, 6124: 40002, 8081: 40003}),
        ("standalone-job", {}, JM_PORTS, {6123: 40001, 8081: 40003}),
        (
            "jobmanager",
            {"blob.server.port": "6100-6200", "rest.port": "0"},
            JM_PORTS,
            {6123: 40001},
        ),
        ("taskmanager", POD_CONFIG, TM_PORTS, {6122: 40011}),
        ("taskmanager", {}, TM_PORTS, {}),
    ],
)
def test_container_ports_map_to_host_ports(
    role: Any, configuration: dict[str, str], ports: dict[str, int], expected: dict[int, int]
) -> None:
    assert container_port_map(role, configuration, ports) == expected


def test_port_names_per_role() -> None:
    assert (
        port_names("jobmanager")
        == port_names("standalone-job")
        == ("rpc", "blob", "rest", "metrics")
    )
    assert port_names("taskmanager") == ("rpc", "data", "metrics")


def test_config_yaml_is_read_into_flinks_string_map() -> None:
    text = (
        "taskmanager:\n  numberOfTaskSlots: 2\n  memory.process.size: 1g\n"
        "rest.port: '8081'\nexecution.checkpointing.unaligned.enabled: true\n"
        "pipeline.jars: [a.jar, b.jar]\nunset:\n"
    )

    assert parse_config_yaml(text) == {
        "taskmanager.numberOfTaskSlots": "2",
        "taskmanager.memory.process.size": "1g",
        "rest.port": "8081",
        "execution.checkpointing.unaligned.enabled": "true",
        "pipeline.jars": "a.jar;b.jar",
    }
    assert parse_config_yaml("") == {}
    with pytest.raises(ValueError, match="mapping"):
        parse_config_yaml("- a\n- b\n")


def test_flink_properties_are_laid_over_the_configuration() -> None:
    merged = merge_flink_properties({"a": "1", "b": "2"}, "b: 3\nc: x\n")

    assert merged == {"a": "1", "b": "3", "c": "x"}
    assert merge_flink_properties({"a": "1"}, "  ") == {"a": "1"}


# --- JVM options ---------------------------------------------------------------------------


def test_java_options_default_to_the_distributions_module_options() -> None:
    options = flink_java_options({}, "taskmanager", env={}, java_version=17)

    assert options == ["-XX:+IgnoreUnrecognizedVMOptions", *JAVA_MODULE_OPTIONS]


def test_java_options_follow_config_sh() -> None:
    configuration = {
        "env.java.default-opts.all": "-Dd=1",
        "env.java.opts.all": "-Xss2m '-Dgc=${FLINK_LOG_PREFIX} .gc'",
        "env.java.opts.jobmanager": "-Djm=1",
        "env.java.opts.taskmanager": "-Dtm=1",
    }
    env = {"FLINK_LOG_PREFIX": "/w/log/flink-x"}

    jobmanager = flink_java_options(configuration, "standalone-job", env=env, java_version=21)
    taskmanager = flink_java_options(configuration, "taskmanager", env=env, java_version=17)

    assert jobmanager == [
        "-XX:+IgnoreUnrecognizedVMOptions", "-Dd=1", "-Xss2m", "-Dgc=/w/log/flink-x .gc",
        "-Djava.security.manager=allow", "-Djm=1",
    ]  # fmt: skip
    assert taskmanager[-1] == "-Dtm=1" and "-Djava.security.manager=allow" not in taskmanager


def test_java_options_lose_one_pair_of_surrounding_double_quotes() -> None:
    options = flink_java_options(
        {"env.java.opts.all": '"-Da=1 -Db=2"'}, "jobmanager", env={}, java_version=17
    )

    assert options == ["-XX:+IgnoreUnrecognizedVMOptions", "-Da=1", "-Db=2"]
    with pytest.raises(ValueError, match=r"env\.java\.opts"):
        flink_java_options({"env.java.opts.all": "-Da='1"}, "jobmanager", env={}, java_version=17)


def test_java_options_from_the_environment_win() -> None:
    env = {"FLINK_ENV_JAVA_OPTS": "-Da=1", "FLINK_ENV_JAVA_OPTS_TM": "-Db=2"}

    options = flink_java_options(
        {"env.java.opts.all": "-Dx=0"}, "taskmanager", env=env, java_version=17
    )

    assert options == ["-Da=1", "-Db=2"]


def test_the_module_options_are_those_flink_dist_ships() -> None:
    assert java_module_options_of(find_distribution()) == JAVA_MODULE_OPTIONS


def test_the_main_classes_are_in_flink_dist() -> None:
    with zipfile.ZipFile(find_distribution().dist_jar) as jar:
        names = set(jar.namelist())

    for main_class in MAIN_CLASSES.values():
        assert main_class.replace(".", "/") + ".class" in names


# --- the launch plan -----------------------------------------------------------------------


@pytest.fixture
def distribution(tmp_path: Path) -> FlinkDistribution:
    home = tmp_path / "pyflink"
    for name in ("lib", "opt", "plugins", "bin"):
        (home / name).mkdir(parents=True)
    for jar in ("log4j-api-2.jar", "flink-dist-2.3.0.jar", "flink-cep-2.3.0.jar"):
        (home / "lib" / jar).touch()
    return FlinkDistribution(home=home, version="2.3.0")


JAVA = JavaRuntime(java=Path("/jdk/bin/java"), spec_version=17)


def _plan(spec: FlinkProcessSpec, ports: dict[str, int], distribution: FlinkDistribution) -> Any:
    return plan_launch(
        spec, ports, distribution=distribution, java=JAVA, host_env={"PATH": "/bin", "X": "y"}
    )


def test_a_taskmanager_command_is_what_taskmanager_sh_runs(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    workdir = tmp_path / "tm"
    spec = FlinkProcessSpec(
        ("taskmanager", "-D", "taskmanager.memory.process.size=2g", "-Dtaskmanager.host=10.1.1.1"),
        POD_CONFIG,
        workdir,
        env={"JOB_MANAGER_RPC_ADDRESS": "demo-jobmanager", "JVM_ARGS": "-XX:+UseZGC"},
        jobmanager_address=("127.0.0.1", 40001),
    )

    launch = _plan(spec, TM_PORTS, distribution)

    lib = distribution.lib
    conf = workdir / "conf"
    assert list(launch.command(MEMORY)) == [
        "/jdk/bin/java",
        "-XX:+UseZGC",
        "-Xmx536870902", "-Xms536870902", "-XX:MaxDirectMemorySize=279172878",
        "-XX:MaxMetaspaceSize=268435456",
        "-XX:+IgnoreUnrecognizedVMOptions",
        *JAVA_MODULE_OPTIONS,
        f"-Djava.io.tmpdir={workdir}/tmp",
        f"-Dlog.file={workdir}/log/flink-taskexecutor.log",
        f"-Dlog4j.configuration=file:{conf}/log4j-console.properties",
        f"-Dlog4j.configurationFile=file:{conf}/log4j-console.properties",
        f"-Dlogback.configurationFile=file:{conf}/logback-console.xml",
        "-classpath",
        f"{lib}/flink-cep-2.3.0.jar:{lib}/log4j-api-2.jar:{lib}/flink-dist-2.3.0.jar",
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        # the pod's -D taskmanager.host is dropped: the host forces its own
        "-D", "taskmanager.memory.process.size=2g",
        "--configDir", str(conf),
        "-D", "taskmanager.memory.network.min=144703488b", "-D", "taskmanager.cpu.cores=1.0",
        "-D", "taskmanager.memory.task.heap.size=402653174b",
    ]  # fmt: skip
    assert launch.dynamic_properties == {"taskmanager.memory.process.size": "2g"}
    assert launch.configuration["taskmanager.host"] == "127.0.0.1"
    assert launch.configuration["jobmanager.rpc.port"] == "40001"
    assert launch.port_map == {6122: 40011}
    assert launch.rest_url is None


def test_a_taskmanager_environment_is_the_pods_plus_flinks_directories(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    spec = FlinkProcessSpec(
        ("taskmanager",),
        {**POD_CONFIG, "env.log.max": "3"},
        tmp_path,
        env={"FLINK_HOME": "/opt/flink", "A": "b"},
        jobmanager_address=("127.0.0.1", 1),
    )

    env = _plan(spec, TM_PORTS, distribution).env

    assert env == {
        "PATH": "/bin",
        "A": "b",
        "MAX_LOG_FILE_NUMBER": "3",
        "ROOT_LOG_LEVEL": "INFO",
        "FLINK_HOME": str(tmp_path),
        "FLINK_CONF_DIR": str(tmp_path / "conf"),
        "FLINK_BIN_DIR": str(tmp_path / "bin"),
        "FLINK_LIB_DIR": str(tmp_path / "lib"),
        "FLINK_OPT_DIR": str(tmp_path / "opt"),
        "FLINK_PLUGINS_DIR": str(tmp_path / "plugins"),
    }


def test_a_standalone_job_runs_the_job_from_usrlib(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    args = (
        "standalone-job", "--job-classname", "flinkk8s.SqlRunner",
        "--fromSavepoint", "file:///tmp/flink/savepoints/sp-1",
        "-Djobmanager.rpc.address=10.0.0.9",
        "-Dpipeline.classpaths=file:///opt/flink/usrlib/extra.jar",
        "--", "--script", "/opt/flink/usrlib/clickstream.sql",
    )  # fmt: skip
    spec = FlinkProcessSpec(
        args,
        {**POD_CONFIG, "execution.checkpointing.dir": "file:///tmp/flink/checkpoints"},
        tmp_path / "jm",
        usrlib=tmp_path / "usrlib",
        mounts={"/tmp/flink": tmp_path / "state"},
        env={"FLINK_PROPERTIES": "parallelism.default: 3\n"},
    )

    launch = _plan(spec, JM_PORTS, distribution)

    command = list(launch.command(MEMORY))
    main = command.index(MAIN_CLASSES["standalone-job"])
    assert command[main + 1 :] == [
        "--configDir", str(tmp_path / "jm" / "conf"),
        "--job-classname", "flinkk8s.SqlRunner",
        "--fromSavepoint", f"file://{tmp_path}/state/savepoints/sp-1",
        "-D", f"pipeline.classpaths=file://{tmp_path}/usrlib/extra.jar",
        "--", "--script", f"{tmp_path}/usrlib/clickstream.sql",
        *MEMORY.dynamic_args,
    ]  # fmt: skip
    assert command[1 : 1 + len(MEMORY.jvm_args)] == list(MEMORY.jvm_args)
    assert (
        launch.configuration["execution.checkpointing.dir"]
        == f"file://{tmp_path}/state/checkpoints"
    )
    assert launch.configuration["parallelism.default"] == "3"
    assert launch.rest_url == "http://127.0.0.1:40003"
    assert launch.usrlib == tmp_path / "usrlib"
    assert launch.log_path == tmp_path / "jm" / "log" / "flink-standalonejob.log"


def test_a_session_jobmanager_takes_its_properties_first(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    spec = FlinkProcessSpec(("jobmanager", "-Da=b"), POD_CONFIG, tmp_path)

    launch = _plan(spec, JM_PORTS, distribution)

    command = list(launch.command(MEMORY))
    entry = command[command.index(MAIN_CLASSES["jobmanager"]) + 1 :]
    assert entry[-4:] == ["--configDir", str(tmp_path / "conf"), "-D", "a=b"]
    assert entry[:2] == ["-D", "taskmanager.memory.network.min=144703488b"]
    assert launch.port_map == {6123: 40001, 6124: 40002, 8081: 40003}


def test_the_conf_dir_holds_the_rewritten_config_and_the_pods_logging(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    spec = FlinkProcessSpec(
        ("jobmanager",), POD_CONFIG, tmp_path, conf_files={"log4j-console.properties": "x=1\n"}
    )

    files = _plan(spec, JM_PORTS, distribution).files

    assert sorted(files) == ["config.yaml", "log4j-console.properties"]
    assert files["log4j-console.properties"] == "x=1\n"
    assert parse_config_yaml(files["config.yaml"])["rest.bind-address"] == "127.0.0.1"
    default = _plan(FlinkProcessSpec(("jobmanager",), POD_CONFIG, tmp_path), JM_PORTS, distribution)
    assert "RollingFileAppender" in default.files["log4j-console.properties"]


def test_a_jobmanager_refuses_a_jobmanager_address(
    distribution: FlinkDistribution, tmp_path: Path
) -> None:
    spec = FlinkProcessSpec(("jobmanager",), POD_CONFIG, tmp_path, jobmanager_address=("h", 1))

    with pytest.raises(ValueError, match="own ports"):
        _plan(spec, JM_PORTS, distribution)


# --- package contracts ---------------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    exported = list(flink.__all__)

    assert exported == sorted(exported)
    for name in exported:
        assert hasattr(flink, name), name


@pytest.mark.parametrize(
    "module", ["arguments", "configuration", "launch", "process", "resourceparams"]
)
def test_modules_import_no_airflow_kubernetes_client_or_asyncio(module: str) -> None:
    banned = (
        "airflow",
        "kubernetes",
        "kubernetes_asyncio",
        "asyncio",
        "aiohttp",
        "httpx",
        "requests",
    )
    code = (
        f"import sys, flink_k8s_sandbox.flink.{module}\n"
        f"print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in {banned!r})))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )

    assert result.stdout.strip() == ""
