"""Pure std actions completed inside the engine step ("folding").

``std.noop`` and ``std.echo`` (without ``delay``) return at once and touch
nothing. Sending them to an executor costs a transaction, a message and a
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

from collections import deque
from collections.abc import Callable
from typing import Any

from wfaas.engine import ActionCompleted, Command, Event, RunAction

#: std actions without side effects that return at once
PURE_ACTIONS = frozenset({"std.noop", "std.echo"})


class ActionFolder:
    """Runs pure std actions inside an engine step (see the module docstring)."""

    def __init__(self, limit: int = 1000, provider: Any = None) -> None:
        self.limit = max(0, limit)
        self._provider = provider

    @property
    def provider(self) -> Any:
        """The std provider (the composite provider asks it first, so it is the same
        descriptor an executor would run)."""
        if self._provider is None:
            from wfaas.actions.registry import StdProvider

            self._provider = StdProvider()
        return self._provider

    @staticmethod
    def accepts(cmd: Command) -> bool:
        """True for a RunAction that may be folded."""
        if not isinstance(cmd, RunAction) or cmd.action not in PURE_ACTIONS:
            return False
        if cmd.timeout or cmd.target:
            return False
        return cmd.action != "std.echo" or not cmd.input.get("delay")

    def complete(self, cmd: RunAction) -> ActionCompleted:
        """Run ``cmd``'s action here and return its completion event."""
        from wfaas.actions.runner import run_action

        result = run_action(self.provider, cmd.action, dict(cmd.input))
        if result.is_error():
            return ActionCompleted(action_id=cmd.action_id, state="ERROR", result=result.error)
        return ActionCompleted(action_id=cmd.action_id, state="SUCCESS", result=result.data)

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
                pending.extend(apply(self.complete(cmd)))  # type: ignore[arg-type]
            else:
                out.append(cmd)
        return out
