"""A chain of sub-workflows in one transaction.

A sub-workflow started inline (:func:`wfaas.services.dispatch.create_child`: its first
step decided and written in its parent's transaction) often ends in that first step:
a sub-workflow of pure actions folded into the step (``std.noop``, ``std.echo``).
Sent after the commit, its completion costs the parent a step of its own: a load, a
decide, a transaction and a commit, for each sub-workflow of a sequence (task 1 runs a
child, task 2 the next one when it ended, ...).

Here the parent applies that completion in the same transaction instead: it decides
the very ``ActionCompleted`` the child would have sent (:func:`completion_event`)
as the next *round* of its step and writes the rows that round changed (the header
values of the later rounds are merged and written with one compare-and-set at the end
of the transaction; the first round's compare-and-set holds the row). A child the
round starts inline may end at once too, and so on: a chain of up to
:data:`~wfaas.services.dispatch.INLINE_CHILDREN` sub-workflows per transaction (each
link needs a child started inline, and a transaction starts at most that many), and no
more once the inline starts took :data:`~wfaas.services.dispatch.INLINE_CPU_S` of CPU:
the write lock is not held longer than by a fan-out's inline starts.

After the commit every round is dispatched and notified in order as if it had been a
step of its own (:meth:`Decided.freeze`): the child's events, then the parent's round,
then the next child's ... The completion is not sent (it was applied).

The parent's round is decided while the transaction holds the write lock (a step's
own decide runs before it): when its expressions evaluate for longer than
:data:`HEAVY_ROUND_S` (a heavy ``publish`` of a hostile author),
the round is abandoned (:class:`HeavyChain`) and the step is written again without
chaining (:meth:`EngineService.process`), the heavy decide then outside the lock.

Not chained (the completion is sent as before): when events for the parent arrived
during the step (they are applied first, in arrival order, as before), and when this
engine may not own both executions: another engine than this one may own the parent
or the child in a distributed deployment (:meth:`EngineService.may_chain`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from wfaas.engine import ActionCompleted, WorkflowFinished
from wfaas.expressions.budget import on_slow
from wfaas.services import dispatch
from wfaas.services.dispatch import completion_event
from wfaas.services.state_store import Decided

if TYPE_CHECKING:
    from wfaas.services.engine_service import EngineService


#: seconds a chained round's decide may evaluate expressions (while the transaction
#: holds the write lock) before it is abandoned: the inline starts' CPU budget
HEAVY_ROUND_S = dispatch.INLINE_CPU_S


class HeavyChain(Exception):
    """A chained round's decide took too long: write the step again, not chained."""


class _TooHeavy(BaseException):
    """Raised inside the chained round's evaluation (a BaseException: the evaluators
    and ``decide`` turn every ``Exception`` into a task or engine failure)."""


def _too_heavy() -> None:
    raise _TooHeavy


def _finished(child: Decided) -> WorkflowFinished | None:
    """The end of a sub-workflow's first step, when it ended there."""
    if child.loaded.parent_told:
        return None
    for cmd in child.commands:
        if isinstance(cmd, WorkflowFinished):
            return cmd
    return None


def chain_completions(service: EngineService, session: Session,
                      decided: Decided) -> Decided | None:
    """The next round of ``decided`` (being written in ``session``): its execution
    decides the completions of the sub-workflows it started inline that ended at once.
    None when there are none, or they are to be sent after the commit (module doc)."""
    loaded = decided.loaded
    if not loaded.children or not loaded.started or loaded.meta.id in service.unchained:
        return None
    ended: list[ActionCompleted] = []
    for child in loaded.children:
        finished = _finished(child)
        if finished is None:
            continue
        if not service.may_chain(loaded.meta.id, child.loaded.meta.id):
            return None
        ended.append(completion_event(child.loaded.meta.id, finished))
    if not ended or service.has_queued(loaded.meta.id):
        return None
    began = session.info.get("wfaas_inline_began")
    if began is None or time.thread_time() - began > dispatch.INLINE_CPU_S:
        return None
    for child in loaded.children:
        if _finished(child) is not None:
            child.loaded.parent_told = True
    decided.freeze()
    try:
        with on_slow(HEAVY_ROUND_S, _too_heavy):
            decided.chained = service._decide(loaded, list(ended), service.clock())
    except _TooHeavy:  # the state is half changed: the step is written again
        raise HeavyChain(loaded.meta.id) from None
    return decided.chained
