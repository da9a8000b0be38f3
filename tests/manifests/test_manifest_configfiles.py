"""config.yaml text, default logging and the config checksum."""

from __future__ import annotations

import yaml

from airflow_provider_flink_k8s.manifests import config_checksum, config_yaml
from airflow_provider_flink_k8s.manifests.configfiles import default_log_configuration


def test_config_yaml_is_sorted_flat_and_round_trips() -> None:
    conf = {
        "taskmanager.numberOfTaskSlots": "2",
        "env.java.opts.all": "-XX:+UseG1GC " * 40,
        "high-availability.type": "kubernetes",
        "pipeline.classpaths": "file:///a.jar;file:///b.jar",
        "rest.flamegraph.enabled": "true",
    }
    text = config_yaml(conf)
    assert yaml.safe_load(text) == conf
    keys = [line.split(":")[0] for line in text.splitlines()]
    assert keys == sorted(conf)  # one line per key: long values are never folded
    # Strings that YAML would read as numbers or booleans stay strings.
    assert "taskmanager.numberOfTaskSlots: '2'" in text
    assert "rest.flamegraph.enabled: 'true'" in text


def test_default_log_configuration_is_flinks_console_logging() -> None:
    ((name, text),) = default_log_configuration().items()
    assert name == "log4j-console.properties"
    for line in (
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.console.ref = ConsoleAppender",
        "appender.rolling.fileName = ${sys:log.file}",
    ):
        assert line in text


def test_checksum_ignores_order_and_sees_every_byte() -> None:
    files = {"config.yaml": "a: '1'\n", "log4j-console.properties": "x"}
    reordered = dict(reversed(list(files.items())))
    assert config_checksum(files) == config_checksum(reordered)
    assert len(config_checksum(files)) == 64
    assert config_checksum(files) != config_checksum({**files, "config.yaml": "a: '2'\n"})
    assert config_checksum(files) != config_checksum({**files, "extra.xml": ""})
    # Name and content are kept apart: moving text between them changes the sum.
    assert config_checksum({"ab": "c"}) != config_checksum({"a": "bc"})
