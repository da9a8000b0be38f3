"""Java's exceptions, as far as the memory model needs them: by class and message.

The class decides which wrapper a failure passes through (only the TaskManager path
prefixes :class:`IllegalConfiguration`); the message is Flink's, word for word, and is what
:class:`~airflow_provider_flink_k8s.exceptions.FlinkConfigurationError` finally carries.
"""

from __future__ import annotations

__all__ = ["IllegalConfiguration", "JavaError", "NumberFormat"]


class JavaError(Exception):
    """A Java exception other than IllegalConfigurationException (passes wrappers untouched)."""


class IllegalConfiguration(JavaError):
    """Flink's IllegalConfigurationException: the one the TaskManager path prefixes."""


class NumberFormat(Exception):
    """Java's NumberFormatException; Flink replaces its message with its own."""
