"""The simple standard actions: std.noop, std.async_noop, std.echo, std.fail, std.sleep,
std.test_dict. Parameters and results are Mistral's."""

from __future__ import annotations

import time
from typing import Any

from wfaas.actions.base import Action, ActionContext, ActionException, Result


class NoOpAction(Action):
    """Does nothing and returns null."""

    def run(self, context: ActionContext) -> Any:
        """Return None."""
        return None


class AsyncNoOpAction(NoOpAction):
    """Asynchronous no-op: stays RUNNING until its result is sent through the API."""

    def is_sync(self) -> bool:
        """Always asynchronous."""
        return False


class EchoAction(Action):
    """Returns the given output after an optional delay in seconds."""

    def __init__(self, output: Any, delay: float = 0) -> None:
        self.output = output
        try:
            self.delay = max(0.0, float(delay or 0))
        except (TypeError, ValueError) as exc:
            raise ActionException(f"std.echo: delay must be a number, got {delay!r}") from exc

    def run(self, context: ActionContext) -> Any:
        """Sleep ``delay`` seconds, then return ``output``."""
        if self.delay:
            time.sleep(self.delay)
        return self.output


class FailAction(Action):
    """Always fails: with error_data as the error result, or with an exception."""

    def __init__(self, error_data: Any = None) -> None:
        self.error_data = error_data

    def run(self, context: ActionContext) -> Any:
        """Return ``Result(error=error_data)`` or raise."""
        if self.error_data:
            return Result(error=self.error_data)
        raise ActionException("Fail action expected exception.")

    def __repr__(self) -> str:
        return "Fail action"


class SleepAction(Action):
    """Sleeps the given number of seconds and returns null."""

    def __init__(self, seconds: float = 1) -> None:
        try:
            self.seconds = max(0.0, float(seconds))
        except (TypeError, ValueError) as exc:
            raise ActionException(f"std.sleep: seconds must be a number, got {seconds!r}") from exc

    def run(self, context: ActionContext) -> Any:
        """Sleep, return None."""
        time.sleep(self.seconds)
        return None


class TestDictAction(Action):
    """Returns a dict of size entries named key_prefix + index, each set to val (load testing)."""

    __test__ = False  # not a pytest test class

    def __init__(self, size: int = 0, key_prefix: str = "", val: Any = "") -> None:
        try:
            self.size = int(size)
        except (TypeError, ValueError) as exc:
            raise ActionException(f"std.test_dict: size must be an integer, got {size!r}") \
                from exc
        self.key_prefix = key_prefix
        self.val = val

    def run(self, context: ActionContext) -> Any:
        """Build the dict."""
        return {f"{self.key_prefix}{i}": self.val for i in range(self.size)}
