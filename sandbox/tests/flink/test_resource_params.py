"""A Flink process's memory options come from Flink's own BashJavaUtils, as in the image."""

from __future__ import annotations

from pathlib import Path

import pytest

from flink_k8s_sandbox.flink import find_distribution, find_java
from flink_k8s_sandbox.flink.configuration import CONFIG_FILE, config_yaml
from flink_k8s_sandbox.flink.resourceparams import (
    FlinkConfigurationError,
    parse_resource_params,
    resource_params,
)


def _conf(tmp_path: Path, configuration: dict[str, str]) -> Path:
    (tmp_path / CONFIG_FILE).write_text(config_yaml(configuration), encoding="utf-8")
    return tmp_path


def _bytes(value: str) -> int:
    return int(value.removesuffix("b"))


def test_a_taskmanagers_heap_is_flinks_framework_plus_task_heap(
    flink_ready: None, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, {"taskmanager.memory.process.size": "1280m"})

    params = resource_params(
        "taskmanager",
        conf,
        {"taskmanager.numberOfTaskSlots": "2"},
        distribution=find_distribution(),
        java=find_java(),
    )

    options = dict(option.split("=", 1) if "=" in option else (option[:4], option[4:])
                   for option in params.jvm_args)  # fmt: skip
    derived = params.dynamic_properties()
    heap = _bytes(derived["taskmanager.memory.framework.heap.size"]) + _bytes(
        derived["taskmanager.memory.task.heap.size"]
    )
    assert options["-Xmx"] == options["-Xms"] == str(heap)
    assert options["-XX:MaxMetaspaceSize"] == str(
        _bytes(derived["taskmanager.memory.jvm-metaspace.size"])
    )
    assert derived["taskmanager.numberOfTaskSlots"] == "2"  # the -D given wins over the file
    assert params.dynamic_args[0] == "-D"


def test_a_jobmanager_gets_its_heap_from_its_process_size(
    flink_ready: None, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, {"jobmanager.memory.process.size": "1g"})

    params = resource_params(
        "jobmanager", conf, {}, distribution=find_distribution(), java=find_java()
    )

    heap = next(option for option in params.jvm_args if option.startswith("-Xmx"))
    assert 0 < int(heap.removeprefix("-Xmx")) < 1 << 30
    assert "jobmanager.memory.heap.size" in params.dynamic_properties()


def test_a_configuration_flink_refuses_fails_with_flinks_reason(
    flink_ready: None, tmp_path: Path
) -> None:
    conf = _conf(tmp_path, {"taskmanager.memory.process.size": "100m"})

    with pytest.raises(FlinkConfigurationError) as caught:
        resource_params("taskmanager", conf, {}, distribution=find_distribution(), java=find_java())

    message = str(caught.value)
    assert message.startswith("Flink refuses the taskmanager's memory configuration: ")
    assert "exceed configured Total Process Memory (100.000mb (104857600 bytes))" in message
    assert "\tat " not in message  # the reason, not the stack trace
    assert "BashJavaUtils" in caught.value.output


def test_an_answer_without_two_result_lines_is_refused() -> None:
    with pytest.raises(FlinkConfigurationError, match="1 result lines, expected 2"):
        parse_resource_params("BASH_JAVA_UTILS_EXEC_RESULT:-Xmx1\nINFO done\n")
