"""An optional time limit for one evaluation (``configure(timeout=...)``).

The evaluators call :func:`check` where they regularly pass: before every
yaql function call, in the fast path's nodes, and on every call, attribute
access and intercepted operator in Jinja templates. A runaway expression such
as ``range(100000).select(range(100000).sum())`` then fails instead of
holding an engine worker forever. The limit is per thread and per
``evaluate`` call; nested evaluations keep the outer deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


class EvaluationTimeout(Exception):
    """An evaluation ran past its deadline."""


def check() -> None:
    """Raise :class:`EvaluationTimeout` if the current evaluation is past its deadline."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        limit = getattr(_local, "limit", 0.0)
        raise EvaluationTimeout(f"the evaluation took longer than {limit:g} s")


@contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Run the block with a deadline ``seconds`` from now (0 or less: none)."""
    if seconds <= 0 or getattr(_local, "deadline", None) is not None:
        yield
        return
    _local.deadline = time.monotonic() + seconds
    _local.limit = seconds
    try:
        yield
    finally:
        _local.deadline = None
