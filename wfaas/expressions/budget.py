"""The budget every expression evaluation runs under.

One :class:`Budget` per evaluated string (per thread; a nested evaluation
shares the outer one) holds four limits, enforced *inside* the evaluators:

- **time**: a wall-clock deadline (``[expressions] evaluation_timeout``);
- **fuel**: one unit per yaql function call, per item an iterator yields, per
  Jinja call / attribute / operator / filter and per loop iteration
  (``[expressions] max_fuel``);
- **size**: every string, collection or integer an operation builds is
  measured: one value may not exceed ``[expressions] max_value_size_kb``, an
  integer ``[expressions] max_int_bits``, and everything built in one
  evaluation together ``[expressions] max_total_size_kb``.

The evaluators call :func:`tick` where they regularly pass and
:func:`charge_value` / :func:`check_value` on what they build. Exceeding a
limit raises :class:`BudgetExceeded`, whose message names the limit and the
option that sets it. Values are passed in by the shell through
:func:`wfaas.expressions.configure`; this module reads no configuration.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_local = threading.local()
_monotonic = time.monotonic

#: How many fuel units pass between two looks at the clock.
_CLOCK_EVERY = 32


@dataclass(frozen=True)
class Limits:
    """The budget of one evaluation (0 or less: that limit is off)."""

    timeout: float = 3.0
    max_fuel: int = 1_000_000
    max_value_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 64 * 1024 * 1024
    max_int_bits: int = 100_000


class BudgetExceeded(Exception):
    """An evaluation went over one of its limits; ``limit`` names which."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


#: Kept for callers of the former ``deadline`` module.
EvaluationTimeout = BudgetExceeded


class Budget:
    """What is left of one evaluation's limits."""

    __slots__ = ("limits", "deadline", "fuel", "built", "countdown")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = (_monotonic() + limits.timeout) if limits.timeout > 0 else math.inf
        self.fuel = limits.max_fuel if limits.max_fuel > 0 else math.inf
        self.built = 0
        self.countdown = _CLOCK_EVERY

    def charge(self, units: int = 1) -> None:
        """Spend ``units`` of fuel; look at the clock every few units."""
        self.fuel -= units
        self.countdown -= units
        if self.countdown <= 0 or self.fuel < 0:
            self.settle()

    def settle(self) -> None:
        """Raise if the fuel is spent or the deadline has passed (resets the countdown);
        call the thread's :func:`on_slow` hook once its time has come."""
        if self.fuel < 0:
            raise BudgetExceeded(
                "fuel", f"expression exceeded its step budget of {self.limits.max_fuel} "
                        "steps ([expressions] max_fuel)")
        self.countdown = _CLOCK_EVERY
        now = _monotonic()
        hook = getattr(_local, "slow", None)
        if hook is not None and now > hook[0]:
            _local.slow = None  # once
            hook[1]()
        if now > self.deadline:
            self.check_time()

    def check_time(self) -> None:
        """Raise if the deadline has passed."""
        if _monotonic() > self.deadline:
            raise BudgetExceeded(
                "time", f"expression exceeded its time budget of {self.limits.timeout:g} s "
                        "([expressions] evaluation_timeout)")

    def check_size(self, size: int, what: str = "a value") -> None:
        """Refuse one value of ``size`` bytes over the per-value limit."""
        limit = self.limits.max_value_bytes
        if 0 < limit < size:
            raise BudgetExceeded(
                "size", f"expression would build {what} of {size} bytes, over the limit of "
                        f"{limit // 1024} KB ([expressions] max_value_size_kb)")

    def check_int(self, value: int) -> None:
        """Refuse an integer over the bit limit."""
        bits = value.bit_length()
        limit = self.limits.max_int_bits
        if 0 < limit < bits:
            raise BudgetExceeded(
                "int", f"expression would build an integer of {bits} bits, over the limit of "
                       f"{limit} bits ([expressions] max_int_bits)")

    def add_built(self, size: int) -> None:
        """Count ``size`` bytes towards everything this evaluation built."""
        self.built += size
        limit = self.limits.max_total_bytes
        if 0 < limit < self.built:
            raise BudgetExceeded(
                "total", f"expression built more than its budget of {limit // 1024} KB "
                         "in total ([expressions] max_total_size_kb)")


