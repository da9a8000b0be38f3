"""Apache Airflow provider that runs Apache Flink on Kubernetes.

The pure core -- :mod:`.spec` (what a DAG author writes), :mod:`.resources` (how big,
how many, where) and :mod:`.manifests` (which Kubernetes objects) -- imports neither
Airflow nor a Kubernetes client; hooks, operators, sensors and triggers are the thin
shell around it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
