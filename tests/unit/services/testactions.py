"""Test-only actions and provider: gates the test opens, flaky failures, mocks."""

from __future__ import annotations

import threading
from typing import Any

from wfaas.actions.base import Action, ActionContext, DictProvider, PythonActionDescriptor
from wfaas.actions.registry import CompositeProvider, StdProvider

GATES: dict[str, threading.Event] = {}
FLAKY: dict[str, int] = {}


def gate(name: str) -> threading.Event:
    """The gate ``test.gate name=<name>`` waits for (created on first use)."""
    return GATES.setdefault(name, threading.Event())


class GateAction(Action):
    """Waits until the test opens the gate ``name``, then returns ``name``."""

    def __init__(self, name: str, timeout: float = 30.0) -> None:
        self.name = name
        self.timeout = timeout

    def run(self, context: ActionContext) -> Any:
        if not gate(self.name).wait(self.timeout):
            raise RuntimeError(f"gate {self.name} never opened")
        return self.name


class FlakyAction(Action):
    """Fails while ``FLAKY[key]`` is positive (decrementing it), then returns ``key``."""

    def __init__(self, key: str) -> None:
        self.key = key

    def run(self, context: ActionContext) -> Any:
        if FLAKY.get(self.key, 0) > 0:
            FLAKY[self.key] -= 1
            raise RuntimeError(f"flaky {self.key} failed")
        return self.key


class ContextAction(Action):
    """Returns the execution context it received (to check what the shell sends)."""

    def run(self, context: ActionContext) -> Any:
        return context.execution.to_dict()


class SecurityAction(Action):
    """Returns the security context it received."""

    def run(self, context: ActionContext) -> Any:
        return context.security.to_dict()


def provider() -> CompositeProvider:
    """std actions plus the test actions above."""
    tests = DictProvider([
        PythonActionDescriptor("test.gate", GateAction, source="test"),
        PythonActionDescriptor("test.flaky", FlakyAction, source="test"),
        PythonActionDescriptor("test.context", ContextAction, source="test"),
        PythonActionDescriptor("test.security", SecurityAction, source="test"),
    ])
    return CompositeProvider([StdProvider(), tests])