_NO_SIZE = frozenset({float, bool, type(None)})
_STRINGS = frozenset({str, bytes, bytearray})
_CONTAINERS = frozenset({list, tuple, dict, set, frozenset})


def size_of(value: Any) -> int:
    """A cheap estimate of the bytes ``value`` holds (shallow for collections)."""
    kind = type(value)
    if kind in _STRINGS:
        return len(value)
    if kind in _CONTAINERS:
        return 8 * len(value)
    if kind is int:
        return int(value.bit_length()) // 8
    if kind in _NO_SIZE:
        return 0
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    if isinstance(value, (list, tuple, set, frozenset, Mapping)):
        return 8 * len(value)
    if isinstance(value, int):
        return value.bit_length() // 8
    return 0


def current() -> Budget | None:
    """The budget of the evaluation running in this thread, if any."""
    return getattr(_local, "budget", None)


def tick(units: int = 1) -> None:
    """Spend fuel (and check the deadline) if an evaluation is running."""
    found = getattr(_local, "budget", None)
    if found is not None:
        found.fuel -= units
        found.countdown -= units
        if found.countdown <= 0 or found.fuel < 0:
            found.settle()


def check() -> None:
    """Check the deadline and spend one unit of fuel (the evaluators' regular hook)."""
    tick()


def check_value(value: Any) -> Any:
    """Refuse ``value`` if it is larger than one value may be; returns it."""
    found = getattr(_local, "budget", None)
    if found is not None:
        _check(found, value)
    return value


def charge_value(value: Any) -> Any:
    """Like :func:`check_value`, and count ``value`` as newly built; returns it."""
    found = getattr(_local, "budget", None)
    if found is not None:
        size = _check(found, value)
        if size:
            found.add_built(size)
    return value


def _check(found: Budget, value: Any) -> int:
    kind = type(value)
    if kind is int:
        if value.bit_length() > 64:
            found.check_int(value)
        return 0
    if kind in _NO_SIZE:
        return 0
    size = size_of(value)
    if size > 4096:
        found.check_size(size)
    elif isinstance(value, int) and value.bit_length() > 64:
        found.check_int(value)
    return size


def precheck(size: int, what: str) -> None:
    """Refuse, before building it, a value that would take ``size`` bytes."""
    found = getattr(_local, "budget", None)
    if found is not None:
        found.check_size(size, what)
        found.check_time()


def iterate(items: Iterable[Any]) -> Iterator[Any]:
    """``items``, spending one unit of fuel per item (a plain iterator when no
    evaluation runs in this thread)."""
    found = getattr(_local, "budget", None)
    if found is None:
        return iter(items)
    return _charged(items, found)


def _charged(items: Iterable[Any], found: Budget) -> Iterator[Any]:
    # charged by the clock's period, not per item: a method call per item cost more
    # than the loop itself (the fuel is over by at most _CLOCK_EVERY - 1 items)
    count = 0
    for item in items:
        count += 1
        if count == _CLOCK_EVERY:
            found.charge(count)
            count = 0
        yield item
    if count:
        found.charge(count)


@contextmanager
def on_slow(seconds: float, call: Callable[[], None]) -> Iterator[None]:
    """Call ``call`` once, from inside an evaluation of this thread, when the block has
    run for more than ``seconds`` (looked at where the budget looks at its clock; cheap
    expressions never do). ``call`` may raise to abandon the evaluation: the engine
    uses it to take a heavy step out of a batch and to start a spare worker."""
    outer = getattr(_local, "slow", None)
    _local.slow = (_monotonic() + seconds, call)
    try:
        yield
    finally:
        _local.slow = outer


@contextmanager
def running(limits: Limits) -> Iterator[Budget]:
    """Run the block under a fresh budget (or the outer one, when nested)."""
    outer = getattr(_local, "budget", None)
    if outer is not None:
        yield outer
        return
    budget = Budget(limits)
    _local.budget = budget
    try:
        yield budget
    finally:
        _local.budget = None
