"""Pure std actions completed inside the engine step ("folding").

``std.noop``, ``std.echo`` (without ``delay``) and ``std.fail`` return (or fail)
at once and touch nothing. Sending them to an executor costs a transaction, a message and a
thread hand-off each way for no work at all, so the engine runs them itself,
in the step that scheduled them, and applies their completion at once:
a chain of ``std.noop`` tasks finishes in ONE engine step and ONE
transaction. The action runs through the same :func:`run_action` with the
same std provider an executor uses (input checks and results are identical);
``decide`` sees the same ``ActionCompleted`` event it would get from an
executor, so every policy (retry, wait-after, pause, with-items concurrency,
joins) behaves the same.

Not folded: an action with a ``timeout`` or a ``target`` (the user asked for
an executor), ``std.echo`` with a ``delay``, anything else. At most
``limit`` actions are folded per step (a task looping over itself must not
run forever inside one transaction); the rest go to the executors.
``[engine] pure_actions_per_step`` sets the limit (0 turns folding off).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeGuard

from wfaas import metrics
from wfaas.engine import Command, Event, RunAction, event_from_dict

#: std actions without side effects that return at once (``std.fail`` fails at once: a
#: ``retry: {delay: 0}`` of it runs every attempt in the step, as a chain of noop tasks)
PURE_ACTIONS = frozenset({"std.noop", "std.echo", "std.fail"})


class ActionFolder:
    """Runs pure std actions inside an engine step (see the module docstring)."""

    def __init__(self, limit: int = 1000, provider: Any = None,
                 size_limit_kb: int = -1) -> None:
        self.limit = max(0, limit)
        self._provider = provider
        #: the executors' result size limit ([engine] execution_field_size_limit_kb)
        self.size_limit_kb = size_limit_kb

    @property
    def provider(self) -> Any:
        """The std provider (the composite provider asks it first, so it is the same
        descriptor an executor would run)."""
        if self._provider is None:
            from wfaas.actions.registry import StdProvider

            self._provider = StdProvider()
        return self._provider

    @staticmethod
    def accepts(cmd: Command) -> TypeGuard[RunAction]:
        """True for a RunAction that may be folded."""
        if not isinstance(cmd, RunAction) or cmd.action not in PURE_ACTIONS:
            return False
        if cmd.timeout or cmd.target:
            return False
        return cmd.action != "std.echo" or not cmd.input.get("delay")

    def complete(self, cmd: RunAction) -> Event:
        """Run ``cmd``'s action here and return its completion event, translated exactly
        as an executor translates it (errors, the result size limit)."""
        from wfaas.actions.base import ActionContext, ExecutionContext
        from wfaas.actions.runner import run_action
        from wfaas.executors.base import result_to_completion

        # what the command says of the action's place (std.fail's message names it)
        where = ExecutionContext(task_execution_id=cmd.task_id or None,
                                 action_execution_id=cmd.action_id or None,
                                 with_items_index=cmd.index, task_rerun_no=cmd.rerun_no,
                                 task_name=cmd.task_name or None)
        started = time.monotonic()
        result = run_action(self.provider, cmd.action, dict(cmd.input),
                            ActionContext(execution=where))
        message = result_to_completion({"action_id": cmd.action_id}, result,
                                       self.size_limit_kb)
        assert message is not None  # pure actions are synchronous
        # counted as an executor counts its runs (a std.fail error stays visible there)
        metrics.action_ran(str(message["event"].get("state") or "done").lower(),
                           time.monotonic() - started)
        return event_from_dict(message["event"])

    def fold(self, commands: list[Command], apply: Callable[[Event], list[Command]]
             ) -> list[Command]:
        """Complete the foldable RunActions of ``commands`` through ``apply`` (which
        feeds an event to ``decide`` and returns the new commands), again for the
        commands those completions produce, up to :attr:`limit` actions; returns the
        commands left for dispatch, in order."""
        budget = self.limit
        pending = deque(commands)
        out: list[Command] = []
        while pending:
            cmd = pending.popleft()
            if budget > 0 and self.accepts(cmd):
                budget -= 1
                pending.extend(apply(self.complete(cmd)))
            else:
                out.append(cmd)
        return out
