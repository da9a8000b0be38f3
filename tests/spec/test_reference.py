"""docs/spec.md is generated from the models and must not fall behind them."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_flink_k8s.spec import FlinkCluster
from airflow_provider_flink_k8s.spec.reference import render_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "spec.md"


def test_spec_reference_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_reference(), (
        "docs/spec.md is stale: run "
        "python -m airflow_provider_flink_k8s.spec.reference > docs/spec.md"
    )


def test_every_field_is_documented() -> None:
    reference = render_reference()
    for name, field in FlinkCluster.model_fields.items():
        assert field.description, f"FlinkCluster.{name} has no docstring"
        assert f"| `{name}` |" in reference
