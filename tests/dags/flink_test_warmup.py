"""A one-task DAG the test session runs first: the first ``dag.test()`` of a process
spends seconds syncing and serializing the DAG bundle, which no timing test should pay."""

from __future__ import annotations

from airflow.sdk import DAG, task

with DAG(dag_id="flink_test_warmup", schedule=None):

    @task
    def nothing() -> None:
        """Nothing: the run itself is the point."""

    nothing()
