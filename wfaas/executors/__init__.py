"""Executors run actions: see :mod:`wfaas.executors.base` (local pool)."""

from wfaas.executors.base import LocalExecutor, completion_message, result_to_completion

__all__ = ["LocalExecutor", "completion_message", "result_to_completion"]
