"""Concurrent calls combined into batches (group commit), without a thread of its own.

:class:`Batcher` runs ``run(items)`` for the items that threads submit. A thread
that submits while fewer than ``concurrency`` batches run becomes a *leader*: it
runs a batch of its own item plus every item queued so far, and returns when
that batch is done. A thread that submits while ``concurrency`` batches run
waits; when one ends, one of the waiting threads leads the next batch, made of
everything that queued up meanwhile. A lone item therefore goes at once (no
waiting for company), and items arriving close together share one round trip
(one SQL statement) instead of each paying its own, and a database connection
of its own.

``run`` returns one outcome per item, in order: a value, or an exception that
the item's submitter raises. An exception raised by ``run`` itself is every
item's outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    """One submitted item and, once its batch ran, its outcome."""

    __slots__ = ("item", "taken", "done", "outcome")

    def __init__(self, item: T) -> None:
        self.item = item
        self.taken = False  # in a batch that runs now
        self.done = False
        self.outcome: R | BaseException | None = None


class Batcher(Generic[T, R]):
    """Runs submitted items in batches, one batch at a time (see the module)."""

    def __init__(self, run: Callable[[list[T]], Sequence[R | BaseException]],
                 max_batch: int = 0, concurrency: int = 1) -> None:
        self._run = run
        self.max_batch = max_batch
        self.concurrency = max(1, concurrency)
        self._cond = threading.Condition()
        self._queue: list[_Slot[T, R]] = []
        #: batches running now
        self._busy = 0
        #: batches run so far and items they held (statistics, a test seam)
        self.batches = 0
        self.items = 0

    def submit(self, item: T) -> R:
        """Run ``item`` in a batch; its outcome (raised when it is an exception)."""
        slot: _Slot[T, R] = _Slot(item)
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while self._busy >= self.concurrency and not slot.done:
                    self._cond.wait()
                if slot.done:
                    break
                if slot.taken:  # in another leader's batch: wait for its outcome
                    self._cond.wait()
                    continue
                self._busy += 1
                cut = self.max_batch or len(self._queue)
                batch, self._queue = self._queue[:cut], self._queue[cut:]
                for taken in batch:
                    taken.taken = True
            self._lead(batch)  # (a batch of earlier items when over max_batch: loop)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome  # type: ignore[return-value]

    def _lead(self, batch: list[_Slot[T, R]]) -> None:
        outcomes: Sequence[R | BaseException]
        try:
            outcomes = self._run([s.item for s in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} returned {len(outcomes)} outcomes")
        except BaseException as exc:  # noqa: BLE001 - every item's outcome
            outcomes = [exc] * len(batch)
        with self._cond:
            for slot, outcome in zip(batch, outcomes, strict=True):
                slot.outcome, slot.done = outcome, True
            self._busy -= 1
            self.batches += 1
            self.items += len(batch)
            self._cond.notify_all()
